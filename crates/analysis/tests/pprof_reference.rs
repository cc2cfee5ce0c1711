//! Go's four pprof profiles of every bundled fixture, compared sample for sample with what
//! `go tool trace -pprof=KIND` wrote (`fixtures/reference/<trace>/pprof-KIND.txt`: `go tool
//! pprof -raw -symbolize=none` output, canonicalised). Go-free: the references are stored.
//!
//! A sample is compared as (stack of (address, function, file, line), count, nanoseconds);
//! the samples of a profile as a multiset.

use std::collections::HashMap;
use std::path::Path;

use goroscope_analysis::pprof::{GoProfileKind, Profile, go_profiles};
use goroscope_trace::EventStream;

type RefFrame = (u64, String, String, u64);
type RefSample = (Vec<RefFrame>, u64, i64);

/// The samples of `go tool pprof -raw` text, sorted.
fn parse_raw(text: &str) -> Vec<RefSample> {
    let lines: Vec<&str> = text.lines().collect();
    let at = |s: &str| lines.iter().position(|l| *l == s).expect(s);
    let (samples, locations, mappings) = (at("Samples:"), at("Locations"), at("Mappings"));
    let mut locs: HashMap<u64, RefFrame> = HashMap::new();
    for l in &lines[locations + 1..mappings] {
        // "     1: 0x414b91 M=1 runtime.chanrecv1 runtime/chan.go:509:0 s=0"
        let (id, rest) = l.trim_start().split_once(": ").expect("location line");
        let mut parts = rest.splitn(3, ' ');
        let addr = parts.next().unwrap().trim_start_matches("0x");
        assert_eq!(parts.next(), Some("M=1"), "{l}");
        let rest = parts.next().unwrap();
        let (func, rest) = rest.split_once(' ').expect("function");
        let rest = rest.strip_suffix(" s=0").expect("start line");
        let (rest, _column) = rest.rsplit_once(':').unwrap();
        let (file, line) = rest.rsplit_once(':').unwrap();
        locs.insert(
            id.parse().unwrap(),
            (
                u64::from_str_radix(addr, 16).unwrap(),
                func.to_owned(),
                file.to_owned(),
                line.parse().unwrap(),
            ),
        );
    }
    assert_eq!(
        lines[samples + 1],
        "contentions/count delay/nanoseconds",
        "sample types"
    );
    let mut out: Vec<RefSample> = lines[samples + 2..locations]
        .iter()
        .map(|l| {
            let (values, ids) = l.split_once(':').expect("sample line");
            let mut v = values.split_whitespace().map(|x| x.parse::<i64>().unwrap());
            let (count, ns) = (v.next().unwrap(), v.next().unwrap());
            let stack = ids
                .split_whitespace()
                .map(|id| locs[&id.parse::<u64>().unwrap()].clone())
                .collect();
            (stack, count as u64, ns)
        })
        .collect();
    out.sort();
    out
}

fn ours(p: &Profile) -> Vec<RefSample> {
    let mut out: Vec<RefSample> = p
        .samples
        .iter()
        .map(|s| {
            let stack = s
                .stack
                .iter()
                .map(|f| {
                    (
                        f.pc,
                        String::from_utf8_lossy(&f.func).into_owned(),
                        String::from_utf8_lossy(&f.file).into_owned(),
                        f.line,
                    )
                })
                .collect();
            (stack, s.count, s.delay)
        })
        .collect();
    out.sort();
    out
}

/// The first difference between two sorted sample lists.
fn diff(go: &[RefSample], us: &[RefSample]) -> String {
    let only = |a: &[RefSample], b: &[RefSample]| -> Vec<String> {
        a.iter()
            .filter(|s| !b.contains(s))
            .take(3)
            .map(|(stack, c, ns)| {
                let leaf = stack
                    .first()
                    .map_or("(no stack)".to_owned(), |f| format!("{} {:#x}", f.1, f.0));
                format!("{c} {ns} at {leaf} ({} frames)", stack.len())
            })
            .collect()
    };
    format!(
        "Go {} samples ({} / {} ns), ours {} ({} / {} ns); only Go: {:?}; only ours: {:?}",
        go.len(),
        go.iter().map(|s| s.1).sum::<u64>(),
        go.iter().map(|s| s.2).sum::<i64>(),
        us.len(),
        us.iter().map(|s| s.1).sum::<u64>(),
        us.iter().map(|s| s.2).sum::<i64>(),
        only(go, us),
        only(us, go)
    )
}

fn check(trace: &Path, compared: &mut usize) -> Vec<String> {
    let data = std::fs::read(trace).unwrap();
    let mut stream = EventStream::new(&data).unwrap();
    let (profiles, _error) = go_profiles(&mut stream);
    let dir = goroscope_testkit::reference_dir(trace);
    let name = trace.file_stem().unwrap().to_string_lossy();
    let mut failures = Vec::new();
    for kind in GoProfileKind::ALL {
        let path = dir.join(format!("pprof-{kind}.txt"));
        let text = std::fs::read_to_string(&path).expect("reference");
        let go = parse_raw(&text);
        let us = ours(profiles.get(kind));
        *compared += go.len();
        if go != us {
            failures.push(format!("{name} {kind}: {}", diff(&go, &us)));
        }
    }
    failures
}

#[test]
fn every_fixture_matches_go_tool_trace_pprof() {
    let traces = goroscope_testkit::fixture_traces();
    assert!(!traces.is_empty());
    let mut compared = 0;
    let failures: Vec<String> = traces
        .iter()
        .flat_map(|t| check(t, &mut compared))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Not vacuous: the fixtures have hundreds of distinct stacks between them.
    assert!(compared > 500, "only {compared} samples compared");
    eprintln!("{compared} samples of {} traces match", traces.len());
}

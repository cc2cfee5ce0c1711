//! The profiles goroscope writes, read back and printed as `go tool pprof -raw` prints them,
//! equal Go's stored references for every bundled fixture once both are put in canonical
//! order (`tracedump pprof-canon`, ported in `pprof_common`). Go-free: the references are
//! `fixtures/reference/<trace>/pprof-KIND.txt`; `pprof_conformance.rs` runs Go's pprof live.

mod pprof_common;

use goroscope_analysis::pprof::{
    GoProfileKind, NO_STACK_FRAME, RUNTIME_FRAME, STILL_BLOCKED_FRAME,
};
use goroscope_report::pprof::{encode, to_gzip};
use pprof_common::{
    canon, decode, decode_gzip, first_difference, profiles_of, raw_text, reference,
};

#[test]
fn every_fixture_profile_reads_back_as_go_wrote_it() {
    let traces = goroscope_testkit::fixture_traces();
    assert!(!traces.is_empty());
    let mut failures = Vec::new();
    for trace in &traces {
        let profiles = profiles_of(trace);
        for kind in GoProfileKind::ALL {
            let decoded = decode_gzip(&to_gzip(profiles.get(kind)));
            let ours = canon(&raw_text(&decoded));
            let go = reference(trace, kind);
            if ours != go {
                failures.push(format!(
                    "{} {kind}: {}",
                    trace.file_name().unwrap().to_string_lossy(),
                    first_difference(&go, &ours)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn canon_is_idempotent_on_the_references() {
    for trace in goroscope_testkit::fixture_traces() {
        for kind in GoProfileKind::ALL {
            let go = reference(&trace, kind);
            assert_eq!(canon(&go), go, "{} {kind}", trace.display());
        }
    }
}

#[test]
fn the_same_profile_gives_the_same_bytes() {
    let trace = &goroscope_testkit::fixture_traces()[0];
    let a = profiles_of(trace);
    let b = profiles_of(trace);
    for kind in GoProfileKind::ALL {
        assert_eq!(to_gzip(a.get(kind)), to_gzip(b.get(kind)), "{kind}");
    }
}

#[test]
fn locations_are_per_pc_and_functions_per_name_and_file() {
    let trace = goroscope_testkit::fixture_traces()
        .into_iter()
        .find(|t| t.to_string_lossy().contains("mixed-go1.27"))
        .expect("mixed fixture");
    let profile = profiles_of(&trace).sched;
    let d = decode(&encode(&profile));
    assert_eq!(d.period, 1);
    assert_eq!(d.period_type, Some(("trace".into(), "count".into())));
    let mut pcs: Vec<u64> = d.locations.iter().map(|l| l.1).collect();
    let n = pcs.len();
    pcs.sort_unstable();
    pcs.dedup();
    assert_eq!(pcs.len(), n, "one location per PC");
    let distinct: std::collections::HashSet<_> = profile
        .samples
        .iter()
        .flat_map(|s| s.stack.iter().map(|f| f.pc))
        .collect();
    assert_eq!(n, distinct.len());
    let mut funcs: Vec<(&str, &str)> = d
        .functions
        .iter()
        .map(|f| (f.1.as_str(), f.3.as_str()))
        .collect();
    let m = funcs.len();
    funcs.sort_unstable();
    funcs.dedup();
    assert_eq!(funcs.len(), m, "one function per (name, file)");
    for (i, l) in d.locations.iter().enumerate() {
        assert_eq!(l.0, i as u64 + 1, "location IDs from 1 in order");
    }
    for (i, f) in d.functions.iter().enumerate() {
        assert_eq!(f.0, i as u64 + 1, "function IDs from 1 in order");
        assert_eq!(f.1, f.2, "system name");
    }
    let total: i64 = d.samples.iter().map(|s| s.1[1]).sum();
    assert_eq!(total, profile.total_delay());
}

#[test]
fn released_by_profiles_read_back_with_their_synthetic_frames() {
    for trace in goroscope_testkit::fixture_traces() {
        let loaded = goroscope_trace::Trace::open(&trace).unwrap();
        let t = &loaded.timelines;
        let blocking = goroscope_analysis::blocking::analyze(t);
        let profile = goroscope_analysis::pprof::released_by(t, &blocking.waits, |_| true);
        let d = decode_gzip(&to_gzip(&profile));
        assert_eq!(d.samples.len(), profile.samples.len());
        let count: i64 = d.samples.iter().map(|s| s.1[0]).sum();
        let delay: i64 = d.samples.iter().map(|s| s.1[1]).sum();
        assert_eq!(count as u64, profile.total_count());
        assert_eq!(delay, profile.total_delay());
        // Every wait of positive duration is in the profile.
        let waits: Vec<_> = blocking
            .waits
            .iter()
            .filter(|w| w.duration(t.end) > 0)
            .collect();
        assert_eq!(profile.total_count(), waits.len() as u64);
        // Frames with PC 0 (ours, and the odd empty frame of a real trace) are one
        // location at address 0 per distinct frame.
        let mut at_zero: Vec<&str> = d
            .locations
            .iter()
            .filter(|l| l.1 == 0)
            .map(|l| d.functions[l.2[0].0 as usize - 1].1.as_str())
            .collect();
        at_zero.sort_unstable();
        let mut pc_zero: Vec<String> = profile
            .samples
            .iter()
            .flat_map(|s| &s.stack)
            .filter(|f| f.pc == 0)
            .map(|f| String::from_utf8_lossy(&f.func).into_owned())
            .collect();
        pc_zero.sort_unstable();
        pc_zero.dedup();
        assert_eq!(at_zero, pc_zero, "{}", trace.display());
        for s in &profile.samples {
            if s.stack.len() == 1 && s.stack[0].is_synthetic() && !s.stack[0].func.is_empty() {
                let name = String::from_utf8_lossy(&s.stack[0].func);
                assert!(
                    [RUNTIME_FRAME, STILL_BLOCKED_FRAME, NO_STACK_FRAME].contains(&&*name),
                    "{name}"
                );
            }
        }
        assert!(
            profile
                .samples
                .iter()
                .any(|s| s.stack.len() == 1 && &*s.stack[0].func == RUNTIME_FRAME.as_bytes()),
            "{}: no wait released by the runtime",
            trace.display()
        );
        let text = canon(&raw_text(&d));
        assert!(text.starts_with("PeriodType: trace count\n"), "{text}");
    }
}

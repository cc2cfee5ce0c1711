//! Live conformance with Go 1.27.3's `go tool pprof`: it reads every profile goroscope
//! writes (Go's four kinds, `released-by` and `critical-path`, every bundled fixture) without an error, and
//! for Go's kinds its `-raw` output, in canonical order, equals the stored reference of
//! `go tool trace -pprof=KIND`. Needs the reference toolchain; skipped without it unless
//! `GOROSCOPE_REQUIRE_GO` is set.

mod pprof_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use goroscope_analysis::critical::{PathFinder, Profile as CriticalProfile, Target};
use goroscope_analysis::pprof::{GoProfileKind, Profile, critical_path, released_by};
use goroscope_report::pprof::write_gzip;
use pprof_common::{canon, first_difference, profiles_of, reference};

fn scratch_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pprof-conformance");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `go tool pprof -raw -symbolize=none FILE`: stdout, or the failure.
fn go_pprof_raw(goroot: &Path, file: &Path) -> Result<String, String> {
    let out = Command::new(goroscope_testkit::go_command(goroot))
        .args(["tool", "pprof", "-raw", "-symbolize=none"])
        .arg(file)
        .env("TZ", "UTC")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOTELEMETRY", "off")
        .env("GOROOT", goroot)
        .env("PPROF_TMPDIR", scratch_dir())
        .output()
        .map_err(|e| format!("cannot run go: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "go tool pprof failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn write(profile: &Profile, name: &str) -> PathBuf {
    let path = scratch_dir().join(name);
    let file = std::fs::File::create(&path).unwrap();
    write_gzip(profile, std::io::BufWriter::new(file)).unwrap();
    path
}

#[test]
fn go_tool_pprof_reads_every_profile_as_go_tool_trace_wrote_it() {
    let Some(goroot) = goroscope_testkit::require_goroot("pprof conformance") else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for trace in goroscope_testkit::fixture_traces() {
        let stem = trace.file_stem().unwrap().to_string_lossy().into_owned();
        let profiles = profiles_of(&trace);
        for kind in GoProfileKind::ALL {
            let path = write(profiles.get(kind), &format!("{stem}-{kind}.pb.gz"));
            match go_pprof_raw(&goroot, &path) {
                Ok(raw) => {
                    let ours = canon(&raw);
                    let go = reference(&trace, kind);
                    if ours != go {
                        failures.push(format!("{stem} {kind}: {}", first_difference(&go, &ours)));
                    }
                }
                Err(e) => failures.push(format!("{stem} {kind}: {e}")),
            }
            checked += 1;
        }

        let loaded = goroscope_trace::Trace::open(&trace).unwrap();
        let t = &loaded.timelines;
        let waits = goroscope_analysis::blocking::analyze(t).waits;
        let mut ours = vec![("released-by", released_by(t, &waits, |_| true), None)];
        // The critical paths of every task that ended, else of every goroutine's lifetime:
        // pprof's total is the sum of the paths' durations.
        let finder = PathFinder::new(t);
        let mut paths: Vec<_> = (0..t.tasks.len()).filter_map(|i| finder.task(i)).collect();
        if paths.is_empty() {
            paths = t
                .goroutines
                .iter()
                .filter_map(|g| {
                    let start = g.spans.iter().next()?.time.max(t.start);
                    let end = g.ended.unwrap_or(t.end);
                    finder.path(Target::Goroutine {
                        g: g.id,
                        start,
                        end,
                    })
                })
                .collect();
        }
        let span: i64 = paths.iter().map(|p| p.end - p.start).sum();
        let profile = critical_path(t, &CriticalProfile::of(&paths));
        ours.push(("critical-path", profile, Some(span)));
        for (name, profile, span) in ours {
            let path = write(&profile, &format!("{stem}-{name}.pb.gz"));
            match go_pprof_raw(&goroot, &path) {
                Ok(raw) => {
                    // pprof's totals are ours.
                    let (mut count, mut delay) = (0u64, 0i64);
                    let lines: Vec<&str> = raw.lines().collect();
                    let start = lines.iter().position(|l| *l == "Samples:").unwrap() + 2;
                    for l in lines[start..].iter().take_while(|l| **l != "Locations") {
                        if let Some((values, _)) = l.split_once(':') {
                            let mut v = values.split_whitespace();
                            count += v.next().unwrap().parse::<u64>().unwrap();
                            delay += v.next().unwrap().parse::<i64>().unwrap();
                        }
                    }
                    if (count, delay) != (profile.total_count(), profile.total_delay()) {
                        failures.push(format!(
                            "{stem} {name}: pprof reads {count} / {delay} ns, we wrote {} / {}",
                            profile.total_count(),
                            profile.total_delay()
                        ));
                    }
                    if let Some(span) = span
                        && span != delay
                    {
                        failures.push(format!(
                            "{stem} {name}: {delay} ns in the profile, the paths span {span} ns"
                        ));
                    }
                }
                Err(e) => failures.push(format!("{stem} {name}: {e}")),
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 66, "{checked} profiles checked");
}

//! Test support shared by goroscope's crates (a dev-dependency only).
//!
//! - Where the bundled fixtures are ([`fixtures_dir`], [`fixture_traces`]).
//! - Where the reference Go toolchain is ([`goroot`]): Go's own trace test suite and tools are
//!   the oracle of many tests. It is found through `GOROSCOPE_GOROOT`, or in the cache folder
//!   that `scripts/go-env.sh` installs into (`$GOROSCOPE_CACHE`, else
//!   `$XDG_CACHE_HOME/goroscope`, else `~/.cache/goroscope`, then `go/1.27.3/go`).
//!   Tests that need it call [`require_goroot`]: without a toolchain they are skipped with a
//!   message, unless `GOROSCOPE_REQUIRE_GO=1` (set by CI), which turns the skip into a
//!   failure.

use std::path::{Path, PathBuf};

/// The Go release whose tools are the reference.
pub const REFERENCE_GO: &str = "1.27.3";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("fixtures")
}

/// Every bundled trace (`fixtures/traces/*.trace`), sorted by name.
pub fn fixture_traces() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join("traces"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    out.sort();
    out
}

/// The trace a benchmark runs on: `GOROSCOPE_BENCH_TRACE` if set, else the smallest v2 trace
/// of at least 40 MB in `bench-data/` (made by `just big-traces`; else the largest there),
/// else the largest bundled v2 fixture (too small for a meaningful number, but it keeps the
/// benchmark running).
pub fn bench_trace() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOROSCOPE_BENCH_TRACE") {
        return Some(PathBuf::from(p));
    }
    // Only the header is read: the big traces are hundreds of megabytes.
    let is_v2 = |p: &Path| {
        use std::io::Read;
        let mut header = [0u8; 16];
        std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut header))
            .is_ok_and(|()| goroscope_format::read_header(&header).is_ok_and(|(v, _)| !v.is_v1()))
    };
    let traces = |dir: &Path| -> Vec<(u64, PathBuf)> {
        let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "trace") && is_v2(p))
            .map(|p| (p.metadata().map_or(0, |m| m.len()), p))
            .collect();
        v.sort();
        v
    };
    let big = traces(&workspace_root().join("bench-data"));
    if let Some((_, p)) = big.iter().find(|(len, _)| *len >= 40_000_000) {
        return Some(p.clone());
    }
    big.into_iter()
        .chain(traces(&fixtures_dir().join("traces")))
        .max()
        .map(|(_, p)| p)
}

/// The reference-output folder of a bundled trace (`fixtures/reference/<stem>/`).
pub fn reference_dir(trace: &Path) -> PathBuf {
    let stem = trace.file_stem().unwrap_or_default();
    fixtures_dir().join("reference").join(stem)
}

/// The cache folder used for toolchains and large generated traces.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GOROSCOPE_CACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("goroscope"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("goroscope"))
}

/// The GOROOT of the reference Go toolchain, if one is installed.
pub fn goroot() -> Option<PathBuf> {
    let candidate = match std::env::var_os("GOROSCOPE_GOROOT") {
        Some(dir) => PathBuf::from(dir),
        None => cache_dir()?.join("go").join(REFERENCE_GO).join("go"),
    };
    candidate
        .join("src/internal/trace")
        .is_dir()
        .then_some(candidate)
}

/// The GOROOT of the reference toolchain for a test that needs it.
///
/// Returns `None` (after saying so on stderr) when there is none, so the test can return
/// early; panics instead when `GOROSCOPE_REQUIRE_GO` is set, so CI cannot skip silently.
pub fn require_goroot(test: &str) -> Option<PathBuf> {
    let root = goroot();
    if root.is_none() {
        let msg = format!(
            "{test}: no Go {REFERENCE_GO} toolchain (set GOROSCOPE_GOROOT or run scripts/go-env.sh)"
        );
        assert!(std::env::var_os("GOROSCOPE_REQUIRE_GO").is_none(), "{msg}");
        eprintln!("skipped: {msg}");
    }
    root
}

/// The `go` command of a GOROOT.
pub fn go_command(goroot: &Path) -> PathBuf {
    goroot.join("bin").join("go")
}

/// A binary trace from Go's text form, with every `EventBatch size=?` filled in with the size
/// of the records that follow it (so hand-written test traces need not count bytes).
///
/// Panics on malformed text: it is for tests.
pub fn text_trace(text: &str) -> Vec<u8> {
    use goroscope_format::v2::EventType;
    use goroscope_format::v2::text::TextReader;
    let text = text.replace("size=?", "size=0");
    let mut reader = TextReader::new(&text).expect("text trace header");
    let mut records = Vec::new();
    while let Some(r) = reader.next_record().expect("text trace record") {
        records.push(r);
    }
    let mut out = reader.version().header();
    let mut i = 0;
    while i < records.len() {
        let r = &records[i];
        if r.ty == EventType::EVENT_BATCH {
            let mut body = Vec::new();
            let mut j = i + 1;
            while j < records.len()
                && records[j].ty != EventType::EVENT_BATCH
                && records[j].ty != EventType::END_OF_GENERATION
            {
                records[j].write_binary(&mut body);
                j += 1;
            }
            let mut header = r.clone();
            if header.args.get(3) == Some(&0) {
                header.args[3] = body.len() as u64;
            }
            header.write_binary(&mut out);
            out.extend_from_slice(&body);
            i = j;
        } else {
            r.write_binary(&mut out);
            i += 1;
        }
    }
    out
}

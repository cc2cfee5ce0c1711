//! Fuzz targets for goroscope's entry points, and a small mutation fuzzer to drive them on
//! stable Rust.
//!
//! Each target takes arbitrary bytes and must neither panic nor hang, whatever they are.
//! [`run`] mutates seed inputs (the bundled fixtures, Go's own fuzz corpus and golden tests)
//! with bit flips, byte edits, cuts, splices and varint-shaped values, and calls a target on
//! every mutant, catching panics. `cargo run --release -p goroscope-fuzz -- TARGET SECONDS`
//! runs one for a while; the tests run each briefly.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use goroscope_format::v2;

/// A fuzz target: an entry point fed arbitrary bytes.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name on the command line.
    pub name: &'static str,
    /// The entry point.
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "header",
        run: header,
    },
    Target {
        name: "index",
        run: index,
    },
    Target {
        name: "generation",
        run: generation,
    },
    Target {
        name: "raw",
        run: raw,
    },
    Target {
        name: "text",
        run: text,
    },
    Target {
        name: "v1",
        run: v1,
    },
    Target {
        name: "reader",
        run: reader,
    },
    Target {
        name: "load",
        run: load,
    },
];

/// The header parser.
pub fn header(data: &[u8]) {
    let _ = goroscope_format::read_header(data);
}

/// The generation index.
pub fn index(data: &[u8]) {
    let _ = v2::index(data);
}

/// Table decoding and the event cursor, over every generation.
pub fn generation(data: &[u8]) {
    let Ok(idx) = v2::index(data) else {
        return;
    };
    for span in &idx.generations {
        if let Ok(g) = v2::decode(data, idx.version, span) {
            for t in &g.threads {
                for b in &t.batches {
                    let mut c = v2::EventCursor::new(b.body);
                    while let Ok(Some(_)) = c.next_event() {}
                }
            }
        }
    }
}

/// The flat raw reader and the footprint.
pub fn raw(data: &[u8]) {
    let _ = v2::footprint(data);
    let _ = v2::write_wire_dump(data, &mut std::io::sink());
}

/// Go's text form: parsed from the bytes if they are UTF-8, and printed from them.
pub fn text(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(bin) = v2::text::text_to_binary(s)
    {
        let _ = v2::text::binary_to_text(&bin);
    }
    let _ = v2::text::binary_to_text(data);
}

/// The v1 parser.
pub fn v1(data: &[u8]) {
    let _ = goroscope_format::v1::parse(data);
}

/// The ordered event stream, printed as `-d=parsed` prints it.
pub fn reader(data: &[u8]) {
    let Ok(mut r) = goroscope_trace::EventStream::new(data) else {
        return;
    };
    let mut line = Vec::new();
    while let Some(Ok(ev)) = r.next_event() {
        line.clear();
        let _ = goroscope_trace::print::write_event(&mut line, &ev, r.tables());
    }
}

/// The loader: timelines and damage salvage.
pub fn load(data: &[u8]) {
    let _ = goroscope_trace::Trace::load(data, goroscope_trace::LoadOptions::default());
}

/// Seed inputs: the bundled traces, Go's fuzz corpus, golden tests (as binary) and v1
/// traces when the reference toolchain is installed.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = goroscope_testkit::fixture_traces()
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| d.len() <= 600_000)
        .collect();
    if let Some(goroot) = goroscope_testkit::goroot() {
        let trace = goroot.join("src/internal/trace");
        for entry in read_dir(trace.join("testdata/fuzz/FuzzReader")) {
            if let Some(bytes) = std::fs::read_to_string(&entry)
                .ok()
                .and_then(|t| go_fuzz_literal(&t))
            {
                out.push(bytes);
            }
        }
        for entry in read_dir(trace.join("testdata/tests")) {
            if let Ok(t) = std::fs::read_to_string(&entry) {
                let archive = v2::golden::parse_txtar(&t);
                if let Some(f) = archive.files.iter().find(|f| f.name == "trace") {
                    out.push(f.data.as_bytes().to_vec());
                    if let Ok(bin) = v2::text::text_to_binary(&f.data) {
                        out.push(bin);
                    }
                }
            }
        }
        for entry in read_dir(trace.join("internal/tracev1/testdata")) {
            if let Ok(d) = std::fs::read(&entry)
                && d.len() <= 600_000
            {
                out.push(d);
            }
        }
    }
    out.push(Vec::new());
    out
}

fn read_dir(dir: PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The `[]byte("…")` literal of a `go test fuzz v1` file.
fn go_fuzz_literal(text: &str) -> Option<Vec<u8>> {
    let line = text.lines().find(|l| l.starts_with("[]byte("))?;
    let lit = line.strip_prefix("[]byte(")?.strip_suffix(')')?;
    goroscope_format::quote::unquote(lit).ok()
}

/// A small deterministic random number generator (xorshift*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// One random mutation of `input` (possibly using `other` for splicing).
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = input.to_vec();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        let len = d.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = rng.next_u64() as u8;
            }
            2 if len > 0 => d.truncate(rng.below(len)),
            3 => {
                let i = rng.below(len + 1);
                d.insert(i, rng.next_u64() as u8);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(16.min(len - i));
                d.drain(i..i + n);
            }
            5 => {
                // A varint-shaped value: large, padded or overflowing.
                let i = rng.below(len + 1);
                let v: &[u8] = match rng.below(4) {
                    0 => &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                    1 => &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                    2 => &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
                    _ => &[0x80, 0x80, 0x04],
                };
                d.splice(i..i, v.iter().copied());
            }
            6 if !other.is_empty() && len > 0 => {
                let i = rng.below(len);
                let j = rng.below(other.len());
                let n = rng.below(64.min(other.len() - j)) + 1;
                d.splice(i..i, other[j..j + n].iter().copied());
            }
            7 if len > 1 => {
                let i = rng.below(len);
                let j = rng.below(len);
                d.swap(i, j);
            }
            _ if len > 0 => {
                let i = rng.below(len);
                d[i] = [0, 1, 0x7f, 0x80, 0xff, 52, 49][rng.below(7)];
            }
            _ => d.push(rng.next_u64() as u8),
        }
    }
    d
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs tried.
    pub runs: u64,
    /// The inputs that made the target panic, with the panic message.
    pub crashes: Vec<(Vec<u8>, String)>,
    /// The slowest input and its time.
    pub slowest: Option<(Vec<u8>, Duration)>,
}

/// Runs `target` on every seed and then on mutants until `runs` inputs or `budget` time.
pub fn run(target: Target, seeds: &[Vec<u8>], runs: u64, budget: Duration, seed: u64) -> Report {
    let mut rng = Rng::new(seed);
    let mut report = Report::default();
    let start = Instant::now();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let try_one = |input: &[u8], report: &mut Report| {
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
        let took = t.elapsed();
        report.runs += 1;
        if report.slowest.as_ref().is_none_or(|(_, d)| took > *d) {
            report.slowest = Some((input.to_vec(), took));
        }
        if let Err(p) = result {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            report.crashes.push((input.to_vec(), msg));
        }
    };
    for s in seeds {
        try_one(s, &mut report);
    }
    while report.runs < runs && start.elapsed() < budget && !seeds.is_empty() {
        let a = &seeds[rng.below(seeds.len())];
        let b = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, a, b);
        try_one(&m, &mut report);
    }
    std::panic::set_hook(hook);
    report
}

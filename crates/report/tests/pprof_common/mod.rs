//! Shared by the pprof tests: a small `profile.proto` reader, the text `go tool pprof -raw`
//! prints for a profile, and a port of `tracedump pprof-canon`
//! (`fixtures/tools/tracedump/main.go`), which puts that text in a canonical order.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;

use goroscope_analysis::pprof::{GoProfileKind, GoProfiles, go_profiles};
use goroscope_trace::EventStream;

/// Go's four profiles of a trace file.
pub fn profiles_of(trace: &std::path::Path) -> GoProfiles {
    let data = std::fs::read(trace).unwrap();
    let mut stream = EventStream::new(&data).unwrap();
    go_profiles(&mut stream).0
}

/// The reference text of a fixture's profile.
pub fn reference(trace: &std::path::Path, kind: GoProfileKind) -> String {
    let path = goroscope_testkit::reference_dir(trace).join(format!("pprof-{kind}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}: {}", path.display()))
}

/// A decoded Location: (ID, address, lines of (function ID, line number)).
pub type Location = (u64, u64, Vec<(u64, i64)>);

/// A decoded profile, as far as goroscope writes one.
#[derive(Debug, Default)]
pub struct Decoded {
    pub sample_types: Vec<(String, String)>,
    pub period_type: Option<(String, String)>,
    pub period: i64,
    /// (location IDs, values)
    pub samples: Vec<(Vec<u64>, Vec<i64>)>,
    pub locations: Vec<Location>,
    /// (ID, name, system name, file)
    pub functions: Vec<(u64, String, String, String)>,
    pub strings: Vec<String>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().expect("varint");
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
        }
        panic!("varint too long")
    }

    /// The next field: (number, varint value or bytes).
    fn field(&mut self) -> Option<(u64, Value<'a>)> {
        if self.0.is_empty() {
            return None;
        }
        let key = self.varint();
        let value = match key & 7 {
            0 => Value::Int(self.varint()),
            2 => {
                let n = self.varint() as usize;
                let (body, rest) = self.0.split_at(n);
                self.0 = rest;
                Value::Bytes(body)
            }
            w => panic!("unexpected wire type {w}"),
        };
        Some((key >> 3, value))
    }
}

enum Value<'a> {
    Int(u64),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    fn int(&self) -> u64 {
        match self {
            Self::Int(v) => *v,
            Self::Bytes(_) => panic!("expected a varint"),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        match self {
            Self::Bytes(b) => b,
            Self::Int(_) => panic!("expected bytes"),
        }
    }

    /// A repeated varint field, packed or not.
    fn ints(&self) -> Vec<u64> {
        match self {
            Self::Int(v) => vec![*v],
            Self::Bytes(b) => {
                let mut r = Reader(b);
                let mut out = Vec::new();
                while !r.0.is_empty() {
                    out.push(r.varint());
                }
                out
            }
        }
    }
}

/// Decodes a gzipped `profile.proto`, checking it has only what goroscope writes.
pub fn decode_gzip(gz: &[u8]) -> Decoded {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut raw)
        .expect("gzip");
    decode(&raw)
}

/// Decodes a `profile.proto` message.
pub fn decode(raw: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let mut sample_types = Vec::new();
    let mut period_type = None;
    let mut functions = Vec::new();
    let mut r = Reader(raw);
    while let Some((field, v)) = r.field() {
        match field {
            1 => sample_types.push(value_type(v.bytes())),
            2 => {
                let (mut ids, mut values) = (Vec::new(), Vec::new());
                let mut s = Reader(v.bytes());
                while let Some((f, v)) = s.field() {
                    match f {
                        1 => ids.extend(v.ints()),
                        2 => values.extend(v.ints().into_iter().map(|x| x as i64)),
                        f => panic!("unexpected Sample field {f}"),
                    }
                }
                d.samples.push((ids, values));
            }
            4 => {
                let (mut id, mut address, mut lines) = (0, 0, Vec::new());
                let mut l = Reader(v.bytes());
                while let Some((f, v)) = l.field() {
                    match f {
                        1 => id = v.int(),
                        3 => address = v.int(),
                        4 => {
                            let (mut func, mut line) = (0, 0);
                            let mut ln = Reader(v.bytes());
                            while let Some((f, v)) = ln.field() {
                                match f {
                                    1 => func = v.int(),
                                    2 => line = v.int() as i64,
                                    f => panic!("unexpected Line field {f}"),
                                }
                            }
                            lines.push((func, line));
                        }
                        f => panic!("unexpected Location field {f}"),
                    }
                }
                d.locations.push((id, address, lines));
            }
            5 => {
                let (mut id, mut name, mut system, mut file) = (0, 0, 0, 0);
                let mut f = Reader(v.bytes());
                while let Some((n, v)) = f.field() {
                    match n {
                        1 => id = v.int(),
                        2 => name = v.int(),
                        3 => system = v.int(),
                        4 => file = v.int(),
                        n => panic!("unexpected Function field {n}"),
                    }
                }
                functions.push((id, name, system, file));
            }
            6 => d
                .strings
                .push(String::from_utf8(v.bytes().to_vec()).expect("UTF-8")),
            11 => period_type = Some(value_type(v.bytes())),
            12 => d.period = v.int() as i64,
            f => panic!("unexpected Profile field {f}"),
        }
    }
    assert_eq!(d.strings.first().map(String::as_str), Some(""), "string 0");
    let s = |i: u64| d.strings[i as usize].clone();
    d.sample_types = sample_types.iter().map(|&(t, u)| (s(t), s(u))).collect();
    d.period_type = period_type.map(|(t, u)| (s(t), s(u)));
    d.functions = functions
        .iter()
        .map(|&(id, n, sy, f)| (id, s(n), s(sy), s(f)))
        .collect();
    d
}

fn value_type(b: &[u8]) -> (u64, u64) {
    let (mut ty, mut unit) = (0, 0);
    let mut r = Reader(b);
    while let Some((f, v)) = r.field() {
        match f {
            1 => ty = v.int(),
            2 => unit = v.int(),
            f => panic!("unexpected ValueType field {f}"),
        }
    }
    (ty, unit)
}

/// What `go tool pprof -raw -symbolize=none` prints for a profile without mappings (pprof
/// adds one fake mapping, `M=1`), as `profile.String()` does.
pub fn raw_text(d: &Decoded) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if let Some((t, u)) = &d.period_type {
        writeln!(out, "PeriodType: {t} {u}").unwrap();
    }
    writeln!(out, "Period: {}", d.period).unwrap();
    out.push_str("Samples:\n");
    let types: Vec<String> = d
        .sample_types
        .iter()
        .map(|(t, u)| format!("{t}/{u}"))
        .collect();
    writeln!(out, "{}", types.join(" ")).unwrap();
    for (ids, values) in &d.samples {
        for v in values {
            write!(out, " {v:10}").unwrap();
        }
        out.push_str(": ");
        for id in ids {
            write!(out, "{id} ").unwrap();
        }
        out.push('\n');
    }
    out.push_str("Locations\n");
    let functions: HashMap<u64, &(u64, String, String, String)> =
        d.functions.iter().map(|f| (f.0, f)).collect();
    for (id, address, lines) in &d.locations {
        let head = format!("{id:6}: {address:#x} M=1 ");
        if lines.is_empty() {
            writeln!(out, "{head}").unwrap();
        }
        for (i, &(func, line)) in lines.iter().enumerate() {
            let prefix = if i == 0 { head.clone() } else { " ".repeat(13) };
            let f = functions[&func];
            let mut text = format!("{} {}:{line}:0 s=0", f.1, f.3);
            if f.1 != f.2 {
                write!(text, "({})", f.2).unwrap();
            }
            writeln!(out, "{prefix}{text}").unwrap();
        }
    }
    out.push_str("Mappings\n1: 0x0/0x0/0x0   \n");
    out
}

/// `tracedump pprof-canon`: locations renumbered 1..n by address (then text), sample
/// stacks rewritten with the new IDs, samples sorted by their ID lists, then values, then
/// their extra lines. Everything else is kept.
pub fn canon(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = |s: &str| lines.iter().position(|l| *l == s).expect(s);
    let (i_samples, i_locs, i_maps) = (at("Samples:"), at("Locations"), at("Mappings"));

    struct Loc<'a> {
        old: u64,
        addr: u64,
        text: Vec<&'a str>,
    }
    let mut locs: Vec<Loc<'_>> = Vec::new();
    for l in &lines[i_locs + 1..i_maps] {
        let parsed = l.trim_start().split_once(": 0x").and_then(|(id, rest)| {
            let id: u64 = id.parse().ok()?;
            let hex_end = rest
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(rest.len());
            let addr = u64::from_str_radix(&rest[..hex_end], 16).ok()?;
            let tail = &rest[hex_end..];
            (tail.is_empty() || tail.starts_with(' ')).then_some((id, addr, tail))
        });
        match parsed {
            Some((old, addr, rest)) => {
                locs.push(Loc {
                    old,
                    addr,
                    text: vec![rest],
                });
            }
            _ => locs.last_mut().expect("stray location line").text.push(l),
        }
    }
    locs.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| a.text.cmp(&b.text)));
    let new_id: HashMap<u64, u64> = locs
        .iter()
        .enumerate()
        .map(|(i, l)| (l.old, i as u64 + 1))
        .collect();

    struct Sample<'a> {
        values: &'a str,
        ids: Vec<u64>,
        extra: Vec<&'a str>,
    }
    let mut samples: Vec<Sample<'_>> = Vec::new();
    for l in &lines[i_samples + 2..i_locs] {
        match l.split_once(": ") {
            Some((values, ids)) if values.starts_with(' ') && !values.trim().is_empty() => {
                let ids = ids
                    .split_whitespace()
                    .map(|id| new_id[&id.parse::<u64>().unwrap()])
                    .collect();
                samples.push(Sample {
                    values,
                    ids,
                    extra: Vec::new(),
                });
            }
            _ => samples.last_mut().expect("stray sample line").extra.push(l),
        }
    }
    samples.sort_by(|a, b| {
        a.ids
            .cmp(&b.ids)
            .then_with(|| a.values.cmp(b.values))
            .then_with(|| a.extra.cmp(&b.extra))
    });

    let mut out = String::new();
    for l in &lines[..i_samples + 2] {
        out.push_str(l);
        out.push('\n');
    }
    for s in &samples {
        out.push_str(s.values);
        out.push_str(": ");
        for id in &s.ids {
            out.push_str(&format!("{id} "));
        }
        out.push('\n');
        for l in &s.extra {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str("Locations\n");
    for (i, l) in locs.iter().enumerate() {
        out.push_str(&format!("{:6}: {:#x}{}\n", i + 1, l.addr, l.text[0]));
        for t in &l.text[1..] {
            out.push_str(t);
            out.push('\n');
        }
    }
    for l in &lines[i_maps..] {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The first line where two texts differ, for messages.
pub fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    match la.iter().zip(&lb).position(|(x, y)| x != y) {
        Some(i) => format!("line {}: {:?} vs {:?}", i + 1, la[i], lb[i]),
        None => format!("lengths {} vs {} lines", la.len(), lb.len()),
    }
}

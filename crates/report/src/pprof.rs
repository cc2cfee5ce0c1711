//! A [`Profile`] as a gzipped `profile.proto`: what `go tool pprof` reads.
//!
//! The profile is laid out as `go tool trace -pprof=KIND` lays out its own
//! (`internal/trace/traceviewer/pprof.go`), so `go tool pprof` shows the same thing for both:
//!
//! - sample types `contentions/count` and `delay/nanoseconds` (a sample's
//!   [`count`](goroscope_analysis::pprof::Sample::count) and
//!   [`delay`](goroscope_analysis::pprof::Sample::delay)), period type `trace/count`,
//!   period 1; no mappings, no time, no labels;
//! - one Location per distinct PC, with that PC as its address and one Line (function and
//!   line number), the first frame seen with the PC giving them; a synthetic frame (PC 0) is
//!   a Location per distinct frame, with address 0;
//! - one Function per distinct (name, file), its system name equal to its name;
//! - IDs numbered from 1 in the order of first use, walking the samples in order and each
//!   stack from its innermost frame; the string table starts with `""` and follows the same
//!   order.
//!
//! The output depends only on the profile, whose samples are sorted: the same trace gives
//! the same bytes (the gzip header has no name and no time).
//!
//! # Wire format
//!
//! `profile.proto` is small, so it is written by hand (field numbers from
//! `github.com/google/pprof/proto/profile.proto`):
//!
//! | message | fields written |
//! |---|---|
//! | `Profile` | 1 `sample_type`, 2 `sample`, 4 `location`, 5 `function`, 6 `string_table`, 11 `period_type`, 12 `period` |
//! | `ValueType` | 1 `type`, 2 `unit` (string indices) |
//! | `Sample` | 1 `location_id` (packed), 2 `value` (packed) |
//! | `Location` | 1 `id`, 3 `address`, 4 `line` |
//! | `Line` | 1 `function_id`, 2 `line` |
//! | `Function` | 1 `id`, 2 `name`, 3 `system_name`, 4 `filename` (string indices) |
//!
//! Integers are varints (negative `int64`s as ten bytes, two's complement); zero values are
//! left out, as proto3 does.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use flate2::Compression;
use flate2::GzBuilder;
use goroscope_analysis::pprof::{Frame, Profile};

/// The profile as an uncompressed `profile.proto` message.
pub fn encode(profile: &Profile) -> Vec<u8> {
    let mut strings = StringTable::default();
    let mut locations: Vec<(u64, u64, u64)> = Vec::new(); // (address, function ID, line)
    let mut location_ids: HashMap<LocationKey<'_>, u64> = HashMap::new();
    let mut functions: Vec<(u64, u64)> = Vec::new(); // (name, file) string indices
    let mut function_ids: HashMap<(&[u8], &[u8]), u64> = HashMap::new();

    let contentions = strings.index(b"contentions");
    let count = strings.index(b"count");
    let delay = strings.index(b"delay");
    let nanoseconds = strings.index(b"nanoseconds");
    let trace = strings.index(b"trace");

    let mut out = Vec::new();
    let mut msg = Vec::new();
    for (ty, unit) in [(contentions, count), (delay, nanoseconds)] {
        value_type(&mut msg, ty, unit);
        message(&mut out, 1, &msg);
    }

    let mut ids = Vec::new();
    for sample in &profile.samples {
        ids.clear();
        for frame in &sample.stack {
            let key = LocationKey::of(frame);
            let id = match location_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let fkey = (&frame.func[..], &frame.file[..]);
                    let function = match function_ids.get(&fkey) {
                        Some(&id) => id,
                        None => {
                            let name = strings.index(&frame.func);
                            let file = strings.index(&frame.file);
                            functions.push((name, file));
                            let id = functions.len() as u64;
                            function_ids.insert(fkey, id);
                            id
                        }
                    };
                    locations.push((frame.pc, function, frame.line));
                    let id = locations.len() as u64;
                    location_ids.insert(key, id);
                    id
                }
            };
            ids.push(id);
        }
        msg.clear();
        packed(&mut msg, 1, ids.iter().copied());
        packed(
            &mut msg,
            2,
            [sample.count as i64, sample.delay].map(|v| v as u64),
        );
        message(&mut out, 2, &msg);
    }

    let mut line = Vec::new();
    for (i, &(address, function, number)) in locations.iter().enumerate() {
        msg.clear();
        uint(&mut msg, 1, i as u64 + 1);
        uint(&mut msg, 3, address);
        line.clear();
        uint(&mut line, 1, function);
        uint(&mut line, 2, number);
        message(&mut msg, 4, &line);
        message(&mut out, 4, &msg);
    }
    for (i, &(name, file)) in functions.iter().enumerate() {
        msg.clear();
        uint(&mut msg, 1, i as u64 + 1);
        uint(&mut msg, 2, name);
        uint(&mut msg, 3, name);
        uint(&mut msg, 4, file);
        message(&mut out, 5, &msg);
    }
    for s in &strings.list {
        message(&mut out, 6, s);
    }
    value_type(&mut msg, trace, count);
    message(&mut out, 11, &msg);
    uint(&mut out, 12, 1);
    out
}

/// Writes the profile gzipped, as `go tool pprof` reads it.
pub fn write_gzip(profile: &Profile, out: impl Write) -> io::Result<()> {
    let mut gz = GzBuilder::new().write(out, Compression::default());
    gz.write_all(&encode(profile))?;
    gz.finish()?.flush()
}

/// The profile gzipped, as [`write_gzip`] writes it.
pub fn to_gzip(profile: &Profile) -> Vec<u8> {
    let mut out = Vec::new();
    write_gzip(profile, &mut out).expect("writing to memory cannot fail");
    out
}

/// What makes a frame a distinct Location: its PC, or the whole frame when synthetic.
#[derive(Debug, PartialEq, Eq, Hash)]
enum LocationKey<'a> {
    Pc(u64),
    Synthetic(&'a Frame),
}

impl<'a> LocationKey<'a> {
    fn of(frame: &'a Frame) -> Self {
        if frame.is_synthetic() {
            Self::Synthetic(frame)
        } else {
            Self::Pc(frame.pc)
        }
    }
}

/// The string table: `""` first, then each string once, in the order of first use.
struct StringTable {
    index: HashMap<Arc<[u8]>, u64>,
    list: Vec<Arc<[u8]>>,
}

impl Default for StringTable {
    fn default() -> Self {
        let empty: Arc<[u8]> = Arc::from(&b""[..]);
        Self {
            index: HashMap::from([(empty.clone(), 0)]),
            list: vec![empty],
        }
    }
}

impl StringTable {
    fn index(&mut self, s: &[u8]) -> u64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let s: Arc<[u8]> = Arc::from(s);
        let i = self.list.len() as u64;
        self.list.push(s.clone());
        self.index.insert(s, i);
        i
    }
}

const VARINT: u64 = 0;
const LEN: u64 = 2;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint field; left out when 0.
fn uint(out: &mut Vec<u8>, field: u64, v: u64) {
    if v != 0 {
        varint(out, field << 3 | VARINT);
        varint(out, v);
    }
}

/// A length-delimited field (bytes, string or embedded message), written even when empty.
fn message(out: &mut Vec<u8>, field: u64, body: &[u8]) {
    varint(out, field << 3 | LEN);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// A packed repeated varint field; left out when empty.
fn packed(out: &mut Vec<u8>, field: u64, values: impl IntoIterator<Item = u64>) {
    let mut body = Vec::new();
    for v in values {
        varint(&mut body, v);
    }
    if !body.is_empty() {
        message(out, field, &body);
    }
}

/// A `ValueType` message into `msg` (cleared first).
fn value_type(msg: &mut Vec<u8>, ty: u64, unit: u64) {
    msg.clear();
    uint(msg, 1, ty);
    uint(msg, 2, unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_protobuf_writes_them() {
        let enc = |v: u64| {
            let mut out = Vec::new();
            varint(&mut out, v);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(1), [1]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 1]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(enc(-1i64 as u64).len(), 10);
        assert_eq!(
            enc(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]
        );
    }

    #[test]
    fn an_empty_profile_has_its_types_and_period() {
        let bytes = encode(&Profile::default());
        let mut expected = Vec::new();
        // sample_type {1: 1 ("contentions"), 2: 2 ("count")}, {3 ("delay"), 4 ("nanoseconds")}
        expected.extend_from_slice(&[0x0a, 4, 0x08, 1, 0x10, 2]);
        expected.extend_from_slice(&[0x0a, 4, 0x08, 3, 0x10, 4]);
        for s in ["", "contentions", "count", "delay", "nanoseconds", "trace"] {
            expected.extend_from_slice(&[0x32, s.len() as u8]);
            expected.extend_from_slice(s.as_bytes());
        }
        // period_type {5 ("trace"), 2 ("count")}, period 1
        expected.extend_from_slice(&[0x5a, 4, 0x08, 5, 0x10, 2, 0x60, 1]);
        assert_eq!(bytes, expected);
    }
}

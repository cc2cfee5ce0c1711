//! A flat reader of v2 records in file order, batch headers included, nothing merged or
//! interpreted: what Go's `internal/trace/raw` reader and `go tool trace -d=wire` see.
//!
//! It uses the event table of the header's version, so it rejects events that the version
//! does not define (as Go's raw reader does), unlike the ordering reader.

use std::fmt::Write as _;

use crate::error::{Error, ErrorKind, Result};
use crate::quote;
use crate::uvarint::{self, UvarintError};
use crate::v2::spec::{EventType, Spec, specs};
use crate::version::{self, Version};

/// One record as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawRecord<'a> {
    /// The type byte.
    pub ty: EventType,
    /// The arguments in spec order; for `Stack`, followed by four values per frame.
    pub args: Vec<u64>,
    /// The trailing bytes of `String` and `ExperimentalBatch`.
    pub data: Option<&'a [u8]>,
    /// Byte offset of the type byte.
    pub offset: u64,
}

impl RawRecord<'_> {
    /// Appends the record in Go's text syntax (`Name arg=val …`, frames and data on
    /// tab-indented lines), without a trailing newline.
    pub fn write_text(&self, version: Version, out: &mut String) {
        let spec = specs(version)
            .get(usize::from(self.ty.0))
            .unwrap_or(&Spec::EMPTY);
        out.push_str(spec.name);
        let nargs = spec.args.len().min(self.args.len());
        for (name, v) in spec.args.iter().zip(&self.args[..nargs]) {
            let _ = write!(out, " {name}={v}");
        }
        if spec.is_stack {
            const FIELDS: [&str; 4] = ["pc", "func", "file", "line"];
            for (i, v) in self.args[nargs..].iter().enumerate() {
                out.push_str(if i % 4 == 0 { "\n\t" } else { " " });
                let _ = write!(out, "{}={v}", FIELDS[i % 4]);
            }
        }
        // Go's raw reader leaves empty data nil, and nil data is not printed.
        if let Some(data) = self.data.filter(|d| !d.is_empty()) {
            out.push_str("\n\tdata=");
            quote::quote_into(out, data);
        }
    }

    /// The size of the record re-encoded with minimal uvarints (Go's `EncodedSize`).
    pub fn encoded_size(&self) -> usize {
        1 + self
            .args
            .iter()
            .map(|&a| uvarint::encoded_len(a))
            .sum::<usize>()
            + self
                .data
                .map_or(0, |d| uvarint::encoded_len(d.len() as u64) + d.len())
    }
}

/// Reads records one after the other.
#[derive(Debug, Clone)]
pub struct RawReader<'a> {
    data: &'a [u8],
    pos: usize,
    version: Version,
    specs: &'static [Spec],
}

impl<'a> RawReader<'a> {
    /// A reader over the whole trace `data`, header included.
    pub fn new(data: &'a [u8]) -> Result<Self> {
        let (version, pos) = version::read_header(data)?;
        Ok(Self {
            data,
            pos,
            version,
            specs: specs(version),
        })
    }

    /// The trace's version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The byte offset of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads the next record into `rec`, reusing its storage. Returns `false` at the end.
    pub fn read_into(&mut self, rec: &mut RawRecord<'a>) -> Result<bool> {
        let Some(&ty) = self.data.get(self.pos) else {
            return Ok(false);
        };
        let offset = self.pos as u64;
        if ty == 0 || usize::from(ty) >= self.specs.len() {
            return Err(Error::new(ErrorKind::InvalidEventType(ty), offset));
        }
        let spec = &self.specs[usize::from(ty)];
        let mut pos = self.pos + 1;
        rec.ty = EventType(ty);
        rec.args.clear();
        rec.data = None;
        rec.offset = offset;
        for _ in 0..spec.args.len() {
            rec.args.push(self.uvarint(&mut pos, "argument")?);
        }
        if spec.is_stack {
            let frames = go_int_count(rec.args.get(1).copied().unwrap_or(0));
            for _ in 0..frames {
                for _ in 0..4 {
                    rec.args.push(self.uvarint(&mut pos, "stack frame")?);
                }
            }
        }
        if spec.has_data {
            let len = go_int_count(self.uvarint(&mut pos, "data length")?);
            let rest = &self.data[pos..];
            if len > rest.len() as u64 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof("data"),
                    self.data.len() as u64,
                ));
            }
            rec.data = Some(&rest[..len as usize]);
            pos += len as usize;
        }
        self.pos = pos;
        Ok(true)
    }

    fn uvarint(&self, pos: &mut usize, what: &'static str) -> Result<u64> {
        match uvarint::read(&self.data[*pos..]) {
            Ok((v, n)) => {
                *pos += n;
                Ok(v)
            }
            Err(UvarintError::Eof) => Err(Error::new(ErrorKind::UnexpectedEof(what), *pos as u64)),
            Err(UvarintError::Overflow) => {
                Err(Error::new(ErrorKind::UvarintOverflow(what), *pos as u64))
            }
        }
    }
}

/// A count read from the file as Go's raw reader uses it: converted to a signed `int`, so
/// that counts of 2^63 or more are negative and their loops run zero times.
fn go_int_count(n: u64) -> u64 {
    if n > i64::MAX as u64 { 0 } else { n }
}

/// Writes every record of `data` in Go's `-d=wire` syntax, one per line, to `out`. On error,
/// the records before it have been written.
pub fn write_wire_dump(data: &[u8], out: &mut dyn std::io::Write) -> Result<(), WireDumpError> {
    let mut reader = RawReader::new(data)?;
    let mut rec = RawRecord::default();
    let mut line = String::new();
    while reader.read_into(&mut rec)? {
        line.clear();
        rec.write_text(reader.version(), &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Why a dump stopped.
#[derive(Debug, thiserror::Error)]
pub enum WireDumpError {
    /// The trace could not be decoded.
    #[error(transparent)]
    Decode(#[from] Error),
    /// The output could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Per event type: how many records and how many (re-encoded) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// The trace's version.
    pub version: Version,
    /// `(count, bytes)` per type byte.
    pub per_type: Vec<(u64, u64)>,
    /// The file size in bytes.
    pub file_size: u64,
    /// The number of records.
    pub records: u64,
}

/// Counts records and bytes per event type, as `go tool trace -d=footprint` does.
pub fn footprint(data: &[u8]) -> Result<Footprint> {
    let mut reader = RawReader::new(data)?;
    let mut per_type = vec![(0u64, 0u64); 256];
    let mut rec = RawRecord::default();
    let mut records = 0;
    while reader.read_into(&mut rec)? {
        let e = &mut per_type[usize::from(rec.ty.0)];
        e.0 += 1;
        e.1 += rec.encoded_size() as u64;
        records += 1;
    }
    Ok(Footprint {
        version: reader.version(),
        per_type,
        file_size: data.len() as u64,
        records,
    })
}

impl Footprint {
    /// The table Go prints: every type code, sorted by bytes (largest first), aligned as Go's
    /// `tabwriter` aligns it.
    pub fn to_table(&self) -> String {
        let table = specs(self.version);
        let mut rows: Vec<(usize, u64, u64)> = self
            .per_type
            .iter()
            .enumerate()
            .map(|(ty, &(count, bytes))| (ty, count, bytes))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.2));
        let mut cells: Vec<[String; 5]> = vec![
            ["Event", "Bytes", "%", "Count", "%"].map(String::from),
            ["-", "-", "-", "-", "-"].map(String::from),
        ];
        for (ty, count, bytes) in rows {
            let name = match table.get(ty) {
                Some(s) => s.name.to_owned(),
                None => format!("<unknown ({ty})>"),
            };
            let bytes_pct = bytes as f64 / self.file_size as f64 * 100.0;
            let count_pct = count as f64 / self.records as f64 * 100.0;
            cells.push([
                name,
                bytes.to_string(),
                format!("{}%", go_float2(bytes_pct)),
                count.to_string(),
                format!("{}%", go_float2(count_pct)),
            ]);
        }
        tabwrite(&cells, 3, 2)
    }
}

/// `%.2f` as Go prints it (NaN and infinities included).
fn go_float2(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v:.2}")
    }
}

/// Aligns rows as Go's `text/tabwriter` with flags 0: every cell but the last of a row is
/// padded to its column's width plus `padding`, at least `min_width`.
pub(crate) fn tabwrite<const N: usize>(
    rows: &[[String; N]],
    min_width: usize,
    padding: usize,
) -> String {
    let mut widths = [min_width; N];
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(N - 1) {
            widths[c] = widths[c].max(cell.chars().count() + padding);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if c < N - 1 {
                let pad = widths[c] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_go_wire_syntax() {
        let mut t = Version::GO126.header();
        // EventBatch gen=1 m=MAX time=5 size=...: a strings batch with one string.
        t.extend_from_slice(&[
            1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 5, 6,
        ]);
        t.extend_from_slice(&[4, 5, 1, 3, b'a', b'"', 0xff]);
        // A stacks batch with one frame.
        t.extend_from_slice(&[1, 1, 2, 5, 7, 2, 3, 9, 1, 0x80, 0x01, 1, 1, 42]);
        t.push(52);
        let mut out = Vec::new();
        write_wire_dump(&t, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "EventBatch gen=1 m=18446744073709551615 time=5 size=6\n\
             Strings\n\
             String id=1\n\tdata=\"a\\\"\\xff\"\n\
             EventBatch gen=1 m=2 time=5 size=7\n\
             Stacks\n\
             Stack id=9 nframes=1\n\tpc=128 func=1 file=1 line=42\n\
             EndOfGeneration\n"
        );
    }

    #[test]
    fn huge_counts_and_empty_data_read_as_go_reads_them() {
        // Checked with Go 1.27.3's `go tool trace -d=wire`: a frame count or data length of
        // 2^63 or more reads nothing more (Go converts it to a negative `int`), and empty data
        // is not printed at all.
        let mut t = Version::GO126.header();
        t.extend_from_slice(&[1, 1, 2, 3, 21, 2, 3, 1]);
        t.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        t.extend_from_slice(&[3, 2, 0, 4, 5, 1, 0, 5, 2]);
        t.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        t.push(52);
        let mut out = Vec::new();
        write_wire_dump(&t, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "EventBatch gen=1 m=2 time=3 size=21\n\
             Stacks\n\
             Stack id=1 nframes=9223372036854775808\n\
             Stack id=2 nframes=0\n\
             Strings\n\
             String id=1\n\
             String id=2\n\
             EndOfGeneration\n"
        );
        let f = footprint(&t).unwrap();
        // Canonical sizes count the data actually read: none for both strings.
        assert_eq!(f.per_type[5], (2, 3 + 3));
    }

    #[test]
    fn raw_reader_uses_the_version_table() {
        let mut t = Version::GO125.header();
        t.push(52);
        let mut r = RawReader::new(&t).unwrap();
        let err = r.read_into(&mut RawRecord::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidEventType(52));
        assert_eq!(err.offset, 16);
    }

    #[test]
    fn footprint_counts_canonical_sizes() {
        let mut t = Version::GO126.header();
        t.extend_from_slice(&[1, 1, 2, 3, 0x81, 0x80, 0x00, 2, 52]);
        let f = footprint(&t).unwrap();
        assert_eq!(f.per_type[1], (1, 5));
        assert_eq!(f.per_type[52], (1, 1));
        assert_eq!(f.records, 3);
        let table = f.to_table();
        assert!(
            table.starts_with("Event                Bytes  %       Count  %\n"),
            "{table}"
        );
    }
}

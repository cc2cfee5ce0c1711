//! Go's text form of a v2 trace (the format of Go's `internal/trace/raw` text reader and
//! writer), in which Go's golden tests are written.
//!
//! ```text
//! Trace Go1.22
//! EventBatch gen=1 m=0 time=0 size=15
//! ProcStatus dt=1 p=0 pstatus=1
//! Stack id=1 nframes=1
//!     pc=4668995 func=30 file=31 line=282
//! String id=1
//!     data="Not worker"
//! ```
//!
//! - The first line that is not blank is the header `Trace Go1.N`; `N` must be a v2 version.
//! - Blank lines, and lines whose first token starts with `#`, are skipped. Tokens are separated
//!   by Unicode whitespace.
//! - Every other line is one record: its name, then `name=value` for every argument of the
//!   version's spec, with the same names in the same order (`dt` included). Values are decimal
//!   `u64`s, so "none" is written `18446744073709551615`.
//! - `Stack` is followed by `nframes` lines `pc=… func=… file=… line=…`.
//! - Records with data (`String`, `ExperimentalBatch`) are followed by a line
//!   `data="<Go-quoted string>"`; the length is implied.
//!
//! [`text_to_binary`] writes the wire form exactly as Go's raw writer does: every value as a
//! minimal uvarint, *verbatim* (batch sizes are not recomputed: some of Go's tests rely on
//! wrong ones). [`binary_to_text`] prints every record in file order, as `go tool trace
//! -d=wire` does, after the header line.
//!
//! The reader accepts what Go's accepts, with two deliberate differences: the header must name
//! a v2 version (Go accepts a v1 header followed by nothing), and lines may be of any length
//! (Go's line scanner stops at 64 KiB).

use std::fmt::Write as _;

use crate::error::{Error, ErrorKind, Result};
use crate::quote;
use crate::uvarint;
use crate::v2::raw::{RawReader, RawRecord};
use crate::v2::spec::{self, EventType};
use crate::version::Version;

/// The field names of a stack frame line.
const FRAME_FIELDS: [&str; 4] = ["pc", "func", "file", "line"];

/// One record read from the text form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextRecord {
    /// The event type.
    pub ty: EventType,
    /// The arguments in spec order; for `Stack`, followed by four values per frame.
    pub args: Vec<u64>,
    /// The data of `String` and `ExperimentalBatch`, unquoted.
    pub data: Option<Vec<u8>>,
    /// The 1-based line of the record's name.
    pub line: usize,
}

impl TextRecord {
    /// Appends the wire form of the record to `out`, as Go's raw writer does: the type byte,
    /// every argument (and frame value) as a minimal uvarint, then, for records with data, the
    /// data's length as a uvarint and the data.
    pub fn write_binary(&self, out: &mut Vec<u8>) {
        out.push(self.ty.0);
        for &arg in &self.args {
            uvarint::write(out, arg);
        }
        if let Some(data) = &self.data {
            uvarint::write(out, data.len() as u64);
            out.extend_from_slice(data);
        }
    }
}

/// A reader of the text form, one record at a time.
#[derive(Debug, Clone)]
pub struct TextReader<'t> {
    lines: Lines<'t>,
    version: Version,
}

impl<'t> TextReader<'t> {
    /// Reads the header line of `text`.
    pub fn new(text: &'t str) -> Result<Self> {
        let mut lines = Lines::new(text);
        let Some(header) = lines.next_line() else {
            return Err(text_error(1, text.len(), "missing header line".to_owned()));
        };
        let fail = |message: String| Err(header.error(message));
        let (trace, rest) = read_token(header.text);
        if trace != "Trace" {
            return fail("failed to parse header".to_owned());
        }
        let (go_version, rest) = read_token(rest);
        let Some(minor) = go_version.strip_prefix("Go1.") else {
            return fail("failed to parse header Go version".to_owned());
        };
        let minor = match parse_u64(minor) {
            Ok(minor) => minor,
            Err(why) => {
                return fail(format!(
                    "failed to parse header Go version: strconv.ParseUint: parsing {}: {why}",
                    quote::quote(minor.as_bytes())
                ));
            }
        };
        // Go converts the number to its 32-bit version type without a range check.
        let minor = minor as u32;
        let version = Version::from_minor(minor).filter(|v| !v.is_v1());
        let Some(version) = version else {
            return fail(format!("unknown or unsupported Go version 1.{minor}"));
        };
        if !is_blank(rest) {
            return fail(format!(
                "encountered unexpected non-space at the end of the header: {}",
                quote::quote(rest.as_bytes())
            ));
        }
        Ok(Self { lines, version })
    }

    /// The version named by the header.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Reads the next record, or returns `None` at the end of the text.
    pub fn next_record(&mut self) -> Result<Option<TextRecord>> {
        let Some(line) = self.lines.next_line() else {
            return Ok(None);
        };
        let (name, rest) = read_token(line.text);
        let found =
            spec::by_name(self.version, name).and_then(|ty| Some((ty, ty.spec_in(self.version)?)));
        let Some((ty, spec)) = found else {
            return Err(line.error(format!("unidentified event: {name}")));
        };
        let mut args = Vec::with_capacity(spec.args.len());
        read_args(rest, spec.args, &mut args)
            .map_err(|why| line.error(format!("reading args for {name}: {why}")))?;
        if spec.is_stack {
            // Go converts the frame count to a signed `int`: a count of 2^63 or more becomes
            // negative, and no frame lines are read.
            let frames = args.get(1).copied().unwrap_or(0);
            let frames = if frames > i64::MAX as u64 { 0 } else { frames };
            for _ in 0..frames {
                let Some(frame) = self.lines.next_line() else {
                    return Err(line.error_at_end(
                        self.lines.text.len(),
                        format!(
                            "unexpected EOF while reading stack: args={}",
                            go_slice(&args)
                        ),
                    ));
                };
                read_args(frame.text, &FRAME_FIELDS, &mut args).map_err(|why| frame.error(why))?;
            }
        }
        let mut data = None;
        if spec.has_data {
            let Some(data_line) = self.lines.next_line() else {
                return Err(line.error_at_end(
                    self.lines.text.len(),
                    format!(
                        "unexpected EOF while reading data for {name}: args={}",
                        go_slice(&args)
                    ),
                ));
            };
            data = Some(read_data(data_line.text).map_err(|why| data_line.error(why))?);
        }
        Ok(Some(TextRecord {
            ty,
            args,
            data,
            line: line.number,
        }))
    }
}

/// Converts Go's text form of a trace to its wire form, as Go's golden tests do.
pub fn text_to_binary(text: &str) -> Result<Vec<u8>> {
    let mut reader = TextReader::new(text)?;
    let mut out = reader.version().header();
    out.reserve(text.len() / 3);
    while let Some(rec) = reader.next_record()? {
        rec.write_binary(&mut out);
    }
    Ok(out)
}

/// Prints the v2 trace `data` in Go's text form: the header line `Trace Go1.N`, then every
/// record in file order, one per line (frames and data on tab-indented lines).
///
/// As in Go, a record with empty data is printed without its data line; the runtime never
/// writes one (empty strings have the implicit ID 0).
pub fn binary_to_text(data: &[u8]) -> Result<String> {
    let mut reader = RawReader::new(data)?;
    let version = reader.version();
    if version.is_v1() {
        return Err(Error::new(
            ErrorKind::UnsupportedVersion(version.minor()),
            5,
        ));
    }
    let mut out = String::with_capacity(data.len().saturating_mul(3));
    let _ = writeln!(out, "Trace Go1.{}", version.minor());
    let mut rec = RawRecord::default();
    while reader.read_into(&mut rec)? {
        rec.write_text(version, &mut out);
        out.push('\n');
    }
    Ok(out)
}

/// Unquotes a Go string literal as `strconv.Unquote` does: double-quoted, back-quoted (raw,
/// carriage returns dropped) or a single-quoted character.
pub(crate) fn unquote_literal(s: &str) -> Result<Vec<u8>, String> {
    let invalid = || "invalid syntax".to_owned();
    if let Some(raw) = s.strip_prefix('`') {
        let raw = raw.strip_suffix('`').ok_or_else(invalid)?;
        if raw.contains('`') {
            return Err(invalid());
        }
        return Ok(raw.bytes().filter(|&b| b != b'\r').collect());
    }
    if let Some(inner) = s.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'').ok_or_else(invalid)?;
        return unquote_char(inner).ok_or_else(invalid);
    }
    quote::unquote(s).map_err(|_| invalid())
}

/// The bytes of the single character `inner` of a single-quoted literal.
fn unquote_char(inner: &str) -> Option<Vec<u8>> {
    let mut chars = inner.chars();
    let Some(first) = chars.next() else {
        // Go accepts `''` as the empty string.
        return Some(Vec::new());
    };
    if first != '\\' {
        return (chars.next().is_none() && first != '\'' && first != '\n')
            .then(|| first.to_string().into_bytes());
    }
    let escape = chars.next()?;
    let len = match escape {
        '\'' => return (inner.len() == 2).then(|| b"'".to_vec()),
        'x' => 4,
        'u' => 6,
        'U' => 10,
        '0'..='7' => 4,
        'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => 2,
        _ => return None,
    };
    // The escapes left are ASCII, so lengths in bytes are lengths in characters.
    if inner.len() != len {
        return None;
    }
    quote::unquote(&format!("\"{inner}\"")).ok()
}

/// One line of the text, with its number and byte offset.
#[derive(Debug, Clone, Copy)]
struct Line<'t> {
    text: &'t str,
    number: usize,
    offset: usize,
}

impl Line<'_> {
    fn error(&self, message: String) -> Error {
        text_error(self.number, self.offset, message)
    }

    /// An error about this line found at the end of the text.
    fn error_at_end(&self, end: usize, message: String) -> Error {
        text_error(self.number, end, message)
    }
}

fn text_error(line: usize, offset: usize, message: String) -> Error {
    Error::new(ErrorKind::Text { line, message }, offset as u64)
}

/// The lines of the text that hold a token, as Go's scanner and `nextLine` see them: split at
/// `\n`, with one trailing `\r` dropped.
#[derive(Debug, Clone)]
struct Lines<'t> {
    text: &'t str,
    pos: usize,
    number: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            pos: 0,
            number: 0,
        }
    }

    /// The next line that is neither blank nor a comment.
    fn next_line(&mut self) -> Option<Line<'t>> {
        while self.pos < self.text.len() {
            let offset = self.pos;
            let rest = &self.text[offset..];
            let (line, len) = match rest.find('\n') {
                Some(i) => (&rest[..i], i + 1),
                None => (rest, rest.len()),
            };
            self.pos += len;
            self.number += 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !read_token(line).0.is_empty() {
                return Some(Line {
                    text: line,
                    number: self.number,
                    offset,
                });
            }
        }
        None
    }
}

/// Splits off the first token of `s`, as Go's `readToken`: tokens end at whitespace or `#`,
/// and a `#` where a token would start ends the line.
fn read_token(s: &str) -> (&str, &str) {
    let Some(start) = s.find(|c: char| c == '#' || !c.is_whitespace()) else {
        return ("", "");
    };
    let rest = &s[start..];
    if rest.starts_with('#') {
        return ("", "");
    }
    match rest.find(|c: char| c == '#' || c.is_whitespace()) {
        Some(end) => (&rest[..end], &rest[end..]),
        None => (rest, ""),
    }
}

fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// Reads `name=value` for each of `names` from `s` into `out`; nothing but whitespace may
/// follow.
fn read_args(mut s: &str, names: &[&str], out: &mut Vec<u64>) -> Result<(), String> {
    for &name in names {
        let (token, rest) = read_token(s);
        if token.is_empty() {
            return Err("no argument".to_owned());
        }
        let Some((arg, value)) = token.split_once('=') else {
            return Err(format!(
                "malformed argument: {}",
                quote::quote(token.as_bytes())
            ));
        };
        let Ok(value) = parse_u64(value) else {
            return Err(format!(
                "failed to parse argument value {} for arg {}",
                quote::quote(value.as_bytes()),
                quote::quote(arg.as_bytes())
            ));
        };
        if arg != name {
            return Err(format!(
                "expected argument {}, but got {}",
                quote::quote(name.as_bytes()),
                quote::quote(arg.as_bytes())
            ));
        }
        out.push(value);
        s = rest;
    }
    if !is_blank(s) {
        return Err(format!(
            "encountered unexpected non-space at the end of an event: {}",
            quote::quote(s.as_bytes())
        ));
    }
    Ok(())
}

/// Reads a `data=<quoted>` line.
fn read_data(line: &str) -> Result<Vec<u8>, String> {
    let malformed = || format!("malformed data: {}", quote::quote(line.as_bytes()));
    let (key, value) = line.split_once('=').ok_or_else(malformed)?;
    if key.trim() != "data" {
        return Err(malformed());
    }
    unquote_literal(value.trim()).map_err(|why| {
        format!(
            "failed to parse data: {}: {why}",
            quote::quote(line.as_bytes())
        )
    })
}

/// Parses a decimal `u64` as Go's `strconv.ParseUint(s, 10, 64)`: ASCII digits only.
fn parse_u64(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse().map_err(|_| "value out of range")
}

/// A slice of numbers as Go's `%v` prints it: `[1 2 3]`.
fn go_slice(values: &[u64]) -> String {
    let mut out = String::from("[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{v}");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &str = "\
Trace Go1.22
EventBatch gen=1 m=0 time=0 size=15
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
GoSyscallBegin dt=1 p_seq=1 stack=0
GoSyscallEndBlocked dt=1
EventBatch gen=1 m=1 time=0 size=14
ProcStatus dt=1 p=2 pstatus=1
GoStatus dt=1 g=2 m=1 gstatus=2
ProcSteal dt=1 p=0 p_seq=2 m=0
EventBatch gen=1 m=18446744073709551615 time=0 size=5
Frequency freq=15625000
EventBatch gen=1 m=18446744073709551615 time=0 size=1
Stacks
EventBatch gen=1 m=18446744073709551615 time=0 size=1
Strings
";

    fn message(text: &str) -> (usize, String) {
        let err = text_to_binary(text).unwrap_err();
        match err.kind {
            ErrorKind::Text { line, message } => (line, message),
            other => panic!("not a text error: {other:?}"),
        }
    }

    #[test]
    fn converts_go_s_example_byte_for_byte() {
        let bin = text_to_binary(SIMPLE).unwrap();
        assert_eq!(bin.len(), 104);
        assert_eq!(
            &bin[..30],
            &[
                0x67, 0x6f, 0x20, 0x31, 0x2e, 0x32, 0x32, 0x20, 0x74, 0x72, 0x61, 0x63, 0x65, 0, 0,
                0, 0x01, 0x01, 0x00, 0x00, 0x0f, 0x0d, 0x01, 0x00, 0x01, 0x19, 0x01, 0x01, 0x00,
                0x02
            ]
        );
        assert_eq!(binary_to_text(&bin).unwrap(), SIMPLE);
    }

    #[test]
    fn stacks_strings_and_experimental_batches_round_trip() {
        let text = "Trace Go1.26\n\
                    EventBatch gen=1 m=18446744073709551615 time=3 size=99\n\
                    Stacks\n\
                    Stack id=1 nframes=2\n\
                    \tpc=4668995 func=30 file=31 line=282\n\
                    \tpc=1 func=2 file=3 line=4\n\
                    String id=7\n\
                    \tdata=\"a\\\"\\xff\\n世\"\n\
                    ExperimentalBatch exp=1 gen=1 m=5 time=6\n\
                    \tdata=\"\\x00\\x01\"\n\
                    EndOfGeneration\n";
        let bin = text_to_binary(text).unwrap();
        // The size is written as given, not recomputed.
        assert_eq!(&bin[16..19], &[1, 1, 0xff]);
        assert_eq!(bin[29], 99);
        assert!(bin.ends_with(&[49, 1, 1, 5, 6, 2, 0, 1, 52]));
        assert_eq!(binary_to_text(&bin).unwrap(), text);
    }

    #[test]
    fn skips_blank_lines_comments_and_odd_whitespace() {
        let text = "\n# a comment\r\n  Trace\u{a0}Go1.23  \r\n\n\t# another\n\
                    EventBatch\u{2003}gen=1  m=2\ttime=3 size=1 \n\
                    Strings\n";
        let bin = text_to_binary(text).unwrap();
        assert_eq!(&bin[..16], b"go 1.23 trace\0\0\0");
        assert_eq!(&bin[16..], &[1, 1, 2, 3, 1, 4]);
        let mut r = TextReader::new(text).unwrap();
        assert_eq!(r.version(), Version::GO123);
        assert_eq!(r.next_record().unwrap().unwrap().line, 6);
        assert_eq!(r.next_record().unwrap().unwrap().line, 7);
        assert_eq!(r.next_record().unwrap(), None);
    }

    #[test]
    fn headers_follow_go() {
        assert_eq!(message(""), (1, "missing header line".to_owned()));
        assert_eq!(
            message("Trace"),
            (1, "failed to parse header Go version".into())
        );
        assert_eq!(
            message("\nTrac Go1.22"),
            (2, "failed to parse header".into())
        );
        assert_eq!(
            message("Trace Go1.+22").1,
            "failed to parse header Go version: strconv.ParseUint: parsing \"+22\": invalid syntax"
        );
        assert_eq!(
            message("Trace Go1.24").1,
            "unknown or unsupported Go version 1.24"
        );
        assert_eq!(
            message("Trace Go1.21").1,
            "unknown or unsupported Go version 1.21"
        );
        assert_eq!(
            message("Trace Go1.22 # no").1,
            "encountered unexpected non-space at the end of the header: \" # no\""
        );
        // Go's version type is 32 bits wide: 2^32 + 22 is 22.
        assert!(text_to_binary("Trace Go1.4294967318").is_ok());
    }

    #[test]
    fn records_follow_go() {
        let h = "Trace Go1.22\n";
        let m = |body: &str| message(&format!("{h}{body}"));
        assert_eq!(m("Sync"), (2, "unidentified event: Sync".into()));
        assert_eq!(
            m("ProcStop"),
            (2, "reading args for ProcStop: no argument".into())
        );
        assert_eq!(
            m("ProcStop t=1").1,
            "reading args for ProcStop: expected argument \"dt\", but got \"t\""
        );
        assert_eq!(
            m("ProcStop dt").1,
            "reading args for ProcStop: malformed argument: \"dt\""
        );
        assert_eq!(
            m("ProcStop dt=-1").1,
            "reading args for ProcStop: failed to parse argument value \"-1\" for arg \"dt\""
        );
        assert_eq!(
            m("ProcStop dt=18446744073709551616").1,
            "reading args for ProcStop: failed to parse argument value \"18446744073709551616\" for arg \"dt\""
        );
        assert_eq!(
            m("ProcStop dt=1 x=2").1,
            "reading args for ProcStop: encountered unexpected non-space at the end of an event: \" x=2\""
        );
        assert_eq!(
            m("ProcStop dt=1#c").1,
            "reading args for ProcStop: encountered unexpected non-space at the end of an event: \"#c\""
        );
        assert_eq!(
            m("Stack id=1 nframes=2\n\tpc=1 func=2 file=3 line=4\n"),
            (
                2,
                "unexpected EOF while reading stack: args=[1 2 1 2 3 4]".into()
            )
        );
        assert_eq!(
            m("Stack id=1 nframes=1\n\n\tpc=1 func=2 file=3\n"),
            (4, "no argument".into())
        );
        assert_eq!(
            m("String id=1\n"),
            (
                2,
                "unexpected EOF while reading data for String: args=[1]".into()
            )
        );
        assert_eq!(
            m("String id=1\n\tdatum=\"x\"").1,
            "malformed data: \"\\tdatum=\\\"x\\\"\""
        );
        assert_eq!(
            m("String id=1\n\tdata=\"x").1,
            "failed to parse data: \"\\tdata=\\\"x\": invalid syntax"
        );
    }

    #[test]
    fn errors_carry_line_offsets() {
        let err = text_to_binary("Trace Go1.22\n\nBad\n").unwrap_err();
        assert_eq!(err.offset, 14);
        let err = text_to_binary("Trace Go1.22\nString id=1").unwrap_err();
        assert_eq!(err.offset, 24);
    }

    #[test]
    fn huge_frame_counts_read_no_frames_as_in_go() {
        let bin = text_to_binary("Trace Go1.22\nStack id=1 nframes=9223372036854775808\n").unwrap();
        assert_eq!(bin.len(), 16 + 1 + 1 + 10);
    }

    #[test]
    fn data_literals_follow_strconv_unquote() {
        let data = |lit: &str| {
            let text = format!("Trace Go1.22\nString id=1\n data = {lit} \n");
            let bin = text_to_binary(&text).ok()?;
            Some(bin[19..].to_vec())
        };
        assert_eq!(data("\"\""), Some(vec![]));
        assert_eq!(data("`a\r\"b`"), Some(b"a\"b".to_vec()));
        assert_eq!(data("'x'"), Some(b"x".to_vec()));
        assert_eq!(data("''"), Some(vec![]));
        assert_eq!(data("'世'"), Some("世".as_bytes().to_vec()));
        assert_eq!(data("'\\xff'"), Some(vec![0xff]));
        assert_eq!(data("'\\''"), Some(b"'".to_vec()));
        assert_eq!(data("'\\u00e9'"), Some("é".as_bytes().to_vec()));
        assert_eq!(data("'\\101'"), Some(b"A".to_vec()));
        assert_eq!(data("'ab'"), None);
        assert_eq!(data("'\\x41\\x42'"), None);
        assert_eq!(data("'\\\"'"), None);
        assert_eq!(data("`a`b`"), None);
        assert_eq!(data("\"a\" \"b\""), None);
    }

    #[test]
    fn binary_to_text_rejects_v1_and_damage() {
        let err = binary_to_text(b"go 1.21 trace\0\0\0").unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnsupportedVersion(21));
        let mut bin = Version::GO122.header();
        bin.extend_from_slice(&[1, 1, 0x80]);
        let err = binary_to_text(&bin).unwrap_err();
        assert!(err.offset <= bin.len() as u64);
    }
}

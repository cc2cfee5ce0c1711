//! Go's golden trace tests (`internal/trace/testdata/tests/*.test`).
//!
//! Each test is a txtar archive ([`parse_txtar`]) holding exactly two files, in order:
//!
//! ```text
//! -- expect --
//! FAILURE ".*expected a proc but didn't have one.*"
//! -- trace --
//! Trace Go1.22
//! EventBatch gen=1 m=0 time=0 size=15
//! …
//! ```
//!
//! The first line of `expect` is `SUCCESS` (reading the trace must end without error) or
//! `FAILURE "<Go-quoted regexp>"` (reading must fail with an error message that the regexp
//! matches somewhere). The trace is in Go's text form ([`crate::v2::text`]). Matching the
//! regexp is left to the caller: this crate has no regexp engine, so the pattern is kept as
//! text and not checked.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind, Result};
use crate::quote;
use crate::v2::text::{self, unquote_literal};

/// A txtar archive: a comment, then named files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive<'a> {
    /// The text before the first file marker (with a final newline added if it lacks one).
    pub comment: Cow<'a, str>,
    /// The files in archive order.
    pub files: Vec<ArchiveFile<'a>>,
}

/// One file of a txtar archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile<'a> {
    /// The name between the `-- ` and ` --` of its marker line, trimmed.
    pub name: &'a str,
    /// The content, with a final newline added if it lacks one (as Go's `txtar` does).
    pub data: Cow<'a, str>,
    /// The 1-based line of the marker.
    pub line: usize,
}

/// Parses a txtar archive as Go's `internal/txtar` does. Every text is an archive: a file
/// starts at each line of the form `-- NAME --`, and anything before the first marker is the
/// comment.
pub fn parse_txtar(text: &str) -> Archive<'_> {
    let mut files = Vec::new();
    let mut line = 1;
    let (comment, mut next) = find_marker(text, &mut line);
    while let Some((name, marker_line, rest)) = next {
        let (data, after) = find_marker(rest, &mut line);
        files.push(ArchiveFile {
            name,
            data: with_final_newline(data),
            line: marker_line,
        });
        next = after;
    }
    Archive {
        comment: with_final_newline(comment),
        files,
    }
}

/// A file marker: the name, its line, and the text after the marker line.
type Marker<'a> = (&'a str, usize, &'a str);

/// Finds the next marker line in `text`, whose first line is line `*line`. Returns the text
/// before it and the marker; `*line` becomes the line after the marker.
fn find_marker<'a>(text: &'a str, line: &mut usize) -> (&'a str, Option<Marker<'a>>) {
    let mut pos = 0;
    loop {
        if let Some((name, after)) = marker(&text[pos..]) {
            let marker_line = *line;
            *line += 1;
            return (&text[..pos], Some((name, marker_line, after)));
        }
        match text[pos..].find("\n-- ") {
            Some(i) => {
                *line += text[pos..pos + i + 1].matches('\n').count();
                pos += i + 1;
            }
            None => return (text, None),
        }
    }
}

/// If `text` starts with a marker line, its name and the text after the line.
fn marker(text: &str) -> Option<(&str, &str)> {
    if !text.starts_with("-- ") {
        return None;
    }
    let (line, after) = text.split_once('\n').unwrap_or((text, ""));
    let name = line
        .strip_prefix("-- ")
        .and_then(|l| l.strip_suffix(" --"))?
        .trim();
    (!name.is_empty()).then_some((name, after))
}

fn with_final_newline(data: &str) -> Cow<'_, str> {
    if data.is_empty() || data.ends_with('\n') {
        Cow::Borrowed(data)
    } else {
        Cow::Owned(format!("{data}\n"))
    }
}

/// What a golden test expects from reading its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Reading must end without an error.
    Success,
    /// Reading must fail with an error whose message this regexp (Go's RE2 syntax, unquoted)
    /// matches somewhere.
    Failure(String),
}

impl Expectation {
    /// Parses the first line of an `expect` file as Go's `testtrace.ParseExpectation` does.
    /// An empty file expects success, as in Go.
    pub fn parse(text: &str) -> Result<Self> {
        let first = text.split('\n').next().unwrap_or_default();
        let first = first.strip_suffix('\r').unwrap_or(first);
        if text.is_empty() {
            return Ok(Self::Success);
        }
        let fail = |message: String| Error::new(ErrorKind::Text { line: 1, message }, 0);
        match first.split_once(' ') {
            _ if first == "SUCCESS" => Ok(Self::Success),
            Some(("SUCCESS", _)) => Ok(Self::Success),
            Some(("FAILURE", quoted)) => {
                let pattern = unquote_literal(quoted).map_err(|why| {
                    fail(format!(
                        "malformed pattern: not correctly quoted: {quoted}: {why}"
                    ))
                })?;
                let pattern = String::from_utf8(pattern).map_err(|_| {
                    fail(format!(
                        "malformed pattern: not a valid regexp: {quoted}: invalid UTF-8"
                    ))
                })?;
                Ok(Self::Failure(pattern))
            }
            None if first == "FAILURE" => Err(fail(format!(
                "bad header line for FAILURE: {}",
                quote::quote(first.as_bytes())
            ))),
            _ => Err(fail(format!(
                "bad header line: {}",
                quote::quote(first.as_bytes())
            ))),
        }
    }
}

/// One of Go's golden trace tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenTest {
    /// What reading the trace must give.
    pub expect: Expectation,
    /// The trace in Go's text form.
    pub trace_text: String,
}

impl GoldenTest {
    /// Parses a `.test` file: a txtar archive with the files `expect` and `trace`, in that
    /// order. The trace text is not read here; see [`GoldenTest::to_binary`].
    pub fn parse(text: &str) -> Result<Self> {
        let archive = parse_txtar(text);
        let fail = |line: usize, message: String| Error::new(ErrorKind::Text { line, message }, 0);
        let [expect, trace] = archive.files.as_slice() else {
            return Err(fail(1, "malformed test: wrong number of files".to_owned()));
        };
        for (file, name) in [(expect, "expect"), (trace, "trace")] {
            if file.name != name {
                return Err(fail(
                    file.line,
                    format!("malformed test: bad filename {}", file.name),
                ));
            }
        }
        let expectation = Expectation::parse(&expect.data).map_err(|mut e| {
            if let ErrorKind::Text { line, .. } = &mut e.kind {
                *line += expect.line;
            }
            e
        })?;
        Ok(Self {
            expect: expectation,
            trace_text: trace.data.clone().into_owned(),
        })
    }

    /// The trace in wire form, converted as Go's test runner converts it. Line numbers in
    /// errors count from the first line of the `trace` file.
    pub fn to_binary(&self) -> Result<Vec<u8>> {
        text::text_to_binary(&self.trace_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txtar_follows_go() {
        let a = parse_txtar("comment\n-- a --\nA\n--  b c  --\nB1\n-- not\n-- --\nB2");
        assert_eq!(a.comment, "comment\n");
        let files: Vec<_> = a
            .files
            .iter()
            .map(|f| (f.name, f.data.as_ref(), f.line))
            .collect();
        assert_eq!(
            files,
            [("a", "A\n", 2), ("b c", "B1\n-- not\n-- --\nB2\n", 4)]
        );
        let a = parse_txtar("-- x --");
        assert_eq!((a.comment.as_ref(), a.files.len()), ("", 1));
        assert_eq!(a.files[0].data, "");
        let a = parse_txtar("-- x --\r\nno marker");
        assert_eq!(
            (a.comment.as_ref(), a.files.len()),
            ("-- x --\r\nno marker\n", 0)
        );
    }

    #[test]
    fn expectations_follow_go() {
        assert_eq!(Expectation::parse("SUCCESS\n"), Ok(Expectation::Success));
        assert_eq!(
            Expectation::parse("SUCCESS whatever\r\nignored"),
            Ok(Expectation::Success)
        );
        assert_eq!(Expectation::parse(""), Ok(Expectation::Success));
        assert_eq!(
            Expectation::parse("FAILURE \".*expected a proc but didn't have one.*\"\n"),
            Ok(Expectation::Failure(
                ".*expected a proc but didn't have one.*".to_owned()
            ))
        );
        assert_eq!(
            Expectation::parse("FAILURE `a\\d`"),
            Ok(Expectation::Failure("a\\d".to_owned()))
        );
        for bad in ["FAILURE", "FAILURE x", "SUCCESS\t", "\nSUCCESS", "success"] {
            assert!(Expectation::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn golden_tests_need_expect_then_trace() {
        let t = GoldenTest::parse(
            "-- expect --\nSUCCESS\n-- trace --\nTrace Go1.22\nEventBatch gen=1 m=0 time=0 size=0",
        )
        .unwrap();
        assert_eq!(t.expect, Expectation::Success);
        assert_eq!(t.to_binary().unwrap().len(), 21);
        let err = GoldenTest::parse("-- trace --\n-- expect --\n").unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Text {
                line: 1,
                message: "malformed test: bad filename trace".to_owned()
            }
        );
        assert!(GoldenTest::parse("-- expect --\n").is_err());
        let err = GoldenTest::parse("# c\n-- expect --\nOOPS\n-- trace --\n").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Text { line: 3, .. }));
    }
}

//! Reading one v1 record at a time, as Go's `tracev1` reads them.
//!
//! A record is a header byte, the type in the low six bits and the argument count in the top
//! two, then the arguments. Go reads a trace twice: once to find the batches and the CPU
//! samples ([`Mode::Index`], which skips what it can) and once per batch while ordering
//! ([`Mode::Full`]). The two modes check different things and fail with different messages,
//! and both are reproduced here.

use std::fmt::Display;

use crate::error::{Error, ErrorKind, Result};
use crate::uvarint;
use crate::v1::spec::EventType;

/// The largest length-prefixed argument block Go accepts.
pub(crate) const MAX_ARG_BYTES: u64 = 2048;
/// The largest string (table entry or inline log message) Go accepts.
pub(crate) const MAX_STRING_LEN: u64 = 1_000_000;

const MALFORMED_VARINT: &str = "malformatted base-128 varint";

/// An error at byte `offset` with Go's message.
pub(crate) fn v1_error(message: impl Display, offset: usize) -> Error {
    Error::new(ErrorKind::V1(message.to_string()), offset as u64)
}

/// Which of Go's two passes is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The indexing pass: arguments are skipped (except those of CPU samples), strings are
    /// skipped without checks.
    Index,
    /// The batch-loading pass: everything is decoded and checked.
    Full,
}

/// The arguments of an event, borrowed from the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Args<'a> {
    /// Up to three arguments stored inline in the header's count.
    Inline { values: [u64; 3], len: u8 },
    /// A length-prefixed block of `len` uvarints, all known to be well formed.
    Block { bytes: &'a [u8], len: u16 },
}

impl<'a> Args<'a> {
    const EMPTY: Self = Self::Inline {
        values: [0; 3],
        len: 0,
    };

    /// The number of arguments.
    pub(crate) fn len(&self) -> usize {
        match *self {
            Self::Inline { len, .. } => usize::from(len),
            Self::Block { len, .. } => usize::from(len),
        }
    }

    /// The arguments in order.
    pub(crate) fn iter(&self) -> ArgsIter<'a> {
        match *self {
            Self::Inline { values, len } => ArgsIter::Inline {
                values,
                pos: 0,
                len,
            },
            Self::Block { bytes, .. } => ArgsIter::Block(bytes),
        }
    }
}

/// An iterator over [`Args`].
#[derive(Debug, Clone)]
pub(crate) enum ArgsIter<'a> {
    Inline { values: [u64; 3], pos: u8, len: u8 },
    Block(&'a [u8]),
}

impl Iterator for ArgsIter<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        match self {
            Self::Inline { values, pos, len } => {
                if pos >= len {
                    return None;
                }
                let v = values.get(usize::from(*pos)).copied();
                *pos += 1;
                v
            }
            Self::Block(bytes) => {
                // The block was validated when it was read; a failure here cannot happen and
                // just ends the iteration.
                let (v, n) = uvarint::read(bytes).ok()?;
                *bytes = &bytes[n..];
                Some(v)
            }
        }
    }
}

/// One record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record<'a> {
    /// A batch header. `pid` is -1 for the global buffer.
    Batch { pid: i32, ticks: u64 },
    /// A string table entry (in [`Mode::Index`], only skipped: `id` is 0 and `bytes` empty).
    String { id: u64, bytes: &'a [u8] },
    /// Any other record.
    Event {
        ty: EventType,
        args: Args<'a>,
        /// The inline message of a length-prefixed `USER_LOG` ([`Mode::Full`] only).
        log: &'a [u8],
    },
}

/// A cursor over the records of a trace.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    minor: u32,
}

impl<'a> Reader<'a> {
    /// A reader of format `minor` over the whole trace `data`, positioned at `pos`.
    pub(crate) fn new(data: &'a [u8], pos: usize, minor: u32) -> Self {
        Self {
            data,
            pos: pos.min(data.len()),
            minor,
        }
    }

    /// The byte offset of the next record.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Moves to byte `pos`.
    pub(crate) fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    /// A uvarint, or Go's bare "malformatted" error at its position.
    #[inline]
    fn val(&mut self) -> Result<u64> {
        self.val_or(MALFORMED_VARINT)
    }

    #[inline]
    fn val_or(&mut self, message: impl Display) -> Result<u64> {
        match uvarint::read(&self.data[self.pos..]) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(_) => Err(v1_error(message, self.pos)),
        }
    }

    fn arg_val(&mut self, ty: EventType) -> Result<u64> {
        self.val_or(format_args!(
            "failed to read event {} argument: {MALFORMED_VARINT}",
            ty.0
        ))
    }

    /// `n` bytes. Like Go, this fails at the very end of the data even for `n == 0`.
    fn read_full(&mut self, n: u64) -> Result<&'a [u8]> {
        let rest = self.data.len() - self.pos;
        if rest == 0 || n > rest as u64 {
            return Err(v1_error(
                "failed to read trace: unexpected EOF",
                self.data.len(),
            ));
        }
        let bytes = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(bytes)
    }

    /// Skips `n` bytes if they are there.
    fn discard(&mut self, n: u64) -> bool {
        if n > (self.data.len() - self.pos) as u64 {
            return false;
        }
        self.pos += n as usize;
        true
    }

    /// Reads the next record; `Ok(None)` at the end of the data.
    ///
    /// `string_known` tells whether a string ID is already taken ([`Mode::Full`] fails on
    /// duplicates, before reading the length, as Go does).
    pub(crate) fn next(
        &mut self,
        mode: Mode,
        string_known: impl Fn(u64) -> bool,
    ) -> Result<Option<Record<'a>>> {
        let start = self.pos;
        let Some(&b) = self.data.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let ty = EventType(b & 0x3f);
        // The count excludes the timestamp; with it, 4 means "length-prefixed".
        let narg = (b >> 6) + 1;
        if !ty.is_valid_in(self.minor) {
            return Err(v1_error(format_args!("unknown event type {}", ty.0), start));
        }
        match ty {
            EventType::STRING => self.string(mode, string_known).map(Some),
            EventType::BATCH => {
                if narg != 2 {
                    return Err(v1_error(
                        format_args!("EvBatch has wrong number of arguments: got {narg}, want 2"),
                        start,
                    ));
                }
                let at = self.pos;
                let pid = self.val()?;
                if pid != u64::MAX && pid > i32::MAX as u64 {
                    // Go names the wrong maximum here; the message is kept as it is.
                    return Err(v1_error(
                        format_args!("processor ID {pid} is larger than maximum of {}", u64::MAX),
                        at,
                    ));
                }
                let ticks = self.val()?;
                let pid = if pid == u64::MAX { -1 } else { pid as i32 };
                Ok(Some(Record::Batch { pid, ticks }))
            }
            _ => self.event(ty, narg, mode),
        }
    }

    fn string(&mut self, mode: Mode, string_known: impl Fn(u64) -> bool) -> Result<Record<'a>> {
        if mode == Mode::Index {
            self.val()?;
            let len = self.val()?;
            if !self.discard(len) {
                return Err(v1_error("failed to read trace: EOF", self.data.len()));
            }
            return Ok(Record::String { id: 0, bytes: &[] });
        }
        let at = self.pos;
        let id = self.val()?;
        if id == 0 {
            return Err(v1_error("string has invalid id 0", at));
        }
        if string_known(id) {
            return Err(v1_error(format_args!("string has duplicate id {id}"), at));
        }
        let at = self.pos;
        let len = self.val()?;
        if len == 0 {
            return Err(v1_error("string has invalid length 0", at));
        }
        if len > MAX_STRING_LEN {
            return Err(v1_error(
                format_args!("string has too large length {len}"),
                at,
            ));
        }
        let bytes = self.read_full(len)?;
        Ok(Record::String { id, bytes })
    }

    fn event(&mut self, ty: EventType, narg: u8, mode: Mode) -> Result<Option<Record<'a>>> {
        let mut args = Args::EMPTY;
        let mut log: &'a [u8] = &[];
        if narg <= 3 {
            let mut values = [0u64; 3];
            for slot in values.iter_mut().take(usize::from(narg)) {
                *slot = self.arg_val(ty)?;
            }
            if mode == Mode::Full {
                args = Args::Inline { values, len: narg };
            }
            return Ok(Some(Record::Event { ty, args, log }));
        }
        let at = self.pos;
        let len = self.arg_val(ty)?;
        if len > MAX_ARG_BYTES {
            return Err(v1_error(
                format_args!(
                    "failed to read event {} argument: length-prefixed argument too big: \
                     {len} bytes, limit is {MAX_ARG_BYTES}",
                    ty.0
                ),
                at,
            ));
        }
        if mode == Mode::Full || ty == EventType::CPU_SAMPLE {
            let block_start = self.pos;
            let bytes = self.read_full(len)?;
            let mut rest = bytes;
            let mut count = 0u16;
            while !rest.is_empty() {
                match uvarint::read(rest) {
                    Ok((_, n)) => rest = &rest[n..],
                    Err(_) => {
                        let at = block_start + (bytes.len() - rest.len());
                        return Err(v1_error(MALFORMED_VARINT, at));
                    }
                }
                count += 1;
            }
            args = Args::Block { bytes, len: count };
        } else if !self.discard(len) {
            return Err(v1_error("failed to read trace: EOF", self.data.len()));
        }
        if ty == EventType::USER_LOG {
            if mode == Mode::Full {
                log = self.inline_string()?;
            } else {
                let len = self.val()?;
                if !self.discard(len) {
                    // Go ends its indexing pass quietly here, as if the trace ended before
                    // this record; loading the batch fails later.
                    self.pos = self.data.len();
                    return Ok(None);
                }
            }
        }
        Ok(Some(Record::Event { ty, args, log }))
    }

    fn inline_string(&mut self) -> Result<&'a [u8]> {
        let at = self.pos;
        let len = self.val()?;
        if len == 0 {
            return Ok(&[]);
        }
        if len > MAX_STRING_LEN {
            return Err(v1_error(
                format_args!("string is too large (len={len})"),
                at,
            ));
        }
        self.read_full(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], mode: Mode, minor: u32) -> Result<Vec<Record<'_>>> {
        let mut r = Reader::new(data, 0, minor);
        let mut out = Vec::new();
        while let Some(rec) = r.next(mode, |id| id == 99)? {
            out.push(rec);
        }
        Ok(out)
    }

    fn message(err: Error) -> String {
        match err.kind {
            ErrorKind::V1(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn batch_headers() {
        let recs = read(
            &[
                0x41, 3, 0x80, 0x01, 0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0x01, 7,
            ],
            Mode::Full,
            21,
        )
        .unwrap();
        assert_eq!(
            recs,
            [
                Record::Batch { pid: 3, ticks: 128 },
                Record::Batch { pid: -1, ticks: 7 }
            ]
        );
        let err = read(&[0x01, 3, 4], Mode::Full, 21).unwrap_err();
        assert_eq!(
            message(err),
            "EvBatch has wrong number of arguments: got 1, want 2"
        );
        let err = read(&[0x41, 0x80, 0x80, 0x80, 0x80, 0x08, 0], Mode::Full, 21).unwrap_err();
        assert_eq!(err.offset, 1);
        assert_eq!(
            message(err),
            "processor ID 2147483648 is larger than maximum of 18446744073709551615"
        );
    }

    #[test]
    fn inline_and_prefixed_arguments() {
        // GoCreate with 3 inline values after dt: ts, g, stack... as a length-prefixed block.
        let data = [0xcd, 4, 1, 2, 0x80, 0x01, 0x45, 5, 9];
        let recs = read(&data, Mode::Full, 21).unwrap();
        let Record::Event { ty, args, .. } = recs[0] else {
            panic!()
        };
        assert_eq!(ty, EventType::GO_CREATE);
        assert_eq!(args.iter().collect::<Vec<_>>(), [1, 2, 128]);
        let Record::Event { ty, args, .. } = recs[1] else {
            panic!()
        };
        assert_eq!(ty, EventType::PROC_START);
        assert_eq!(
            (args.len(), args.iter().collect::<Vec<_>>()),
            (2, vec![5, 9])
        );
        // The index pass skips arguments.
        let recs = read(&data, Mode::Index, 21).unwrap();
        assert!(matches!(recs[0], Record::Event { args, .. } if args.len() == 0));
    }

    #[test]
    fn argument_errors_match_go() {
        let err = read(&[0x45, 5, 0x80], Mode::Full, 21).unwrap_err();
        assert_eq!(err.offset, 2);
        assert_eq!(
            message(err),
            "failed to read event 5 argument: malformatted base-128 varint"
        );
        let err = read(&[0xcd, 0x81, 0x10], Mode::Index, 21).unwrap_err();
        assert_eq!(
            message(err),
            "failed to read event 13 argument: length-prefixed argument too big: 2049 bytes, \
             limit is 2048"
        );
        let err = read(&[0xcd, 3, 1, 2], Mode::Full, 21).unwrap_err();
        assert_eq!(message(err), "failed to read trace: unexpected EOF");
        let err = read(&[0xcd, 3, 1, 2], Mode::Index, 21).unwrap_err();
        assert_eq!(message(err), "failed to read trace: EOF");
        let err = read(&[0xcd, 2, 1, 0x80], Mode::Full, 21).unwrap_err();
        assert_eq!(
            (message(err.clone()), err.offset),
            (MALFORMED_VARINT.into(), 3)
        );
        // An empty block at the very end fails in the full pass only, as in Go.
        assert!(read(&[0xcd, 0], Mode::Index, 21).is_ok());
        assert!(read(&[0xcd, 0], Mode::Full, 21).is_err());
    }

    #[test]
    fn unknown_types() {
        for (data, minor) in [(&[0x00][..], 21), (&[0x32][..], 21), (&[0x31][..], 11)] {
            let err = read(data, Mode::Index, minor).unwrap_err();
            assert!(message(err).starts_with("unknown event type "), "{data:?}");
        }
        assert!(read(&[0x31, 0], Mode::Index, 19).is_ok());
    }

    #[test]
    fn strings() {
        let recs = read(&[0x25, 7, 2, b'h', b'i'], Mode::Full, 21).unwrap();
        assert_eq!(
            recs,
            [Record::String {
                id: 7,
                bytes: b"hi"
            }]
        );
        let cases: [(&[u8], &str); 5] = [
            (&[0x25, 0, 1, b'x'], "string has invalid id 0"),
            (&[0x25, 99, 1, b'x'], "string has duplicate id 99"),
            (&[0x25, 7, 0], "string has invalid length 0"),
            (
                &[0x25, 7, 0xc1, 0x84, 0x3d],
                "string has too large length 1000001",
            ),
            (&[0x25, 7, 3, b'x'], "failed to read trace: unexpected EOF"),
        ];
        for (data, want) in cases {
            assert_eq!(message(read(data, Mode::Full, 21).unwrap_err()), want);
        }
        // The index pass checks only that the bytes are there.
        assert!(read(&[0x25, 0, 1, b'x'], Mode::Index, 21).is_ok());
        assert_eq!(
            message(read(&[0x25, 7, 3, b'x'], Mode::Index, 21).unwrap_err()),
            "failed to read trace: EOF"
        );
    }

    #[test]
    fn user_log_messages() {
        // UserLog: block [dt, id, key, stack], then the message.
        let data = [0xf0, 4, 1, 2, 3, 4, 2, b'o', b'k'];
        let recs = read(&data, Mode::Full, 21).unwrap();
        let Record::Event { ty, args, log } = recs[0] else {
            panic!()
        };
        assert_eq!((ty, args.len(), log), (EventType::USER_LOG, 4, &b"ok"[..]));
        let err = read(&[0xf0, 0, 0xc1, 0x84, 0x3d], Mode::Full, 21).unwrap_err();
        assert_eq!(message(err), "string is too large (len=1000001)");
        // A message cut short ends the index pass without an error.
        assert_eq!(read(&[0xf0, 0, 5, b'x'], Mode::Index, 21).unwrap().len(), 0);
    }
}

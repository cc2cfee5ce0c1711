//! Small `nom` building blocks shared by the decoders.
//!
//! Parsers take and return sub-slices of the one input buffer, so the byte offset of any
//! position is its distance from the start of that buffer ([`offset_of`]).

use nom::IResult;

use crate::error::{Error, ErrorKind};
use crate::uvarint::{self, UvarintError};

/// A parse failure: the input where it happened and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PError<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) kind: ErrorKind,
}

impl<'a> nom::error::ParseError<&'a [u8]> for PError<'a> {
    fn from_error_kind(input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        Self {
            input,
            kind: ErrorKind::UnexpectedEof("data"),
        }
    }

    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// The result of a parser in this crate.
pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, PError<'a>>;

/// The byte offset of `sub` within `base`. `sub` must be a sub-slice of `base` (or end at its
/// end); anything else gives a saturated, meaningless offset rather than a panic.
#[inline]
pub(crate) fn offset_of(base: &[u8], sub: &[u8]) -> u64 {
    (sub.as_ptr() as usize).saturating_sub(base.as_ptr() as usize) as u64
}

/// Turns a parse failure into an [`Error`] with an absolute offset in `base`.
pub(crate) fn to_error(base: &[u8], err: nom::Err<PError<'_>>) -> Error {
    match err {
        nom::Err::Error(e) | nom::Err::Failure(e) => Error::new(e.kind, offset_of(base, e.input)),
        nom::Err::Incomplete(_) => Error::new(ErrorKind::UnexpectedEof("data"), base.len() as u64),
    }
}

/// Fails with `kind` at `input`.
pub(crate) fn fail<T>(input: &[u8], kind: ErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Failure(PError { input, kind }))
}

/// A uvarint; `what` names the field for error messages.
#[inline]
pub(crate) fn uvarint<'a>(what: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, u64> {
    move |input: &'a [u8]| match uvarint::read(input) {
        Ok((v, n)) => Ok((&input[n..], v)),
        Err(UvarintError::Eof) => fail(input, ErrorKind::UnexpectedEof(what)),
        Err(UvarintError::Overflow) => fail(input, ErrorKind::UvarintOverflow(what)),
    }
}

/// One byte; `what` names the field for error messages.
#[inline]
pub(crate) fn byte<'a>(what: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, u8> {
    move |input: &'a [u8]| match input.split_first() {
        Some((&b, rest)) => Ok((rest, b)),
        None => fail(input, ErrorKind::UnexpectedEof(what)),
    }
}

/// `n` bytes, borrowed; `what` names the field for error messages.
#[inline]
pub(crate) fn bytes<'a>(n: u64, what: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, &'a [u8]> {
    move |input: &'a [u8]| {
        if n > input.len() as u64 {
            return fail(input, ErrorKind::UnexpectedEof(what));
        }
        let (data, rest) = input.split_at(n as usize);
        Ok((rest, data))
    }
}

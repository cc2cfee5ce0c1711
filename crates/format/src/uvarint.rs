//! Unsigned LEB128 integers ("uvarints"), exactly as Go's `encoding/binary.Uvarint` reads them.
//!
//! Non-minimal encodings are accepted (the runtime pads batch sizes to 10 bytes). A value may
//! take at most 10 bytes, and a 10th byte must be 0 or 1; anything longer or larger is an
//! overflow, as in Go.

/// Why a uvarint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UvarintError {
    /// The input ended before the last byte of the value.
    Eof,
    /// The value is longer than 10 bytes or larger than `u64::MAX`.
    Overflow,
}

/// The most bytes a uvarint may take.
pub const MAX_LEN: usize = 10;

/// Reads one uvarint from the start of `buf`, returning the value and the number of bytes it
/// took.
#[inline(always)]
pub fn read(buf: &[u8]) -> Result<(u64, usize), UvarintError> {
    match buf.first() {
        Some(&b) if b < 0x80 => Ok((u64::from(b), 1)),
        _ => read_multi(buf),
    }
}

/// Reads one uvarint at `buf[*pos..]` and moves `pos` past it. On error `pos` is unchanged.
///
/// The same rules as [`read`]; this form keeps the one-byte case (most values in a trace)
/// to a bounds check, a compare and an add in the caller's loop.
#[inline(always)]
pub fn read_at(buf: &[u8], pos: &mut usize) -> Result<u64, UvarintError> {
    let p = *pos;
    if let Some(&b) = buf.get(p)
        && b < 0x80
    {
        *pos = p + 1;
        return Ok(u64::from(b));
    }
    match read_multi_at(buf, p) {
        (v, n @ 1..=MAX_LEN) => {
            *pos = p + n;
            Ok(v)
        }
        (_, OVERFLOW) => Err(UvarintError::Overflow),
        _ => Err(UvarintError::Eof),
    }
}

/// In `read_multi_at`'s length: the input ended early.
const EOF: usize = 0;
/// In `read_multi_at`'s length: too long or too large.
const OVERFLOW: usize = usize::MAX;

/// The value at `buf[p..]` and its length, or length [`EOF`] or [`OVERFLOW`]; out of line
/// and returned in two registers, so that the caller's one-byte path stays small.
#[inline(never)]
fn read_multi_at(buf: &[u8], p: usize) -> (u64, usize) {
    let buf = buf.get(p..).unwrap_or_default();
    let mut x = 0u64;
    let mut shift = 0u32;
    for (i, &b) in buf.iter().enumerate() {
        if i == MAX_LEN {
            return (0, OVERFLOW);
        }
        if b < 0x80 {
            if i == MAX_LEN - 1 && b > 1 {
                return (0, OVERFLOW);
            }
            return (x | (u64::from(b) << shift), i + 1);
        }
        x |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    (0, EOF)
}

/// Values of two or more bytes (or an error).
#[inline]
fn read_multi(buf: &[u8]) -> Result<(u64, usize), UvarintError> {
    match read_multi_at(buf, 0) {
        (v, n @ 1..=MAX_LEN) => Ok((v, n)),
        (_, OVERFLOW) => Err(UvarintError::Overflow),
        _ => Err(UvarintError::Eof),
    }
}

/// Appends the minimal encoding of `value` to `out`.
pub fn write(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The number of bytes of the minimal encoding of `value`.
pub fn encoded_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_values() {
        assert_eq!(read(&[0]), Ok((0, 1)));
        assert_eq!(read(&[0x7f, 0xff]), Ok((127, 1)));
    }

    #[test]
    fn multi_byte_values() {
        assert_eq!(read(&[0x80, 0x01]), Ok((128, 2)));
        assert_eq!(read(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
    }

    #[test]
    fn non_minimal_encodings_are_accepted() {
        // The runtime pads batch sizes to 10 bytes.
        let padded = [0x8f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(read(&padded), Ok((15, 10)));
    }

    #[test]
    fn max_value_and_overflow_follow_go() {
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read(&max), Ok((u64::MAX, 10)));
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(read(&too_big), Err(UvarintError::Overflow));
        let too_long = [0x80; 11];
        assert_eq!(read(&too_long), Err(UvarintError::Overflow));
    }

    #[test]
    fn truncated_values() {
        assert_eq!(read(&[]), Err(UvarintError::Eof));
        assert_eq!(read(&[0x80, 0x80]), Err(UvarintError::Eof));
    }

    #[test]
    fn every_length_with_any_padding() {
        // Values of 1 to 10 bytes, followed by 0 to 9 bytes of padding.
        let mut values = vec![0, 1, 127, 128, 16_383, 16_384, u64::MAX, u64::MAX / 3];
        values.extend((0..64).map(|s| 1u64 << s));
        values.extend((1..64).map(|s| (1u64 << s) - 1));
        for v in values {
            let mut enc = Vec::new();
            write(&mut enc, v);
            for pad in 0..10 {
                let mut buf = enc.clone();
                buf.extend(std::iter::repeat_n(0xffu8, pad));
                assert_eq!(read(&buf), Ok((v, enc.len())), "{v} pad {pad}");
                assert_eq!(read_multi(&buf), Ok((v, enc.len())));
                let mut pos = 0;
                assert_eq!(read_at(&buf, &mut pos), Ok(v));
                assert_eq!(pos, enc.len());
            }
        }
    }

    #[test]
    fn errors_leave_the_position_alone() {
        let mut pos = 1;
        assert_eq!(read_at(&[0, 0x80, 0x80], &mut pos), Err(UvarintError::Eof));
        assert_eq!(pos, 1);
        let too_long = [0x80; 12];
        assert_eq!(read_at(&too_long, &mut pos), Err(UvarintError::Overflow));
        assert_eq!(pos, 1);
        let mut pos = 3;
        assert_eq!(read_at(&[1, 2, 3], &mut pos), Err(UvarintError::Eof));
        assert_eq!(pos, 3);
    }

    #[test]
    fn write_round_trips() {
        for v in [0, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            write(&mut out, v);
            assert_eq!(out.len(), encoded_len(v), "{v}");
            assert_eq!(read(&out), Ok((v, out.len())));
        }
    }
}

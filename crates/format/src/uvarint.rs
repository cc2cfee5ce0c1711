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
        Some(_) => read_slow(buf),
        None => Err(UvarintError::Eof),
    }
}

#[inline]
fn read_slow(buf: &[u8]) -> Result<(u64, usize), UvarintError> {
    let mut x = 0u64;
    let mut shift = 0u32;
    for (i, &b) in buf.iter().enumerate() {
        if i == MAX_LEN {
            return Err(UvarintError::Overflow);
        }
        if b < 0x80 {
            if i == MAX_LEN - 1 && b > 1 {
                return Err(UvarintError::Overflow);
            }
            return Ok((x | (u64::from(b) << shift), i + 1));
        }
        x |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    Err(UvarintError::Eof)
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
    fn write_round_trips() {
        for v in [0, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            write(&mut out, v);
            assert_eq!(out.len(), encoded_len(v), "{v}");
            assert_eq!(read(&out), Ok((v, out.len())));
        }
    }
}

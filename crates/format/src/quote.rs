//! Go's `strconv.Quote` and `strconv.Unquote` for byte strings.
//!
//! Trace strings are bytes: the runtime cuts long strings at 1024 bytes, possibly inside a
//! UTF-8 sequence. Quoting follows Go: valid printable runes are kept, `"` and `\` are
//! escaped, invalid bytes become `\xNN`, control characters use the short escapes or `\xNN`,
//! other non-printable runes `\uNNNN` or `\UNNNNNNNN`.
//!
//! Go decides "printable" with its own Unicode tables. Here a rune is printable unless it is a
//! control character, a separator other than the ASCII space, a format character, a private
//! use character or a noncharacter; unassigned code points are taken as printable (Go escapes
//! them). Trace strings with unassigned code points are the only place the two differ.

/// Quotes `bytes` as Go's `strconv.Quote(string(bytes))` does.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    quote_into(&mut out, bytes);
    out
}

/// Appends the quoted form of `bytes` to `out`.
pub fn quote_into(out: &mut String, bytes: &[u8]) {
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        // Fast path for the common printable ASCII.
        let ascii = rest
            .iter()
            .take_while(|&&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
            .count();
        if ascii > 0 {
            // Printable ASCII is valid UTF-8.
            out.push_str(std::str::from_utf8(&rest[..ascii]).unwrap_or_default());
            rest = &rest[ascii..];
            continue;
        }
        match decode_rune(rest) {
            Some((c, n)) => {
                escape_rune(out, c);
                rest = &rest[n..];
            }
            None => {
                push_hex(out, 'x', u32::from(rest[0]), 2);
                rest = &rest[1..];
            }
        }
    }
    out.push('"');
}

fn escape_rune(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        _ if is_print(c) => out.push(c),
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        _ if (c as u32) < 0x20 || c == '\x7f' => push_hex(out, 'x', c as u32, 2),
        _ if (c as u32) < 0x10000 => push_hex(out, 'u', c as u32, 4),
        _ => push_hex(out, 'U', c as u32, 8),
    }
}

fn push_hex(out: &mut String, prefix: char, value: u32, digits: usize) {
    out.push('\\');
    out.push(prefix);
    for i in (0..digits).rev() {
        let nibble = (value >> (4 * i)) & 0xf;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

/// Decodes one UTF-8 rune at the start of `bytes` (which is not empty), or `None` if the
/// first byte does not start a valid, minimal, non-surrogate sequence.
fn decode_rune(bytes: &[u8]) -> Option<(char, usize)> {
    let len = match bytes[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(bytes.get(..len)?).ok()?;
    s.chars().next().map(|c| (c, len))
}

/// Whether Go would print `c` as it is.
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() {
        return false;
    }
    const NOT_PRINT: &[(u32, u32)] = &[
        (0x00a0, 0x00a0),
        (0x00ad, 0x00ad),
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x1680, 0x1680),
        (0x180e, 0x180e),
        (0x2000, 0x200f),
        (0x2028, 0x202f),
        (0x205f, 0x2064),
        (0x2066, 0x206f),
        (0x3000, 0x3000),
        (0xd800, 0xf8ff),
        (0xfdd0, 0xfdef),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0xfffe, 0xffff),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
        (0xf0000, 0x10ffff),
    ];
    let i = NOT_PRINT.partition_point(|&(_, hi)| hi < u);
    !(i < NOT_PRINT.len() && NOT_PRINT[i].0 <= u) && (u & 0xfffe) != 0xfffe
}

/// Why a quoted string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnquoteError {
    /// The text does not start and end with a double quote.
    #[error("string is not double-quoted")]
    NotQuoted,
    /// A backslash escape is malformed.
    #[error("invalid escape in quoted string")]
    InvalidEscape,
    /// A raw newline or an unescaped quote inside the string.
    #[error("invalid character in quoted string")]
    InvalidCharacter,
}

/// Reads a double-quoted Go string literal as `strconv.Unquote` does, returning its bytes.
pub fn unquote(text: &str) -> Result<Vec<u8>, UnquoteError> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| text.len() >= 2)
        .ok_or(UnquoteError::NotQuoted)?;
    let mut out = Vec::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' | '\n' => return Err(UnquoteError::InvalidCharacter),
            '\\' => {
                let (_, e) = chars.next().ok_or(UnquoteError::InvalidEscape)?;
                let mut hex = |n: usize| -> Result<u32, UnquoteError> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        let (_, d) = chars.next().ok_or(UnquoteError::InvalidEscape)?;
                        v = v * 16 + d.to_digit(16).ok_or(UnquoteError::InvalidEscape)?;
                    }
                    Ok(v)
                };
                match e {
                    'a' => out.push(7),
                    'b' => out.push(8),
                    'f' => out.push(12),
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    'v' => out.push(11),
                    '\\' => out.push(b'\\'),
                    '"' => out.push(b'"'),
                    'x' => out.push(hex(2)? as u8),
                    'u' | 'U' => {
                        let v = hex(if e == 'u' { 4 } else { 8 })?;
                        let c = char::from_u32(v).ok_or(UnquoteError::InvalidEscape)?;
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let (_, d) = chars.next().ok_or(UnquoteError::InvalidEscape)?;
                            v = v * 8 + d.to_digit(8).ok_or(UnquoteError::InvalidEscape)?;
                        }
                        out.push(u8::try_from(v).map_err(|_| UnquoteError::InvalidEscape)?);
                    }
                    _ => return Err(UnquoteError::InvalidEscape),
                }
            }
            _ => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        // Expected strings are what Go 1.27's strconv.Quote prints.
        assert_eq!(quote(b""), r#""""#);
        assert_eq!(quote(b"chan receive"), r#""chan receive""#);
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote(b"\x07\x08\x0c\n\r\t\x0b"), r#""\a\b\f\n\r\t\v""#);
        assert_eq!(quote(b"\x00\x1f\x7f"), r#""\x00\x1f\x7f""#);
        assert_eq!(quote("héllo, 世界".as_bytes()), "\"héllo, 世界\"");
        assert_eq!(quote(b"cut \xe4\xb8"), r#""cut \xe4\xb8""#);
        assert_eq!(quote(b"\xff\xfe"), r#""\xff\xfe""#);
        assert_eq!(
            quote("\u{a0}\u{200b}\u{feff}".as_bytes()),
            r#""\u00a0\u200b\ufeff""#
        );
        assert_eq!(quote("\u{85}".as_bytes()), r#""\u0085""#);
        assert_eq!(quote("\u{e0001}".as_bytes()), r#""\U000e0001""#);
        assert_eq!(quote("😀".as_bytes()), "\"😀\"");
        // Surrogates encoded in UTF-8 are invalid: byte escapes.
        assert_eq!(quote(b"\xed\xa0\x80"), r#""\xed\xa0\x80""#);
    }

    #[test]
    fn unquote_inverts_quote() {
        for s in [
            &b"plain"[..],
            b"a\"b\\c\n\t",
            b"\x00\xff cut \xe4",
            "世界 \u{a0}".as_bytes(),
        ] {
            assert_eq!(unquote(&quote(s)).unwrap(), s);
        }
        assert_eq!(unquote(r#""\101\x41\u0041""#).unwrap(), b"AAA");
        assert!(unquote("abc").is_err());
        assert!(unquote(r#""\q""#).is_err());
    }
}

//! The trace header and the format versions.
//!
//! Every trace starts with the ASCII header `go 1.N trace` followed by three NUL bytes (16
//! bytes for today's two-digit `N`). `N` names the *format*, not the Go release that wrote it:
//! Go 1.24 writes `go 1.23`, Go 1.27 writes `go 1.26`.
//!
//! | header  | written by     | family |
//! |---------|----------------|--------|
//! | go 1.11 | Go 1.11–1.18   | v1     |
//! | go 1.19 | Go 1.19–1.20   | v1     |
//! | go 1.21 | Go 1.21        | v1     |
//! | go 1.22 | Go 1.22        | v2     |
//! | go 1.23 | Go 1.23–1.24   | v2     |
//! | go 1.25 | Go 1.25        | v2     |
//! | go 1.26 | Go 1.26–1.27   | v2     |

use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// A trace format version, named by the minor Go version in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u8);

impl Version {
    /// `go 1.11 trace` (v1).
    pub const GO111: Self = Self(11);
    /// `go 1.19 trace` (v1, adds CPU samples).
    pub const GO119: Self = Self(19);
    /// `go 1.21 trace` (v1, adds STW reasons).
    pub const GO121: Self = Self(21);
    /// `go 1.22 trace` (v2).
    pub const GO122: Self = Self(22);
    /// `go 1.23 trace` (v2, adds coroutine switches, `GoStatusStack`, experiments).
    pub const GO123: Self = Self(23);
    /// `go 1.25 trace` (v2, adds sync batches with clock snapshots).
    pub const GO125: Self = Self(25);
    /// `go 1.26 trace` (v2, adds the end-of-generation marker).
    pub const GO126: Self = Self(26);

    /// Every supported version, oldest first.
    pub const ALL: [Self; 7] = [
        Self::GO111,
        Self::GO119,
        Self::GO121,
        Self::GO122,
        Self::GO123,
        Self::GO125,
        Self::GO126,
    ];

    /// The version with minor number `minor`, if it is a supported trace format.
    pub fn from_minor(minor: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|v| u32::from(v.0) == minor)
    }

    /// The minor Go version in the header (`26` for `go 1.26 trace`).
    pub fn minor(self) -> u32 {
        u32::from(self.0)
    }

    /// Whether this is one of the pre-1.22 ("v1") formats.
    pub fn is_v1(self) -> bool {
        self.0 < 22
    }

    /// The header that starts a trace of this version.
    pub fn header(self) -> Vec<u8> {
        format!("go 1.{} trace\0\0\0", self.0).into_bytes()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "go 1.{}", self.0)
    }
}

/// Reads the header at the start of `data`, returning the version and the header length.
pub fn read_header(data: &[u8]) -> Result<(Version, usize)> {
    const PREFIX: &[u8] = b"go 1.";
    const SUFFIX: &[u8] = b" trace\0\0\0";
    let not_a_trace = || Error::new(ErrorKind::NotATrace, 0);
    let rest = data.strip_prefix(PREFIX).ok_or_else(not_a_trace)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return Err(not_a_trace());
    }
    let minor: u32 = rest[..digits]
        .iter()
        .fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
    if !rest[digits..].starts_with(SUFFIX) {
        return Err(not_a_trace());
    }
    let version = Version::from_minor(minor)
        .ok_or_else(|| Error::new(ErrorKind::UnsupportedVersion(minor), PREFIX.len() as u64))?;
    Ok((version, PREFIX.len() + digits + SUFFIX.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_supported_header() {
        for v in Version::ALL {
            let mut data = v.header();
            data.push(1);
            assert_eq!(read_header(&data), Ok((v, 16)));
        }
    }

    #[test]
    fn rejects_other_files() {
        for data in [
            &b""[..],
            b"go 1.22 trac",
            b"PK\x03\x04",
            b"go 1. trace\0\0\0",
            b"go 1.22 trace\0\0",
        ] {
            assert_eq!(
                read_header(data).unwrap_err().kind,
                ErrorKind::NotATrace,
                "{data:?}"
            );
        }
    }

    #[test]
    fn names_unsupported_versions() {
        let err = read_header(b"go 1.24 trace\0\0\0").unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnsupportedVersion(24));
        assert_eq!(
            err.to_string(),
            "unknown or unsupported trace version go 1.24 at byte 5"
        );
    }
}

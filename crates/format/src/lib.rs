//! Zero-copy decoding of Go execution traces, every format version.
//!
//! `goroscope-format` reads the bytes that `runtime/trace` writes (Go 1.11 to 1.27) and
//! nothing more: it borrows one `&[u8]` holding the whole file, never opens files, never
//! spawns threads, and allocates only for tables, never per event.
//!
//! - [`version`]: the `go 1.N trace` header and the format versions.
//! - [`v2`]: the format of Go 1.22 and later: batches, the generation index, string and stack
//!   tables, CPU samples, clock snapshots and the timed events.
//! - [`quote`]: Go's string quoting, for output that matches Go's tools byte for byte.
//!
//! Ordering events into one stream, and everything built on it, lives in `goroscope-trace`.

pub mod error;
mod parse;
pub mod quote;
pub mod uvarint;
pub mod v1;
pub mod v2;
pub mod version;

pub use error::{Error, ErrorKind, Result};
pub use version::{Version, read_header};

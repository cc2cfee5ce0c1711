//! The v2 trace format (Go 1.22 and later).
//!
//! A v2 trace is the header followed by batches ([`batch`]). Batches belong to generations
//! ([`index`](mod@index)); each generation carries its own string and stack tables,
//! frequency and CPU samples ([`generation`]), and per-thread event batches whose events are
//! decoded with an [`EventCursor`]. [`raw`] reads the records flat, in file order, as Go's `-d=wire` does.

pub mod batch;
pub mod events;
pub mod generation;
pub mod golden;
pub mod index;
pub mod raw;
pub mod spec;
pub mod table;
pub mod text;

pub use batch::{Batch, BatchKind, Batches, Record};
pub use events::{EventCursor, EventError, RawEvent};
pub use generation::{
    ClockSnapshot, CpuSample, Frame, Generation, StackTable, StringTable, ThreadBatches, decode,
};
pub use index::{GenerationSpan, Index, index, resync};
pub use raw::{Footprint, RawReader, RawRecord, footprint, write_wire_dump};
pub use spec::{EventType, Spec};

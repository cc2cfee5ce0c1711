//! One event stream for any trace: v2 traces through [`Reader`], v1 traces through
//! [`V1Reader`], as Go's `internal/trace.NewReader` picks by the header.

use std::iter::FusedIterator;

use goroscope_format::{Version, read_header};

use crate::error::{Error, Result};
use crate::event::{Event, Tables};
use crate::reader::Reader;
use crate::v1::V1Reader;

/// The ordered events of a trace of any supported version, as Go's reader returns them.
///
/// Both variants start and end with a Sync and stop after the first error. A v1 trace is
/// parsed whole by [`EventStream::new`], so its parse errors come from there; a v2 trace is
/// read a generation at a time, so most of its errors come as events.
pub enum EventStream<'a> {
    /// A v1 trace (Go 1.11 to 1.21), converted.
    V1(Box<V1Reader<'a>>),
    /// A v2 trace (Go 1.22 and later).
    V2(Box<Reader<'a>>),
}

impl<'a> EventStream<'a> {
    /// A stream over the whole trace `data` (header included), by its header's version.
    pub fn new(data: &'a [u8]) -> Result<Self> {
        let (version, _) = read_header(data)?;
        Ok(if version.is_v1() {
            Self::V1(Box::new(V1Reader::new(data)?))
        } else {
            Self::V2(Box::new(Reader::new(data)?))
        })
    }

    /// The trace's format version.
    pub fn version(&self) -> Version {
        match self {
            Self::V1(r) => r.version(),
            Self::V2(r) => r.version(),
        }
    }

    /// The tables read so far, for resolving the strings and stacks of events.
    pub fn tables(&self) -> &Tables<'a> {
        match self {
            Self::V1(r) => r.tables(),
            Self::V2(r) => r.tables(),
        }
    }

    /// Takes the tables out of the stream (after the last event).
    pub fn into_tables(self) -> Tables<'a> {
        match self {
            Self::V1(r) => r.into_tables(),
            Self::V2(r) => r.into_tables(),
        }
    }

    /// Reads the next event; `None` after the last one or after an error.
    pub fn next_event(&mut self) -> Option<Result<Event>> {
        match self {
            Self::V1(r) => r.next_event(),
            Self::V2(r) => r.next_event(),
        }
    }

    /// Appends the next events (at least one, unless the stream has ended) to `out`;
    /// returns the error that ends the stream instead, once, after every event before it.
    /// Returns `Ok(false)` after the last event. For a v2 trace, many events at a time, much
    /// cheaper per event than [`EventStream::next_event`] (see [`Reader::next_events`]).
    pub fn next_events(&mut self, out: &mut Vec<Event>) -> Result<bool> {
        match self {
            Self::V1(r) => match r.next_event() {
                Some(Ok(ev)) => {
                    out.push(ev);
                    Ok(true)
                }
                Some(Err(e)) => Err(e),
                None => Ok(false),
            },
            Self::V2(r) => r.next_events(out),
        }
    }

    /// Calls `f` with every event, in order, and the tables that resolve it (they may hold
    /// later generations too), reading in bulk ([`EventStream::next_events`]). Returns the
    /// error that ended the stream, after every event before it, if any.
    pub fn for_each_event(&mut self, mut f: impl FnMut(&Event, &Tables<'a>)) -> Option<Error> {
        let mut events = Vec::new();
        loop {
            events.clear();
            match self.next_events(&mut events) {
                Ok(true) => {
                    let tables = self.tables();
                    for ev in &events {
                        f(ev, tables);
                    }
                }
                Ok(false) => return None,
                Err(e) => return Some(e),
            }
        }
    }
}

impl std::fmt::Debug for EventStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let variant = match self {
            Self::V1(_) => "V1",
            Self::V2(_) => "V2",
        };
        f.debug_struct("EventStream")
            .field("format", &variant)
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl Iterator for EventStream<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

impl FusedIterator for EventStream<'_> {}

//! The top level of a v2 trace: a sequence of batches.
//!
//! | bytes            | field                                                        |
//! |------------------|--------------------------------------------------------------|
//! | 1                | `1` (EventBatch) or `49` (ExperimentalBatch) or `52` (EndOfGeneration, alone) |
//! | 1 (exp. only)    | experiment ID, a raw byte                                    |
//! | uvarint          | generation                                                   |
//! | uvarint          | M: the OS thread ID of the writer, or `u64::MAX` for none     |
//! | uvarint          | base time in ticks                                           |
//! | uvarint          | body size (the runtime pads it to 10 bytes); at most 65536   |
//! | size             | body                                                         |
//!
//! The first byte of the body says what the batch holds ([`BatchKind`]).

use crate::error::{ErrorKind, Result};
use crate::parse::{self, PResult};
use crate::v2::spec::{EventType, MAX_BATCH_SIZE};
use crate::version::Version;

/// One batch: its header and its body, borrowed from the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch<'a> {
    /// The generation the batch belongs to.
    pub generation: u64,
    /// The writing thread's ID as written (`u64::MAX` for none).
    pub m: u64,
    /// The base time of the batch, in ticks.
    pub time: u64,
    /// The experiment of an experimental batch, 0 otherwise.
    pub experiment: u8,
    /// The body.
    pub body: &'a [u8],
    /// Byte offset of the batch's first byte in the trace.
    pub offset: u64,
    /// Byte offset of the body in the trace.
    pub body_offset: u64,
}

/// What a batch holds, from the first byte of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchKind {
    /// Timed events of one thread.
    Events,
    /// String table entries.
    Strings,
    /// Stack table entries.
    Stacks,
    /// CPU profile samples.
    CpuSamples,
    /// The frequency (and, from Go 1.25, a clock snapshot).
    Sync,
    /// Opaque data of an experiment.
    Experimental(u8),
}

impl Batch<'_> {
    /// Classifies the batch as Go's reader does.
    pub fn kind(&self, version: Version) -> BatchKind {
        if self.experiment != 0 {
            return BatchKind::Experimental(self.experiment);
        }
        match self.body.first().map(|&b| EventType(b)) {
            Some(EventType::STRINGS) => BatchKind::Strings,
            Some(EventType::STACKS) => BatchKind::Stacks,
            Some(EventType::CPU_SAMPLES) => BatchKind::CpuSamples,
            Some(EventType::FREQUENCY) if version < Version::GO125 => BatchKind::Sync,
            Some(EventType::SYNC) if version >= Version::GO125 => BatchKind::Sync,
            _ => BatchKind::Events,
        }
    }

    /// Whether the writer was a thread (not the tracer itself).
    pub fn has_thread(&self) -> bool {
        self.m != u64::MAX
    }
}

/// One top-level record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// A batch.
    Batch(Batch<'a>),
    /// The end-of-generation marker (Go 1.26+), at this byte offset.
    EndOfGeneration(u64),
}

/// An iterator over the top-level records of a v2 trace.
///
/// It stops after the first error.
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Batches<'a> {
    /// Reads the records of `data` (the whole trace) starting at byte `pos` (after the header).
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos: pos.min(data.len()),
            failed: false,
        }
    }

    /// The byte offset of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn read(&self) -> Result<(Record<'a>, usize)> {
        let input = &self.data[self.pos..];
        match record(input, self.data) {
            Ok((rest, rec)) => Ok((rec, self.data.len() - rest.len())),
            Err(e) => {
                let mut err = parse::to_error(self.data, e);
                err.batch = Some(self.pos as u64);
                Err(err)
            }
        }
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        match self.read() {
            Ok((rec, next)) => {
                self.pos = next;
                Some(Ok(rec))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

fn record<'a>(input: &'a [u8], base: &'a [u8]) -> PResult<'a, Record<'a>> {
    let offset = parse::offset_of(base, input);
    let (rest, ty) = parse::byte("batch type")(input)?;
    let experiment = match EventType(ty) {
        EventType::END_OF_GENERATION => return Ok((rest, Record::EndOfGeneration(offset))),
        EventType::EVENT_BATCH => 0,
        EventType::EXPERIMENTAL_BATCH => return experimental(rest, base, offset),
        _ => return parse::fail(input, ErrorKind::ExpectedBatch(ty)),
    };
    let (rest, (generation, m, time, body)) = header_and_body(rest)?;
    Ok((
        rest,
        Record::Batch(Batch {
            generation,
            m,
            time,
            experiment,
            body,
            offset,
            body_offset: parse::offset_of(base, body),
        }),
    ))
}

fn experimental<'a>(input: &'a [u8], base: &'a [u8], offset: u64) -> PResult<'a, Record<'a>> {
    let (rest, experiment) = parse::byte("experiment ID")(input)?;
    let (rest, (generation, m, time, body)) = header_and_body(rest)?;
    Ok((
        rest,
        Record::Batch(Batch {
            generation,
            m,
            time,
            experiment,
            body,
            offset,
            body_offset: parse::offset_of(base, body),
        }),
    ))
}

type Header<'a> = (u64, u64, u64, &'a [u8]);

fn header_and_body(input: &[u8]) -> PResult<'_, Header<'_>> {
    let (rest, generation) = parse::uvarint("batch generation")(input)?;
    let (rest, m) = parse::uvarint("batch M ID")(rest)?;
    let (rest, time) = parse::uvarint("batch timestamp")(rest)?;
    let (body_start, size) = parse::uvarint("batch size")(rest)?;
    if size > MAX_BATCH_SIZE {
        return parse::fail(
            rest,
            ErrorKind::InvalidBatchSize {
                size,
                max: MAX_BATCH_SIZE,
            },
        );
    }
    if size > body_start.len() as u64 {
        return parse::fail(
            &body_start[body_start.len()..],
            ErrorKind::ShortBatch {
                read: body_start.len() as u64,
                wanted: size,
            },
        );
    }
    let (body, rest) = body_start.split_at(size as usize);
    Ok((rest, (generation, m, time, body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(body: &[u8]) -> Vec<u8> {
        let mut t = Version::GO126.header();
        t.extend_from_slice(body);
        t
    }

    #[test]
    fn reads_batches_with_padded_sizes() {
        let data = trace(&[
            1, 1, 5, 100, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 4, 9, 9, 52,
        ]);
        let recs: Vec<_> = Batches::new(&data, 16).collect::<Result<_>>().unwrap();
        assert_eq!(recs.len(), 2);
        let Record::Batch(b) = recs[0] else { panic!() };
        assert_eq!(
            (b.generation, b.m, b.time, b.body),
            (1, 5, 100, &[4, 9, 9][..])
        );
        assert_eq!(b.offset, 16);
        assert_eq!(b.body_offset, 30);
        assert_eq!(b.kind(Version::GO126), BatchKind::Strings);
        assert_eq!(recs[1], Record::EndOfGeneration(33));
    }

    #[test]
    fn experimental_id_is_a_raw_byte() {
        let data = trace(&[49, 1, 2, 3, 4, 1, 0xaa]);
        let Some(Ok(Record::Batch(b))) = Batches::new(&data, 16).next() else {
            panic!()
        };
        assert_eq!(b.experiment, 1);
        assert_eq!(b.kind(Version::GO126), BatchKind::Experimental(1));
        assert_eq!(b.body, &[0xaa]);
    }

    #[test]
    fn errors_name_their_offsets() {
        let data = trace(&[7]);
        let err = Batches::new(&data, 16).next().unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::ExpectedBatch(7));
        assert_eq!(err.offset, 16);

        let data = trace(&[1, 1, 0, 0, 5, 1, 2]);
        let err = Batches::new(&data, 16).next().unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::ShortBatch { read: 2, wanted: 5 });
        assert_eq!(err.offset, 23);
        assert_eq!(err.batch, Some(16));

        let data = trace(&[1, 1, 0, 0, 0x81, 0x80, 0x08]);
        let err = Batches::new(&data, 16).next().unwrap().unwrap_err();
        assert!(matches!(err.kind, ErrorKind::InvalidBatchSize { .. }));

        let data = trace(&[1, 1, 0x80]);
        let err = Batches::new(&data, 16).next().unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnexpectedEof("batch M ID"));
        assert_eq!(err.offset, 18);
    }

    #[test]
    fn sync_batches_depend_on_the_version() {
        let b = Batch {
            generation: 1,
            m: u64::MAX,
            time: 0,
            experiment: 0,
            body: &[8, 1],
            offset: 0,
            body_offset: 0,
        };
        assert_eq!(b.kind(Version::GO122), BatchKind::Sync);
        assert_eq!(b.kind(Version::GO125), BatchKind::Events);
    }
}

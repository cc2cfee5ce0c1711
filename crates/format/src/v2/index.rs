//! The generation index: one cheap pass over the batch headers that finds where each
//! generation's batches are, so that generations can be decoded independently (and in
//! parallel).
//!
//! Generation boundaries follow Go's reader:
//! - Go 1.26+: a generation ends at the `EndOfGeneration` byte. A batch of another generation
//!   before it is an error; the input ending after some event batches but before the marker is
//!   a truncated generation.
//! - Go 1.22–1.25: there is no marker; a generation ends where a batch of the next
//!   generation (`generation + 1`) appears. Any other generation number is an error. Truncation
//!   cannot be seen at this level.

use crate::error::{Error, ErrorKind, Result};
use crate::v2::batch::{Batch, BatchKind, Batches, Record};
use crate::version::{self, Version};

/// The batches of one generation, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationSpan<'a> {
    /// The generation number.
    pub generation: u64,
    /// Every batch of the generation in file order (the end marker excluded).
    pub batches: Vec<Batch<'a>>,
    /// Byte offset of the generation's first record.
    pub start: u64,
    /// Byte offset just past the generation's last record (its end marker included).
    pub end: u64,
}

impl GenerationSpan<'_> {
    fn new(generation: u64, start: u64) -> Self {
        Self {
            generation,
            batches: Vec::new(),
            start,
            end: start,
        }
    }

    /// Whether any batch of the generation holds timed events.
    pub fn has_event_batches(&self, version: Version) -> bool {
        self.batches
            .iter()
            .any(|b| b.kind(version) == BatchKind::Events)
    }
}

/// Where the generations of a v2 trace are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index<'a> {
    /// The trace's format version.
    pub version: Version,
    /// The generations, in file order, that Go's reader would decode.
    pub generations: Vec<GenerationSpan<'a>>,
    /// The error that ends the trace early, if any. Go's reader reports it after decoding
    /// every generation in `generations`.
    pub error: Option<Error>,
    /// (Go 1.26+) The batches of a last generation that has no end marker. Go's reader drops
    /// them, reporting a truncated trace when any of them holds events.
    pub partial: Option<GenerationSpan<'a>>,
}

/// Indexes the v2 trace `data` (the whole file, header included).
///
/// Fails only when the header is bad or names a v1 version; damage further in is reported in
/// [`Index::error`] with every generation before it kept.
pub fn index(data: &[u8]) -> Result<Index<'_>> {
    let (version, header_len) = version::read_header(data)?;
    if version.is_v1() {
        return Err(Error::new(
            ErrorKind::UnsupportedVersion(version.minor()),
            5,
        ));
    }
    let batches = Batches::new(data, header_len);
    Ok(if version >= Version::GO126 {
        index_with_markers(version, batches)
    } else {
        index_with_spill(version, batches)
    })
}

fn index_with_markers<'a>(version: Version, batches: Batches<'a>) -> Index<'a> {
    let mut out = Index {
        version,
        generations: Vec::new(),
        error: None,
        partial: None,
    };
    let mut current: Option<GenerationSpan<'a>> = None;
    let mut pos = batches.position() as u64;
    for rec in batches {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                out.error = Some(match &current {
                    Some(g) => e.in_generation(g.generation),
                    None => e,
                });
                out.partial = current;
                return out;
            }
        };
        match rec {
            Record::EndOfGeneration(offset) => {
                // A marker with no batches before it makes an empty generation, which fails
                // later for its missing frequency, as in Go.
                let mut g = current
                    .take()
                    .unwrap_or_else(|| GenerationSpan::new(0, offset));
                g.end = offset + 1;
                pos = g.end;
                out.generations.push(g);
            }
            Record::Batch(b) => {
                if b.generation == 0 {
                    out.error =
                        Some(Error::new(ErrorKind::GenerationZero, b.offset).in_batch(b.offset));
                    out.partial = current;
                    return out;
                }
                let g = current.get_or_insert_with(|| GenerationSpan::new(b.generation, pos));
                if g.generation != b.generation {
                    let err = Error::new(ErrorKind::MissingEndOfGeneration, b.offset)
                        .in_generation(g.generation)
                        .in_batch(b.offset);
                    out.error = Some(err);
                    out.partial = current;
                    return out;
                }
                g.end = b.body_offset + b.body.len() as u64;
                g.batches.push(b);
            }
        }
    }
    if let Some(g) = current {
        if g.has_event_batches(version) {
            out.error = Some(
                Error::new(ErrorKind::IncompleteGeneration, g.end).in_generation(g.generation),
            );
        }
        out.partial = Some(g);
    }
    out
}

fn index_with_spill<'a>(version: Version, batches: Batches<'a>) -> Index<'a> {
    let mut out = Index {
        version,
        generations: Vec::new(),
        error: None,
        partial: None,
    };
    let mut current: Option<GenerationSpan<'a>> = None;
    for rec in batches {
        let b = match rec {
            Ok(Record::Batch(b)) => b,
            Ok(Record::EndOfGeneration(offset)) => {
                // Before Go 1.26 the byte is not a batch type.
                let err = Error::new(ErrorKind::ExpectedBatch(52), offset).in_batch(offset);
                out.error = Some(match &current {
                    Some(g) => err.in_generation(g.generation),
                    None => err,
                });
                break;
            }
            Err(e) => {
                // Go keeps the generation read so far and reports the error after it.
                out.error = Some(match &current {
                    Some(g) => e.in_generation(g.generation),
                    None => e,
                });
                break;
            }
        };
        if b.generation == 0 {
            out.error = Some(Error::new(ErrorKind::GenerationZero, b.offset).in_batch(b.offset));
            // Go fails at once, without decoding the generation in progress.
            current = None;
            break;
        }
        match &mut current {
            None => current = Some(GenerationSpan::new(b.generation, b.offset)),
            Some(g) if b.generation == g.generation.wrapping_add(1) => {
                let done = std::mem::replace(g, GenerationSpan::new(b.generation, b.offset));
                out.generations.push(done);
            }
            Some(g) if b.generation != g.generation => {
                out.error = Some(
                    Error::new(
                        ErrorKind::GenerationsOutOfOrder {
                            current: g.generation,
                            found: b.generation,
                        },
                        b.offset,
                    )
                    .in_generation(g.generation)
                    .in_batch(b.offset),
                );
                current = None;
                break;
            }
            Some(_) => {}
        }
        if let Some(g) = &mut current {
            g.end = b.body_offset + b.body.len() as u64;
            g.batches.push(b);
        }
    }
    out.generations.extend(current);
    out
}

/// Finds where intact data starts again after damage: the first offset at or after `from`
/// where batches of a generation later than `after_generation` begin and at least a few
/// records (or the rest of the file) parse cleanly. Returns `None` if there is none.
///
/// This is a salvage heuristic for damaged traces; Go's reader stops at the damage instead.
pub fn resync(data: &[u8], from: usize, after_generation: u64) -> Option<usize> {
    let (version, header_len) = version::read_header(data).ok()?;
    let from = from.max(header_len);
    const CONFIRM: usize = 4;
    (from..data.len()).find(|&start| {
        let first = data[start];
        if first != 1 && first != 49 {
            return false;
        }
        if version >= Version::GO126 && data.get(start.wrapping_sub(1)) != Some(&52) {
            return false;
        }
        let mut records = Batches::new(data, start);
        let mut generation = None;
        for _ in 0..CONFIRM {
            match records.next() {
                None => break,
                Some(Err(_)) => return false,
                Some(Ok(Record::EndOfGeneration(_))) => {}
                Some(Ok(Record::Batch(b))) => {
                    if b.generation <= after_generation {
                        return false;
                    }
                    match generation {
                        None => generation = Some(b.generation),
                        Some(g) if g != b.generation && version >= Version::GO126 => return false,
                        Some(_) => {}
                    }
                }
            }
        }
        generation.is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(out: &mut Vec<u8>, generation: u8, first: u8) {
        out.extend_from_slice(&[1, generation, 0, 0, 2, first, 0]);
    }

    #[test]
    fn markers_end_generations() {
        let mut t = Version::GO126.header();
        batch(&mut t, 1, 50);
        batch(&mut t, 1, 10);
        t.push(52);
        batch(&mut t, 2, 50);
        t.push(52);
        let idx = index(&t).unwrap();
        assert_eq!(idx.error, None);
        assert_eq!(idx.generations.len(), 2);
        assert_eq!(idx.generations[0].batches.len(), 2);
        assert_eq!((idx.generations[0].start, idx.generations[0].end), (16, 31));
        assert_eq!(idx.generations[1].generation, 2);
    }

    #[test]
    fn truncation_is_seen_only_with_event_batches() {
        let mut t = Version::GO126.header();
        batch(&mut t, 1, 50);
        t.push(52);
        batch(&mut t, 2, 50);
        let idx = index(&t).unwrap();
        assert_eq!(idx.error, None);
        assert_eq!(idx.generations.len(), 1);
        assert!(idx.partial.is_some());

        batch(&mut t, 2, 10);
        let idx = index(&t).unwrap();
        assert_eq!(idx.error.unwrap().kind, ErrorKind::IncompleteGeneration);
    }

    #[test]
    fn interleaved_generations_are_errors() {
        let mut t = Version::GO126.header();
        batch(&mut t, 1, 50);
        batch(&mut t, 2, 50);
        let idx = index(&t).unwrap();
        let err = idx.error.unwrap();
        assert_eq!(err.kind, ErrorKind::MissingEndOfGeneration);
        assert_eq!((err.offset, err.generation), (23, Some(1)));
    }

    #[test]
    fn spill_ends_generations_before_go_1_26() {
        let mut t = Version::GO123.header();
        batch(&mut t, 3, 8);
        batch(&mut t, 3, 10);
        batch(&mut t, 4, 8);
        batch(&mut t, 4, 10);
        let idx = index(&t).unwrap();
        assert_eq!(idx.error, None);
        let gens: Vec<_> = idx
            .generations
            .iter()
            .map(|g| (g.generation, g.batches.len()))
            .collect();
        assert_eq!(gens, [(3, 2), (4, 2)]);

        batch(&mut t, 7, 8);
        let idx = index(&t).unwrap();
        assert_eq!(idx.generations.len(), 1);
        assert!(matches!(
            idx.error.unwrap().kind,
            ErrorKind::GenerationsOutOfOrder {
                current: 4,
                found: 7
            }
        ));
    }

    #[test]
    fn resync_finds_the_next_intact_generation() {
        let mut t = Version::GO126.header();
        batch(&mut t, 1, 50);
        t.push(52);
        let damage = t.len();
        t.extend_from_slice(&[1, 2, 0, 0, 200, 7]);
        t.push(52);
        let next = t.len();
        batch(&mut t, 3, 50);
        batch(&mut t, 3, 10);
        t.push(52);
        assert_eq!(resync(&t, damage + 1, 1), Some(next));
        assert_eq!(resync(&t, damage + 1, 3), None);
    }

    #[test]
    fn damage_keeps_earlier_generations() {
        let mut t = Version::GO122.header();
        batch(&mut t, 1, 8);
        batch(&mut t, 2, 8);
        t.extend_from_slice(&[1, 2, 0, 0, 9]);
        let idx = index(&t).unwrap();
        assert_eq!(idx.generations.len(), 2);
        assert!(matches!(
            idx.error.unwrap().kind,
            ErrorKind::ShortBatch { .. }
        ));
    }
}

//! Opening trace files: mapping them into memory, reporting progress, cancelling, and
//! keeping what can be kept of a damaged trace.

use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use goroscope_format::{Version, read_header, v2};

use crate::error::Error;
use crate::event::{Event, Tables};
use crate::reader::Reader;
use crate::timeline::{Builder, Pipeline, Timelines};

/// The bytes of a trace file: mapped into memory, or read when mapping is not possible.
pub struct TraceData {
    repr: Repr,
}

enum Repr {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl TraceData {
    /// Maps the file at `path` into memory, falling back to reading it (for pipes, special
    /// files and systems without mmap).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len > 0
            && let Some(map) = map(&file)
        {
            return Ok(Self {
                repr: Repr::Mapped(map),
            });
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes)?;
        Ok(Self {
            repr: Repr::Read(bytes),
        })
    }

    /// Trace bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            repr: Repr::Read(bytes),
        }
    }

    /// Whether the bytes are mapped (not copied) from the file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped(_))
    }

    /// Tells the system that the first `len` bytes will hardly be read again: if they are
    /// mapped, their pages leave the process's memory (a later read brings them back from
    /// the file, unchanged). Does nothing for bytes read into memory.
    pub fn release_prefix(&self, len: usize) {
        if let Repr::Mapped(m) = &self.repr {
            release(m, len);
        }
    }
}

/// Maps `file` read-only.
///
/// # Safety
///
/// Mapping a file is `unsafe` because another process may change or truncate the file while
/// it is mapped, which Rust cannot rule out. goroscope only reads trace files that the Go
/// runtime has finished writing; every read of the mapping goes through the decoders, which
/// check every length against the slice they are given, so a concurrent change can make a
/// decode fail (or, on truncation, raise SIGBUS, as with any mapped file) but cannot make the
/// program read outside the mapping. A failed mapping falls back to `read()`.
#[allow(unsafe_code)]
fn map(file: &File) -> Option<memmap2::Mmap> {
    // SAFETY: see the function's documentation.
    unsafe { memmap2::Mmap::map(file) }.ok()
}

/// Drops the pages of the first `len` bytes (whole pages only) of `map` from the process.
///
/// # Safety
///
/// `MADV_DONTNEED` is `unsafe` in general because on private anonymous (or written
/// copy-on-write) memory it discards contents: the next read sees zeros. [`map`] makes a
/// shared, read-only mapping of a file, never written: there it only drops the process's
/// page table entries, and the next read faults the same file pages back in. Every slice
/// into the mapping keeps its contents.
#[allow(unsafe_code)]
fn release(map: &memmap2::Mmap, len: usize) {
    const PAGE: usize = 4096;
    let len = len.min(map.len()) / PAGE * PAGE;
    if len > 0 {
        // SAFETY: see the function's documentation. Failing only keeps the pages.
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len) };
    }
}

impl Deref for TraceData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.repr {
            Repr::Mapped(m) => m,
            Repr::Read(v) => v,
        }
    }
}

/// How far loading has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file processed.
    pub bytes_done: u64,
    /// Bytes of the file.
    pub bytes_total: u64,
    /// Events read so far.
    pub events: u64,
}

impl Progress {
    /// The fraction done, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.bytes_total == 0 {
            1.0
        } else {
            (self.bytes_done as f64 / self.bytes_total as f64).min(1.0)
        }
    }
}

/// A function called with every event and the tables that resolve it.
pub type EventSink<'a> = dyn FnMut(&Event, &Tables<'_>) + 'a;

/// Options for [`Trace::load`].
#[derive(Default)]
pub struct LoadOptions<'p> {
    /// Also called with every event read, in order, with the tables that resolve it (to
    /// compute other things in the same pass).
    pub on_event: Option<&'p mut EventSink<'p>>,
    /// Called as loading progresses (at every generation and every few hundred thousand
    /// events).
    pub progress: Option<&'p mut dyn FnMut(Progress)>,
    /// Loading stops with [`LoadError::Cancelled`] soon after this is set.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Build the timelines on the calling thread only. By default a v2 trace's P and thread
    /// lanes are built on a thread of their own, beside the goroutine lanes; the result is
    /// the same. (Either way, ordering a large trace uses rayon's pool.)
    pub one_thread: bool,
}

/// The timeline build of [`Trace::load_from`]: on this thread, or in two halves.
enum Build<'scope> {
    /// The builder, and the events read but not yet built.
    One(Builder, Vec<Event>),
    Two(Pipeline<'scope>),
}

impl Build<'_> {
    /// Appends the reader's next events to the events not yet built: whether there were
    /// any (or the error that ends the stream), and how many.
    fn read(&mut self, reader: &mut Reader<'_>) -> (Result<bool, Error>, usize) {
        let buf = match self {
            Self::One(_, buf) => buf,
            Self::Two(p) => p.gathering(),
        };
        let from = buf.len();
        let read = reader.next_events(buf);
        (read, buf.len() - from)
    }

    /// Builds what [`Build::read`] read (or hands it over to be built).
    fn built(&mut self, tables: &Tables<'_>, each: &mut EventSink<'_>) {
        match self {
            Self::One(b, buf) => {
                for ev in buf.iter() {
                    b.event(ev, tables);
                    each(ev, tables);
                }
                buf.clear();
            }
            Self::Two(p) => p.gathered(tables, each),
        }
    }

    fn drain(&mut self, tables: &Tables<'_>, each: &mut EventSink<'_>) {
        if let Self::Two(p) = self {
            p.drain(tables, each);
        }
    }

    fn last_time(&self) -> i64 {
        match self {
            Self::One(b, _) => b.last_time(),
            Self::Two(p) => p.last_time(),
        }
    }

    fn gap(&mut self, time: i64) {
        match self {
            Self::One(b, _) => b.gap(time),
            Self::Two(p) => p.gap(time),
        }
    }

    fn finish(self) -> Timelines {
        match self {
            Self::One(b, _) => b.finish(),
            Self::Two(p) => p.finish(),
        }
    }
}

/// Something the loader could not read and skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What happened.
    pub error: Error,
    /// Byte offset where the lost part starts.
    pub lost_from: u64,
    /// Byte offset where the lost part ends (the file size if nothing after it was kept).
    pub lost_to: u64,
    /// The generation that was lost, when known.
    pub generation: Option<u64>,
    /// Whether reading resumed after the lost part.
    pub resumed: bool,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.generation {
            Some(g) => format!("generation {g}"),
            None => "data".to_owned(),
        };
        write!(
            f,
            "lost {what} (bytes {}..{}): {}",
            self.lost_from, self.lost_to, self.error
        )?;
        if self.resumed {
            f.write_str("; resumed with the next generation")?;
        }
        Ok(())
    }
}

/// Why a trace could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read the trace: {source}: {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing of the trace could be read.
    #[error("{source}: {}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Error,
    },
    /// Loading was cancelled.
    #[error("loading cancelled")]
    Cancelled,
}

/// A loaded trace: its timelines and what had to be skipped.
pub struct Trace {
    /// The file's path, if it came from a file.
    pub path: Option<PathBuf>,
    /// The format version.
    pub version: Version,
    /// The file size in bytes.
    pub size: u64,
    /// The timelines.
    pub timelines: Timelines,
    /// The number of events read.
    pub events: u64,
    /// Parts of the trace that could not be read, in file order.
    pub warnings: Vec<Warning>,
}

impl Trace {
    /// Opens and loads the trace at `path`.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        Self::open_with(path, LoadOptions::default())
    }

    /// Opens and loads the trace at `path` with progress reporting and cancellation.
    pub fn open_with(path: &Path, options: LoadOptions<'_>) -> Result<Self, LoadError> {
        let data = TraceData::open(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut t = Self::load_from(&data, options, Some(&data)).map_err(|e| match e {
            LoadError::Unreadable { source, .. } => LoadError::Unreadable {
                path: path.to_path_buf(),
                source,
            },
            e => e,
        })?;
        t.path = Some(path.to_path_buf());
        Ok(t)
    }

    /// Loads a trace from its bytes.
    ///
    /// A damaged trace keeps every event before the damage; if a later generation is intact,
    /// reading resumes with it (goroutine and P states re-established by its status events)
    /// and the gap is marked in the timelines. Each skipped part becomes a [`Warning`].
    pub fn load(data: &[u8], options: LoadOptions<'_>) -> Result<Self, LoadError> {
        Self::load_from(data, options, None)
    }

    /// [`Trace::load`]; if `mapped` (the same bytes) is given, the pages of generations
    /// already read are released as reading goes on, so that a mapped file does not stay
    /// whole in memory beside the timelines.
    fn load_from(
        data: &[u8],
        options: LoadOptions<'_>,
        mapped: Option<&TraceData>,
    ) -> Result<Self, LoadError> {
        let unreadable = |source: Error| LoadError::Unreadable {
            path: PathBuf::new(),
            source,
        };
        let (version, _) = read_header(data).map_err(|e| unreadable(e.into()))?;
        if version.is_v1() {
            return Self::load_v1(data, version, options);
        }
        let spans: Vec<(u64, u64, u64)> = v2::index(data)
            .map_err(|e| unreadable(e.into()))?
            .generations
            .iter()
            .map(|g| (g.generation, g.start, g.end))
            .collect();
        let LoadOptions {
            mut on_event,
            mut progress,
            cancel,
            one_thread,
        } = options;
        let total = data.len() as u64;
        std::thread::scope(|scope| {
            let mut builder = if one_thread {
                Build::One(Builder::new(), Vec::new())
            } else {
                Build::Two(Pipeline::new(scope))
            };
            let mut each = |ev: &Event, tables: &Tables<'_>| {
                if let Some(f) = on_event.as_mut() {
                    f(ev, tables);
                }
            };
            let mut warnings = Vec::new();
            let mut events = 0u64;
            let mut segment: Option<Vec<u8>> = None;
            let mut base = 0u64;
            loop {
                let bytes: &[u8] = segment.as_deref().unwrap_or(data);
                let mut reader = Reader::new(bytes).map_err(unreadable)?;
                let mut seen_syncs = 0;
                let mut failure = None;
                loop {
                    // The next events, appended in bulk to the build's buffer.
                    let (read, new) = builder.read(&mut reader);
                    match read {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                    let before = events;
                    events += new as u64;
                    let crossed = before >> 18 != events >> 18;
                    // Cancellation and progress are looked at every 2^18 events and at
                    // every Sync (a new generation).
                    let tables = reader.tables();
                    let mut check = crossed;
                    // A Sync among them: a generation began (the reader counts them, so
                    // that the events need not be looked at here).
                    let (syncs, sync_table) = reader.syncs();
                    if syncs != seen_syncs {
                        seen_syncs = syncs;
                        check = true;
                        if segment.is_none()
                            && let Some(m) = mapped
                            && let Some(g) = tables.gen_tables(sync_table).or(tables.gens.last())
                            && let Some(s) = spans.iter().find(|s| s.0 == g.generation)
                        {
                            // The generations before this one are read (their tables stay
                            // readable: released pages come back when read).
                            m.release_prefix(s.1 as usize);
                        }
                    }
                    if check {
                        if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                            return Err(LoadError::Cancelled);
                        }
                        if let Some(p) = progress.as_mut() {
                            let done = tables
                                .gens
                                .last()
                                .and_then(|g| spans.iter().find(|s| s.0 == g.generation))
                                .map_or(0, |s| s.1);
                            p(Progress {
                                bytes_done: done,
                                bytes_total: total,
                                events,
                            });
                        }
                    }
                    builder.built(reader.tables(), &mut each);
                }
                builder.drain(reader.tables(), &mut each);
                let Some(error) = failure else {
                    break;
                };
                if events == 0 && warnings.is_empty() {
                    return Err(unreadable(error));
                }
                let last_gen = reader.tables().gens.last().map(|g| g.generation);
                let damage = locate(data, bytes, base, &error, last_gen);
                warnings.push(Warning {
                    error,
                    lost_from: damage.lost_from,
                    lost_to: damage.resume.unwrap_or(total),
                    generation: damage.generation,
                    resumed: damage.resume.is_some(),
                });
                let Some(resume) = damage.resume else {
                    break;
                };
                builder.gap(builder.last_time());
                let mut buf = version.header();
                base = resume.saturating_sub(buf.len() as u64);
                buf.extend_from_slice(data.get(resume as usize..).unwrap_or_default());
                segment = Some(buf);
            }
            if let Some(p) = progress.as_mut() {
                p(Progress {
                    bytes_done: total,
                    bytes_total: total,
                    events,
                });
            }
            Ok(Self {
                path: None,
                version,
                size: total,
                timelines: builder.finish(),
                events,
                warnings,
            })
        })
    }
}

impl Trace {
    /// Loads a v1 (Go 1.11–1.21) trace. The format is parsed whole (as Go does: a parse
    /// error leaves nothing to keep); an error while converting keeps the events before it.
    fn load_v1(data: &[u8], version: Version, options: LoadOptions<'_>) -> Result<Self, LoadError> {
        let LoadOptions {
            mut on_event,
            mut progress,
            cancel,
            one_thread: _,
        } = options;
        let total = data.len() as u64;
        let report = |p: &mut Option<&mut dyn FnMut(Progress)>, done: u64, events: u64| {
            if let Some(p) = p.as_mut() {
                p(Progress {
                    bytes_done: done,
                    bytes_total: total,
                    events,
                });
            }
        };
        report(&mut progress, 0, 0);
        let mut stream =
            crate::stream::EventStream::new(data).map_err(|source| LoadError::Unreadable {
                path: PathBuf::new(),
                source,
            })?;
        let mut builder = Builder::new();
        let mut events = 0u64;
        let mut warnings = Vec::new();
        while let Some(ev) = stream.next_event() {
            match ev {
                Ok(ev) => {
                    events += 1;
                    if events.is_multiple_of(1 << 18)
                        && cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
                    {
                        return Err(LoadError::Cancelled);
                    }
                    builder.event(&ev, stream.tables());
                    if let Some(f) = on_event.as_mut() {
                        f(&ev, stream.tables());
                    }
                }
                Err(error) => {
                    let lost_from = error.offset().unwrap_or(0);
                    warnings.push(Warning {
                        error,
                        lost_from,
                        lost_to: total,
                        generation: None,
                        resumed: false,
                    });
                    break;
                }
            }
        }
        report(&mut progress, total, events);
        Ok(Self {
            path: None,
            version,
            size: total,
            timelines: builder.finish(),
            events,
            warnings,
        })
    }
}

/// Where a damaged part of a trace lies, in file offsets.
struct Damage {
    lost_from: u64,
    generation: Option<u64>,
    /// Where intact data starts again.
    resume: Option<u64>,
}

/// Locates the damage that stopped reading `segment` (the whole file, or a header followed by
/// the file from `base + header length` on): the generation lost and where to resume.
fn locate(data: &[u8], segment: &[u8], base: u64, error: &Error, last_gen: Option<u64>) -> Damage {
    let Ok(index) = v2::index(segment) else {
        return Damage {
            lost_from: base,
            generation: None,
            resume: None,
        };
    };
    let structural = matches!(error, Error::Decode(e) if index.error.as_ref() == Some(e));
    let newest_good = index.generations.last().map(|g| g.generation);
    if structural {
        // The file's structure breaks at the error's offset: the generation being read
        // there is lost; look for the next intact generation after it.
        let at = error.offset().unwrap_or(0) + base;
        let (from, generation) = match &index.partial {
            Some(p) => (p.start + base, Some(p.generation)),
            // Damage at a generation's first byte: it is the one after the last good one.
            None => (at, error.generation().or(newest_good.map(|g| g + 1))),
        };
        let after = generation.or(newest_good).unwrap_or(0);
        let resume = v2::resync(data, at as usize + 1, after).map(|o| o as u64);
        return Damage {
            lost_from: from,
            generation,
            resume,
        };
    }
    // A generation that could not be decoded or ordered.
    let generation = error.generation().or(last_gen);
    let Some(i) = generation.and_then(|g| index.generations.iter().position(|s| s.generation == g))
    else {
        return Damage {
            lost_from: error.offset().map_or(base, |o| o + base),
            generation,
            resume: None,
        };
    };
    let span = &index.generations[i];
    let resume = match index.generations.get(i + 1) {
        Some(next) => Some(next.start + base),
        None => index.error.as_ref().and_then(|e| {
            v2::resync(data, (e.offset + base) as usize + 1, span.generation).map(|o| o as u64)
        }),
    };
    Damage {
        lost_from: span.start + base,
        generation,
        resume,
    }
}

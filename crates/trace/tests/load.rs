//! The loader: every fixture loads whole; damaged copies keep what can be kept, with
//! warnings that say what was lost; progress and cancellation work.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use goroscope_format::v2;
use goroscope_testkit::fixture_traces;
use goroscope_trace::{EventStream, LoadError, LoadOptions, Trace};

fn fixture(name: &str) -> std::path::PathBuf {
    fixture_traces()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

#[test]
fn every_fixture_loads_whole() {
    for path in fixture_traces() {
        let data = std::fs::read(&path).unwrap();
        let t = Trace::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            t.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            t.warnings
        );
        let n = EventStream::new(&data).unwrap().count() as u64;
        assert_eq!(t.events, n, "{}", path.display());
        assert_eq!(t.size, data.len() as u64);
        assert!(!t.timelines.goroutines.is_empty());
    }
}

#[test]
fn a_mapped_file_gives_what_its_bytes_give() {
    // Opening a file maps it and releases the pages of generations already read: the
    // timelines are those of the bytes read into memory.
    for path in fixture_traces() {
        let data = std::fs::read(&path).unwrap();
        let opened = Trace::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let loaded = Trace::load(&data, LoadOptions::default()).unwrap();
        assert_eq!(opened.events, loaded.events, "{}", path.display());
        // (The string interner's map prints in no fixed order: compare the lanes.)
        let (o, l) = (&opened.timelines, &loaded.timelines);
        let lanes = |t: &goroscope_trace::timeline::Timelines| {
            format!("{:?} {:?} {:?}", t.goroutines, t.procs, t.threads)
        };
        assert!(lanes(o) == lanes(l), "{}", path.display());
        assert_eq!((o.start, o.end), (l.start, l.end), "{}", path.display());
    }
}

#[test]
fn progress_is_reported_up_to_the_whole_file() {
    let path = fixture("longrun");
    let mut seen = Vec::new();
    let mut cb = |p: goroscope_trace::Progress| seen.push(p);
    let t = Trace::open_with(
        &path,
        LoadOptions {
            progress: Some(&mut cb),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    let last = seen.last().unwrap();
    assert_eq!(last.bytes_done, t.size);
    assert_eq!(last.fraction(), 1.0);
}

#[test]
fn cancellation_stops_loading() {
    let cancel = Arc::new(AtomicBool::new(true));
    let r = Trace::open_with(
        &fixture("longrun"),
        LoadOptions {
            cancel: Some(cancel),
            ..LoadOptions::default()
        },
    );
    assert!(matches!(r, Err(LoadError::Cancelled)));
}

/// Byte ranges of each generation of a trace.
fn generations(data: &[u8]) -> Vec<(u64, u64, u64)> {
    v2::index(data)
        .unwrap()
        .generations
        .iter()
        .map(|g| (g.generation, g.start, g.end))
        .collect()
}

#[test]
fn a_damaged_middle_generation_is_skipped_and_reading_resumes() {
    let data = std::fs::read(fixture("longrun")).unwrap();
    let gens = generations(&data);
    assert!(gens.len() >= 3);
    let whole = Trace::load(&data, LoadOptions::default()).unwrap();
    // Break the middle generation: its first batch's type byte becomes an invalid one.
    let (g, start, end) = gens[1];
    let mut broken = data.clone();
    broken[start as usize] = 0x7e;
    let t = Trace::load(&broken, LoadOptions::default()).unwrap();
    assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
    let w = &t.warnings[0];
    assert!(w.resumed, "{w}");
    assert_eq!(w.generation, Some(g), "{w}");
    assert_eq!((w.lost_from, w.lost_to), (start, end), "{w}");
    // The generations after the damage are there: the trace ends where the whole one does.
    assert_eq!(t.timelines.end, whole.timelines.end);
    assert!(t.events < whole.events);
    let text = w.to_string();
    assert!(
        text.contains(&format!("generation {g}")) && text.contains("resumed"),
        "{text}"
    );
}

#[test]
fn a_truncated_go_1_26_trace_keeps_its_complete_generations() {
    let data = std::fs::read(fixture("longrun")).unwrap();
    let gens = generations(&data);
    let (g, start, end) = *gens.last().unwrap();
    let cut = &data[..((start + end) / 2) as usize];
    let t = Trace::load(cut, LoadOptions::default()).unwrap();
    assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
    let w = &t.warnings[0];
    assert!(!w.resumed);
    assert_eq!(w.generation, Some(g), "{w}");
    assert_eq!(w.lost_from, start);
    assert_eq!(w.lost_to, cut.len() as u64);
    // Every earlier generation is kept.
    let prefix = Trace::load(&data[..start as usize], LoadOptions::default()).unwrap();
    assert!(prefix.warnings.is_empty(), "{:?}", prefix.warnings);
    assert_eq!(
        t.timelines.goroutines.len(),
        prefix.timelines.goroutines.len()
    );
}

#[test]
fn garbage_is_unreadable_with_a_clear_error() {
    let r = Trace::load(b"PK\x03\x04 not a trace", LoadOptions::default());
    let Err(LoadError::Unreadable { source, .. }) = r else {
        panic!("expected an error");
    };
    assert!(
        source.to_string().contains("not a Go execution trace"),
        "{source}"
    );
}

/// Everything in the timelines but the interners' maps (which print in no fixed order):
/// their contents by ID instead.
fn timelines_text(t: &goroscope_trace::timeline::Timelines) -> String {
    use goroscope_trace::timeline::{StackId, StrId};
    let strings: Vec<&[u8]> = (0..t.strings.len())
        .map(|i| t.strings.get(StrId(i as u32)))
        .collect();
    let stacks: Vec<Vec<_>> = (0..t.stacks.len())
        .map(|i| t.stacks.frames(StackId(i as u32)).collect())
        .collect();
    format!(
        "{:?} {:?} {strings:?} {stacks:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        t.start,
        t.end,
        t.goroutines,
        t.procs,
        t.threads,
        t.gc,
        t.stw,
        t.tasks,
        t.logs,
        t.labels,
        t.cpu_samples,
        t.metrics,
        t.clock
    )
}

/// Loads `data` with the timelines built in two halves on two threads (the default) and on
/// one thread; both must give the same trace.
fn assert_two_halves_build_what_one_thread_builds(data: &[u8], what: &str) {
    let two = Trace::load(data, LoadOptions::default()).unwrap();
    let one = Trace::load(
        data,
        LoadOptions {
            one_thread: true,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(two.events, one.events, "{what}");
    assert_eq!(two.warnings, one.warnings, "{what}");
    assert!(
        timelines_text(&two.timelines) == timelines_text(&one.timelines),
        "{what}: the timelines differ"
    );
}

#[test]
fn timelines_built_on_two_threads_are_those_built_on_one() {
    for path in fixture_traces() {
        let data = std::fs::read(&path).unwrap();
        assert_two_halves_build_what_one_thread_builds(&data, &path.display().to_string());
    }
    // Across a gap: a damaged middle generation, skipped, then reading resumes.
    let data = std::fs::read(fixture("longrun")).unwrap();
    let gens = generations(&data);
    let mut broken = data.clone();
    broken[gens[1].1 as usize] = 0x7e;
    assert_two_halves_build_what_one_thread_builds(&broken, "longrun, damaged");
    // Cut short in its last generation.
    let (_, start, end) = *gens.last().unwrap();
    let cut = &data[..((start + end) / 2) as usize];
    assert_two_halves_build_what_one_thread_builds(cut, "longrun, cut");
}

#[test]
fn a_pipeline_fed_event_by_event_builds_what_a_builder_builds() {
    use goroscope_trace::timeline::{Builder, Pipeline};
    let data = std::fs::read(fixture("longrun")).unwrap();
    let mut stream = EventStream::new(&data).unwrap();
    let mut events = Vec::new();
    while let Some(ev) = stream.next_event() {
        events.push(ev.unwrap());
    }
    let tables = stream.tables();
    let mut one = Builder::new();
    for ev in &events {
        one.event(ev, tables);
    }
    let mut seen = 0usize;
    let two = std::thread::scope(|scope| {
        let mut p = Pipeline::new(scope);
        let mut count = |_: &goroscope_trace::Event, _: &goroscope_trace::Tables<'_>| seen += 1;
        for ev in &events {
            p.event(ev, tables, &mut count);
        }
        p.drain(tables, &mut count);
        p.finish()
    });
    assert_eq!(seen, events.len(), "each event passed on once");
    assert!(timelines_text(&one.finish()) == timelines_text(&two));
}

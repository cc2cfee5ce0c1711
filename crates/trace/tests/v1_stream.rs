//! `EventStream` opens every bundled trace with the right reader and gives exactly that
//! reader's events and tables.

use goroscope_format::Version;
use goroscope_trace::{Event, EventStream, Reader, Result, V1Reader};

fn events(it: impl Iterator<Item = Result<Event>>) -> Vec<Event> {
    it.collect::<Result<Vec<_>>>().unwrap()
}

#[test]
fn every_fixture_streams_as_its_own_reader() {
    let traces = goroscope_testkit::fixture_traces();
    assert!(!traces.is_empty());
    for path in traces {
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut stream = EventStream::new(&data).unwrap();
        let ours = events(stream.by_ref());
        assert!(stream.next_event().is_none(), "{name}: fused");
        let version = stream.version();
        let tables = stream.into_tables();
        if version.is_v1() {
            assert_eq!(version, Version::GO121, "{name}");
            let mut r = V1Reader::new(&data).unwrap();
            assert_eq!(ours, events(r.by_ref()), "{name}");
            assert_eq!(tables.gens.len(), 1, "{name}");
            assert_eq!(tables.extra, r.into_tables().extra, "{name}");
        } else {
            let mut r = Reader::new(&data).unwrap();
            assert_eq!(r.version(), version, "{name}");
            assert_eq!(ours, events(r.by_ref()), "{name}");
            assert_eq!(tables.gens.len(), r.into_tables().gens.len(), "{name}");
        }
        assert_eq!(ours.first().and_then(Event::sync_n), Some(1), "{name}");
        assert!(ours.last().and_then(Event::sync_n).is_some(), "{name}");

        // In bulk, the same events.
        let mut stream = EventStream::new(&data).unwrap();
        let mut bulk = Vec::new();
        while stream.next_events(&mut bulk).unwrap() {}
        assert_eq!(ours, bulk, "{name}: in bulk");
        assert!(
            !stream.next_events(&mut bulk).unwrap(),
            "{name}: fused in bulk"
        );
    }
}

#[test]
fn a_damaged_stream_in_bulk_gives_every_event_then_the_error() {
    // Cut traces, read one event at a time, in bulk, and through `for_each_event`.
    let mut errors = 0;
    for path in goroscope_testkit::fixture_traces() {
        let mut data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        data.truncate(data.len() * 2 / 3);
        let Ok(mut stream) = EventStream::new(&data) else {
            continue;
        };
        let mut one = Vec::new();
        let mut error = None;
        for ev in stream.by_ref() {
            match ev {
                Ok(ev) => one.push(ev),
                Err(e) => error = Some(e.to_string()),
            }
        }
        let mut stream = EventStream::new(&data).unwrap();
        let mut bulk = Vec::new();
        let bulk_error = loop {
            match stream.next_events(&mut bulk) {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        assert_eq!(one, bulk, "{name}");
        assert_eq!(error, bulk_error, "{name}");
        errors += usize::from(error.is_some());

        // And through `for_each_event`, with tables that resolve every event.
        let mut stream = EventStream::new(&data).unwrap();
        let mut each = Vec::new();
        let each_error = stream.for_each_event(|ev, tables| {
            assert!(ev.table == u32::MAX || tables.gen_tables(ev.table).is_some());
            each.push(*ev);
        });
        assert_eq!(one, each, "{name}");
        assert_eq!(error, each_error.map(|e| e.to_string()), "{name}");
    }
    assert!(errors > 0, "no cut trace failed");
}

#[test]
fn what_is_not_a_trace_fails_to_open() {
    assert!(EventStream::new(b"").is_err());
    assert!(EventStream::new(b"not a trace at all").is_err());
    // A v1 trace fails as a whole: a batch without the frequency record.
    assert!(EventStream::new(b"go 1.21 trace\x00\x00\x00A\x00\x00").is_err());
    // A v1 header read as a v2 trace by the v2 reader is refused.
    assert!(Reader::new(b"go 1.21 trace\x00\x00\x00").is_err());
    assert!(V1Reader::new(b"go 1.22 trace\x00\x00\x00").is_err());
}

#[test]
fn v1_task_ends_name_their_task_through_the_extra_strings() {
    let path = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    let Ok(data) = std::fs::read(path) else {
        return;
    };
    let mut stream = EventStream::new(&data).unwrap();
    let mut ends = 0;
    while let Some(ev) = stream.next_event() {
        let ev = ev.unwrap();
        if ev.ty == goroscope_format::v2::EventType::USER_TASK_END {
            let name = stream.tables().task_type(&ev);
            assert!(!name.is_empty(), "{ev:?}");
            ends += 1;
        }
    }
    assert!(ends > 0);
    assert_eq!(stream.tables().extra.first(), Some(&Vec::new()));
}

//! The ordered events of a trace as JSON lines (`goroscope dump --format json`): one
//! header object, then one object per event, in the order Go's reader returns them. The
//! schema is in `docs/json-schema.md` (`goroscope.events`).

use std::io::{self, Write};

use goroscope_format::v2::EventType;
use goroscope_trace::event::{Event, EventKind, Resource, Scope, StackRef, StringRef, Tables};

use crate::model::SCHEMA_VERSION;

/// Appends `s` as a JSON string (bytes that are not UTF-8 become U+FFFD).
pub fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The header line: `{"schema":"goroscope.events","schema_version":1,"format":"go 1.27"}`.
pub fn header(format: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write!(
        out,
        "{{\"schema\":\"goroscope.events\",\"schema_version\":{SCHEMA_VERSION},\"format\":"
    );
    json_string(&mut out, format.as_bytes());
    out.extend_from_slice(b"}\n");
    out
}

fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b',');
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

fn stack(out: &mut Vec<u8>, name: &str, r: StackRef, tables: &Tables<'_>) {
    key(out, name);
    out.push(b'[');
    for (i, f) in tables.frames(r).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"function\":");
        json_string(out, f.func);
        out.extend_from_slice(b",\"file\":");
        json_string(out, f.file);
        let _ = write!(out, ",\"line\":{},\"pc\":{}}}", f.line, f.pc);
    }
    out.push(b']');
}

/// Appends one event as a JSON object and a newline.
pub fn write_event(out: &mut Vec<u8>, ev: &Event, tables: &Tables<'_>) -> io::Result<()> {
    let kind = ev.kind();
    let s = |id: u64| {
        tables.string(StringRef {
            table: ev.table,
            id,
        })
    };
    let ty = if ev.ty == goroscope_trace::event::SYNC {
        "Sync".into()
    } else {
        ev.ty.name()
    };
    write!(
        out,
        "{{\"time\":{},\"kind\":\"{}\",\"type\":",
        ev.time,
        kind.name()
    )?;
    json_string(out, ty.as_bytes());
    write!(
        out,
        ",\"m\":{},\"p\":{},\"g\":{}",
        ev.ctx.m, ev.ctx.p, ev.ctx.g
    )?;
    match kind {
        EventKind::Sync => {
            key(out, "n");
            write!(out, "{}", ev.args[0])?;
            if let Some(t) = tables.gen_tables(ev.table)
                && let Some(c) = t.clock
            {
                key(out, "clock");
                write!(
                    out,
                    "{{\"trace\":{},\"mono\":{},\"wall_sec\":{},\"wall_nsec\":{}}}",
                    t.ticks_to_ns(c.ticks),
                    c.mono,
                    c.sec,
                    c.nsec
                )?;
            }
        }
        EventKind::Metric => {
            let (name, value) = ev.metric().unwrap_or_default();
            key(out, "name");
            json_string(out, name.as_bytes());
            key(out, "value");
            write!(out, "{value}")?;
        }
        EventKind::Label => {
            key(out, "label");
            json_string(out, s(ev.args[0]));
            key(out, "goroutine");
            write!(out, "{}", ev.ctx.g)?;
        }
        EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
            key(out, "name");
            json_string(out, &ev.range_name(tables).unwrap_or_default());
            key(out, "scope");
            match ev.range_scope() {
                Some(Scope::Goroutine(g)) => write!(out, "{{\"goroutine\":{g}}}")?,
                Some(Scope::Proc(p)) => write!(out, "{{\"proc\":{p}}}")?,
                Some(Scope::None) | None => out.extend_from_slice(b"null"),
            }
            if ev.ty == EventType::GC_SWEEP_END {
                key(out, "attributes");
                write!(
                    out,
                    "{{\"bytes swept\":{},\"bytes reclaimed\":{}}}",
                    ev.args[0], ev.args[1]
                )?;
            }
        }
        EventKind::TaskBegin | EventKind::TaskEnd => {
            let (id, parent) = ev.task().unwrap_or_default();
            key(out, "task");
            write!(out, "{id}")?;
            key(out, "parent");
            write!(out, "{parent}")?;
            key(out, "task_type");
            json_string(out, tables.task_type(ev));
        }
        EventKind::RegionBegin | EventKind::RegionEnd => {
            key(out, "task");
            write!(out, "{}", ev.args[0])?;
            key(out, "region_type");
            json_string(out, s(ev.args[1]));
        }
        EventKind::Log => {
            key(out, "task");
            write!(out, "{}", ev.args[0])?;
            key(out, "category");
            json_string(out, s(ev.args[1]));
            key(out, "message");
            json_string(out, s(ev.args[2]));
        }
        EventKind::StateTransition => {
            if let Some(st) = ev.state_transition() {
                let (res, id, from, to) = match st.resource {
                    Resource::Goroutine { id, old, new } => {
                        ("goroutine", id, old.name(), new.name())
                    }
                    Resource::Proc { id, old, new } => ("proc", id, old.name(), new.name()),
                };
                key(out, "resource");
                write!(out, "\"{res}\"")?;
                key(out, "id");
                write!(out, "{id}")?;
                key(out, "from");
                write!(out, "\"{from}\"")?;
                key(out, "to");
                write!(out, "\"{to}\"")?;
                key(out, "reason");
                json_string(out, tables.string(st.reason));
                if let Some(r) = st.stack {
                    stack(out, "transition_stack", r, tables);
                }
            }
        }
        EventKind::Experimental => {
            if let Some(spec) = ev.ty.spec() {
                key(out, "args");
                out.push(b'{');
                for (i, name) in spec.args[1..].iter().enumerate().take(4) {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_string(out, name.as_bytes());
                    out.push(b':');
                    if name.ends_with("string") {
                        json_string(out, s(ev.args[i]));
                    } else {
                        write!(out, "{}", ev.args[i])?;
                    }
                }
                out.push(b'}');
            }
        }
        EventKind::StackSample | EventKind::Bad => {}
    }
    if let Some(r) = ev.stack() {
        stack(out, "stack", r, tables);
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        json_string(&mut out, b"a\"b\\c\n\x01\xff");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\n\\u0001\u{fffd}\""
        );
        assert_eq!(
            String::from_utf8(header("go 1.27")).unwrap(),
            "{\"schema\":\"goroscope.events\",\"schema_version\":1,\"format\":\"go 1.27\"}\n"
        );
    }

    #[test]
    fn every_event_of_a_fixture_is_valid_json() {
        let Some(path) = goroscope_testkit::fixture_traces()
            .into_iter()
            .find(|p| p.ends_with("annotations-go1.27.3.trace"))
        else {
            panic!("fixture missing");
        };
        let data = std::fs::read(path).unwrap();
        let mut stream = goroscope_trace::EventStream::new(&data).unwrap();
        let mut n = 0;
        while let Some(ev) = stream.next_event() {
            let ev = ev.unwrap();
            let mut line = Vec::new();
            write_event(&mut line, &ev, stream.tables()).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(v["time"], ev.time);
            n += 1;
        }
        assert!(n > 100);
    }
}

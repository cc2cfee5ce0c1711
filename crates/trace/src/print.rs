//! Printing events exactly as Go's `Event.String()` does (what `go tool trace -d=parsed`
//! prints, with `TZ=UTC`).

use std::io::{self, Write};

use goroscope_format::quote::quote_into;
use goroscope_format::v2::EventType;

use crate::event::{Event, EventKind, Resource, Scope, StackRef, Tables};

/// Appends `ev` in Go's syntax, without the trailing newline Go's `Println` adds.
pub fn write_event(out: &mut Vec<u8>, ev: &Event, tables: &Tables<'_>) -> io::Result<()> {
    use EventType as T;
    let kind = ev.kind();
    write!(
        out,
        "M={} P={} G={} {} Time={}",
        ev.ctx.m,
        ev.ctx.p,
        ev.ctx.g,
        kind.name(),
        ev.time
    )?;
    let s = |id: u64| {
        tables.string(crate::event::StringRef {
            table: ev.table,
            id,
        })
    };
    let mut q = String::new();
    let mut quoted = |out: &mut Vec<u8>, bytes: &[u8]| {
        q.clear();
        quote_into(&mut q, bytes);
        out.extend_from_slice(q.as_bytes());
    };
    match kind {
        EventKind::Metric => {
            let (name, value) = ev.metric().unwrap_or_default();
            out.extend_from_slice(b" Name=");
            quoted(out, name.as_bytes());
            write!(out, " Value=Value{{Uint64({value})}}")?;
        }
        EventKind::Label => {
            out.extend_from_slice(b" Label=");
            quoted(out, s(ev.args[0]));
            write!(out, " Resource=Goroutine({})", ev.ctx.g)?;
        }
        EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
            out.extend_from_slice(b" Name=");
            quoted(out, &ev.range_name(tables).unwrap_or_default());
            match ev.range_scope() {
                Some(Scope::Goroutine(g)) => write!(out, " Scope=Goroutine({g})")?,
                Some(Scope::Proc(p)) => write!(out, " Scope=Proc({p})")?,
                Some(Scope::None) | None => out.extend_from_slice(b" Scope=None"),
            }
            if kind == EventKind::RangeEnd {
                out.extend_from_slice(b" Attributes=[");
                if ev.ty == T::GC_SWEEP_END {
                    write!(
                        out,
                        "\"bytes swept\"=Value{{Uint64({})}} \"bytes reclaimed\"=Value{{Uint64({})}}",
                        ev.args[0], ev.args[1]
                    )?;
                }
                out.push(b']');
            }
        }
        EventKind::TaskBegin | EventKind::TaskEnd => {
            let (id, parent) = ev.task().unwrap_or_default();
            write!(out, " ID={id} Parent={parent} Type=")?;
            quoted(out, tables.task_type(ev));
        }
        EventKind::RegionBegin | EventKind::RegionEnd => {
            write!(out, " Task={} Type=", ev.args[0])?;
            quoted(out, s(ev.args[1]));
        }
        EventKind::Log => {
            write!(out, " Task={} Category=", ev.args[0])?;
            quoted(out, s(ev.args[1]));
            out.extend_from_slice(b" Message=");
            quoted(out, s(ev.args[2]));
        }
        EventKind::StateTransition => {
            if let Some(st) = ev.state_transition() {
                match st.resource {
                    Resource::Goroutine { id, old, new } => {
                        write!(out, " GoID={id} {}->{}", old.name(), new.name())?;
                    }
                    Resource::Proc { id, old, new } => {
                        write!(out, " ProcID={id} {}->{}", old.name(), new.name())?;
                    }
                }
                out.extend_from_slice(b" Reason=");
                quoted(out, tables.string(st.reason));
                if let Some(stack) = st.stack {
                    out.extend_from_slice(b"\nTransitionStack=\n");
                    write_stack(out, stack, tables)?;
                }
            }
        }
        EventKind::Experimental => {
            if let Some(spec) = ev.ty.spec() {
                write!(out, " Name={} Args=[", spec.name)?;
                for (i, name) in spec.args[1..].iter().enumerate() {
                    if i != 0 {
                        out.extend_from_slice(b", ");
                    }
                    write!(out, "{name}=")?;
                    if name.ends_with("string") {
                        out.extend_from_slice(s(ev.args[i]));
                    } else {
                        write!(out, "Value{{Uint64({})}}", ev.args[i])?;
                    }
                }
                out.push(b']');
            }
        }
        EventKind::Sync => {
            write!(out, " N={}", ev.args[0])?;
            if let Some(t) = tables.gen_tables(ev.table)
                && let Some(c) = t.clock
            {
                write!(
                    out,
                    " Trace={} Mono={} Wall={}",
                    t.ticks_to_ns(c.ticks),
                    c.mono,
                    crate::time::rfc3339_nano(c.sec as i64, c.nsec as i64)
                )?;
            }
        }
        EventKind::StackSample | EventKind::Bad => {}
    }
    if let Some(stack) = ev.stack() {
        out.extend_from_slice(b"\nStack=\n");
        write_stack(out, stack, tables)?;
    }
    Ok(())
}

fn write_stack(out: &mut Vec<u8>, stack: StackRef, tables: &Tables<'_>) -> io::Result<()> {
    for f in tables.frames(stack) {
        out.push(b'\t');
        out.extend_from_slice(f.func);
        write!(out, " @ {:#x}\n\t\t", f.pc)?;
        out.extend_from_slice(f.file);
        writeln!(out, ":{}", f.line)?;
    }
    Ok(())
}

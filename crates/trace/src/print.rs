//! Printing events exactly as Go's `Event.String()` does (what `go tool trace -d=parsed`
//! prints, with `TZ=UTC`).

use std::io::{self, Write};

use goroscope_format::quote::quote_into;
use goroscope_format::v2::EventType;

use crate::event::{Event, EventKind, Resource, StackRef, Tables};

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
            let name: &[u8] = match ev.ty {
                T::PROCS_CHANGE => b"/sched/gomaxprocs:threads",
                T::HEAP_ALLOC => b"/memory/classes/heap/objects:bytes",
                _ => b"/gc/heap/goal:bytes",
            };
            out.extend_from_slice(b" Name=");
            quoted(out, name);
            write!(out, " Value=Value{{Uint64({})}}", ev.args[0])?;
        }
        EventKind::Label => {
            out.extend_from_slice(b" Label=");
            quoted(out, s(ev.args[0]));
            write!(out, " Resource=Goroutine({})", ev.ctx.g)?;
        }
        EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
            out.extend_from_slice(b" Name=");
            match ev.ty {
                T::STW_BEGIN | T::STW_END => {
                    let mut name = b"stop-the-world (".to_vec();
                    name.extend_from_slice(s(ev.args[0]));
                    name.push(b')');
                    quoted(out, &name);
                    write!(out, " Scope=Goroutine({})", ev.ctx.g)?;
                }
                T::GC_BEGIN | T::GC_ACTIVE | T::GC_END => {
                    quoted(out, b"GC concurrent mark phase");
                    out.extend_from_slice(b" Scope=None");
                }
                T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE | T::GC_SWEEP_END => {
                    quoted(out, b"GC incremental sweep");
                    let p = if ev.ty == T::GC_SWEEP_ACTIVE {
                        ev.args[0] as i64
                    } else {
                        ev.ctx.p
                    };
                    write!(out, " Scope=Proc({p})")?;
                }
                _ => {
                    quoted(out, b"GC mark assist");
                    let g = if ev.ty == T::GC_MARK_ASSIST_ACTIVE {
                        ev.args[0] as i64
                    } else {
                        ev.ctx.g
                    };
                    write!(out, " Scope=Goroutine({g})")?;
                }
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
            let (parent, ty) = if ev.ty == T::USER_TASK_BEGIN {
                (ev.args[1], s(ev.args[2]))
            } else {
                (ev.args[2], tables.extra_string(ev.args[3]))
            };
            write!(out, " ID={} Parent={} Type=", ev.args[0], parent)?;
            quoted(out, ty);
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

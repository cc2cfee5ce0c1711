//! One ordered v1 event.

use std::fmt;

use crate::v1::spec::EventType;

/// An event of a parsed v1 trace, as Go's `tracev1.Event` holds it.
///
/// | event type                      | `g`                         | `args`                          |
/// |---------------------------------|-----------------------------|---------------------------------|
/// | most                            | the goroutine running on `p` (0 for none) | as in [`Spec::args`](crate::v1::Spec::args) |
/// | `GO_START*`                     | the started goroutine       | g, seq, label string ID         |
/// | `GO_SYS_EXIT`, `GO_WAITING`, `GO_IN_SYSCALL` | the goroutine named in `args[0]` | g, seq, real ticks |
/// | `USER_LOG`                      | the running goroutine       | task, key string ID, **index of the message in [`Trace::inline_strings`](crate::v1::Trace::inline_strings)** |
/// | `CPU_SAMPLE`                    | the sampled goroutine       | 0, P, G (the P is also in `p`)  |
///
/// Go keeps four argument slots, but its table never fills more than three; the fourth holds
/// only the inline-string index of `USER_LOG`, which lives in the unused third slot here. The
/// freed room holds the event's byte offset, so the event stays 64 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Event {
    /// Nanoseconds since the first event of the trace (ticks while ordering).
    pub ts: i64,
    /// The goroutine (see the table above).
    pub g: u64,
    /// The event's arguments after the timestamp, without the stack ID; unused slots are 0.
    pub args: [u64; 3],
    /// Byte offset of the event's record in the trace (header included).
    pub offset: u64,
    /// Stack ID, 0 for none. IDs that name no stack with frames are reset to 0.
    pub stack: u32,
    /// The P: a real P, [`NO_P`](crate::v1::NO_P), or one of the fake Ps
    /// ([`TIMER_P`](crate::v1::TIMER_P), [`NETPOLL_P`](crate::v1::NETPOLL_P),
    /// [`SYSCALL_P`](crate::v1::SYSCALL_P), [`GC_P`](crate::v1::GC_P)).
    pub p: i32,
    /// The event type. The `*_LOCAL` types never appear: ordering renames them.
    pub ty: EventType,
}

impl fmt::Display for Event {
    /// Go's `Event.String`: `TS Name p=P g=G stk=S` and `name=value` for each argument.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} p={} g={} stk={}",
            self.ts,
            self.ty.name(),
            self.p,
            self.g,
            self.stack
        )?;
        let names = self.ty.spec().map_or(&[][..], |s| s.args);
        for (name, value) in names.iter().zip(self.args) {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_as_compact_as_gos() {
        assert_eq!(size_of::<Event>(), 64);
    }

    #[test]
    fn displays_like_go() {
        let ev = Event {
            ts: 1500,
            g: 7,
            args: [3, 0, 12],
            offset: 99,
            stack: 4,
            p: 1,
            ty: EventType::USER_REGION,
        };
        assert_eq!(
            ev.to_string(),
            "1500 UserRegion p=1 g=7 stk=4 taskid=3 mode=0 typeid=12"
        );
        let ev = Event {
            ty: EventType::PROC_STOP,
            p: -1,
            ..Event::default()
        };
        assert_eq!(ev.to_string(), "0 ProcStop p=-1 g=0 stk=0");
    }
}

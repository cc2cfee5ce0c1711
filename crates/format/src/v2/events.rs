//! Decoding the timed events of one event batch.
//!
//! An event is its type byte, the time delta `dt` (ticks since the previous event of the
//! batch, or since the batch's base time for the first), then the rest of its arguments, all
//! uvarints, with no length prefix. The complete table of [`SPECS`] applies whatever the
//! header's version, as in Go's reader.

use crate::error::ErrorKind;
use crate::uvarint::{self, UvarintError};
use crate::v2::spec::{EventType, MAX_TIMED_ARGS, SPECS};

/// One timed event as written: the type, the delta, and the other arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawEvent {
    /// The event type.
    pub ty: EventType,
    /// Ticks since the previous event of the batch (or the batch's base time).
    pub dt: u64,
    /// The arguments after `dt`, in spec order; unused slots are 0.
    pub args: [u64; MAX_TIMED_ARGS - 1],
}

const INVALID: u8 = 0xff;
const UNTIMED: u8 = 0xfe;

/// For each type byte: the number of arguments after `dt`, or a marker.
static ARG_COUNTS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 256 {
        if i < SPECS.len() {
            let s = &SPECS[i];
            t[i] = if s.timed && !s.args.is_empty() {
                (s.args.len() - 1) as u8
            } else {
                UNTIMED
            };
        }
        i += 1;
    }
    t
};

/// Why an event could not be decoded, and where in the batch body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Offset within the batch body of the event's type byte.
    pub pos: usize,
}

/// A cursor over the events of one batch body.
#[derive(Debug, Clone)]
pub struct EventCursor<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> EventCursor<'a> {
    /// A cursor at the start of `body`.
    pub fn new(body: &'a [u8]) -> Self {
        Self { body, pos: 0 }
    }

    /// Offset within the body of the next event.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether every event has been read.
    pub fn is_done(&self) -> bool {
        self.pos >= self.body.len()
    }

    /// Decodes the next event, or returns `None` at the end of the body.
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<RawEvent>, EventError> {
        let Some(&ty) = self.body.get(self.pos) else {
            return Ok(None);
        };
        let start = self.pos;
        let fail = |kind| EventError { kind, pos: start };
        let n = ARG_COUNTS[usize::from(ty)];
        if n == INVALID {
            return Err(fail(ErrorKind::InvalidEventType(ty)));
        }
        if n == UNTIMED {
            return Err(fail(ErrorKind::EventWithoutTimestamp(ty)));
        }
        let mut pos = start + 1;
        let mut ev = RawEvent {
            ty: EventType(ty),
            ..RawEvent::default()
        };
        match read_at(self.body, pos) {
            Ok((v, len)) => {
                ev.dt = v;
                pos += len;
            }
            Err(_) => return Err(fail(ErrorKind::EventUvarint { timestamp: true })),
        }
        for slot in ev.args.iter_mut().take(usize::from(n)) {
            match read_at(self.body, pos) {
                Ok((v, len)) => {
                    *slot = v;
                    pos += len;
                }
                Err(_) => return Err(fail(ErrorKind::EventUvarint { timestamp: false })),
            }
        }
        self.pos = pos;
        Ok(Some(ev))
    }
}

#[inline(always)]
fn read_at(body: &[u8], pos: usize) -> Result<(u64, usize), UvarintError> {
    uvarint::read(body.get(pos..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_events_in_order() {
        // ProcStart dt=1 p=0 p_seq=1; GoStart dt=130 g=5 g_seq=0; ProcStop dt=2
        let body = [10, 1, 0, 1, 16, 0x82, 0x01, 5, 0, 11, 2];
        let mut c = EventCursor::new(&body);
        let a = c.next_event().unwrap().unwrap();
        assert_eq!(
            (a.ty, a.dt, a.args),
            (EventType::PROC_START, 1, [0, 1, 0, 0])
        );
        let b = c.next_event().unwrap().unwrap();
        assert_eq!(
            (b.ty, b.dt, b.args[..2].to_vec()),
            (EventType::GO_START, 130, vec![5, 0])
        );
        let s = c.next_event().unwrap().unwrap();
        assert_eq!((s.ty, s.dt), (EventType::PROC_STOP, 2));
        assert_eq!(c.next_event(), Ok(None));
    }

    #[test]
    fn rejects_what_go_rejects() {
        let err = |body: &[u8]| EventCursor::new(body).next_event().unwrap_err().kind;
        assert_eq!(err(&[200]), ErrorKind::InvalidEventType(200));
        assert_eq!(err(&[60, 1]), ErrorKind::EventWithoutTimestamp(60));
        assert_eq!(err(&[4]), ErrorKind::EventWithoutTimestamp(4));
        assert_eq!(err(&[11]), ErrorKind::EventUvarint { timestamp: true });
        assert_eq!(
            err(&[10, 1, 0x80]),
            ErrorKind::EventUvarint { timestamp: false }
        );
    }

    #[test]
    fn experimental_events_are_timed() {
        let mut c = EventCursor::new(&[131, 1, 7, 9]);
        let e = c.next_event().unwrap().unwrap();
        assert_eq!((e.ty, e.args[0], e.args[1]), (EventType::HEAP_OBJECT, 7, 9));
    }
}

//! Decoding the timed events of one event batch.
//!
//! An event is its type byte, the time delta `dt` (ticks since the previous event of the
//! batch, or since the batch's base time for the first), then the rest of its arguments, all
//! uvarints, with no length prefix. The complete table of [`SPECS`] applies whatever the
//! header's version, as in Go's reader.

use crate::error::ErrorKind;
use crate::uvarint;
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

// Markers in `ARG_COUNTS`; both are at least `UNTIMED`.
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
        let mut ev = RawEvent::default();
        Ok(self.next_into(&mut ev)?.then_some(ev))
    }

    /// Decodes the next event into `ev`, returning `false` at the end of the body. This is
    /// [`EventCursor::next_event`] without moving the event through `Result<Option<_>>`;
    /// after an error `ev` holds no meaningful event and the cursor does not move.
    #[inline(always)]
    pub fn next_into(&mut self, ev: &mut RawEvent) -> Result<bool, EventError> {
        match self.body.get(self.pos..).and_then(<[u8]>::first_chunk) {
            Some(window) => self.next_in_window(window, ev),
            None => self.next_near_end(ev),
        }
    }

    /// Decodes every remaining event, calling `f` with the offset within the body of each
    /// event's type byte and the event, in order. Stops at the first event that cannot be
    /// decoded, returning the error; the cursor is then at that event (as after
    /// [`EventCursor::next_into`]), else at the end of the body.
    ///
    /// The same events as calling [`EventCursor::next_into`] until it returns `false`,
    /// faster: the loop keeps its state in registers.
    #[inline(always)]
    pub fn for_each_event(&mut self, mut f: impl FnMut(usize, RawEvent)) -> Result<(), EventError> {
        let body = self.body;
        let mut pos = self.pos;
        while let Some(w) = body.get(pos..).and_then(<[u8]>::first_chunk) {
            let Some((ev, len)) = decode_in_window(w) else {
                break;
            };
            f(pos, ev);
            pos += len;
        }
        self.pos = pos;
        self.for_each_near_end(f)
    }

    /// The rest of [`EventCursor::for_each_event`]: the last events, or an error.
    #[inline(never)]
    fn for_each_near_end(&mut self, mut f: impl FnMut(usize, RawEvent)) -> Result<(), EventError> {
        let mut ev = RawEvent::default();
        loop {
            let pos = self.pos;
            if !self.next_into(&mut ev)? {
                return Ok(());
            }
            f(pos, ev);
        }
    }

    /// The common case: the event certainly ends within `w`, the next [`WINDOW`] bytes.
    /// Anything else, errors included, is left to [`EventCursor::next_near_end`], which
    /// reports it precisely.
    #[inline(always)]
    fn next_in_window(&mut self, w: &[u8; WINDOW], ev: &mut RawEvent) -> Result<bool, EventError> {
        match decode_in_window(w) {
            Some((e, len)) => {
                *ev = e;
                self.pos += len;
                Ok(true)
            }
            None => self.next_near_end(ev),
        }
    }

    /// The last events of the body, and errors, with every read checked.
    #[cold]
    #[inline(never)]
    fn next_near_end(&mut self, ev: &mut RawEvent) -> Result<bool, EventError> {
        let body = self.body;
        let start = self.pos;
        let Some(&ty) = body.get(start) else {
            return Ok(false);
        };
        let n = ARG_COUNTS[usize::from(ty)];
        if n >= UNTIMED {
            return Err(type_error(ty, n, start));
        }
        let mut pos = start + 1;
        let Ok(dt) = uvarint::read_at(body, &mut pos) else {
            return Err(uvarint_error(true, start));
        };
        let mut args = [0u64; MAX_TIMED_ARGS - 1];
        for slot in args.iter_mut().take(usize::from(n)) {
            let Ok(v) = uvarint::read_at(body, &mut pos) else {
                return Err(uvarint_error(false, start));
            };
            *slot = v;
        }
        *ev = RawEvent {
            ty: EventType(ty),
            dt,
            args,
        };
        self.pos = pos;
        Ok(true)
    }
}

/// The event at the start of `w` and its length, if it is a timed event whose uvarints do
/// not overflow; no byte needs a bounds check.
#[inline(always)]
fn decode_in_window(w: &[u8; WINDOW]) -> Option<(RawEvent, usize)> {
    // The type byte and the first bytes of dt in one load.
    let head = u64::from_le_bytes(*w.first_chunk()?);
    let ty = head as u8;
    let n = ARG_COUNTS[usize::from(ty)];
    if n >= UNTIMED {
        return None;
    }
    let mut p = 1;
    let dt = word_uvarint(head >> 8, w, &mut p);
    let mut rd = || window_uvarint(w, &mut p);
    let args = match n {
        0 => [0; 4],
        1 => [rd(), 0, 0, 0],
        2 => {
            let a = rd();
            [a, rd(), 0, 0]
        }
        3 => {
            let a = rd();
            let b = rd();
            [a, b, rd(), 0]
        }
        _ => {
            let a = rd();
            let b = rd();
            let c = rd();
            [a, b, c, rd()]
        }
    };
    // An overflow moved `p` to `OVERFLOWED` or beyond.
    if p >= OVERFLOWED {
        return None;
    }
    let ev = RawEvent {
        ty: EventType(ty),
        dt,
        args,
    };
    Some((ev, p))
}

/// Bytes looked at in one go by the fast path: the longest event (a type byte and
/// [`MAX_TIMED_ARGS`] uvarints of [`uvarint::MAX_LEN`] bytes), and eight bytes read at any
/// offset below [`OVERFLOWED`].
const WINDOW: usize = OVERFLOWED + 8;
const _: () = assert!(1 + MAX_TIMED_ARGS * uvarint::MAX_LEN < OVERFLOWED);

/// Added to a position by an overflowing uvarint: no event is that long, so the caller
/// checks once per event whether one overflowed. A power of two: positions are reduced
/// modulo it to read (an overflow makes the rest of the event meaningless anyway).
const OVERFLOWED: usize = 64;

/// A uvarint at `w[*p..]`, where it cannot run past the window; on overflow `*p` moves on
/// by [`OVERFLOWED`].
#[inline(always)]
fn window_uvarint(w: &[u8; WINDOW], p: &mut usize) -> u64 {
    word_uvarint(window_word(w, *p), w, p)
}

/// The eight bytes at `w[p % OVERFLOWED..]` as a little-endian word. Without an overflow
/// `p` is below [`OVERFLOWED`], at most `1 + 4 * MAX_LEN`; the mask only lets the compiler
/// see that the read lies in the window.
#[inline(always)]
fn window_word(w: &[u8; WINDOW], p: usize) -> u64 {
    let q = p % OVERFLOWED;
    u64::from_le_bytes(w[q..q + 8].try_into().unwrap_or_default())
}

/// [`window_uvarint`] given `word`, whose low four bytes are those at `w[*p..]`.
#[inline(always)]
fn word_uvarint(word: u64, w: &[u8; WINDOW], p: &mut usize) -> u64 {
    // Values of one to four bytes, the vast majority, each on its own branch: a predicted
    // branch lets the processor go on to the next value before this one's length is
    // computed (measured: 40% faster than computing every length from `ends`).
    if word & 0x80 == 0 {
        *p += 1;
        return word & 0x7f;
    }
    if word & 0x8000 == 0 {
        *p += 2;
        return (word & 0x7f) | ((word >> 1) & 0x3f80);
    }
    if word & 0x80_0000 == 0 {
        *p += 3;
        return (word & 0x7f) | ((word >> 1) & 0x3f80) | ((word >> 2) & 0x1f_c000);
    }
    if word & 0x8000_0000 == 0 {
        *p += 4;
        return (word & 0x7f)
            | ((word >> 1) & 0x3f80)
            | ((word >> 2) & 0x1f_c000)
            | ((word >> 3) & 0xfe0_0000);
    }
    // Five bytes or more: all eight bytes at `*p`. A byte with its high bit clear ends the
    // value.
    let word = window_word(w, *p);
    let ends = !word & 0x8080_8080_8080_8080;
    if ends == 0 {
        let (v, len) = window_uvarint_long(w, *p);
        *p += if len == 0 { OVERFLOWED } else { len };
        return v;
    }
    let len = ends.trailing_zeros() / 8 + 1;
    *p += len as usize;
    compact7(word & (u64::MAX >> (64 - 8 * len)))
}

/// Packs the low 7 bits of each byte of `x` together, lowest byte lowest.
#[inline(always)]
fn compact7(x: u64) -> u64 {
    let x = x & 0x7f7f_7f7f_7f7f_7f7f;
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

/// A uvarint of nine or more bytes at `w[p..]`: its value and length, or length 0 on
/// overflow.
#[cold]
#[inline(never)]
fn window_uvarint_long(w: &[u8; WINDOW], p: usize) -> (u64, usize) {
    let start = p.min(WINDOW - uvarint::MAX_LEN);
    let mut pos = 0;
    match uvarint::read_at(&w[start..start + uvarint::MAX_LEN], &mut pos) {
        Ok(v) => (v, pos),
        Err(_) => (0, 0),
    }
}

#[cold]
fn type_error(ty: u8, n: u8, pos: usize) -> EventError {
    let kind = if n == INVALID {
        ErrorKind::InvalidEventType(ty)
    } else {
        ErrorKind::EventWithoutTimestamp(ty)
    };
    EventError { kind, pos }
}

#[cold]
fn uvarint_error(timestamp: bool, pos: usize) -> EventError {
    EventError {
        kind: ErrorKind::EventUvarint { timestamp },
        pos,
    }
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

    /// Decodes `body` the plain way, one checked uvarint at a time.
    fn reference(body: &[u8]) -> Result<Vec<RawEvent>, EventError> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < body.len() {
            let start = pos;
            let ty = body[pos];
            let n = ARG_COUNTS[usize::from(ty)];
            if n >= UNTIMED {
                return Err(type_error(ty, n, start));
            }
            pos += 1;
            let mut vals = [0u64; MAX_TIMED_ARGS];
            for (i, v) in vals.iter_mut().take(usize::from(n) + 1).enumerate() {
                match uvarint::read(&body[pos..]) {
                    Ok((x, len)) => {
                        *v = x;
                        pos += len;
                    }
                    Err(_) => return Err(uvarint_error(i == 0, start)),
                }
            }
            out.push(RawEvent {
                ty: EventType(ty),
                dt: vals[0],
                args: [vals[1], vals[2], vals[3], vals[4]],
            });
        }
        Ok(out)
    }

    fn decode(body: &[u8]) -> Result<Vec<RawEvent>, EventError> {
        let mut c = EventCursor::new(body);
        let mut out = Vec::new();
        let mut ev = RawEvent::default();
        while c.next_into(&mut ev)? {
            out.push(ev);
        }
        Ok(out)
    }

    /// Decodes `body` with [`EventCursor::for_each_event`], checking the offsets it gives,
    /// and that the cursor ends at the bad event, if any.
    fn decode_each(body: &[u8]) -> Result<Vec<RawEvent>, EventError> {
        let mut c = EventCursor::new(body);
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        let res = c.for_each_event(|pos, ev| {
            offsets.push(pos);
            out.push(ev);
        });
        // The offsets are where each event starts, as `position` gives them.
        let mut c2 = EventCursor::new(body);
        let mut ev = RawEvent::default();
        for &o in &offsets {
            assert_eq!(c2.position(), o);
            assert!(c2.next_into(&mut ev).unwrap());
        }
        match res {
            Ok(()) => {
                assert!(c.is_done());
                Ok(out)
            }
            Err(e) => {
                assert_eq!(c.position(), e.pos);
                Err(e)
            }
        }
    }

    /// Encodes `v` in exactly `len` bytes (`len` at least its minimal length, at most 10).
    fn padded(out: &mut Vec<u8>, v: u64, len: usize) {
        let mut enc = Vec::new();
        uvarint::write(&mut enc, v);
        while enc.len() < len {
            *enc.last_mut().unwrap() |= 0x80;
            enc.push(0);
        }
        out.extend_from_slice(&enc);
    }

    #[test]
    fn fast_and_checked_paths_agree() {
        // Events with arguments of every length from 1 to 10 bytes (minimal and padded),
        // long enough that most are read through the window and the last ones near the end.
        let values = [
            0,
            1,
            127,
            128,
            300,
            1 << 20,
            1 << 35,
            1 << 49,
            1 << 56,
            u64::MAX,
        ];
        let types = [11u8, 37, 10, 21, 44, 131, 16];
        let mut body = Vec::new();
        let mut k = 0usize;
        for round in 0..40 {
            for &ty in &types {
                body.push(ty);
                for _ in 0..=ARG_COUNTS[usize::from(ty)] {
                    let v = values[k % values.len()];
                    let min = uvarint::encoded_len(v);
                    let len = if round % 3 == 0 {
                        min
                    } else {
                        (min + k % 4).min(10)
                    };
                    padded(&mut body, v, len);
                    k += 1;
                }
            }
        }
        let want = reference(&body).unwrap();
        assert_eq!(decode(&body).unwrap(), want);
        assert_eq!(decode_each(&body).unwrap(), want);
        // Every suffix that starts at an event, so that each event is read near the end too.
        let mut starts = Vec::new();
        let mut c = EventCursor::new(&body);
        let mut ev = RawEvent::default();
        while {
            starts.push(c.position());
            c.next_into(&mut ev).unwrap()
        } {}
        for &s in &starts {
            assert_eq!(decode(&body[s..]), reference(&body[s..]), "suffix at {s}");
            assert_eq!(
                decode_each(&body[s..]),
                reference(&body[s..]),
                "suffix at {s}"
            );
        }
    }

    #[test]
    fn errors_inside_the_window_match_the_checked_path() {
        let tail = [11u8, 1].repeat(40);
        let cases: [&[u8]; 5] = [
            // An 11-byte uvarint for dt.
            &[
                11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ],
            // A 10th byte over 1 in an argument.
            &[
                10, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 1,
            ],
            // u64::MAX exactly, then an invalid type.
            &[
                10, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 200,
            ],
            // An untimed type after a good event.
            &[11, 5, 4],
            // A 9-byte value, then an 11-byte argument.
            &[
                37, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80,
                0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ],
        ];
        for case in cases {
            let mut body = case.to_vec();
            body.extend_from_slice(&tail);
            let got = decode(&body);
            assert_eq!(got, reference(&body), "{case:?}");
            assert_eq!(decode_each(&body), got, "{case:?}");
            assert!(got.is_err());
            // The cursor stays at the bad event.
            let mut c = EventCursor::new(&body);
            let mut ev = RawEvent::default();
            while c.next_into(&mut ev).is_ok() {}
            assert_eq!(
                Err(c.position()),
                decode(&body).map(|_| 0).map_err(|e| e.pos)
            );
        }
    }

    #[test]
    fn experimental_events_are_timed() {
        let mut c = EventCursor::new(&[131, 1, 7, 9]);
        let e = c.next_event().unwrap().unwrap();
        assert_eq!((e.ty, e.args[0], e.args[1]), (EventType::HEAP_OBJECT, 7, 9));
    }
}

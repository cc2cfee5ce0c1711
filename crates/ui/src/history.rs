//! Back and forward through the time view, like a browser's history.
//!
//! An entry is recorded when a navigation settles: at once for discrete jumps (fit, zoom to
//! the selection, a find result) through [`ViewHistory::commit`], and for continuous
//! gestures (wheel zoom, drag, keys held down) once the view has stayed put for
//! [`SETTLE_SECS`] with no button held, through [`ViewHistory::observe`] every frame.

use crate::time_view::TimeView;

/// How long the view must stay unchanged before a gesture counts as one navigation.
pub const SETTLE_SECS: f64 = 0.4;

/// The most entries kept; the oldest are dropped first.
pub const MAX_ENTRIES: usize = 100;

/// A browser-like history of time views.
#[derive(Debug, Clone)]
pub struct ViewHistory {
    entries: Vec<TimeView>,
    /// The index of the current entry.
    pos: usize,
    /// The view seen in the last frame and when it last changed.
    last_seen: TimeView,
    last_change: f64,
}

impl ViewHistory {
    /// A history whose only entry is `initial`.
    pub fn new(initial: TimeView) -> Self {
        Self {
            entries: vec![initial],
            pos: 0,
            last_seen: initial,
            last_change: f64::NEG_INFINITY,
        }
    }

    /// The current entry.
    pub fn current(&self) -> TimeView {
        self.entries[self.pos]
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing but the initial entry.
    pub fn is_empty(&self) -> bool {
        self.entries.len() <= 1
    }

    /// Whether [`Self::back`] would do anything.
    pub fn can_go_back(&self) -> bool {
        self.pos > 0
    }

    /// Whether [`Self::forward`] would do anything.
    pub fn can_go_forward(&self) -> bool {
        self.pos + 1 < self.entries.len()
    }

    /// Records `view` as a new entry now (unless it is the current one), dropping the
    /// entries ahead of the current one.
    pub fn commit(&mut self, view: TimeView) {
        self.last_seen = view;
        if view == self.current() {
            return;
        }
        self.entries.truncate(self.pos + 1);
        self.entries.push(view);
        if self.entries.len() > MAX_ENTRIES {
            self.entries.remove(0);
        }
        self.pos = self.entries.len() - 1;
    }

    /// Called once a frame with the view, the time (seconds) and whether a gesture is still
    /// under way (a button held, the wheel turning); commits the view once it has settled.
    pub fn observe(&mut self, view: TimeView, now: f64, busy: bool) {
        if view != self.last_seen {
            self.last_seen = view;
            self.last_change = now;
            return;
        }
        if !busy && view != self.current() && now - self.last_change >= SETTLE_SECS {
            self.commit(view);
        }
    }

    /// Moves one entry back and returns its view.
    pub fn back(&mut self) -> Option<TimeView> {
        self.settle_pending();
        if !self.can_go_back() {
            return None;
        }
        self.pos -= 1;
        self.last_seen = self.current();
        Some(self.current())
    }

    /// Moves one entry forward and returns its view.
    pub fn forward(&mut self) -> Option<TimeView> {
        if !self.can_go_forward() {
            return None;
        }
        self.pos += 1;
        self.last_seen = self.current();
        Some(self.current())
    }

    /// A gesture that has not settled yet still counts when going back from it.
    fn settle_pending(&mut self) {
        let seen = self.last_seen;
        if seen != self.current() {
            self.commit(seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(start: f64, end: f64) -> TimeView {
        TimeView {
            start,
            end,
            bound: 1000.0,
        }
    }

    #[test]
    fn gestures_commit_once_settled() {
        let a = view(0.0, 1000.0);
        let mut h = ViewHistory::new(a);
        // A zoom gesture over several frames.
        let mut t = 0.0;
        for i in 1..10 {
            t += 0.016;
            h.observe(view(f64::from(i), 1000.0 - f64::from(i)), t, false);
        }
        assert_eq!(h.len(), 1, "not settled yet");
        let end = view(9.0, 991.0);
        h.observe(end, t + 0.1, false);
        assert_eq!(h.len(), 1);
        // A button held keeps the gesture open.
        h.observe(end, t + 1.0, true);
        assert_eq!(h.len(), 1);
        h.observe(end, t + 1.1, false);
        assert_eq!(h.len(), 2);
        assert_eq!(h.current(), end);
        // Staying put adds nothing more.
        h.observe(end, t + 5.0, false);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn back_forward_and_branching() {
        let (a, b, c, d) = (
            view(0.0, 1000.0),
            view(0.0, 500.0),
            view(100.0, 200.0),
            view(600.0, 700.0),
        );
        let mut h = ViewHistory::new(a);
        h.commit(b);
        h.commit(b);
        h.commit(c);
        assert_eq!(h.len(), 3);
        assert_eq!(h.back(), Some(b));
        assert_eq!(h.back(), Some(a));
        assert_eq!(h.back(), None);
        assert_eq!(h.forward(), Some(b));
        // Going back leaves a view the observer does not record again.
        h.observe(b, 10.0, false);
        h.observe(b, 20.0, false);
        assert_eq!(h.len(), 3);
        // A new navigation drops what was ahead.
        h.commit(d);
        assert!(!h.can_go_forward());
        assert_eq!(h.back(), Some(b));
        assert_eq!(h.back(), Some(a));
    }

    #[test]
    fn back_during_an_unsettled_gesture_returns_to_where_it_started() {
        let a = view(0.0, 1000.0);
        let mut h = ViewHistory::new(a);
        h.observe(view(0.0, 400.0), 1.0, false);
        assert_eq!(h.back(), Some(a));
        assert_eq!(h.forward(), Some(view(0.0, 400.0)));
    }

    #[test]
    fn keeps_a_bounded_number_of_entries() {
        let mut h = ViewHistory::new(view(0.0, 1000.0));
        for i in 0..(MAX_ENTRIES + 20) {
            h.commit(view(i as f64, 1000.0));
        }
        assert_eq!(h.len(), MAX_ENTRIES);
        assert_eq!(h.current(), view((MAX_ENTRIES + 19) as f64, 1000.0));
    }
}

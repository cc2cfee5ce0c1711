//! The mapping between trace time and screen x: which stretch of the trace is visible, and
//! how panning and zooming change it.
//!
//! Like rerun's `re_time_ruler`, this type has no opinion on where the timeline sits on
//! screen or which input pans or zooms it: callers pass the pixel range (`x0..x1`) the time
//! axis occupies, and turn input into [`TimeView::pan_px`] and [`TimeView::zoom_at_x`].
//! Times are nanoseconds relative to the trace start, as `f64` (exact to the nanosecond for
//! traces shorter than 104 days).

/// The smallest visible time span, in nanoseconds: zooming stops here.
pub const MIN_SPAN_NS: f64 = 100.0;

/// A visible time window `[start, end)` in nanoseconds since the trace start, clamped to
/// the trace's bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeView {
    /// The first visible nanosecond.
    pub start: f64,
    /// The end of the visible window.
    pub end: f64,
    /// The length of the trace; the view never leaves `[0, bound]` unless the trace is
    /// shorter than [`MIN_SPAN_NS`].
    pub bound: f64,
}

impl TimeView {
    /// A view showing all of a trace `duration_ns` long.
    pub fn fit(duration_ns: f64) -> Self {
        let bound = duration_ns.max(0.0);
        Self {
            start: 0.0,
            end: bound.max(MIN_SPAN_NS),
            bound,
        }
    }

    /// The visible length in nanoseconds.
    pub fn span(&self) -> f64 {
        self.end - self.start
    }

    /// Nanoseconds per pixel when the axis is `width` pixels wide.
    pub fn ns_per_px(&self, width: f32) -> f64 {
        self.span() / f64::from(width.max(1.0))
    }

    /// The x of time `t` on an axis from `x0` to `x1`.
    pub fn x_of(&self, t: f64, x0: f32, x1: f32) -> f32 {
        let f = (t - self.start) / self.span();
        x0 + (f * f64::from(x1 - x0)) as f32
    }

    /// The x of time `t` without converting to `f32` (for culling far-away spans).
    pub fn x_of_f64(&self, t: f64, x0: f32, x1: f32) -> f64 {
        f64::from(x0) + (t - self.start) / self.span() * f64::from(x1 - x0)
    }

    /// The time at `x` on an axis from `x0` to `x1`.
    pub fn time_at(&self, x: f32, x0: f32, x1: f32) -> f64 {
        let w = f64::from((x1 - x0).max(1.0));
        self.start + f64::from(x - x0) / w * self.span()
    }

    /// Moves the view so that the content moves `dx` pixels right (the view moves left for
    /// a positive `dx`), on an axis `width` pixels wide.
    pub fn pan_px(&mut self, dx: f32, width: f32) {
        let dt = -f64::from(dx) * self.ns_per_px(width);
        self.start += dt;
        self.end += dt;
        self.clamp();
    }

    /// Zooms by `factor` (> 1 zooms in) keeping time `anchor` at the same x.
    pub fn zoom_at(&mut self, anchor: f64, factor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let span = (self.span() / factor).max(MIN_SPAN_NS);
        let f = if self.span() > 0.0 {
            ((anchor - self.start) / self.span()).clamp(0.0, 1.0)
        } else {
            0.5
        };
        self.start = anchor - f * span;
        self.end = self.start + span;
        self.clamp();
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the time under `x` in place.
    pub fn zoom_at_x(&mut self, x: f32, x0: f32, x1: f32, factor: f64) {
        let anchor = self.time_at(x, x0, x1);
        self.zoom_at(anchor, factor);
    }

    /// Shows `[from, to)`, widened by `margin` of its length on each side.
    pub fn show_range(&mut self, from: f64, to: f64, margin: f64) {
        let len = (to - from).max(MIN_SPAN_NS);
        self.start = from - len * margin;
        self.end = from + len * (1.0 + margin);
        self.clamp();
    }

    /// Moves the view (keeping its length) so that `t` is in the middle.
    pub fn center_on(&mut self, t: f64) {
        let half = self.span() / 2.0;
        self.start = t - half;
        self.end = t + half;
        self.clamp();
    }

    /// Shows the whole trace.
    pub fn reset(&mut self) {
        *self = Self::fit(self.bound);
    }

    /// Keeps the view inside the trace and at least [`MIN_SPAN_NS`] long.
    pub fn clamp(&mut self) {
        let bound = self.bound.max(MIN_SPAN_NS);
        let span = self.span().clamp(MIN_SPAN_NS, bound);
        if !(self.start.is_finite() && self.end.is_finite()) {
            *self = Self::fit(self.bound);
            return;
        }
        let mut start = self.start;
        if start < 0.0 {
            start = 0.0;
        }
        if start + span > bound {
            start = bound - span;
        }
        self.start = start;
        self.end = start + span;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn maps_time_to_pixels_and_back() {
        let v = TimeView::fit(1000.0);
        assert_eq!(v.x_of(0.0, 100.0, 1100.0), 100.0);
        assert_eq!(v.x_of(500.0, 100.0, 1100.0), 600.0);
        assert_eq!(v.time_at(600.0, 100.0, 1100.0), 500.0);
        assert_eq!(v.ns_per_px(1000.0), 1.0);
    }

    #[test]
    fn zoom_keeps_the_anchor_in_place() {
        let mut v = TimeView::fit(1_000_000.0);
        let x_before = v.x_of(250_000.0, 0.0, 1000.0);
        v.zoom_at_x(x_before, 0.0, 1000.0, 4.0);
        assert!(close(v.span(), 250_000.0));
        assert!((v.x_of(250_000.0, 0.0, 1000.0) - x_before).abs() < 1e-3);
        // Zooming out past the whole trace shows the whole trace.
        v.zoom_at(10.0, 0.001);
        assert_eq!((v.start, v.end), (0.0, 1_000_000.0));
    }

    #[test]
    fn zoom_stops_at_the_minimum_span() {
        let mut v = TimeView::fit(1e9);
        for _ in 0..100 {
            v.zoom_at(5e8, 10.0);
        }
        assert!(close(v.span(), MIN_SPAN_NS));
        assert!(v.start <= 5e8 && 5e8 <= v.end);
    }

    #[test]
    fn pan_is_clamped_to_the_trace() {
        let mut v = TimeView::fit(1000.0);
        v.zoom_at(0.0, 2.0);
        assert_eq!((v.start, v.end), (0.0, 500.0));
        // Content moves left: the view moves right by 100 px * 0.5 ns/px.
        v.pan_px(-100.0, 1000.0);
        assert_eq!((v.start, v.end), (50.0, 550.0));
        v.pan_px(-1e6, 1000.0);
        assert_eq!((v.start, v.end), (500.0, 1000.0));
        v.pan_px(1e6, 1000.0);
        assert_eq!((v.start, v.end), (0.0, 500.0));
    }

    #[test]
    fn show_range_and_center() {
        let mut v = TimeView::fit(10_000.0);
        v.show_range(4000.0, 5000.0, 0.1);
        assert!(close(v.start, 3900.0) && close(v.end, 5100.0));
        v.center_on(9900.0);
        assert!(close(v.end, 10_000.0) && close(v.span(), 1200.0));
        v.reset();
        assert_eq!((v.start, v.end), (0.0, 10_000.0));
    }

    #[test]
    fn tiny_and_empty_traces_do_not_break() {
        let mut v = TimeView::fit(0.0);
        assert_eq!(v.span(), MIN_SPAN_NS);
        v.pan_px(50.0, 100.0);
        v.zoom_at(0.0, 3.0);
        assert!(v.start.is_finite() && v.span() >= MIN_SPAN_NS);
        v.zoom_at(0.0, f64::NAN);
        assert!(v.start.is_finite());
    }
}

//! Metric plots: goroutines by state (stacked), live heap with the heap goal, GOMAXPROCS,
//! busy threads.
//!
//! A plot is sampled once per pixel column, each column taking the largest value that held
//! in it (spikes stay visible): from the points themselves when the view holds few, else
//! from the series' summary ([`SeriesMip`]), a few buckets per column.

use egui::{Mesh, Painter, Rect, Shape, Stroke, pos2};
use goroscope_trace::timeline::{Counts, Lane, Point, Record};

use crate::describe::format_bytes;
use crate::lod::SeriesMip;
use crate::model::TraceModel;
use crate::palette::{Palette, WaitKind};
use crate::time_view::TimeView;
use crate::timeline::Plot;

/// Samples `lane` once per pixel column over `width` columns from absolute time `t0`,
/// `npp` ns each; `weight` ranks records within a column (the heaviest wins).
pub fn sample<R: Record>(
    lane: &Lane<R>,
    mip: Option<&SeriesMip<R>>,
    t0: f64,
    npp: f64,
    width: usize,
    weight: impl Fn(&R) -> u64,
) -> Vec<Option<R>> {
    let mut out = vec![None; width];
    if lane.is_empty() || width == 0 {
        return out;
    }
    let t1 = t0 + npp * width as f64;
    let first = lane.index_at(t0 as i64).unwrap_or(0);
    let last = lane.index_at(t1 as i64).unwrap_or(0);
    let n = last.saturating_sub(first);
    // Read the points themselves when they are few, when there is no summary (the series
    // is short), or when zoomed into a burst finer than the summary and not too dense.
    let summary = mip.filter(|m| n > 8 * width && (npp >= m.finest_ns() / 4.0 || n > 32 * width));
    if let Some(mip) = summary {
        // The summary's peaks, a few buckets per column.
        mip.columns(t0, npp, &weight, &mut out);
        // Columns before the first point stay empty.
        if let Some(r0) = lane.get(0) {
            for (x, slot) in out.iter_mut().enumerate() {
                if t0 + (x as f64 + 1.0) * npp <= r0.time() as f64 {
                    *slot = None;
                }
            }
        }
    } else {
        // Every point counts, the heaviest per column.
        let mut it = lane.iter_from(first).peekable();
        while let Some(r) = it.next() {
            let rt = r.time() as f64;
            if rt >= t1 {
                break;
            }
            let next = it.peek().map_or(f64::INFINITY, |n| n.time() as f64);
            let a = ((rt - t0) / npp).floor().max(0.0) as usize;
            let b = (((next - t0) / npp).ceil().max(0.0) as usize).min(width);
            for slot in out.iter_mut().take(b.max(a + 1).min(width)).skip(a) {
                if slot.is_none_or(|o| weight(&r) >= weight(&o)) {
                    *slot = Some(r);
                }
            }
        }
    }
    out
}

/// Paints plot `which` in `rect`; `note` receives the scale text for the lane name.
pub fn paint_plot(
    model: &TraceModel,
    painter: &Painter,
    pal: &Palette,
    view: &TimeView,
    rect: Rect,
    which: Plot,
    note: &mut dyn FnMut(String),
) {
    let tl = model.timelines();
    let width = rect.width().ceil().max(1.0) as usize;
    let npp = view.ns_per_px(rect.width());
    let t0 = tl.start as f64 + view.start;
    let top = rect.top() + 3.0;
    let h = rect.bottom() - top;
    match which {
        Plot::Goroutines => {
            let cols = sample(
                &tl.metrics.counts,
                model.counts_mip.as_ref(),
                t0,
                npp,
                width,
                |c: &Counts| u64::from(c.running + c.runnable + c.syscall + c.waiting),
            );
            let max = cols
                .iter()
                .flatten()
                .map(|c| c.running + c.runnable + c.syscall + c.waiting)
                .max()
                .unwrap_or(0)
                .max(1);
            note(format!("max {max}"));
            let scale = h / max as f32;
            let colors = [
                pal.running(),
                pal.runnable(),
                pal.syscall(),
                pal.waiting(WaitKind::Other).gamma_multiply(0.6),
            ];
            let mut mesh = Mesh::default();
            let mut x = 0;
            while x < width {
                let Some(c) = cols[x] else {
                    x += 1;
                    continue;
                };
                let vals = [c.running, c.runnable, c.syscall, c.waiting];
                let mut y = x + 1;
                while y < width
                    && cols[y]
                        .is_some_and(|d| [d.running, d.runnable, d.syscall, d.waiting] == vals)
                {
                    y += 1;
                }
                let mut base = rect.bottom();
                for (v, color) in vals.into_iter().zip(colors) {
                    if v == 0 {
                        continue;
                    }
                    let hh = v as f32 * scale;
                    let r = Rect::from_min_max(
                        pos2(rect.left() + x as f32, base - hh),
                        pos2(rect.left() + y as f32, base),
                    );
                    mesh.add_colored_rect(r, color);
                    base -= hh;
                }
                x = y;
            }
            painter.add(Shape::mesh(mesh));
        }
        Plot::Heap => {
            let heap = sample(
                &tl.metrics.heap_alloc,
                model.heap_mip.as_ref(),
                t0,
                npp,
                width,
                |p: &Point| p.value,
            );
            let goal = sample(
                &tl.metrics.heap_goal,
                model.goal_mip.as_ref(),
                t0,
                npp,
                width,
                |p: &Point| p.value,
            );
            let max = peak(heap.iter().chain(&goal));
            note(format_bytes(max as f64));
            let scale = h / max as f32;
            let fill = pal.heap();
            let mut mesh = Mesh::default();
            let mut x = 0;
            while x < width {
                let Some(p) = heap[x] else {
                    x += 1;
                    continue;
                };
                let mut y = x + 1;
                while y < width && heap[y].is_some_and(|q| q.value == p.value) {
                    y += 1;
                }
                let hh = p.value as f32 * scale;
                mesh.add_colored_rect(
                    Rect::from_min_max(
                        pos2(rect.left() + x as f32, rect.bottom() - hh),
                        pos2(rect.left() + y as f32, rect.bottom()),
                    ),
                    fill,
                );
                x = y;
            }
            painter.add(Shape::mesh(mesh));
            step_line(painter, rect, &goal, scale, Stroke::new(1.5, pal.stw()));
        }
        Plot::Gomaxprocs => {
            let v = sample(&tl.metrics.gomaxprocs, None, t0, npp, width, |p: &Point| {
                p.value
            });
            let max = peak(&v);
            note(format!("{max}"));
            let scale = (h - 2.0) / max as f32;
            step_line(painter, rect, &v, scale, Stroke::new(1.5, pal.running()));
        }
        Plot::Threads => {
            let v: Vec<Option<Point>> = sample(
                &tl.metrics.counts,
                model.counts_mip.as_ref(),
                t0,
                npp,
                width,
                |c: &Counts| u64::from(c.threads),
            )
            .into_iter()
            .map(|c| {
                c.map(|c| Point {
                    time: c.time,
                    value: u64::from(c.threads),
                })
            })
            .collect();
            let max = peak(&v);
            note(format!("max {max}"));
            let scale = (h - 2.0) / max as f32;
            step_line(painter, rect, &v, scale, Stroke::new(1.5, pal.syscall()));
        }
    }
}

/// A step line through per-column values.
/// The largest value of a sampled series (at least 1, the top of its plot).
fn peak<'a>(cols: impl IntoIterator<Item = &'a Option<Point>>) -> u64 {
    cols.into_iter()
        .flatten()
        .map(|p| p.value)
        .max()
        .unwrap_or(0)
        .max(1)
}

fn step_line(painter: &Painter, rect: Rect, cols: &[Option<Point>], scale: f32, stroke: Stroke) {
    let mut pts = Vec::new();
    let mut last: Option<u64> = None;
    for (x, c) in cols.iter().enumerate() {
        let xx = rect.left() + x as f32;
        match (c, last) {
            (Some(p), Some(l)) if p.value == l => {}
            (Some(p), prev) => {
                let y = rect.bottom() - p.value as f32 * scale;
                if let Some(l) = prev {
                    pts.push(pos2(xx, rect.bottom() - l as f32 * scale));
                }
                pts.push(pos2(xx, y));
                last = Some(p.value);
            }
            (None, _) => {
                if pts.len() > 1 {
                    painter.add(Shape::line(std::mem::take(&mut pts), stroke));
                }
                pts.clear();
                last = None;
            }
        }
    }
    if let Some(l) = last {
        pts.push(pos2(rect.right(), rect.bottom() - l as f32 * scale));
    }
    if pts.len() > 1 {
        painter.add(Shape::line(pts, stroke));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_points_keep_their_peaks() {
        let mut lane = Lane::default();
        for (t, v) in [(0, 1), (10, 50), (12, 2), (100, 3)] {
            lane.push(Point { time: t, value: v });
        }
        // 10 columns of 20 ns: the spike at 10..12 lands in column 0.
        let cols = sample(&lane, None, 0.0, 20.0, 10, |p: &Point| p.value);
        assert_eq!(cols[0].map(|p| p.value), Some(50));
        assert_eq!(cols[1].map(|p| p.value), Some(2));
        assert_eq!(cols[5].map(|p| p.value), Some(3));
        assert_eq!(cols[9].map(|p| p.value), Some(3));
    }
}

//! A critical path shown on the timeline: its segments outlined on their goroutines' lanes
//! and an arrow at each hop from one goroutine to the next (releaser → waiter, creator →
//! created). Built once when computed; drawing looks segments up per visible lane.

use std::collections::HashMap;

use egui::Color32;
use goroscope_analysis::critical::{Category, CriticalPath, Link, PathFinder, Target};
use goroscope_trace::timeline::Timelines;

use crate::model::TraceModel;
use crate::palette::Palette;
use crate::timeline::Item;

/// A jump of the path from one goroutine to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// The goroutine the path leaves (index).
    pub from: usize,
    /// The goroutine it goes on with (index).
    pub to: usize,
    /// When.
    pub time: i64,
    /// Why: [`Link::Released`] and [`Link::Created`] point from the releaser or creator to
    /// the goroutine it let run; [`Link::Blocked`] from a goroutine that blocked to the one
    /// the path follows meanwhile.
    pub link: Link,
}

/// A critical path prepared for drawing.
#[derive(Debug, Clone)]
pub struct PathHighlight {
    /// What it is the path of, in words.
    pub title: String,
    /// The path.
    pub path: CriticalPath,
    /// The goroutine (index) of each segment.
    seg_g: Vec<Option<usize>>,
    /// Segment indexes per goroutine index, in time order.
    by_g: HashMap<usize, Vec<u32>>,
    /// The hops between goroutines, in time order.
    pub hops: Vec<Hop>,
}

impl PathHighlight {
    /// Computes the critical path of `target`.
    pub fn compute(model: &TraceModel, target: Target, title: String) -> Option<Self> {
        Self::compute_in(model.timelines(), target, title)
    }

    /// Computes the critical path of `target` in `tl` (on any thread: on a large trace a
    /// path through the whole trace takes seconds).
    pub fn compute_in(tl: &Timelines, target: Target, title: String) -> Option<Self> {
        let path = PathFinder::new(tl).path(target)?;
        let seg_g: Vec<Option<usize>> = path
            .segments
            .iter()
            .map(|s| tl.goroutine_index(s.g))
            .collect();
        let mut by_g: HashMap<usize, Vec<u32>> = HashMap::new();
        for (i, g) in seg_g.iter().enumerate() {
            if let Some(g) = g {
                by_g.entry(*g).or_default().push(i as u32);
            }
        }
        let mut hops = Vec::new();
        for (i, pair) in path.segments.windows(2).enumerate() {
            let (Some(a), Some(b)) = (seg_g[i], seg_g[i + 1]) else {
                continue;
            };
            if a != b {
                hops.push(Hop {
                    from: a,
                    to: b,
                    time: pair[0].end,
                    link: pair[0].next,
                });
            }
        }
        Some(Self {
            title,
            path,
            seg_g,
            by_g,
            hops,
        })
    }

    /// The segments (indexes into `path.segments`) on goroutine `g` (index).
    pub fn segments_of(&self, g: usize) -> &[u32] {
        self.by_g.get(&g).map_or(&[], Vec::as_slice)
    }

    /// The goroutines (indexes) the path runs through.
    pub fn goroutines(&self) -> impl Iterator<Item = usize> + '_ {
        self.by_g.keys().copied()
    }

    /// The item to select for segment `i`: the goroutine's span where the segment starts.
    pub fn segment_item(&self, tl: &Timelines, i: usize) -> Option<Item> {
        let g = (*self.seg_g.get(i)?)?;
        let s = self.path.segments.get(i)?;
        let span = tl.goroutines.get(g)?.spans.index_at(s.start)?;
        Some(Item::Go { g, span })
    }
}

/// The colour of a path category.
pub fn category_color(pal: &Palette, c: Category) -> Color32 {
    match c {
        Category::Running => pal.running(),
        Category::GcAssist => pal.gc(),
        Category::SchedLatency => pal.runnable(),
        Category::Syscall => pal.syscall(),
        Category::Stw => pal.stw(),
        Category::RuntimeWait => Color32::from_rgb(120, 150, 200),
        Category::Blocked => Color32::from_rgb(200, 90, 90),
        Category::Unknown => pal.undetermined(),
    }
}

/// The outline colour of critical-path segments.
pub const PATH_COLOR: Color32 = Color32::from_rgb(0, 215, 255);

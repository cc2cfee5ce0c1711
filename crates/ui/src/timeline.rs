//! The timeline widget: metric plots, GC and STW lanes, one lane per P and per thread, and
//! goroutine lanes grouped by start function, under a time ruler.
//!
//! Drawing costs O(visible pixels): rows outside the viewport are skipped by arithmetic
//! (rows of one kind have one height, so a group of a million goroutines costs nothing
//! until scrolled to); in a visible lane only the spans overlapping the view are decoded
//! (`Lane::iter_range`), spans narrower than [`MERGE_PX`] are merged into blocks whose
//! colour is their dominant state and whose height is how busy they were, and lanes with
//! more spans in view than pixels are drawn from their level-of-detail summary
//! ([`crate::lod`]). Text and accessible span widgets are only made for wide spans.

use std::collections::HashSet;

use egui::{
    Align2, Color32, CornerRadius, FontId, Id, Key, Mesh, Painter, Pos2, Rect, Response, Role,
    Sense, Stroke, StrokeKind, Ui, Vec2, WidgetInfo, pos2, vec2,
};
use goroscope_analysis::critical::Target;
use goroscope_trace::event::GoState;
use goroscope_trace::timeline::{GoSpan, Lane, ProcActivity, ProcSpan, Record, ThreadSpan};

use crate::describe;
use crate::lod::{Column, Mip};
use crate::model::{SamplesOf, TraceModel, go_cat, go_category, proc_cat, thread_cat};
use crate::palette::{Palette, WaitKind};
use crate::panels::job::Job;
use crate::path::{PATH_COLOR, PathHighlight, category_color};
use crate::ruler::{self, Clock, format_duration};
use crate::time_view::TimeView;

/// Critical paths expand the goroutine groups they run through up to this size.
pub const PATH_EXPAND_MAX: usize = 500;
/// Spans narrower than this (points) are merged into blocks.
pub const MERGE_PX: f32 = 3.0;
/// Spans at least this wide get an accessible widget (clickable by label in tests).
pub const WIDGET_PX: f32 = 8.0;
/// Spans at least this wide get a text label.
pub const LABEL_PX: f32 = 36.0;
/// The width of the lane-name column.
pub const GUTTER_W: f32 = 190.0;
/// The height of the time ruler.
pub const RULER_H: f32 = 24.0;
/// The width of the vertical scroll bar.
pub const SCROLLBAR_W: f32 = 10.0;

const SECTION_H: f32 = 22.0;
const GROUP_H: f32 = 20.0;
const PROC_H: f32 = 22.0;
const THREAD_H: f32 = 16.0;
const GO_H: f32 = 16.0;
const GC_H: f32 = 16.0;
const PLOT_H: f32 = 56.0;
const TASK_H: f32 = 16.0;
/// The height of one nesting level of a region lane.
const REGION_LEVEL_H: f32 = 14.0;
const SMALL_PLOT_H: f32 = 28.0;

/// A collapsible section of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Metric plots, GC and STW lanes.
    Runtime,
    /// One lane per P.
    Procs,
    /// One lane per thread (M).
    Threads,
    /// User tasks, then a lane of regions per goroutine that has any.
    Tasks,
    /// Goroutine groups.
    Goroutines,
}

impl Section {
    /// The section's title (also its accessible name).
    pub fn title(self) -> &'static str {
        match self {
            Self::Runtime => "Runtime",
            Self::Procs => "Procs",
            Self::Threads => "Threads",
            Self::Tasks => "Tasks & regions",
            Self::Goroutines => "Goroutines",
        }
    }
}

/// A metric plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plot {
    /// Goroutines by state, stacked.
    Goroutines,
    /// Live heap and heap goal.
    Heap,
    /// GOMAXPROCS.
    Gomaxprocs,
    /// Threads holding a P or running a goroutine.
    Threads,
}

/// A collapsible header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// A section.
    Section(Section),
    /// A goroutine group (index into [`TraceModel::groups`]).
    Group(usize),
}

/// One row of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// A section header.
    Section(Section),
    /// A metric plot.
    Plot(Plot),
    /// GC mark phases.
    Gc,
    /// Stop-the-world pauses.
    Stw,
    /// A P (index into `Timelines::procs`).
    Proc(usize),
    /// A thread (index into `Timelines::threads`).
    Thread(usize),
    /// A lane of user tasks (index into [`TraceModel::task_lanes`]).
    Task(usize),
    /// The regions of a goroutine (index into `Timelines::goroutines`).
    Regions(usize),
    /// A goroutine group header.
    Group(usize),
    /// A goroutine (index into `Timelines::goroutines`).
    Goroutine(usize),
}

/// A lane that holds spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LaneRef {
    /// A goroutine lane.
    Go(usize),
    /// A P lane.
    Proc(usize),
    /// A thread lane.
    Thread(usize),
    /// The GC lane.
    Gc,
    /// The STW lane.
    Stw,
}

/// Something under the pointer or selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    /// Span `span` of goroutine `g` (indexes).
    Go {
        /// Goroutine index.
        g: usize,
        /// Span index in its lane.
        span: usize,
    },
    /// Span `span` of P `p` (indexes).
    Proc {
        /// P index.
        p: usize,
        /// Span index in its lane.
        span: usize,
    },
    /// Span `span` of thread `m` (indexes).
    Thread {
        /// Thread index.
        m: usize,
        /// Span index in its lane.
        span: usize,
    },
    /// A GC mark phase (index into `Timelines::gc`).
    Gc(usize),
    /// A stop-the-world pause (index into `Timelines::stw`).
    Stw(usize),
    /// A goroutine as a whole (its lane name was clicked).
    Goroutine(usize),
    /// A user task (index into `Timelines::tasks`).
    Task(usize),
    /// A user region.
    Region {
        /// The goroutine (index).
        g: usize,
        /// The region's index in the goroutine's regions.
        index: usize,
    },
    /// Spans too narrow to tell apart, merged into one block.
    Merged {
        /// The lane.
        lane: LaneRef,
        /// Absolute start time.
        from: i64,
        /// Absolute end time.
        to: i64,
        /// How many spans start in it.
        count: usize,
    },
}

impl Item {
    /// The goroutine (index) the item is about, if any.
    pub fn goroutine(&self, model: &TraceModel) -> Option<usize> {
        match *self {
            Self::Go { g, .. } | Self::Goroutine(g) | Self::Region { g, .. } => Some(g),
            Self::Proc { p, span } => {
                let s = model.timelines().procs.get(p)?.spans.get(span)?;
                (s.g >= 0).then(|| model.goroutine_index(s.g)).flatten()
            }
            _ => None,
        }
    }
}

/// The timeline's view state: what is visible, collapsed, hovered and selected.
#[derive(Debug)]
pub struct TimelineState {
    /// The visible time window (relative to the trace start).
    pub view: TimeView,
    /// Vertical scroll offset of the lanes, in points.
    pub scroll_y: f64,
    /// Headers whose collapsed state is not the default.
    toggled: HashSet<Header>,
    /// The selected item.
    pub selected: Option<Item>,
    /// The item under the pointer in the last frame.
    pub hovered: Option<Item>,
    /// Label the ruler with wall-clock time (when the trace has clock snapshots).
    pub wall_clock: bool,
    /// A row to scroll into view in the next frame.
    reveal: Option<Row>,
    /// The height of the lanes' viewport in the last frame.
    viewport_h: f32,
    /// The selected time range (absolute times), if any.
    pub range: Option<(i64, i64)>,
    /// Where a range selection being dragged began (absolute time).
    range_anchor: Option<i64>,
    /// The critical path shown over the lanes, if any.
    pub path: Option<PathHighlight>,
    /// A critical path being computed (on its own thread), and what it is the path of.
    pub path_job: Option<(Job<Option<PathHighlight>>, String)>,
}

impl TimelineState {
    /// The initial state for `model`: whole trace, default sections.
    pub fn new(model: &TraceModel) -> Self {
        Self {
            view: TimeView::fit(model.duration() as f64),
            scroll_y: 0.0,
            toggled: HashSet::new(),
            selected: None,
            hovered: None,
            wall_clock: !model.timelines().clock.is_empty(),
            reveal: None,
            viewport_h: 600.0,
            range: None,
            range_anchor: None,
            path: None,
            path_job: None,
        }
    }

    fn default_collapsed(model: &TraceModel, h: Header) -> bool {
        match h {
            Header::Section(Section::Threads) => model.timelines().threads.len() > 24,
            Header::Section(_) => false,
            Header::Group(g) => model.groups.get(g).is_none_or(|g| g.goroutines.len() > 8),
        }
    }

    /// Whether header `h` is collapsed.
    pub fn is_collapsed(&self, model: &TraceModel, h: Header) -> bool {
        Self::default_collapsed(model, h) != self.toggled.contains(&h)
    }

    /// Collapses or expands header `h`.
    pub fn toggle(&mut self, h: Header) {
        if !self.toggled.remove(&h) {
            self.toggled.insert(h);
        }
    }

    fn set_collapsed(&mut self, model: &TraceModel, h: Header, collapsed: bool) {
        if self.is_collapsed(model, h) != collapsed {
            self.toggle(h);
        }
    }

    /// Selects `item`, makes its lane visible (expanding its group) and centres the view on
    /// it, zooming in if it would be narrower than a few pixels.
    pub fn jump_to(&mut self, model: &TraceModel, item: Item) {
        self.selected = Some(item);
        let Some((row, from, to)) = item_extent(model, &item) else {
            return;
        };
        if let Row::Goroutine(g) = row {
            self.set_collapsed(model, Header::Section(Section::Goroutines), false);
            if let Some(gr) = model.group_of(g) {
                self.set_collapsed(model, Header::Group(gr), false);
            }
        }
        if let Row::Thread(_) = row {
            self.set_collapsed(model, Header::Section(Section::Threads), false);
        }
        if let Row::Task(_) | Row::Regions(_) = row {
            self.set_collapsed(model, Header::Section(Section::Tasks), false);
        }
        let start = model.timelines().start;
        let (a, b) = ((from - start) as f64, (to - start) as f64);
        if (b - a) < self.view.span() / 200.0 {
            self.view
                .show_range(a, b.max(a + self.view.span() / 200.0), 2.0);
        } else {
            self.view.center_on((a + b) / 2.0);
        }
        self.reveal = Some(row);
    }

    /// Scrolls so that `row` is visible in the next frame.
    pub fn reveal(&mut self, row: Row) {
        self.reveal = Some(row);
    }

    /// Expands goroutine group `g` (and the Goroutines section) and scrolls to it.
    pub fn reveal_group(&mut self, model: &TraceModel, g: usize) {
        self.set_collapsed(model, Header::Section(Section::Goroutines), false);
        self.set_collapsed(model, Header::Group(g), false);
        self.reveal = Some(Row::Group(g));
    }

    /// Shows critical path `path`: expands the goroutine groups it runs through (groups of up
    /// to [`PATH_EXPAND_MAX`] goroutines; larger ones stay as they are) and fits the view to
    /// it.
    pub fn show_path(&mut self, model: &TraceModel, path: PathHighlight) {
        let mut groups: Vec<usize> = path
            .goroutines()
            .filter_map(|g| model.group_of(g))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        for gi in groups {
            if model
                .groups
                .get(gi)
                .is_some_and(|g| g.goroutines.len() <= PATH_EXPAND_MAX)
            {
                self.set_collapsed(model, Header::Section(Section::Goroutines), false);
                self.set_collapsed(model, Header::Group(gi), false);
            }
        }
        let t0 = model.timelines().start;
        let (a, b) = (path.path.start - t0, path.path.end - t0);
        self.view.show_range(a as f64, b.max(a + 1) as f64, 0.1);
        self.path = Some(path);
    }

    /// Starts computing the critical path of `target` on its own thread; it is shown once
    /// ready ([`TimelineState::poll_path`]). A path being computed is dropped.
    pub fn find_path(
        &mut self,
        model: &TraceModel,
        ctx: Option<egui::Context>,
        target: Target,
        title: String,
    ) {
        let trace = model.trace.clone();
        let what = title.clone();
        let job = Job::spawn("critical path", ctx, move || {
            PathHighlight::compute_in(&trace.timelines, target, title)
        });
        self.path_job = Some((job, what));
    }

    /// Shows the critical path being computed once it is ready; returns whether one is still
    /// being computed.
    pub fn poll_path(&mut self, model: &TraceModel) -> bool {
        let Some((job, _)) = &mut self.path_job else {
            return false;
        };
        if job.poll().is_none() && !job.failed() {
            return true;
        }
        let found = self
            .path_job
            .take()
            .and_then(|(mut j, _)| j.poll().cloned().flatten());
        match found {
            Some(p) => self.show_path(model, p),
            None => self.path = None,
        }
        false
    }

    /// Waits for the critical path being computed, then shows it (for tests and scripts).
    pub fn wait_path(&mut self, model: &TraceModel) {
        if let Some((job, _)) = &mut self.path_job {
            job.wait();
        }
        self.poll_path(model);
    }

    /// Whether a range selection is being dragged.
    pub fn is_selecting_range(&self) -> bool {
        self.range_anchor.is_some()
    }

    /// Shows the selected range, if any.
    pub fn zoom_to_range(&mut self, model: &TraceModel) {
        if let Some((a, b)) = self.range {
            let t0 = model.timelines().start;
            self.view.show_range((a - t0) as f64, (b - t0) as f64, 0.0);
        }
    }

    /// Drags a range selection to absolute time `t` (starting one at `t` if none is being
    /// dragged); `done` ends the drag.
    pub fn drag_range(&mut self, t: i64, done: bool) {
        let anchor = *self.range_anchor.get_or_insert(t);
        self.range = Some((anchor.min(t), anchor.max(t)));
        if done {
            self.range_anchor = None;
            if self.range.is_some_and(|(a, b)| a == b) {
                self.range = None;
            }
        }
    }
}

/// The row, start and end (absolute times) of an item.
pub fn item_extent(model: &TraceModel, item: &Item) -> Option<(Row, i64, i64)> {
    let tl = model.timelines();
    Some(match *item {
        Item::Go { g, span } => {
            let lane = &tl.goroutines.get(g)?.spans;
            (
                Row::Goroutine(g),
                lane.get(span)?.time,
                model.span_end(lane, span),
            )
        }
        Item::Proc { p, span } => {
            let lane = &tl.procs.get(p)?.spans;
            (
                Row::Proc(p),
                lane.get(span)?.time,
                model.span_end(lane, span),
            )
        }
        Item::Thread { m, span } => {
            let lane = &tl.threads.get(m)?.spans;
            (
                Row::Thread(m),
                lane.get(span)?.time,
                model.span_end(lane, span),
            )
        }
        Item::Gc(i) => {
            let (a, b) = tl.gc.get(i)?.clamped(tl.start, tl.end);
            (Row::Gc, a, b)
        }
        Item::Stw(i) => {
            let (a, b) = tl.stw.get(i)?.interval.clamped(tl.start, tl.end);
            (Row::Stw, a, b)
        }
        Item::Goroutine(g) => {
            let go = tl.goroutines.get(g)?;
            (
                Row::Goroutine(g),
                go.created.unwrap_or(tl.start),
                go.ended.unwrap_or(tl.end),
            )
        }
        Item::Task(i) => {
            let (a, b) = crate::model::task_interval(tl, tl.tasks.get(i)?);
            (Row::Task(model.task_lane(i)?), a, b)
        }
        Item::Region { g, index } => {
            let (a, b) = tl
                .goroutines
                .get(g)?
                .regions
                .get(index)?
                .interval
                .clamped(tl.start, tl.end);
            (Row::Regions(g), a, b)
        }
        Item::Merged { lane, from, to, .. } => {
            let row = match lane {
                LaneRef::Go(g) => Row::Goroutine(g),
                LaneRef::Proc(p) => Row::Proc(p),
                LaneRef::Thread(m) => Row::Thread(m),
                LaneRef::Gc => Row::Gc,
                LaneRef::Stw => Row::Stw,
            };
            (row, from, to)
        }
    })
}

/// A run of rows of one height.
#[derive(Debug, Clone, Copy)]
enum Block {
    One(Row, f32),
    Procs(usize),
    Threads(usize),
    Tasks(usize),
    Regions(usize, f32),
    Members(usize, usize),
}

impl Block {
    fn len_and_height(&self) -> (usize, f32) {
        match *self {
            Self::One(_, h) => (1, h),
            Self::Procs(n) => (n, PROC_H),
            Self::Threads(n) => (n, THREAD_H),
            Self::Tasks(n) => (n, TASK_H),
            Self::Regions(n, h) => (n, h),
            Self::Members(_, n) => (n, GO_H),
        }
    }

    fn row(&self, model: &TraceModel, i: usize) -> Row {
        match *self {
            Self::One(r, _) => r,
            Self::Procs(_) => Row::Proc(i),
            Self::Threads(_) => Row::Thread(i),
            Self::Tasks(_) => Row::Task(i),
            Self::Regions(..) => {
                Row::Regions(model.region_goroutines.get(i).map_or(0, |&g| g as usize))
            }
            Self::Members(g, _) => Row::Goroutine(
                model
                    .groups
                    .get(g)
                    .and_then(|gr| gr.goroutines.get(i))
                    .map_or(0, |&x| x as usize),
            ),
        }
    }
}

fn blocks(model: &TraceModel, state: &TimelineState) -> Vec<Block> {
    let tl = model.timelines();
    let mut out = Vec::with_capacity(16 + 2 * model.groups.len());
    let section = |out: &mut Vec<Block>, s: Section| {
        out.push(Block::One(Row::Section(s), SECTION_H));
        !state.is_collapsed(model, Header::Section(s))
    };
    if section(&mut out, Section::Runtime) {
        out.push(Block::One(Row::Plot(Plot::Goroutines), PLOT_H));
        out.push(Block::One(Row::Plot(Plot::Heap), PLOT_H));
        out.push(Block::One(Row::Plot(Plot::Gomaxprocs), SMALL_PLOT_H));
        out.push(Block::One(Row::Plot(Plot::Threads), SMALL_PLOT_H));
        out.push(Block::One(Row::Gc, GC_H));
        out.push(Block::One(Row::Stw, GC_H));
    }
    if section(&mut out, Section::Procs) {
        out.push(Block::Procs(tl.procs.len()));
    }
    if section(&mut out, Section::Threads) {
        out.push(Block::Threads(tl.threads.len()));
    }
    if (!model.task_lanes.is_empty() || !model.region_goroutines.is_empty())
        && section(&mut out, Section::Tasks)
    {
        out.push(Block::Tasks(model.task_lanes.len()));
        out.push(Block::Regions(
            model.region_goroutines.len(),
            REGION_LEVEL_H * f32::from(model.region_levels),
        ));
    }
    if section(&mut out, Section::Goroutines) {
        for (gi, g) in model.groups.iter().enumerate() {
            out.push(Block::One(Row::Group(gi), GROUP_H));
            if !state.is_collapsed(model, Header::Group(gi)) {
                out.push(Block::Members(gi, g.goroutines.len()));
            }
        }
    }
    out
}

fn total_height(blocks: &[Block]) -> f64 {
    blocks
        .iter()
        .map(|b| {
            let (n, h) = b.len_and_height();
            n as f64 * f64::from(h)
        })
        .sum()
}

/// The top (content coordinates) and height of `row`, if it is shown.
fn row_top(model: &TraceModel, blocks: &[Block], row: Row) -> Option<(f64, f32)> {
    let mut y = 0.0;
    for b in blocks {
        let (n, h) = b.len_and_height();
        let found = match (*b, row) {
            (Block::One(r, _), _) if r == row => Some(0),
            (Block::Procs(_), Row::Proc(p)) if p < n => Some(p),
            (Block::Threads(_), Row::Thread(m)) if m < n => Some(m),
            (Block::Tasks(_), Row::Task(l)) if l < n => Some(l),
            (Block::Regions(..), Row::Regions(g)) => model.region_row(g),
            (Block::Members(gi, _), Row::Goroutine(g)) if model.group_of(g) == Some(gi) => model
                .groups
                .get(gi)
                .and_then(|gr| gr.goroutines.binary_search(&(g as u32)).ok()),
            _ => None,
        };
        if let Some(i) = found {
            return Some((y + i as f64 * f64::from(h), h));
        }
        y += n as f64 * f64::from(h);
    }
    None
}

/// The rows intersecting `[top, top + height)` (content coordinates), with their tops.
fn visible_rows(
    model: &TraceModel,
    blocks: &[Block],
    top: f64,
    height: f64,
) -> Vec<(Row, f64, f32)> {
    let mut out = Vec::new();
    let mut y = 0.0;
    let bottom = top + height;
    for b in blocks {
        let (n, h) = b.len_and_height();
        let hh = f64::from(h);
        let block_end = y + n as f64 * hh;
        if block_end > top && y < bottom {
            let first = ((top - y) / hh).floor().max(0.0) as usize;
            let last = (((bottom - y) / hh).ceil().max(0.0) as usize).min(n);
            for i in first..last {
                out.push((b.row(model, i), y + i as f64 * hh, h));
            }
        }
        y = block_end;
        if y >= bottom {
            break;
        }
    }
    out
}

/// Per-frame painting context.
struct Frame<'a> {
    model: &'a TraceModel,
    pal: Palette,
    painter: Painter,
    view: TimeView,
    /// The absolute trace time of relative 0.
    t_start: i64,
    /// `x = x_off + (t - t_start) * x_scale`.
    x_off: f64,
    x_scale: f64,
    x0: f32,
    x1: f32,
    font: FontId,
    /// Clicked span widgets, collected while painting.
    clicked: Option<Item>,
    double_clicked: Option<Item>,
    scope: Id,
    cols: Vec<Column>,
    /// Per-column classification scratch of summary drawing.
    class: Vec<(Option<u8>, u8, Color32)>,
    /// The current row's span rectangles, painted as one mesh (cheap to tessellate).
    mesh: Mesh,
    /// The current row's span labels, painted over the mesh.
    texts: Vec<(Pos2, String, Color32)>,
}

impl Frame<'_> {
    /// Fills a span's rectangle; wide spans keep a hairline gap to the next one.
    fn fill(&mut self, r: Rect, color: Color32) {
        let r = if r.width() > 4.0 {
            Rect::from_min_max(r.min, pos2(r.max.x - 1.0, r.max.y))
        } else {
            r
        };
        self.mesh.add_colored_rect(r, color);
    }

    fn text(&mut self, pos: Pos2, text: String, color: Color32) {
        self.texts.push((pos, text, color));
    }

    /// Paints the row's mesh, then its labels.
    fn flush_row(&mut self) {
        if !self.mesh.is_empty() {
            self.painter
                .add(egui::Shape::mesh(std::mem::take(&mut self.mesh)));
        }
        for (pos, text, color) in self.texts.drain(..) {
            self.painter
                .text(pos, Align2::LEFT_CENTER, text, self.font.clone(), color);
        }
    }

    fn x(&self, t: i64) -> f32 {
        let x = self.x_off + (t - self.t_start) as f64 * self.x_scale;
        x.clamp(f64::from(self.x0) - 10.0, f64::from(self.x1) + 10.0) as f32
    }

    fn abs_range(&self) -> (i64, i64) {
        (
            self.t_start + self.view.start.floor() as i64,
            self.t_start + self.view.end.ceil() as i64,
        )
    }

    fn ns_per_px(&self) -> f64 {
        self.view.ns_per_px(self.x1 - self.x0)
    }
}

/// How a span looks: its fill colour and summary category (`None`: not drawn).
#[derive(Clone, Copy)]
struct Look {
    color: Color32,
}

/// A block of merged narrow spans being accumulated.
#[derive(Default)]
struct Pending {
    x0: f32,
    x1: f32,
    count: usize,
    from: i64,
    to: i64,
    busy: i64,
    colors: [(Color32, i64); 4],
}

impl Pending {
    fn add(&mut self, x0: f32, x1: f32, from: i64, to: i64, look: Option<Look>) {
        if self.count == 0 {
            self.x0 = x0;
            self.from = from;
        }
        self.x1 = x1.max(self.x0);
        self.to = to;
        self.count += 1;
        let d = to - from;
        if let Some(l) = look {
            self.busy += d;
            if let Some(slot) = self.colors.iter_mut().find(|c| c.0 == l.color) {
                slot.1 += d;
            } else if let Some(slot) = self.colors.iter_mut().min_by_key(|c| c.1)
                && slot.1 <= d
            {
                *slot = (l.color, d);
            }
        }
    }

    fn width(&self) -> f32 {
        self.x1 - self.x0
    }
}

/// Paints a block of merged spans: dominant colour, height by how busy it was.
fn paint_merged(mesh: &mut Mesh, rect: Rect, x0: f32, x1: f32, busy: f32, color: Color32) {
    if busy <= 0.0 {
        return;
    }
    let h = rect.height() * (0.3 + 0.7 * busy.clamp(0.0, 1.0));
    let r = Rect::from_min_max(
        pos2(x0, rect.bottom() - h),
        pos2(x1.max(x0 + 1.0), rect.bottom()),
    );
    mesh.add_colored_rect(r, color);
}

/// Draws a lane of spans. `look` says how a span looks, `label` gives a wide span's text and
/// accessible name, `col_color` colours a summary column from its category and key.
#[allow(clippy::too_many_arguments)]
fn paint_span_lane<R: Record>(
    ui: &Ui,
    f: &mut Frame<'_>,
    rect: Rect,
    lane: &Lane<R>,
    mip: Option<&Mip>,
    lane_ref: LaneRef,
    look: &dyn Fn(&R) -> Option<Look>,
    label: &dyn Fn(&R, i64) -> (String, String),
    col_color: &dyn Fn(u8, u32) -> Color32,
    item: &dyn Fn(usize) -> Item,
) {
    let (t0, t1) = f.abs_range();
    let end = f.model.timelines().end;
    let width = (f.x1 - f.x0).max(1.0);
    let first = lane.index_at(t0).unwrap_or(0);
    // Summary mode: many more spans in view than pixels, and buckets finer than a pixel.
    if let Some(mip) = mip {
        let last = lane.index_at(t1).unwrap_or(0);
        let npp = f.ns_per_px();
        // Summaries once spans average under two pixels: decoding and merging them would
        // cost more than reading a few buckets per column.
        let in_view = (last.saturating_sub(first)) as f32;
        // A burst far denser than the lane's average can be finer than its summary: past
        // four spans per pixel it is still drawn from the summary (coarser, bounded cost).
        if in_view > width / 2.0 && (npp >= mip.finest_ns() / 4.0 || in_view > 4.0 * width) {
            paint_from_mip(
                ui, f, rect, lane, mip, lane_ref, look, label, col_color, item,
            );
            return;
        }
    }
    let mut pending = Pending::default();
    let mut it = lane.iter_from(first).enumerate().peekable();
    while let Some((k, r)) = it.next() {
        if r.time() >= t1 {
            break;
        }
        let e = it.peek().map_or(end, |(_, n)| n.time());
        let (xa, xb) = (f.x(r.time()), f.x(e));
        let lk = look(&r);
        if xb - xa < MERGE_PX {
            if pending.count > 0 && xa - pending.x1 > 1.0 {
                flush(f, rect, &mut pending);
            }
            pending.add(xa, xb, r.time(), e, lk);
            if pending.width() >= MERGE_PX {
                flush(f, rect, &mut pending);
            }
            continue;
        }
        flush(f, rect, &mut pending);
        let Some(lk) = lk else { continue };
        let sr = Rect::from_min_max(pos2(xa, rect.top() + 1.0), pos2(xb, rect.bottom() - 1.0));
        f.fill(sr, lk.color);
        if xb - xa >= WIDGET_PX {
            let (text, name) = label(&r, e);
            let vis = sr.intersect(rect);
            if xb - xa >= LABEL_PX
                && let Some(t) = describe::fit_text(&text, vis.width())
            {
                f.text(
                    pos2(vis.left() + 3.0, sr.center().y),
                    t,
                    Palette::text_on(lk.color),
                );
            }
            span_widget(ui, f, vis, item(first + k), &name);
        }
    }
    flush(f, rect, &mut pending);
}

fn flush(f: &mut Frame<'_>, rect: Rect, p: &mut Pending) {
    if p.count > 0 {
        let total = (p.to - p.from).max(1);
        let busy = p.busy as f32 / total as f32;
        if let Some(c) = p.colors.iter().filter(|c| c.1 > 0).max_by_key(|c| c.1) {
            paint_merged(&mut f.mesh, rect, p.x0, p.x1, busy, c.0);
        }
    }
    *p = Pending::default();
}

fn span_widget(ui: &Ui, f: &mut Frame<'_>, rect: Rect, item: Item, name: &str) {
    let id = f.scope.with(("span", item));
    let resp = ui.interact(rect, id, Sense::click());
    resp.widget_info(|| WidgetInfo::labeled(Role::Button, true, name));
    if resp.double_clicked() {
        f.double_clicked = Some(item);
    } else if resp.clicked() {
        f.clicked = Some(item);
    }
}

#[allow(clippy::too_many_arguments)]
fn paint_from_mip<R: Record>(
    ui: &Ui,
    f: &mut Frame<'_>,
    rect: Rect,
    lane: &Lane<R>,
    mip: &Mip,
    _lane_ref: LaneRef,
    look: &dyn Fn(&R) -> Option<Look>,
    label: &dyn Fn(&R, i64) -> (String, String),
    col_color: &dyn Fn(u8, u32) -> Color32,
    item: &dyn Fn(usize) -> Item,
) {
    let npp = f.ns_per_px();
    let width = (f.x1 - f.x0).ceil().max(1.0) as usize;
    let t0 = f.t_start as f64 + f.view.start;
    let mut cols = std::mem::take(&mut f.cols);
    mip.columns(t0, npp, width, &mut cols);
    // Classify every column once (category, height step, colour), then merge equal runs.
    let mut class = std::mem::take(&mut f.class);
    class.clear();
    let mut memo: (Option<u8>, u32, Color32) = (None, 0, Color32::TRANSPARENT);
    class.extend(cols.iter().map(|c| {
        if (c.dom, c.key) != (memo.0, memo.1) {
            let color = c.dom.map_or(Color32::TRANSPARENT, |d| col_color(d, c.key));
            memo = (c.dom, c.key, color);
        }
        (c.dom, c.busy8, memo.2)
    }));
    let mut x = 0;
    while x < cols.len() {
        let c = cols[x];
        let (dom, busy8, color) = class[x];
        let busy_q = f32::from(busy8);
        let mut y = x + 1;
        let mut count = c.count;
        while y < cols.len() && class[y] == class[x] {
            count += cols[y].count;
            y += 1;
        }
        if dom.is_some() {
            let xa = f.x0 + x as f32;
            let xb = f.x0 + y as f32;
            if busy_q >= 8.0 && count <= 2 && xb - xa >= WIDGET_PX {
                // Probably one long span: draw it as such, with its label.
                let tm = (t0 + (x + y) as f64 / 2.0 * npp) as i64;
                if let Some(i) = lane.index_at(tm)
                    && let Some(r) = lane.get(i)
                    && let Some(lk) = look(&r)
                {
                    let e = lane
                        .get(i + 1)
                        .map_or(f.model.timelines().end, |n| n.time());
                    let sr = Rect::from_min_max(
                        pos2(f.x(r.time()).max(f.x0), rect.top() + 1.0),
                        pos2(f.x(e).min(f.x1), rect.bottom() - 1.0),
                    );
                    f.fill(
                        Rect::from_min_max(pos2(xa, sr.top()), pos2(xb, sr.bottom())),
                        lk.color,
                    );
                    let (text, name) = label(&r, e);
                    if xb - xa >= LABEL_PX
                        && let Some(t) = describe::fit_text(&text, xb - xa)
                    {
                        f.text(pos2(xa + 3.0, sr.center().y), t, Palette::text_on(lk.color));
                    }
                    span_widget(
                        ui,
                        f,
                        Rect::from_min_max(pos2(xa, sr.top()), pos2(xb, sr.bottom())),
                        item(i),
                        &name,
                    );
                    x = y;
                    continue;
                }
            }
            paint_merged(&mut f.mesh, rect, xa, xb, busy_q / 8.0, color);
        }
        x = y;
    }
    f.cols = cols;
    f.class = class;
}

/// Shows the timeline of `model` in the available space.
pub fn show(ui: &mut Ui, model: &TraceModel, state: &mut TimelineState) -> Response {
    let full = ui.available_rect_before_wrap();
    let (full, _) = ui.allocate_exact_size(full.size(), Sense::hover());
    let pal = Palette::for_visuals(ui.visuals());
    let scope = ui.scope_id().with("goroscope_timeline");
    let text_color = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let tl = model.timelines();

    let lanes_x0 = full.left() + GUTTER_W;
    let lanes_x1 = (full.right() - SCROLLBAR_W).max(lanes_x0 + 10.0);
    let ruler_rect = Rect::from_min_max(
        pos2(lanes_x0, full.top()),
        pos2(lanes_x1, full.top() + RULER_H),
    );
    let body = Rect::from_min_max(
        pos2(full.left(), full.top() + RULER_H),
        pos2(lanes_x1, full.bottom()),
    );
    let lanes_rect = Rect::from_min_max(pos2(lanes_x0, body.top()), body.max);
    let gutter_rect = Rect::from_min_max(body.min, pos2(lanes_x0, body.bottom()));
    state.viewport_h = body.height();

    // Input: one interaction for the lane area (drag, wheel, click), one for the gutter.
    let canvas = ui.interact(lanes_rect, scope.with("canvas"), Sense::click_and_drag());
    canvas.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Timeline lanes"));
    let ruler_resp = ui.interact(ruler_rect, scope.with("ruler"), Sense::click_and_drag());
    ruler_resp.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Time ruler"));
    select_range(ui, &ruler_resp, &canvas, lanes_rect, tl.start, state);
    let blocks_now = blocks(model, state);
    let content_h = total_height(&blocks_now);
    handle_input(
        ui,
        &canvas,
        gutter_rect,
        lanes_rect,
        state,
        content_h,
        tl.start,
    );
    if let Some(row) = state.reveal.take()
        && let Some((y, h)) = row_top(model, &blocks_now, row)
    {
        let view_h = f64::from(body.height());
        if y < state.scroll_y || y + f64::from(h) > state.scroll_y + view_h {
            state.scroll_y = y - view_h / 3.0;
        }
    }
    state.scroll_y = state
        .scroll_y
        .clamp(0.0, (content_h - f64::from(body.height()) * 0.5).max(0.0));

    // Ruler and wall clock.
    let clock = match (state.wall_clock, tl.wall_clock(tl.start)) {
        (true, Some(w)) => Clock::Wall { offset: w },
        _ => Clock::Relative,
    };
    let painter = ui.painter_at(full);
    painter.rect_filled(
        Rect::from_min_max(full.min, pos2(full.right(), full.top() + RULER_H)),
        CornerRadius::ZERO,
        pal.header_bg(),
    );
    let step = ruler::paint_ruler(
        &ui.painter_at(ruler_rect),
        ruler_rect,
        &state.view,
        clock,
        text_color,
        weak,
    );
    let corner = match clock {
        Clock::Relative => format!(
            "{} – {}",
            describe::at(tl, tl.start + state.view.start as i64),
            describe::at(tl, tl.start + state.view.end as i64)
        ),
        Clock::Wall { offset } => format!(
            "{} UTC",
            ruler::format_date(offset + state.view.start as i128)
        ),
    };
    painter.text(
        pos2(full.left() + 6.0, full.top() + RULER_H / 2.0),
        Align2::LEFT_CENTER,
        corner,
        FontId::proportional(11.0),
        text_color,
    );

    let mut f = Frame {
        model,
        pal,
        painter: ui.painter_at(lanes_rect),
        view: state.view,
        t_start: tl.start,
        x_scale: f64::from(lanes_x1 - lanes_x0) / state.view.span(),
        x_off: f64::from(lanes_x0)
            - state.view.start * f64::from(lanes_x1 - lanes_x0) / state.view.span(),
        x0: lanes_x0,
        x1: lanes_x1,
        font: FontId::proportional(11.0),
        clicked: None,
        double_clicked: None,
        scope,
        cols: Vec::new(),
        class: Vec::new(),
        mesh: Mesh::default(),
        texts: Vec::new(),
    };
    let gutter = ui.painter_at(gutter_rect);
    let rows = visible_rows(model, &blocks_now, state.scroll_y, f64::from(body.height()));
    let mut row_rects: Vec<(Row, Rect)> = Vec::with_capacity(rows.len());
    let mut toggle = None;
    let mut select_goroutine = None;
    for (i, &(row, y, h)) in rows.iter().enumerate() {
        let top = body.top() + (y - state.scroll_y) as f32;
        let lane = Rect::from_min_max(pos2(lanes_x0, top), pos2(lanes_x1, top + h));
        let name_rect = Rect::from_min_max(pos2(full.left(), top), pos2(lanes_x0, top + h));
        if !ui.is_rect_visible(lane.union(name_rect)) {
            continue;
        }
        row_rects.push((row, lane));
        let odd = i % 2 == 1;
        match row {
            Row::Section(s) => {
                let r = Rect::from_min_max(name_rect.min, lane.max);
                painter.rect_filled(r, CornerRadius::ZERO, pal.header_bg());
                let collapsed = state.is_collapsed(model, Header::Section(s));
                disclosure(
                    &gutter,
                    pos2(name_rect.left() + 9.0, name_rect.center().y),
                    collapsed,
                    text_color,
                );
                gutter.text(
                    pos2(name_rect.left() + 18.0, name_rect.center().y),
                    Align2::LEFT_CENTER,
                    s.title(),
                    FontId::proportional(13.0),
                    text_color,
                );
                let resp = ui.interact(name_rect, scope.with(("section", s)), Sense::click());
                resp.widget_info(|| WidgetInfo::labeled(Role::Button, true, s.title()));
                if resp.clicked() {
                    toggle = Some(Header::Section(s));
                }
            }
            Row::Group(gi) => {
                let Some(g) = model.groups.get(gi) else {
                    continue;
                };
                let r = Rect::from_min_max(name_rect.min, lane.max);
                painter.rect_filled(r, CornerRadius::ZERO, pal.header_bg().gamma_multiply(0.7));
                let color = pal.group(gi, g.label.as_bytes());
                painter.rect_filled(
                    Rect::from_min_size(name_rect.min + vec2(2.0, 4.0), vec2(4.0, h - 8.0)),
                    CornerRadius::ZERO,
                    color,
                );
                let collapsed = state.is_collapsed(model, Header::Group(gi));
                let name = format!("{} ×{}", g.label, g.goroutines.len());
                disclosure(
                    &gutter,
                    pos2(name_rect.left() + 15.0, name_rect.center().y),
                    collapsed,
                    text_color,
                );
                if let Some(t) = describe::fit_text(&name, GUTTER_W - 24.0) {
                    gutter.text(
                        pos2(name_rect.left() + 23.0, name_rect.center().y),
                        Align2::LEFT_CENTER,
                        t,
                        FontId::proportional(12.0),
                        text_color,
                    );
                }
                let stats = format!("running {}", format_duration(g.running_ns as f64));
                f.painter.text(
                    pos2(lanes_x0 + 6.0, lane.center().y),
                    Align2::LEFT_CENTER,
                    stats,
                    FontId::proportional(11.0),
                    weak,
                );
                let resp = ui.interact(name_rect, scope.with(("group", gi)), Sense::click());
                resp.widget_info(|| WidgetInfo::labeled(Role::Button, true, &name));
                if resp.clicked() {
                    toggle = Some(Header::Group(gi));
                }
            }
            _ => {
                painter.rect_filled(
                    Rect::from_min_max(name_rect.min, lane.max),
                    CornerRadius::ZERO,
                    pal.lane_bg(odd),
                );
                let name = row_name(model, row);
                if let Some(t) = describe::fit_text(&name, GUTTER_W - 12.0) {
                    gutter.text(
                        pos2(name_rect.left() + 12.0, name_rect.center().y),
                        Align2::LEFT_CENTER,
                        t,
                        FontId::proportional(11.0),
                        text_color,
                    );
                }
                let resp = ui.interact(name_rect, scope.with(("lane", row)), Sense::click());
                resp.widget_info(|| WidgetInfo::labeled(Role::Label, true, &name));
                if let (Row::Goroutine(g) | Row::Regions(g), true) = (row, resp.clicked()) {
                    select_goroutine = Some(g);
                }
                paint_row(
                    ui,
                    &mut f,
                    row,
                    lane,
                    &mut gutter_note(&gutter, name_rect, weak),
                );
                f.flush_row();
            }
        }
    }
    // The grid over the lanes (drawn faintly on top: lanes have opaque backgrounds).
    ruler::paint_grid(&f.painter, lanes_rect, &state.view, clock, step, pal.grid());

    if let Some(path) = &state.path {
        paint_path(&f, path, &row_rects, body, state.scroll_y, &blocks_now);
    }
    paint_range(ui, &f, full, state);

    // Hover and selection.
    let pointer = ui.input(|i| i.pointer.hover_pos());
    let hovered = pointer.filter(|p| lanes_rect.contains(*p)).and_then(|p| {
        let (row, r) = row_rects.iter().find(|(_, r)| r.y_range().contains(p.y))?;
        hit(&f, *row, *r, p.x)
    });
    state.hovered = hovered;
    for (it, stroke_w) in [(state.selected, 2.0), (hovered, 1.0)] {
        let Some(it) = it else { continue };
        let Some((row, a, b)) = item_extent(model, &it) else {
            continue;
        };
        if let Some((_, r)) = row_rects.iter().find(|(rr, _)| *rr == row) {
            let xa = f.x(a).max(lanes_x0 - 2.0);
            let xb = f.x(b).min(lanes_x1 + 2.0).max(xa + 2.0);
            let hr = Rect::from_min_max(pos2(xa, r.top()), pos2(xb, r.bottom()));
            f.painter.rect_stroke(
                hr,
                CornerRadius::same(2),
                Stroke::new(stroke_w, pal.highlight()),
                StrokeKind::Outside,
            );
        }
    }
    if let Some(it) = hovered
        && !canvas.dragged()
    {
        egui::Tooltip::for_widget(&canvas)
            .at_pointer()
            .show(|ui| tooltip_ui(ui, model, &it));
    }
    let clicked_span = f.clicked;
    let double = f.double_clicked;
    // Clicks: a span widget, or whatever is under the pointer.
    if let Some(it) = double.or(if canvas.double_clicked() {
        hovered
    } else {
        None
    }) {
        if let Some((_, a, b)) = item_extent(model, &it) {
            state
                .view
                .show_range((a - tl.start) as f64, (b - tl.start) as f64, 0.1);
        }
    } else if let Some(it) = clicked_span.or(if canvas.clicked() { hovered } else { None }) {
        match it {
            Item::Merged { from, to, .. } => {
                state
                    .view
                    .show_range((from - tl.start) as f64, (to - tl.start) as f64, 0.5);
            }
            it => state.selected = Some(it),
        }
    } else if canvas.clicked() {
        state.selected = None;
    }
    if let Some(g) = select_goroutine {
        state.selected = Some(Item::Goroutine(g));
    }
    if let Some(h) = toggle {
        state.toggle(h);
    }
    paint_scrollbar(ui, scope, full, body, state, content_h, &pal);
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_secs(1));
    canvas
}

/// A disclosure triangle: pointing right when collapsed, down when expanded.
fn disclosure(painter: &Painter, c: Pos2, collapsed: bool, color: Color32) {
    let pts = if collapsed {
        vec![
            c + vec2(-3.0, -4.5),
            c + vec2(4.0, 0.0),
            c + vec2(-3.0, 4.5),
        ]
    } else {
        vec![
            c + vec2(-4.5, -3.0),
            c + vec2(4.5, -3.0),
            c + vec2(0.0, 4.0),
        ]
    };
    painter.add(egui::Shape::convex_polygon(pts, color, Stroke::NONE));
}

/// A small text on the right of a lane's name (plot scales).
fn gutter_note<'a>(
    gutter: &'a Painter,
    name_rect: Rect,
    color: Color32,
) -> impl FnMut(String) + 'a {
    move |s| {
        gutter.text(
            pos2(name_rect.right() - 4.0, name_rect.top() + 2.0),
            Align2::RIGHT_TOP,
            s,
            FontId::proportional(10.0),
            color,
        );
    }
}

fn row_name(model: &TraceModel, row: Row) -> String {
    let tl = model.timelines();
    match row {
        Row::Plot(Plot::Goroutines) => "Goroutines by state".to_owned(),
        Row::Plot(Plot::Heap) => "Heap".to_owned(),
        Row::Plot(Plot::Gomaxprocs) => "GOMAXPROCS".to_owned(),
        Row::Plot(Plot::Threads) => "Busy threads".to_owned(),
        Row::Gc => "GC".to_owned(),
        Row::Stw => "STW".to_owned(),
        Row::Proc(p) => tl
            .procs
            .get(p)
            .map_or_else(String::new, |p| format!("P{}", p.id)),
        Row::Thread(m) => tl
            .threads
            .get(m)
            .map_or_else(String::new, |t| format!("M{}", t.id)),
        Row::Goroutine(g) => tl.goroutines.get(g).map_or_else(String::new, |go| {
            let name = tl.strings.lossy(go.name);
            format!("G{} {name}", go.id)
        }),
        Row::Task(l) => format!("Tasks {}", l + 1),
        Row::Regions(g) => tl
            .goroutines
            .get(g)
            .map_or_else(String::new, |go| format!("G{} regions", go.id)),
        Row::Section(s) => s.title().to_owned(),
        Row::Group(g) => model
            .groups
            .get(g)
            .map_or_else(String::new, |g| g.label.clone()),
    }
}

fn paint_row(ui: &Ui, f: &mut Frame<'_>, row: Row, rect: Rect, note: &mut dyn FnMut(String)) {
    let model = f.model;
    let tl = model.timelines();
    let pal = f.pal;
    match row {
        Row::Proc(p) => {
            let Some(proc) = tl.procs.get(p) else { return };
            let pid = proc.id;
            let look = |s: &ProcSpan| -> Option<Look> {
                let color = match s.activity {
                    ProcActivity::Idle | ProcActivity::NotExist => return None,
                    ProcActivity::Syscall => pal.syscall().gamma_multiply(0.75),
                    ProcActivity::Running if s.g < 0 => pal.scheduler(),
                    ProcActivity::Running => {
                        let gi = model.goroutine_index(s.g);
                        match gi.and_then(|i| tl.goroutines.get(i)) {
                            Some(go) if go.gc_worker => pal.gc(),
                            Some(_) => group_color(model, &pal, gi.and_then(|i| model.group_of(i))),
                            None => pal.scheduler(),
                        }
                    }
                };
                Some(Look { color })
            };
            let label = |s: &ProcSpan, e: i64| {
                (
                    describe::proc_activity_text(model, s),
                    describe::proc_span_label(model, pid, s, e),
                )
            };
            let col_color = |cat: u8, key: u32| match cat {
                proc_cat::USER => group_color(model, &pal, Some(key as usize)),
                proc_cat::GC => pal.gc(),
                proc_cat::SYSCALL => pal.syscall().gamma_multiply(0.75),
                _ => pal.scheduler(),
            };
            let mip = model.proc_mips.get(p).and_then(Option::as_ref);
            paint_span_lane(
                ui,
                f,
                rect,
                &proc.spans,
                mip,
                LaneRef::Proc(p),
                &look,
                &label,
                &col_color,
                &|span| Item::Proc { p, span },
            );
            paint_samples(f, rect, model.samples(SamplesOf::Proc(p)));
        }
        Row::Thread(m) => {
            let Some(th) = tl.threads.get(m) else { return };
            let mid = th.id;
            let look = |s: &ThreadSpan| -> Option<Look> {
                if s.p >= 0 {
                    Some(Look {
                        color: pal.proc(s.p),
                    })
                } else if s.g >= 0 {
                    Some(Look {
                        color: pal.syscall(),
                    })
                } else {
                    None
                }
            };
            let label = |s: &ThreadSpan, e: i64| {
                (
                    describe::thread_activity_text(s),
                    describe::thread_span_label(tl, mid, s, e),
                )
            };
            let col_color = |cat: u8, key: u32| match cat {
                thread_cat::HOLDS_P => pal.proc(i64::from(key)),
                _ => pal.syscall(),
            };
            let mip = model.thread_mips.get(m).and_then(Option::as_ref);
            paint_span_lane(
                ui,
                f,
                rect,
                &th.spans,
                mip,
                LaneRef::Thread(m),
                &look,
                &label,
                &col_color,
                &|span| Item::Thread { m, span },
            );
        }
        Row::Goroutine(g) => {
            let Some(go) = tl.goroutines.get(g) else {
                return;
            };
            let gid = go.id;
            let look = |s: &GoSpan| -> Option<Look> {
                go_category(s)?;
                Some(Look {
                    color: pal.state(s.state, WaitKind::of(tl.strings.get(s.reason))),
                })
            };
            let label = |s: &GoSpan, e: i64| {
                (
                    describe::state_text(tl, s),
                    describe::go_span_label(tl, gid, s, e),
                )
            };
            let col_color = |cat: u8, key: u32| match cat {
                go_cat::RUNNING => pal.running(),
                go_cat::RUNNABLE => pal.runnable(),
                go_cat::WAITING => pal.waiting(WaitKind::from_index(key)),
                _ => pal.syscall(),
            };
            let mip = model.go_mips.get(g).and_then(Option::as_ref);
            paint_span_lane(
                ui,
                f,
                rect,
                &go.spans,
                mip,
                LaneRef::Go(g),
                &look,
                &label,
                &col_color,
                &|span| Item::Go { g, span },
            );
            paint_samples(f, rect, model.samples(SamplesOf::Goroutine(g)));
        }
        Row::Task(l) => paint_tasks(ui, f, rect, l),
        Row::Regions(g) => paint_regions(ui, f, rect, g),
        Row::Gc => paint_intervals(ui, f, rect, LaneRef::Gc, pal.gc(), note),
        Row::Stw => paint_intervals(ui, f, rect, LaneRef::Stw, pal.stw(), note),
        Row::Plot(p) => crate::plots::paint_plot(f.model, &f.painter, &pal, &f.view, rect, p, note),
        Row::Section(_) | Row::Group(_) => {}
    }
}

/// A bar of a task or region: filled, labelled when wide, clickable when not tiny.
#[allow(clippy::too_many_arguments)]
fn paint_bar(
    ui: &Ui,
    f: &mut Frame<'_>,
    r: Rect,
    lane: Rect,
    color: Color32,
    item: Item,
    text: &str,
    name: &dyn Fn() -> String,
) {
    f.fill(r, color);
    let w = r.width();
    if w >= WIDGET_PX {
        let vis = r.intersect(lane);
        if w >= LABEL_PX
            && let Some(t) = describe::fit_text(text, vis.width())
        {
            f.text(
                pos2(vis.left() + 3.0, r.center().y),
                t,
                Palette::text_on(color),
            );
        }
        span_widget(ui, f, vis, item, &name());
    }
}

/// A task lane: tasks in start order, found by binary search; spans narrower than a pixel
/// are drawn one per pixel.
fn paint_tasks(ui: &Ui, f: &mut Frame<'_>, rect: Rect, l: usize) {
    let model = f.model;
    let tl = model.timelines();
    let (Some(lane), Some(reach)) = (model.task_lanes.get(l), model.task_lane_reach.get(l)) else {
        return;
    };
    let (t0, t1) = f.abs_range();
    let npp = f.ns_per_px();
    let start = |i: u32| crate::model::task_interval(tl, &tl.tasks[i as usize]).0;
    let mut k = reach.partition_point(|&e| e < t0);
    while let Some(&i) = lane.get(k) {
        let task = &tl.tasks[i as usize];
        let (a, b) = crate::model::task_interval(tl, task);
        if a >= t1 {
            break;
        }
        k += 1;
        if b < t0 {
            continue;
        }
        let (xa, xb) = (f.x(a), f.x(b).max(f.x(a) + 1.0));
        let kind = tl.strings.lossy(task.kind);
        let color = f.pal.group(usize::MAX, kind.as_bytes());
        let r = Rect::from_min_max(pos2(xa, rect.top() + 1.0), pos2(xb, rect.bottom() - 1.0));
        paint_bar(
            ui,
            f,
            r,
            rect,
            color,
            Item::Task(i as usize),
            &kind,
            &|| {
                format!(
                    "task {kind} {} at {}",
                    format_duration((b - a) as f64),
                    describe::at(tl, a)
                )
            },
        );
        if xb - xa < MERGE_PX {
            // The rest of this pixel is covered: skip the tasks that start in it.
            let next = a + npp.ceil() as i64;
            k = k.max(lane.partition_point(|&j| start(j) < next));
        }
    }
}

/// A goroutine's regions, nested ones stacked below their parents.
fn paint_regions(ui: &Ui, f: &mut Frame<'_>, rect: Rect, g: usize) {
    let model = f.model;
    let tl = model.timelines();
    let Some(go) = tl.goroutines.get(g) else {
        return;
    };
    let (t0, t1) = f.abs_range();
    let regions = &go.regions;
    let hi = regions.partition_point(|r| r.interval.clamped(tl.start, tl.end).0 < t1);
    let k = model.first_region_reaching(g, t0).min(hi);
    let levels = model.region_levels.max(1);
    let mut last_px = [f32::NEG_INFINITY; crate::model::MAX_REGION_LEVELS as usize];
    for (index, r) in regions.iter().enumerate().take(hi).skip(k) {
        let (a, b) = r.interval.clamped(tl.start, tl.end);
        if b < t0 {
            continue;
        }
        let level = r.depth.min(levels - 1);
        let (xa, xb) = (f.x(a), f.x(b).max(f.x(a) + 1.0));
        let slot = &mut last_px[level as usize];
        if xb - xa < 1.5 && xa.floor() <= *slot {
            continue;
        }
        *slot = xa.floor();
        let top = rect.top() + f32::from(level) * REGION_LEVEL_H;
        let br = Rect::from_min_max(pos2(xa, top + 1.0), pos2(xb, top + REGION_LEVEL_H - 1.0));
        let kind = tl.strings.lossy(r.kind);
        let color = f.pal.group(usize::MAX, kind.as_bytes());
        paint_bar(
            ui,
            f,
            br,
            rect,
            color,
            Item::Region { g, index },
            &kind,
            &|| {
                format!(
                    "region {kind} {} at {}",
                    format_duration((b - a) as f64),
                    describe::at(tl, a)
                )
            },
        );
    }
}

/// CPU sample ticks along the bottom of a lane; at most one per pixel.
fn paint_samples(f: &mut Frame<'_>, rect: Rect, samples: &[(u32, i64)]) {
    if samples.is_empty() {
        return;
    }
    let (t0, t1) = f.abs_range();
    let npp = f.ns_per_px().max(1e-9);
    let color = if f.pal.dark {
        Color32::from_rgb(255, 236, 120)
    } else {
        Color32::from_rgb(40, 40, 40)
    };
    let mut k = samples.partition_point(|s| s.1 < t0);
    while let Some(&(_, t)) = samples.get(k) {
        if t >= t1 {
            break;
        }
        let x = f.x(t);
        f.mesh.add_colored_rect(
            Rect::from_min_max(
                pos2(x - 0.5, rect.bottom() - 4.0),
                pos2(x + 0.5, rect.bottom()),
            ),
            color,
        );
        // The next sample at least a pixel to the right.
        let next = t + npp.ceil() as i64;
        k = (k + 1).max(samples.partition_point(|s| s.1 < next));
    }
}

fn group_color(model: &TraceModel, pal: &Palette, gi: Option<usize>) -> Color32 {
    gi.and_then(|i| model.groups.get(i))
        .map_or(pal.scheduler(), |g| {
            pal.group(gi.unwrap_or(0), g.label.as_bytes())
        })
}

/// GC or STW intervals: found by binary search on their start, merged when narrow.
fn paint_intervals(
    ui: &Ui,
    f: &mut Frame<'_>,
    rect: Rect,
    which: LaneRef,
    color: Color32,
    note: &mut dyn FnMut(String),
) {
    let tl = f.model.timelines();
    let (t0, t1) = f.abs_range();
    let n = match which {
        LaneRef::Gc => tl.gc.len(),
        _ => tl.stw.len(),
    };
    note(format!("{n}"));
    let get = |i: usize| -> Option<(i64, i64)> {
        match which {
            LaneRef::Gc => tl.gc.get(i).map(|iv| iv.clamped(tl.start, tl.end)),
            _ => tl.stw.get(i).map(|s| s.interval.clamped(tl.start, tl.end)),
        }
    };
    // Intervals are in start order and do not overlap: the first visible one ends after t0.
    let first = match which {
        LaneRef::Gc => tl
            .gc
            .partition_point(|iv| iv.clamped(tl.start, tl.end).1 < t0),
        _ => tl
            .stw
            .partition_point(|s| s.interval.clamped(tl.start, tl.end).1 < t0),
    };
    let mut pending = Pending::default();
    let mut i = first;
    while let Some((a, b)) = get(i) {
        if a >= t1 {
            break;
        }
        let (xa, xb) = (f.x(a), f.x(b));
        if xb - xa < MERGE_PX {
            if pending.count > 0 && xa - pending.x1 > 1.0 {
                flush(f, rect, &mut pending);
            }
            pending.add(xa, xb.max(xa + 1.0), a, b, Some(Look { color }));
            if pending.width() >= MERGE_PX {
                flush(f, rect, &mut pending);
            }
        } else {
            flush(f, rect, &mut pending);
            let r = Rect::from_min_max(pos2(xa, rect.top() + 1.0), pos2(xb, rect.bottom() - 1.0));
            f.fill(r, color);
            let (text, name) = match which {
                LaneRef::Gc => (
                    "GC".to_owned(),
                    format!(
                        "GC {} at {}",
                        format_duration((b - a) as f64),
                        describe::at(tl, a)
                    ),
                ),
                _ => {
                    let kind = tl
                        .stw
                        .get(i)
                        .map_or_else(String::new, |s| tl.strings.lossy(s.kind).into_owned());
                    (
                        format!("STW {kind}"),
                        format!(
                            "STW {kind} {} at {}",
                            format_duration((b - a) as f64),
                            describe::at(tl, a)
                        ),
                    )
                }
            };
            let vis = r.intersect(rect);
            if xb - xa >= LABEL_PX
                && let Some(t) = describe::fit_text(&text, vis.width())
            {
                f.text(
                    pos2(vis.left() + 3.0, r.center().y),
                    t,
                    Palette::text_on(color),
                );
            }
            if xb - xa >= WIDGET_PX {
                let item = match which {
                    LaneRef::Gc => Item::Gc(i),
                    _ => Item::Stw(i),
                };
                span_widget(ui, f, vis, item, &name);
            }
        }
        i += 1;
    }
    flush(f, rect, &mut pending);
}

/// The item at x in `row`'s lane rect: a span, or a block of merged narrow spans.
fn hit(f: &Frame<'_>, row: Row, rect: Rect, x: f32) -> Option<Item> {
    let tl = f.model.timelines();
    let npp = f.ns_per_px();
    let t = f.t_start + f.view.time_at(x, f.x0, f.x1).round() as i64;
    let tol = (f64::from(MERGE_PX) * npp / 2.0).ceil() as i64;
    let _ = rect;
    fn lane_hit<R: Record>(
        lane: &Lane<R>,
        t: i64,
        tol: i64,
        end: i64,
        lane_ref: LaneRef,
        mk: impl Fn(usize) -> Item,
    ) -> Option<Item> {
        let i = lane.index_at(t)?;
        let s = lane.get(i)?;
        let e = lane.get(i + 1).map_or(end, |n| n.time());
        if e - s.time() >= 2 * tol {
            return Some(mk(i));
        }
        let a = lane.index_at(t - tol).unwrap_or(0);
        let b = lane.index_at(t + tol).unwrap_or(i);
        if a == b {
            return Some(mk(i));
        }
        Some(Item::Merged {
            lane: lane_ref,
            from: t - tol,
            to: t + tol,
            count: b - a + 1,
        })
    }
    match row {
        Row::Goroutine(g) => {
            let lane = &tl.goroutines.get(g)?.spans;
            let it = lane_hit(lane, t, tol, tl.end, LaneRef::Go(g), |span| Item::Go {
                g,
                span,
            })?;
            // Nothing to show over time the goroutine did not exist.
            if let Item::Go { span, .. } = it
                && lane.get(span).is_some_and(|s| s.state == GoState::NotExist)
            {
                return None;
            }
            Some(it)
        }
        Row::Proc(p) => lane_hit(
            &tl.procs.get(p)?.spans,
            t,
            tol,
            tl.end,
            LaneRef::Proc(p),
            |span| Item::Proc { p, span },
        ),
        Row::Thread(m) => lane_hit(
            &tl.threads.get(m)?.spans,
            t,
            tol,
            tl.end,
            LaneRef::Thread(m),
            |span| Item::Thread { m, span },
        ),
        Row::Task(l) => {
            let lane = f.model.task_lanes.get(l)?;
            let reach = f.model.task_lane_reach.get(l)?;
            let k = reach.partition_point(|&e| e < t - tol);
            lane[k..]
                .iter()
                .take_while(|&&i| {
                    crate::model::task_interval(tl, &tl.tasks[i as usize]).0 <= t + tol
                })
                .find(|&&i| crate::model::task_interval(tl, &tl.tasks[i as usize]).1 >= t - tol)
                .map(|&i| Item::Task(i as usize))
        }
        Row::Regions(g) => {
            // The innermost region containing t.
            let regions = &tl.goroutines.get(g)?.regions;
            let hi = regions.partition_point(|r| r.interval.clamped(tl.start, tl.end).0 <= t + tol);
            let lo = f.model.first_region_reaching(g, t - tol).min(hi);
            (lo..hi)
                .filter(|&i| regions[i].interval.clamped(tl.start, tl.end).1 >= t - tol)
                .max_by_key(|&i| (regions[i].depth, i))
                .map(|index| Item::Region { g, index })
        }
        Row::Gc => {
            let i = tl
                .gc
                .partition_point(|iv| iv.clamped(tl.start, tl.end).1 < t - tol);
            let (a, _) = tl.gc.get(i)?.clamped(tl.start, tl.end);
            (a <= t + tol).then_some(Item::Gc(i))
        }
        Row::Stw => {
            let i = tl
                .stw
                .partition_point(|s| s.interval.clamped(tl.start, tl.end).1 < t - tol);
            let (a, _) = tl.stw.get(i)?.interval.clamped(tl.start, tl.end);
            (a <= t + tol).then_some(Item::Stw(i))
        }
        _ => None,
    }
}

/// Range selection: a drag in the ruler, or a Shift+drag in the lanes; a click in the ruler
/// clears it.
fn select_range(
    ui: &Ui,
    ruler: &Response,
    canvas: &Response,
    lanes: Rect,
    t_start: i64,
    state: &mut TimelineState,
) {
    let view = state.view;
    let time_at = |x: f32| {
        let x = x.clamp(lanes.left(), lanes.right());
        t_start + view.time_at(x, lanes.left(), lanes.right()).round() as i64
    };
    let (shift, origin) = ui.input(|i| (i.modifiers.shift, i.pointer.press_origin()));
    for (resp, needs_shift) in [(ruler, false), (canvas, true)] {
        if resp.drag_started()
            && (shift || !needs_shift)
            && let Some(o) = origin
        {
            state.range_anchor = None;
            state.drag_range(time_at(o.x), false);
        }
        if state.is_selecting_range()
            && let Some(p) = resp.interact_pointer_pos()
        {
            if resp.drag_stopped() {
                state.drag_range(time_at(p.x), true);
            } else if resp.dragged() {
                state.drag_range(time_at(p.x), false);
            }
        }
    }
    if state.is_selecting_range()
        && !ruler.dragged()
        && !canvas.dragged()
        && !ui.input(|i| i.pointer.any_down())
    {
        // The drag ended without a stop event (the pointer left the window).
        state.range_anchor = None;
    }
    if ruler.clicked() {
        state.range = None;
    }
}

/// The critical path: its segments outlined on the visible goroutine lanes, and an arrow at
/// each hop between goroutines (to the edge of the lanes when a lane is scrolled away).
fn paint_path(
    f: &Frame<'_>,
    path: &PathHighlight,
    rows: &[(Row, Rect)],
    body: Rect,
    scroll_y: f64,
    blocks: &[Block],
) {
    let (t0, t1) = f.abs_range();
    let segs = &path.path.segments;
    for &(row, r) in rows {
        let Row::Goroutine(g) = row else { continue };
        let on = path.segments_of(g);
        let first = on.partition_point(|&i| segs[i as usize].end < t0);
        for &i in &on[first..] {
            let s = &segs[i as usize];
            if s.start > t1 {
                break;
            }
            let xa = f.x(s.start);
            let xb = f.x(s.end).max(xa + 2.0);
            let sr = Rect::from_min_max(pos2(xa, r.top() + 1.0), pos2(xb, r.bottom() - 1.0));
            f.painter.rect_filled(
                Rect::from_min_max(pos2(xa, r.bottom() - 4.0), pos2(xb, r.bottom() - 1.0)),
                CornerRadius::ZERO,
                category_color(&f.pal, s.category),
            );
            f.painter.rect_stroke(
                sr,
                CornerRadius::same(2),
                Stroke::new(2.0, PATH_COLOR),
                StrokeKind::Inside,
            );
        }
    }
    // The y of a goroutine's lane: its centre if visible, else the edge it is beyond.
    let y_of = |g: usize| -> Option<f32> {
        if let Some((_, r)) = rows.iter().find(|(row, _)| *row == Row::Goroutine(g)) {
            return Some(r.center().y);
        }
        let (top, h) = row_top(f.model, blocks, Row::Goroutine(g))?;
        let y = body.top() + (top - scroll_y) as f32 + h / 2.0;
        Some(y.clamp(body.top() + 2.0, body.bottom() - 2.0))
    };
    let first = path.hops.partition_point(|h| h.time < t0);
    for h in path.hops[first..].iter().take_while(|h| h.time <= t1) {
        let (Some(ya), Some(yb)) = (y_of(h.from), y_of(h.to)) else {
            continue;
        };
        let x = f.x(h.time);
        let a = pos2(x, ya);
        let b = pos2(x, yb);
        let stroke = match h.link {
            goroscope_analysis::critical::Link::Blocked => {
                Stroke::new(1.0, PATH_COLOR.gamma_multiply(0.6))
            }
            _ => Stroke::new(2.0, PATH_COLOR),
        };
        f.painter.line_segment([a, b], stroke);
        // The arrow head at the waiter's end.
        let dir = if yb >= ya { 1.0 } else { -1.0 };
        f.painter.add(egui::Shape::convex_polygon(
            vec![b, b + vec2(-4.0, -7.0 * dir), b + vec2(4.0, -7.0 * dir)],
            stroke.color,
            Stroke::NONE,
        ));
    }
}

/// The selected range: shaded over the ruler and lanes, its length on the ruler.
fn paint_range(ui: &Ui, f: &Frame<'_>, full: Rect, state: &TimelineState) {
    let Some((a, b)) = state.range else { return };
    let clip = Rect::from_min_max(pos2(f.x0, full.top()), pos2(f.x1, full.bottom()));
    let painter = ui.painter_at(clip);
    let xa = f.x(a);
    let xb = f.x(b).max(xa + 1.0);
    let accent = Color32::from_rgb(80, 150, 255);
    painter.rect_filled(
        Rect::from_min_max(pos2(xa, full.top()), pos2(xb, full.bottom())),
        CornerRadius::ZERO,
        accent.gamma_multiply(0.16),
    );
    for x in [xa, xb] {
        painter.vline(x, full.y_range(), Stroke::new(1.0, accent));
    }
    let label = format_duration((b - a) as f64);
    let galley = painter.layout_no_wrap(label, FontId::proportional(12.0), Color32::WHITE);
    let half = galley.size().x / 2.0 + 6.0;
    let cx = ((xa + xb) / 2.0).clamp(f.x0 + half, (f.x1 - half).max(f.x0 + half));
    let r = Rect::from_center_size(
        pos2(cx, full.top() + RULER_H / 2.0),
        galley.size() + vec2(10.0, 4.0),
    );
    painter.rect_filled(r, CornerRadius::same(3), Color32::from_rgb(40, 100, 200));
    painter.galley(r.min + vec2(5.0, 2.0), galley, Color32::WHITE);
}

fn handle_input(
    ui: &Ui,
    canvas: &Response,
    gutter: Rect,
    lanes: Rect,
    state: &mut TimelineState,
    content_h: f64,
    t_start: i64,
) {
    let width = lanes.width();
    if canvas.dragged() && !state.is_selecting_range() {
        let d = canvas.drag_delta();
        state.view.pan_px(d.x, width);
        state.scroll_y -= f64::from(d.y);
    }
    let (pointer, scroll, zoom, keys) = ui.input(|i| {
        let k = |key| i.key_pressed(key);
        (
            i.pointer.hover_pos(),
            i.smooth_scroll_delta,
            i.zoom_delta(),
            [
                k(Key::W),
                k(Key::S),
                k(Key::A),
                k(Key::D),
                k(Key::Home),
                k(Key::PageUp),
                k(Key::PageDown),
                k(Key::Z),
                k(Key::Escape),
            ],
        )
    });
    let pointer = pointer.filter(|&p| on_top(ui, p));
    let over_lanes = pointer.is_some_and(|p| lanes.contains(p));
    let over_gutter = pointer.is_some_and(|p| gutter.contains(p));
    if over_lanes {
        let x = pointer.map_or(lanes.center().x, |p| p.x);
        let factor = f64::from(zoom) * (f64::from(scroll.y) * 0.003).exp();
        if (factor - 1.0).abs() > 1e-6 {
            state.view.zoom_at_x(x, lanes.left(), lanes.right(), factor);
        }
        if scroll.x != 0.0 {
            state.view.pan_px(scroll.x, width);
        }
    } else if over_gutter {
        state.scroll_y -= f64::from(scroll.y);
    }
    let typing = ui
        .ctx()
        .memory(|m| m.focused().is_some() || m.top_modal_layer().is_some());
    if !typing {
        let cx = pointer
            .filter(|p| lanes.contains(*p))
            .map_or(lanes.center().x, |p| p.x);
        let [w, s, a, d, home, pgup, pgdn, z, esc] = keys;
        if z && let Some((a, b)) = state.range {
            state
                .view
                .show_range((a - t_start) as f64, (b - t_start) as f64, 0.0);
        }
        if esc {
            // Esc clears the critical path (or stops computing it) first, then the range.
            if state.path_job.take().is_none() && state.path.take().is_none() {
                state.range = None;
            }
        }
        if w {
            state.view.zoom_at_x(cx, lanes.left(), lanes.right(), 1.5);
        }
        if s {
            state
                .view
                .zoom_at_x(cx, lanes.left(), lanes.right(), 1.0 / 1.5);
        }
        if a {
            state.view.pan_px(width * 0.15, width);
        }
        if d {
            state.view.pan_px(-width * 0.15, width);
        }
        if home {
            state.view.reset();
        }
        let page = f64::from(lanes.height()) * 0.8;
        if pgup {
            state.scroll_y -= page;
        }
        if pgdn {
            state.scroll_y += page;
        }
    }
    state.scroll_y = state.scroll_y.clamp(0.0, content_h.max(0.0));
}

/// Whether `p` is over the timeline's own layer, not over a window, popup or modal dialog
/// above it (whose wheel and keys are theirs).
fn on_top(ui: &Ui, p: Pos2) -> bool {
    ui.ctx().layer_id_at(p).is_none_or(|l| l == ui.layer_id())
}

fn paint_scrollbar(
    ui: &Ui,
    scope: Id,
    full: Rect,
    body: Rect,
    state: &mut TimelineState,
    content_h: f64,
    pal: &Palette,
) {
    let track = Rect::from_min_max(
        pos2(full.right() - SCROLLBAR_W, body.top()),
        pos2(full.right(), body.bottom()),
    );
    let view_h = f64::from(body.height());
    if content_h <= view_h {
        return;
    }
    let frac_top = state.scroll_y / content_h;
    let frac_h = (view_h / content_h).clamp(0.02, 1.0);
    let y0 = track.top() + (frac_top * f64::from(track.height())) as f32;
    let y1 = (y0 + (frac_h * f64::from(track.height())) as f32).min(track.bottom());
    let thumb = Rect::from_min_max(
        pos2(track.left() + 2.0, y0),
        pos2(track.right() - 2.0, y1.max(y0 + 8.0)),
    );
    let resp = ui.interact(track, scope.with("vscroll"), Sense::click_and_drag());
    resp.widget_info(|| WidgetInfo::labeled(Role::ScrollBar, true, "Lanes scroll bar"));
    if resp.dragged() {
        state.scroll_y += f64::from(resp.drag_delta().y) / f64::from(track.height()) * content_h;
    } else if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        state.scroll_y = f64::from((p.y - track.top()) / track.height()) * content_h - view_h / 2.0;
    }
    let painter = ui.painter_at(track);
    painter.rect_filled(track, CornerRadius::ZERO, pal.lane_bg(true));
    let c = if resp.hovered() || resp.dragged() {
        ui.visuals().widgets.hovered.bg_fill
    } else {
        ui.visuals().widgets.inactive.bg_fill
    };
    painter.rect_filled(thumb, CornerRadius::same(3), c);
}

/// The hover text of an item.
pub fn tooltip_ui(ui: &mut Ui, model: &TraceModel, item: &Item) {
    let tl = model.timelines();
    let dur = |a: i64, b: i64| format_duration((b - a) as f64);
    match *item {
        Item::Go { g, span } => {
            let Some(go) = tl.goroutines.get(g) else {
                return;
            };
            let Some(s) = go.spans.get(span) else { return };
            let e = model.span_end(&go.spans, span);
            ui.strong(format!("G{} {}", go.id, tl.strings.lossy(go.name)));
            ui.label(format!(
                "{} for {}",
                describe::state_text(tl, &s),
                dur(s.time, e)
            ));
            ui.label(format!(
                "from {} to {}",
                describe::at(tl, s.time),
                describe::at(tl, e)
            ));
            if let Some(m) = describe::thread_text(tl, s.m) {
                ui.label(format!("on P{} {m}", s.p));
            }
            if s.woken {
                let by = if s.waker >= 0 {
                    format!("G{}", s.waker)
                } else {
                    "the runtime".to_owned()
                };
                ui.label(format!("unblocked by {by}"));
            }
            for l in describe::stack_lines(tl, s.stack, 5) {
                ui.monospace(l);
            }
        }
        Item::Proc { p, span } => {
            let Some(proc) = tl.procs.get(p) else { return };
            let Some(s) = proc.spans.get(span) else {
                return;
            };
            let e = model.span_end(&proc.spans, span);
            ui.strong(format!(
                "P{}: {}",
                proc.id,
                describe::proc_activity_text(model, &s)
            ));
            ui.label(format!(
                "{} from {}",
                dur(s.time, e),
                describe::at(tl, s.time)
            ));
            if let Some(m) = describe::thread_text(tl, s.m) {
                ui.label(format!("held by {m}"));
            }
        }
        Item::Thread { m, span } => {
            let Some(th) = tl.threads.get(m) else { return };
            let Some(s) = th.spans.get(span) else { return };
            let e = model.span_end(&th.spans, span);
            ui.strong(format!(
                "M{}: {}",
                th.id,
                describe::thread_activity_text(&s)
            ));
            ui.label(format!(
                "{} from {}",
                dur(s.time, e),
                describe::at(tl, s.time)
            ));
        }
        Item::Gc(i) => {
            let Some(iv) = tl.gc.get(i) else { return };
            let (a, b) = iv.clamped(tl.start, tl.end);
            ui.strong("GC mark phase");
            ui.label(format!("{} from {}", dur(a, b), describe::at(tl, a)));
        }
        Item::Stw(i) => {
            let Some(s) = tl.stw.get(i) else { return };
            let (a, b) = s.interval.clamped(tl.start, tl.end);
            ui.strong(format!("Stop the world: {}", tl.strings.lossy(s.kind)));
            ui.label(format!(
                "{} from {}, by G{}",
                dur(a, b),
                describe::at(tl, a),
                s.g
            ));
        }
        Item::Goroutine(g) => {
            if let Some(go) = tl.goroutines.get(g) {
                ui.strong(format!("G{} {}", go.id, tl.strings.lossy(go.name)));
            }
        }
        Item::Task(i) => {
            let Some(task) = tl.tasks.get(i) else { return };
            let (a, b) = crate::model::task_interval(tl, task);
            ui.strong(format!("Task {}", tl.strings.lossy(task.kind)));
            ui.label(format!("{} from {}", dur(a, b), describe::at(tl, a)));
            if task.interval.end.is_none() {
                ui.label("did not end in the trace");
            }
        }
        Item::Region { g, index } => {
            let Some(go) = tl.goroutines.get(g) else {
                return;
            };
            let Some(r) = go.regions.get(index) else {
                return;
            };
            let (a, b) = r.interval.clamped(tl.start, tl.end);
            ui.strong(format!("Region {} on G{}", tl.strings.lossy(r.kind), go.id));
            ui.label(format!("{} from {}", dur(a, b), describe::at(tl, a)));
        }
        Item::Merged {
            lane,
            from,
            to,
            count,
        } => {
            ui.strong(format!("{count} spans in {}", dur(from, to)));
            merged_breakdown(ui, model, lane, from, to);
            ui.weak("click to zoom in");
        }
    }
}

/// Time per state within `[from, to)` of a lane, decoding at most a bounded number of spans.
fn merged_breakdown(ui: &mut Ui, model: &TraceModel, lane: LaneRef, from: i64, to: i64) {
    const MAX: usize = 100_000;
    let tl = model.timelines();
    let mut parts: Vec<(String, i64)> = Vec::new();
    let mut add = |k: String, d: i64| {
        if let Some(p) = parts.iter_mut().find(|p| p.0 == k) {
            p.1 += d;
        } else {
            parts.push((k, d));
        }
    };
    fn clip<R: Record>(lane: &Lane<R>, from: i64, to: i64, end: i64, mut f: impl FnMut(&R, i64)) {
        let mut it = lane.iter_range(from, to).take(MAX).peekable();
        while let Some(r) = it.next() {
            let e = it.peek().map_or(end, |n| n.time()).min(to);
            f(&r, e - r.time().max(from));
        }
    }
    match lane {
        LaneRef::Go(g) => {
            if let Some(go) = tl.goroutines.get(g) {
                clip(&go.spans, from, to, tl.end, |s, d| {
                    add(describe::state_text(tl, s), d);
                });
            }
        }
        LaneRef::Proc(p) => {
            if let Some(pr) = tl.procs.get(p) {
                clip(&pr.spans, from, to, tl.end, |s, d| {
                    let k = match s.activity {
                        ProcActivity::Running if s.g >= 0 => "running goroutines",
                        ProcActivity::Running => "scheduler",
                        ProcActivity::Syscall => "syscall",
                        _ => "idle",
                    };
                    add(k.to_owned(), d);
                });
            }
        }
        LaneRef::Thread(m) => {
            if let Some(th) = tl.threads.get(m) {
                clip(&th.spans, from, to, tl.end, |s, d| {
                    add(describe::thread_activity_text(s), d);
                });
            }
        }
        LaneRef::Gc | LaneRef::Stw => {}
    }
    parts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total = (to - from).max(1) as f64;
    for (k, d) in parts.iter().take(6) {
        ui.label(format!("{k}: {:.0}%", *d as f64 / total * 100.0));
    }
}

impl TimelineState {
    /// Selects goroutine `g` (index) as a whole, expands its section and group, scrolls its
    /// lane into view in the next frame and shows its lifetime.
    pub fn reveal_goroutine(&mut self, model: &TraceModel, g: usize) {
        let Some((row, from, to)) = item_extent(model, &Item::Goroutine(g)) else {
            return;
        };
        self.selected = Some(Item::Goroutine(g));
        self.set_collapsed(model, Header::Section(Section::Goroutines), false);
        if let Some(gr) = model.group_of(g) {
            self.set_collapsed(model, Header::Group(gr), false);
        }
        let start = model.timelines().start;
        self.view
            .show_range((from - start) as f64, (to - start) as f64, 0.05);
        self.reveal = Some(row);
    }
}

/// The size the timeline would like (it takes what it is given).
pub fn min_size() -> Vec2 {
    vec2(GUTTER_W + 200.0, RULER_H + 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_blocks_keep_the_dominant_colour() {
        let mut p = Pending::default();
        let red = Color32::RED;
        let blue = Color32::BLUE;
        p.add(0.0, 0.5, 0, 10, Some(Look { color: red }));
        p.add(0.5, 1.0, 10, 40, Some(Look { color: blue }));
        p.add(1.0, 2.0, 40, 50, None);
        assert_eq!(p.count, 3);
        assert_eq!(p.busy, 40);
        let best = p.colors.iter().max_by_key(|c| c.1).map(|c| c.0);
        assert_eq!(best, Some(blue));
    }
}

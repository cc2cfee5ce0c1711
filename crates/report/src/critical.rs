//! The critical-path report: what the time of a goroutine interval, a task or a region
//! went to, following the goroutines that released it; for every task (or region) of a
//! type, the slowest 1% beside the median.

use serde::Serialize;

use goroscope_analysis::critical::{
    Breakdown, Category, CategoryTotals, CriticalPath, Link, PathBrief, Segment, SiteTime, Target,
};
use goroscope_trace::Trace;
use goroscope_trace::timeline::Timelines;

use crate::doc::{Document, Section, Table, Value};
use crate::model::{SCHEMA_VERSION, SiteOut, TraceInfo, describe, limit};

/// Time per category of a critical path, in nanoseconds (JSON keys end in `_ns`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Categories {
    /// Running on a P.
    #[serde(rename = "running_ns")]
    pub running: i64,
    /// Running a GC mark assist.
    #[serde(rename = "gc_assist_ns")]
    pub gc_assist: i64,
    /// Runnable, waiting for a P.
    #[serde(rename = "sched_latency_ns")]
    pub sched_latency: i64,
    /// In a syscall.
    #[serde(rename = "syscall_ns")]
    pub syscall: i64,
    /// Stopped by the world stopping.
    #[serde(rename = "stw_ns")]
    pub stw: i64,
    /// Waiting for the runtime (timers, network poller).
    #[serde(rename = "runtime_wait_ns")]
    pub runtime_wait: i64,
    /// Waiting, and who released it is not in the trace.
    #[serde(rename = "blocked_ns")]
    pub blocked: i64,
    /// State not known.
    #[serde(rename = "unknown_ns")]
    pub unknown: i64,
}

impl From<&CategoryTotals> for Categories {
    fn from(c: &CategoryTotals) -> Self {
        Self {
            running: c.get(Category::Running),
            gc_assist: c.get(Category::GcAssist),
            sched_latency: c.get(Category::SchedLatency),
            syscall: c.get(Category::Syscall),
            stw: c.get(Category::Stw),
            runtime_wait: c.get(Category::RuntimeWait),
            blocked: c.get(Category::Blocked),
            unknown: c.get(Category::Unknown),
        }
    }
}

impl Categories {
    /// `(name, time)` in [`Category::ALL`] order.
    pub fn list(&self) -> [(&'static str, i64); 8] {
        [
            (Category::Running.name(), self.running),
            (Category::GcAssist.name(), self.gc_assist),
            (Category::SchedLatency.name(), self.sched_latency),
            (Category::Syscall.name(), self.syscall),
            (Category::Stw.name(), self.stw),
            (Category::RuntimeWait.name(), self.runtime_wait),
            (Category::Blocked.name(), self.blocked),
            (Category::Unknown.name(), self.unknown),
        ]
    }

    /// The sum.
    pub fn total(&self) -> i64 {
        self.list().iter().map(|x| x.1).sum()
    }
}

/// A function's share of critical-path time.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SiteShare {
    /// The function and line.
    pub site: Option<SiteOut>,
    /// All categories.
    pub total_ns: i64,
    /// Per category.
    pub categories: Categories,
}

fn sites(t: &Timelines, s: &[SiteTime], top: usize) -> Vec<SiteShare> {
    s.iter()
        .take(limit(s.len(), top))
        .map(|x| SiteShare {
            site: SiteOut::of(t, x.site),
            total_ns: x.total,
            categories: (&x.by_category).into(),
        })
        .collect()
}

/// One stretch of a path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SegmentOut {
    /// The goroutine.
    pub goroutine: i64,
    /// `running`, `sched latency`, …
    pub category: &'static str,
    /// Start.
    pub start_ns: i64,
    /// End.
    pub end_ns: i64,
    /// Where the goroutine was.
    pub site: Option<SiteOut>,
    /// The block, stop or STW reason, if any.
    pub reason: String,
    /// How the path goes on: `continue`, `blocked`, `released`, `created`, `end`.
    pub next: &'static str,
}

/// What a path is the path of.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TargetOut {
    /// `goroutine`, `task` or `region`.
    pub kind: &'static str,
    /// The goroutine the path ends on.
    pub goroutine: i64,
    /// The task or region type, or the goroutine's start function.
    pub name: String,
}

/// One critical path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PathOut {
    /// What it is the path of.
    pub target: TargetOut,
    /// Start of the interval.
    pub start_ns: i64,
    /// End of the interval.
    pub end_ns: i64,
    /// Time per category (sums to the interval).
    pub categories: Categories,
    /// Time per function, most first.
    pub by_site: Vec<SiteShare>,
    /// The goroutines it passes through.
    pub goroutines: Vec<i64>,
    /// How many segments it has.
    pub segment_count: usize,
    /// The longest segments, in time order.
    pub segments: Vec<SegmentOut>,
}

fn link(l: Link) -> &'static str {
    match l {
        Link::Continue => "continue",
        Link::Blocked => "blocked",
        Link::Released => "released",
        Link::Created => "created",
        Link::End => "end",
    }
}

impl PathOut {
    /// Resolves a path, keeping its `top` longest segments and sites (0 = all).
    pub fn of(t: &Timelines, p: &CriticalPath, top: usize) -> Self {
        Self::of_brief(t, &p.brief(t, top), top)
    }

    /// Resolves a path in brief, keeping its `top` longest segments (of those it has) and
    /// its `top` sites (0 = all).
    pub fn of_brief(t: &Timelines, p: &PathBrief, top: usize) -> Self {
        let rel = |x: i64| x - t.start;
        let mut longest: Vec<&(usize, Segment)> = p.longest.iter().collect();
        let keep = limit(longest.len(), top);
        if keep < longest.len() {
            // The longest first, then the earliest; then back in time order.
            longest.sort_by_key(|(i, s)| (std::cmp::Reverse(s.duration()), *i));
            longest.truncate(keep);
            longest.sort_by_key(|(i, _)| *i);
        }
        let (kind, goroutine, name) = match p.target {
            Target::Goroutine { g, .. } => (
                "goroutine",
                g,
                t.goroutine(g)
                    .map(|g| t.strings.lossy(g.name).into_owned())
                    .unwrap_or_default(),
            ),
            Target::Task(i) => {
                let task = &t.tasks[i as usize];
                ("task", task.end_g, t.strings.lossy(task.kind).into_owned())
            }
            Target::Region { g, index } => (
                "region",
                g,
                t.goroutine(g)
                    .and_then(|x| x.regions.get(index as usize))
                    .map(|r| t.strings.lossy(r.kind).into_owned())
                    .unwrap_or_default(),
            ),
        };
        Self {
            target: TargetOut {
                kind,
                goroutine,
                name,
            },
            start_ns: rel(p.start),
            end_ns: rel(p.end),
            categories: (&p.totals).into(),
            by_site: sites(t, &p.by_site, top),
            goroutines: p.goroutines.clone(),
            segment_count: p.segment_count,
            segments: longest
                .into_iter()
                .map(|(_, s)| SegmentOut {
                    goroutine: s.g,
                    category: s.category.name(),
                    start_ns: rel(s.start),
                    end_ns: rel(s.end),
                    site: SiteOut::of_stack(t, s.stack),
                    reason: t.strings.lossy(s.reason).into_owned(),
                    next: link(s.next),
                })
                .collect(),
        }
    }
}

/// Every task or region of one type.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BreakdownOut {
    /// `task` or `region`.
    pub kind: &'static str,
    /// The type name.
    pub name: String,
    /// How many have a path.
    pub count: usize,
    /// How many have none (did not end in the trace).
    pub skipped: usize,
    /// Their durations.
    pub duration: crate::model::Dist,
    /// The mean time per category over all of them.
    pub mean: Categories,
    /// The median one's time per category.
    pub median: Categories,
    /// The median one's duration.
    pub median_ns: i64,
    /// How many make the slowest 1%.
    pub slowest_count: usize,
    /// Their mean time per category.
    pub slowest_mean: Categories,
    /// Their time per function, summed, most first.
    pub slowest_sites: Vec<SiteShare>,
    /// The slowest one's path.
    pub slowest: Option<PathOut>,
}

impl BreakdownOut {
    /// Resolves a breakdown of tasks (`kind` = `task`) or regions. The slowest path shows
    /// the longest segments its brief kept: the finder should keep `top`
    /// ([`goroscope_analysis::critical::PathFinder::keeping`]).
    pub fn of(t: &Timelines, kind: &'static str, b: &Breakdown, top: usize) -> Self {
        Self {
            kind,
            name: t.strings.lossy(b.kind).into_owned(),
            count: b.paths.len(),
            skipped: b.skipped,
            duration: b.duration.into(),
            mean: (&b.mean).into(),
            median: (&b.median.totals).into(),
            median_ns: b.median.duration,
            slowest_count: b.slowest.paths.len(),
            slowest_mean: (&b.slowest.mean).into(),
            slowest_sites: sites(t, &b.slowest.sites, top),
            slowest: Some(PathOut::of_brief(t, &b.slowest.path, top)),
        }
    }
}

/// The critical-path report (`goroscope critical-path`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CriticalReport {
    /// `goroscope.critical_path`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The trace.
    pub trace: TraceInfo,
    /// Single paths (of a goroutine interval).
    pub paths: Vec<PathOut>,
    /// Breakdowns of task or region types.
    pub breakdowns: Vec<BreakdownOut>,
}

impl CriticalReport {
    /// A report of paths and breakdowns.
    pub fn new(
        trace: &Trace,
        path: &str,
        paths: Vec<PathOut>,
        breakdowns: Vec<BreakdownOut>,
    ) -> Self {
        Self {
            schema: "goroscope.critical_path",
            schema_version: SCHEMA_VERSION,
            trace: TraceInfo::of(trace, path),
            paths,
            breakdowns,
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let mut sections = vec![self.trace.section()];
        for p in &self.paths {
            path_sections(&mut sections, p, "");
        }
        for b in &self.breakdowns {
            let mut cats = Table::new(
                &format!("{}:{}:categories", b.kind, b.name),
                &[
                    ("category", "category"),
                    ("mean_ns", "mean"),
                    ("median_ns", "median"),
                    ("slowest_mean_ns", "slowest 1% (mean)"),
                    ("slowest_share", "share of slowest"),
                ],
            );
            let slow_total = b.slowest_mean.total().max(1) as f64;
            for ((name, mean), ((_, median), (_, slow))) in b
                .mean
                .list()
                .into_iter()
                .zip(b.median.list().into_iter().zip(b.slowest_mean.list()))
            {
                if mean == 0 && median == 0 && slow == 0 {
                    continue;
                }
                cats.row(vec![
                    Value::text(name),
                    Value::Dur(mean),
                    Value::Dur(median),
                    Value::Dur(slow),
                    Value::Frac(slow as f64 / slow_total),
                ]);
            }
            sections.push(
                Section::new(format!(
                    "{} {:?}: {} with a path{} — where the time of the slowest 1% went, beside the median",
                    if b.kind == "task" { "Tasks" } else { "Regions" },
                    b.name,
                    b.count,
                    if b.skipped > 0 {
                        format!(" ({} did not end in the trace)", b.skipped)
                    } else {
                        String::new()
                    }
                ))
                .fact(
                    "duration",
                    format!(
                        "median {}, p90 {}, p99 {}, max {}",
                        crate::units::duration(b.duration.p50_ns),
                        crate::units::duration(b.duration.p90_ns),
                        crate::units::duration(b.duration.p99_ns),
                        crate::units::duration(b.duration.max_ns),
                    ),
                )
                .with_table(cats, "no time"),
            );
            sections.push(
                Section::new(format!(
                    "Where the slowest {} {:?} spent their critical path (by function)",
                    b.slowest_count, b.name
                ))
                .with_table(
                    site_table(
                        &format!("{}:{}:slowest_sites", b.kind, b.name),
                        &b.slowest_sites,
                    ),
                    "none",
                ),
            );
        }
        if self.paths.is_empty() && self.breakdowns.is_empty() {
            sections.push(Section::new("Critical path").note("nothing to analyse"));
        }
        Document { sections }
    }
}

fn site_table(key: &str, sites: &[SiteShare]) -> Table {
    let mut t = Table::new(
        key,
        &[
            ("site", "function"),
            ("total_ns", "time"),
            ("running_ns", "running"),
            ("sched_latency_ns", "sched latency"),
            ("waiting_ns", "waiting"),
            ("other_ns", "other"),
        ],
    );
    for s in sites {
        let c = &s.categories;
        let waiting = c.runtime_wait + c.blocked;
        let other = s.total_ns - c.running - c.sched_latency - waiting;
        t.row(vec![
            Value::text(describe(s.site.as_ref(), "(no stack)")),
            Value::Dur(s.total_ns),
            Value::Dur(c.running),
            Value::Dur(c.sched_latency),
            Value::Dur(waiting),
            Value::Dur(other),
        ]);
    }
    t
}

fn path_sections(sections: &mut Vec<Section>, p: &PathOut, prefix: &str) {
    let total = (p.end_ns - p.start_ns).max(1) as f64;
    let mut cats = Table::new(
        &format!("{prefix}categories"),
        &[
            ("category", "category"),
            ("time_ns", "time"),
            ("share", "share"),
        ],
    );
    for (name, d) in p.categories.list() {
        if d > 0 {
            cats.row(vec![
                Value::text(name),
                Value::Dur(d),
                Value::Frac(d as f64 / total),
            ]);
        }
    }
    sections.push(
        Section::new(format!(
            "Critical path of {} {} ({}), {} from {} to {}",
            p.target.kind,
            if p.target.kind == "goroutine" {
                p.target.goroutine.to_string()
            } else {
                format!("{:?}", p.target.name)
            },
            if p.target.kind == "goroutine" {
                p.target.name.clone()
            } else {
                format!("ended on goroutine {}", p.target.goroutine)
            },
            crate::units::duration(p.end_ns - p.start_ns),
            crate::units::duration(p.start_ns),
            crate::units::duration(p.end_ns),
        ))
        .fact(
            "goroutines",
            format!(
                "{} on the path; {} segments",
                p.goroutines.len(),
                p.segment_count
            ),
        )
        .with_table(cats, "empty interval"),
    );
    sections.push(
        Section::new("Time on the path by function")
            .with_table(site_table(&format!("{prefix}sites"), &p.by_site), "none"),
    );
    let mut segs = Table::new(
        &format!("{prefix}segments"),
        &[
            ("start_ns", "at"),
            ("duration_ns", "for"),
            ("goroutine", "G"),
            ("category", "what"),
            ("reason", "why"),
            ("next", "then"),
            ("site", "where"),
        ],
    );
    for s in &p.segments {
        segs.row(vec![
            Value::Time(s.start_ns),
            Value::Dur(s.end_ns - s.start_ns),
            Value::Int(s.goroutine),
            Value::text(s.category),
            Value::text(&s.reason),
            Value::text(s.next),
            Value::text(describe(s.site.as_ref(), "")),
        ]);
    }
    sections.push(
        Section::new(format!(
            "The longest {} of {} segments, in time order",
            p.segments.len(),
            p.segment_count
        ))
        .with_table(segs, "none"),
    );
}

//! Parts every report model shares: the trace it describes, sites, stacks, distributions,
//! findings. Field names and units are those of `docs/json-schema.md`.

use serde::Serialize;

use goroscope_analysis::blocking;
use goroscope_analysis::findings::{Finding, Severity};
use goroscope_analysis::summary::Distribution;
use goroscope_trace::Trace;
use goroscope_trace::timeline::{StackId, Timelines};

use crate::doc::{Section, Table, Tone, Value};

/// The version of every JSON document goroscope writes; bumped when a field changes meaning
/// or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// What the report is about: the trace file and what was read of it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TraceInfo {
    /// The path as given.
    pub path: String,
    /// The format (`go 1.27`).
    pub format: String,
    /// File size.
    pub bytes: u64,
    /// Events read.
    pub events: u64,
    /// The time of the first event on the trace clock; every other time in a report is
    /// relative to it.
    pub start_ns: i64,
    /// From the first to the last event.
    pub duration_ns: i64,
    /// Ps seen.
    pub procs: usize,
    /// Threads seen.
    pub threads: usize,
    /// Goroutines seen.
    pub goroutines: usize,
    /// Parts of the trace that could not be read.
    pub warnings: Vec<WarningInfo>,
}

/// A part of the trace that could not be read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WarningInfo {
    /// What happened, as the loader says it.
    pub message: String,
    /// Byte offset where the lost part starts.
    pub lost_from: u64,
    /// Byte offset where it ends.
    pub lost_to: u64,
    /// The generation lost, when known.
    pub generation: Option<u64>,
    /// Whether reading resumed after it.
    pub resumed: bool,
}

impl TraceInfo {
    /// Describes a loaded trace.
    pub fn of(trace: &Trace, path: &str) -> Self {
        let t = &trace.timelines;
        Self {
            path: path.to_owned(),
            format: trace.version.to_string(),
            bytes: trace.size,
            events: trace.events,
            start_ns: t.start,
            duration_ns: t.end - t.start,
            procs: t.procs.len(),
            threads: t.threads.len(),
            goroutines: t.goroutines.len(),
            warnings: trace
                .warnings
                .iter()
                .map(|w| WarningInfo {
                    message: w.to_string(),
                    lost_from: w.lost_from,
                    lost_to: w.lost_to,
                    generation: w.generation,
                    resumed: w.resumed,
                })
                .collect(),
        }
    }

    /// The facts of the trace, for the top of a document.
    pub fn section(&self) -> Section {
        let mut s = Section::new("")
            .fact("trace", self.path.as_str())
            .fact(
                "format",
                format!(
                    "{} ({} events, {})",
                    self.format,
                    self.events,
                    crate::units::bytes(self.bytes)
                ),
            )
            .fact(
                "span",
                format!(
                    "{} on {} Ps and {} threads; {} goroutines",
                    crate::units::duration(self.duration_ns),
                    self.procs,
                    self.threads,
                    self.goroutines
                ),
            );
        if !self.warnings.is_empty() {
            s = s.fact(
                "damaged",
                Value::text(format!(
                    "{} part(s) could not be read (see the warnings); results are from the rest",
                    self.warnings.len()
                ))
                .tone(Tone::Warn),
            );
        }
        s
    }
}

/// A source location: a function and a line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteOut {
    /// The function.
    pub function: String,
    /// The file.
    pub file: String,
    /// The line.
    pub line: u32,
}

impl SiteOut {
    /// Resolves a site; `None` for an unknown one.
    pub fn of(t: &Timelines, s: blocking::Site) -> Option<Self> {
        (s != blocking::Site::UNKNOWN).then(|| Self {
            function: t.strings.lossy(s.func).into_owned(),
            file: t.strings.lossy(s.file).into_owned(),
            line: s.line,
        })
    }

    /// The site of a stack (its innermost frame outside the runtime's blocking primitives).
    pub fn of_stack(t: &Timelines, stack: StackId) -> Option<Self> {
        Self::of(t, blocking::site_of(t, stack))
    }

    /// `function (file:line)`.
    pub fn describe(&self) -> String {
        format!("{} ({}:{})", self.function, self.file, self.line)
    }

    /// `function (file-name:line)`, without the file's directories (for chart labels).
    pub fn short(&self) -> String {
        let base = self.file.rsplit('/').next().unwrap_or(&self.file);
        format!("{} ({base}:{})", self.function, self.line)
    }
}

/// Describes an optional site, with `none` for an unknown one.
pub fn describe(site: Option<&SiteOut>, none: &str) -> String {
    site.map_or_else(|| none.to_owned(), SiteOut::describe)
}

/// The frames of a stack, innermost first.
pub fn frames(t: &Timelines, stack: StackId) -> Vec<SiteOut> {
    t.stacks
        .frames(stack)
        .map(|f| SiteOut {
            function: t.strings.lossy(f.func).into_owned(),
            file: t.strings.lossy(f.file).into_owned(),
            line: f.line,
        })
        .collect()
}

/// A distribution of durations.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Dist {
    /// The sum.
    pub total_ns: i64,
    /// The median.
    pub p50_ns: i64,
    /// The 90th percentile.
    pub p90_ns: i64,
    /// The 99th percentile.
    pub p99_ns: i64,
    /// The largest.
    pub max_ns: i64,
}

impl From<Distribution> for Dist {
    fn from(d: Distribution) -> Self {
        Self {
            total_ns: d.total,
            p50_ns: d.p50,
            p90_ns: d.p90,
            p99_ns: d.p99,
            max_ns: d.max,
        }
    }
}

impl Dist {
    /// The column keys and titles of a distribution, after a count column.
    pub const COLUMNS: [(&'static str, &'static str); 5] = [
        ("total_ns", "total"),
        ("p50_ns", "p50"),
        ("p90_ns", "p90"),
        ("p99_ns", "p99"),
        ("max_ns", "max"),
    ];

    /// The five values, for a table row.
    pub fn cells(&self) -> [Value; 5] {
        [
            Value::Dur(self.total_ns),
            Value::Dur(self.p50_ns),
            Value::Dur(self.p90_ns),
            Value::Dur(self.p99_ns),
            Value::Dur(self.max_ns),
        ]
    }
}

/// The columns `(key, title)` of `first` followed by a count and a distribution.
pub fn dist_columns<'a>(first: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut c = first.to_vec();
    c.push(("count", "count"));
    c.extend(Dist::COLUMNS);
    c
}

/// Where a finding points.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct TargetOut {
    /// Start of the time range to look at.
    pub start_ns: i64,
    /// Its end.
    pub end_ns: i64,
    /// The goroutine to look at, if one is central.
    pub goroutine: Option<i64>,
}

/// What backs a finding.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct EvidenceOut {
    /// Time ranges `[start_ns, end_ns]`.
    pub ranges: Vec<[i64; 2]>,
    /// Goroutine IDs.
    pub goroutines: Vec<i64>,
    /// Source locations.
    pub sites: Vec<SiteOut>,
    /// Stacks, innermost frame first.
    pub stacks: Vec<Vec<SiteOut>>,
}

/// One finding of the rule engine.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingOut {
    /// The rule (its name in the configuration file).
    pub rule: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// What was found, in one line.
    pub title: String,
    /// Where to look.
    pub target: TargetOut,
    /// What shows it.
    pub evidence: EvidenceOut,
}

impl FindingOut {
    /// Resolves a finding; times become relative to the trace start.
    pub fn of(t: &Timelines, f: &Finding) -> Self {
        let rel = |x: i64| x - t.start;
        Self {
            rule: f.rule.to_owned(),
            severity: f.severity.to_string(),
            title: f.title.clone(),
            target: TargetOut {
                start_ns: rel(f.target.start),
                end_ns: rel(f.target.end),
                goroutine: f.target.goroutine,
            },
            evidence: EvidenceOut {
                ranges: f
                    .evidence
                    .ranges
                    .iter()
                    .map(|&(a, b)| [rel(a), rel(b)])
                    .collect(),
                goroutines: f.evidence.goroutines.clone(),
                sites: f
                    .evidence
                    .sites
                    .iter()
                    .filter_map(|&s| SiteOut::of(t, s))
                    .collect(),
                stacks: f.evidence.stacks.iter().map(|&s| frames(t, s)).collect(),
            },
        }
    }
}

/// The tone of a severity.
pub fn severity_tone(s: &str) -> Tone {
    match s {
        "error" => Tone::Bad,
        "warning" => Tone::Warn,
        _ => Tone::Plain,
    }
}

/// The severity named `s` (`info`, `warning`, `error`).
pub fn parse_severity(s: &str) -> Option<Severity> {
    match s {
        "info" => Some(Severity::Info),
        "warning" => Some(Severity::Warning),
        "error" => Some(Severity::Error),
        _ => None,
    }
}

/// A table of findings: severity, rule, title, where.
pub fn findings_table(findings: &[FindingOut]) -> Table {
    let mut t = Table::new(
        "findings",
        &[
            ("severity", "severity"),
            ("rule", "rule"),
            ("at_ns", "at"),
            ("title", "finding"),
        ],
    );
    for f in findings {
        t.row(vec![
            Value::text(&f.severity).tone(severity_tone(&f.severity)),
            Value::text(&f.rule),
            Value::Time(f.target.start_ns),
            Value::text(&f.title),
        ]);
    }
    t
}

/// `n` truncated to `top` (0 = all).
pub fn limit(n: usize, top: usize) -> usize {
    if top == 0 { n } else { n.min(top) }
}

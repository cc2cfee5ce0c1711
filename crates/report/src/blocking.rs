//! The blocking report: where goroutines waited, who released them from where, lock convoys
//! and goroutines still blocked at the end.

use serde::Serialize;

use goroscope_analysis::blocking::{Blocking, Group, Site};
use goroscope_trace::Trace;
use goroscope_trace::timeline::Timelines;

use crate::doc::{Document, Section, Table, Tone, Value};
use crate::model::{Dist, SCHEMA_VERSION, SiteOut, TraceInfo, describe, dist_columns, limit};

/// Waits grouped under one key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WaitGroup<K> {
    /// What the waits share.
    #[serde(flatten)]
    pub key: K,
    /// How many waits.
    pub count: u64,
    /// How long they lasted (open waits count up to the end of the trace).
    #[serde(flatten)]
    pub duration: Dist,
}

/// A reason key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReasonKey {
    /// Go's block reason (`chan receive`, `sync`, `select`, …).
    pub reason: String,
}

/// A blocking-site key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SiteKey {
    /// Where goroutines waited; `null` when no stack was recorded.
    pub site: Option<SiteOut>,
}

/// A releaser-site key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReleaserKey {
    /// Where the releasing goroutine was when it released the waiter.
    pub releaser: Option<SiteOut>,
}

/// A (blocking site, releaser site) key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PairKey {
    /// Where goroutines waited.
    pub site: Option<SiteOut>,
    /// Who released them from where; `null` for the runtime (timers, network poller) or
    /// goroutines still waiting.
    pub releaser: Option<SiteOut>,
}

/// Goroutines waiting at one site at once.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Convoy {
    /// The blocking site.
    pub site: Option<SiteOut>,
    /// The most goroutines waiting there at the same time.
    pub peak: u32,
    /// When that peak was first reached.
    pub at_ns: i64,
    /// Time-weighted mean number of waiters while any waited.
    pub mean_waiters: f64,
    /// Waits at the site that ended in the trace.
    pub released: u64,
}

/// Where the leaked goroutines were created.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CreatedAt {
    /// The `go` statement's site.
    pub site: Option<SiteOut>,
    /// How many of them.
    pub count: u32,
}

/// Goroutines still blocked at one site at the end of the trace.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Leak {
    /// Where they wait.
    pub site: Option<SiteOut>,
    /// Why.
    pub reason: String,
    /// How many.
    pub count: usize,
    /// Their IDs, sorted.
    pub goroutines: Vec<i64>,
    /// Where they were created, most common first.
    pub created_at: Vec<CreatedAt>,
    /// The longest any of them has waited.
    pub longest_ns: i64,
}

/// The blocking report (`goroscope blocking`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BlockingReport {
    /// `goroscope.blocking`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The trace.
    pub trace: TraceInfo,
    /// Every wait in the trace.
    pub waits: u64,
    /// Their total duration.
    pub waited_ns: i64,
    /// Waits still open at the end.
    pub open_waits: u64,
    /// By reason, most time first.
    pub by_reason: Vec<WaitGroup<ReasonKey>>,
    /// By blocking site, most time first.
    pub by_site: Vec<WaitGroup<SiteKey>>,
    /// By the releaser's site (waits released by a goroutine), most time first.
    pub by_releaser: Vec<WaitGroup<ReleaserKey>>,
    /// By (blocking site, releaser site), most time first.
    pub by_pair: Vec<WaitGroup<PairKey>>,
    /// Sites where two or more goroutines waited at once and waits were handed off (at
    /// least one ended), highest peak first.
    pub convoys: Vec<Convoy>,
    /// Goroutines still blocked when the trace ended, by site and reason, most first.
    pub leaks: Vec<Leak>,
}

fn groups<K, O>(gs: &[Group<K>], top: usize, mut key: impl FnMut(&K) -> O) -> Vec<WaitGroup<O>> {
    gs.iter()
        .take(limit(gs.len(), top))
        .map(|g| WaitGroup {
            key: key(&g.key),
            count: g.stats.count,
            duration: g.stats.duration.into(),
        })
        .collect()
}

impl BlockingReport {
    /// Builds the report, keeping the first `top` rows of each list (0 = all).
    pub fn build(trace: &Trace, path: &str, b: &Blocking, top: usize) -> Self {
        let t: &Timelines = &trace.timelines;
        let site = |s: Site| SiteOut::of(t, s);
        let convoys: Vec<&goroscope_analysis::blocking::Congestion> = b
            .congestion
            .iter()
            .filter(|c| c.peak >= 2 && c.released > 0)
            .collect();
        Self {
            schema: "goroscope.blocking",
            schema_version: SCHEMA_VERSION,
            trace: TraceInfo::of(trace, path),
            waits: b.waits.len() as u64,
            waited_ns: b.waits.iter().map(|w| w.duration(t.end)).sum(),
            open_waits: b.waits.iter().filter(|w| w.end.is_none()).count() as u64,
            by_reason: groups(&b.by_reason, top, |r| ReasonKey {
                reason: t.strings.lossy(*r).into_owned(),
            }),
            by_site: groups(&b.by_site, top, |s| SiteKey { site: site(*s) }),
            by_releaser: groups(&b.by_releaser, top, |s| ReleaserKey { releaser: site(*s) }),
            by_pair: groups(&b.by_pair, top, |(s, r)| PairKey {
                site: site(*s),
                releaser: site(*r),
            }),
            convoys: convoys
                .iter()
                .take(limit(convoys.len(), top))
                .map(|c| Convoy {
                    site: site(c.site),
                    peak: c.peak,
                    at_ns: c.at - t.start,
                    mean_waiters: (c.mean * 100.0).round() / 100.0,
                    released: c.released,
                })
                .collect(),
            leaks: b
                .leaks
                .iter()
                .take(limit(b.leaks.len(), top))
                .map(|l| Leak {
                    site: site(l.site),
                    reason: t.strings.lossy(l.reason).into_owned(),
                    count: l.goroutines.len(),
                    goroutines: l.goroutines.clone(),
                    created_at: l
                        .created_at
                        .iter()
                        .map(|&(s, n)| CreatedAt {
                            site: site(s),
                            count: n,
                        })
                        .collect(),
                    longest_ns: l.longest,
                })
                .collect(),
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let mut sections = vec![self.trace.section().fact(
            "waits",
            format!(
                "{} waits, {} in all; {} still waiting at the end",
                self.waits,
                crate::units::duration(self.waited_ns),
                self.open_waits
            ),
        )];
        let reasons = table_of("by_reason", &[("reason", "reason")], &self.by_reason, |k| {
            vec![Value::text(reason_label(&k.reason))]
        });
        sections.push(
            Section::new("Waiting by reason (most time first)").with_table(reasons, "no waits"),
        );
        let sites = table_of(
            "by_site",
            &[("site", "blocking site")],
            &self.by_site,
            |k| vec![Value::text(describe(k.site.as_ref(), "(no stack)"))],
        );
        sections.push(
            Section::new("Where goroutines waited (blocking sites, most time first)")
                .with_table(sites, "no waits"),
        );
        let releasers = table_of(
            "by_releaser",
            &[("releaser", "releaser site")],
            &self.by_releaser,
            |k| vec![Value::text(describe(k.releaser.as_ref(), "(no stack)"))],
        );
        sections.push(
            Section::new("Who released them (releaser sites, most time first)")
                .with_table(releasers, "no wait was ended by another goroutine"),
        );
        let pairs = table_of(
            "by_pair",
            &[("site", "blocking site"), ("releaser", "released from")],
            &self.by_pair,
            |k| {
                vec![
                    Value::text(describe(k.site.as_ref(), "(no stack)")),
                    Value::text(describe(k.releaser.as_ref(), "(runtime, or still waiting)")),
                ]
            },
        );
        sections.push(
            Section::new("Blocking site and releaser pairs (most time first)")
                .with_table(pairs, "no waits"),
        );
        let mut convoys = Table::new(
            "convoys",
            &[
                ("site", "site"),
                ("peak", "peak waiters"),
                ("mean_waiters", "mean"),
                ("released", "released"),
                ("at_ns", "peak at"),
            ],
        );
        for c in &self.convoys {
            convoys.row(vec![
                Value::text(describe(c.site.as_ref(), "(no stack)")),
                Value::Int(i64::from(c.peak)),
                Value::Float(c.mean_waiters, 2),
                Value::Int(c.released as i64),
                Value::Time(c.at_ns),
            ]);
        }
        sections.push(
            Section::new("Convoys: goroutines waiting at one site at once (highest peak first)")
                .with_table(convoys, "no site had two goroutines waiting at once"),
        );
        let mut leaks = Table::new(
            "leaks",
            &[
                ("site", "site"),
                ("reason", "reason"),
                ("count", "goroutines"),
                ("longest_ns", "longest"),
                ("created_at", "created at"),
            ],
        );
        for l in &self.leaks {
            let created = l
                .created_at
                .first()
                .map(|c| describe(c.site.as_ref(), "(unknown)"))
                .unwrap_or_default();
            leaks.row(vec![
                Value::text(describe(l.site.as_ref(), "(no stack)")),
                Value::text(reason_label(&l.reason)),
                Value::Int(l.count as i64).tone(if l.count >= 3 {
                    Tone::Warn
                } else {
                    Tone::Plain
                }),
                Value::Dur(l.longest_ns),
                Value::text(created),
            ]);
        }
        sections.push(
            Section::new("Still blocked when the trace ended (leak candidates)")
                .with_table(leaks, "no goroutine was blocked at the end"),
        );
        Document { sections }
    }
}

fn table_of<K>(
    key: &str,
    first: &[(&str, &str)],
    rows: &[WaitGroup<K>],
    cells: impl Fn(&K) -> Vec<Value>,
) -> Table {
    let mut t = Table::new(key, &dist_columns(first));
    for g in rows {
        let mut r = cells(&g.key);
        r.push(Value::Int(g.count as i64));
        r.extend(g.duration.cells());
        t.row(r);
    }
    t
}

/// A block reason for people: Go records none for goroutines already blocked when the
/// trace started.
pub fn reason_label(reason: &str) -> &str {
    if reason.is_empty() {
        "(not recorded)"
    } else {
        reason
    }
}

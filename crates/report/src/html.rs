//! The HTML report (`goroscope report`): one self-contained page — inline CSS and SVG, no
//! script, no network — with the findings, the top blocking sites and who released them,
//! the scheduling-latency histogram, P utilization over time, stop-the-world pauses, the
//! critical-path breakdown when there is one, and goroutine groups.

use std::fmt::Write as _;

use crate::blocking::BlockingReport;
use crate::blocking::reason_label;
use crate::critical::{Categories, CriticalReport};
use crate::model::{SiteOut, describe};
use crate::sched::SchedReport;
use crate::summary::SummaryReport;
use crate::svg::{self, Series, esc};
use crate::units::{bytes, duration, percent};

/// What the page shows.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The summary (trace facts, findings, groups).
    pub summary: &'a SummaryReport,
    /// Blocking attribution.
    pub blocking: &'a BlockingReport,
    /// Scheduler diagnostics.
    pub sched: &'a SchedReport,
    /// Critical paths, when the analysis found any.
    pub critical: Option<&'a CriticalReport>,
    /// The program and version that wrote the page (`goroscope 0.1.0`).
    pub generator: &'a str,
}

const CSS: &str = r#"
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa;
        --err:#cf222e; --warn:#9a6700; --ok:#1a7f37; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.sub, p.note { color: var(--muted); margin: 4px 0 10px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; margin: 16px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
.banner { border: 1px solid var(--warn); background: #fff8c5; border-radius: 8px; padding: 10px 12px; margin: 14px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 12.5px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sev { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; }
.sev.error { background: var(--err); } .sev.warning { background: var(--warn); } .sev.info { background: #6e7781; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 8px; margin: 8px 0 14px; background: #fff; }
details { margin: 4px 0 10px; } summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); margin-top: 36px; font-size: 12px; }
"#;

/// Colours of the P utilization series.
const RUNNING: &str = "#2f81f7";
const GC: &str = "#bf8700";
const SYSCALL: &str = "#8250df";
const SCHED: &str = "#57ab5a";
const IDLE: &str = "#d0d7de";

/// The colour of a critical-path category.
pub fn category_color(c: &str) -> &'static str {
    match c {
        "running" => RUNNING,
        "GC assist" => GC,
        "sched latency" => "#e16f24",
        "syscall" => SYSCALL,
        "STW" => "#cf222e",
        "runtime wait" => "#8c959f",
        "blocked" => "#6e7781",
        _ => "#afb8c1",
    }
}

fn table(out: &mut String, header: &[(&str, bool)], rows: &[Vec<String>]) {
    // Narrow tables would spread their few columns over the page.
    out.push_str(if header.len() <= 3 {
        "<table style=\"width:auto;min-width:40%\"><thead><tr>"
    } else {
        "<table><thead><tr>"
    });
    for (h, num) in header {
        let _ = write!(
            out,
            "<th{}>{}</th>",
            if *num { " class=\"n\"" } else { "" },
            esc(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (cell, (_, num)) in r.iter().zip(header) {
            // Cells are escaped by the caller (some hold markup).
            let _ = write!(
                out,
                "<td{}>{cell}</td>",
                if *num { " class=\"n\"" } else { "" }
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn chart(out: &mut String, svg: &str) {
    let _ = write!(out, "<div class=\"chart\">{svg}</div>");
}

fn card(out: &mut String, k: &str, v: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>",
        esc(k),
        esc(v)
    );
}

fn categories_rows(c: &Categories) -> Vec<(&'static str, i64)> {
    c.list().into_iter().filter(|x| x.1 > 0).collect()
}

/// Renders the page.
pub fn render(i: &Inputs<'_>) -> String {
    let s = i.summary;
    let tr = &s.trace;
    let mut o = String::with_capacity(1 << 16);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>goroscope report: {}</title><style>{CSS}</style></head><body><main>",
        esc(&tr.path)
    );
    let _ = write!(
        o,
        "<h1>Why was it slow? <span class=\"mono\" style=\"font-size:16px;font-weight:400\">{}</span></h1><p class=\"sub\">{} trace, {} events, {}; {} on {} Ps and {} threads; {} goroutines, {} alive at the end.</p>",
        esc(&tr.path),
        esc(&tr.format),
        tr.events,
        bytes(tr.bytes),
        duration(tr.duration_ns),
        tr.procs,
        tr.threads,
        tr.goroutines,
        s.alive_at_end
    );
    if !tr.warnings.is_empty() {
        o.push_str("<div class=\"banner\"><strong>Damaged trace.</strong> These parts could not be read; everything below is from the rest:<ul>");
        for w in &tr.warnings {
            let _ = write!(o, "<li class=\"mono\">{}</li>", esc(&w.message));
        }
        o.push_str("</ul></div>");
    }

    // At a glance.
    o.push_str("<div class=\"cards\">");
    let l = &i.sched.latency;
    card(&mut o, "sched latency p99", &duration(l.overall.p99_ns));
    card(&mut o, "sched latency max", &duration(l.overall.max_ns));
    card(
        &mut o,
        "longest stop-the-world",
        &duration(i.sched.stw.duration.max_ns),
    );
    card(
        &mut o,
        "Ps idle while runnable",
        &percent(i.sched.lost_work.fraction),
    );
    card(
        &mut o,
        "Ps busy (goroutines + GC)",
        &percent(s.utilization.running + s.utilization.gc),
    );
    card(
        &mut o,
        "time waited, all goroutines",
        &duration(i.blocking.waited_ns),
    );
    card(
        &mut o,
        "blocked at the end",
        &format!("{} goroutines", i.blocking.open_waits),
    );
    card(&mut o, "findings", &s.findings.len().to_string());
    o.push_str("</div>");

    // Findings.
    o.push_str("<h2 id=\"findings\">Findings</h2>");
    if s.findings.is_empty() {
        o.push_str("<p class=\"note\">Nothing stands out under the default thresholds.</p>");
    } else {
        let rows: Vec<Vec<String>> = s
            .findings
            .iter()
            .map(|f| {
                vec![
                    format!("<span class=\"sev {0}\">{0}</span>", esc(&f.severity)),
                    esc(&f.title),
                    format!("<code>{}</code>", esc(&f.rule)),
                    duration(f.target.start_ns),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("severity", false),
                ("finding", false),
                ("rule", false),
                ("at", true),
            ],
            &rows,
        );
    }

    // Blocking.
    let b = i.blocking;
    o.push_str("<h2 id=\"blocking\">Where goroutines waited, and who released them</h2>");
    let _ = write!(
        o,
        "<p class=\"note\">{} waits, {} in all. A site is the innermost frame outside the runtime and the standard library's blocking primitives; the releaser is the goroutine whose unlock, send or close ended the wait.</p>",
        b.waits,
        duration(b.waited_ns)
    );
    if !b.by_site.is_empty() {
        let rows: Vec<(String, i64, String)> = b
            .by_site
            .iter()
            .take(12)
            .map(|g| {
                let name = describe(g.key.site.as_ref(), "(no stack)");
                let short = g
                    .key
                    .site
                    .as_ref()
                    .map_or_else(|| name.clone(), SiteOut::short);
                let tip = format!(
                    "{name}: {} waits, {} in all, p99 {}",
                    g.count,
                    duration(g.duration.total_ns),
                    duration(g.duration.p99_ns)
                );
                (short, g.duration.total_ns, tip)
            })
            .collect();
        chart(
            &mut o,
            &svg::hbars("Time waited per blocking site", &rows, "#cf222e"),
        );
        o.push_str("<h3>Top blocking sites and their releasers</h3>");
        let mut rows = Vec::new();
        for g in b.by_site.iter().take(10) {
            let releasers: Vec<String> = b
                .by_pair
                .iter()
                .filter(|p| p.key.site == g.key.site)
                .take(3)
                .map(|p| {
                    format!(
                        "<div><code>{}</code> <span class=\"note\">({} waits, {})</span></div>",
                        esc(&describe(
                            p.key.releaser.as_ref(),
                            "the runtime (timer, network poller), or still waiting"
                        )),
                        p.count,
                        duration(p.duration.total_ns)
                    )
                })
                .collect();
            rows.push(vec![
                format!(
                    "<code>{}</code>",
                    esc(&describe(g.key.site.as_ref(), "(no stack)"))
                ),
                g.count.to_string(),
                duration(g.duration.total_ns),
                duration(g.duration.p99_ns),
                releasers.join(""),
            ]);
        }
        table(
            &mut o,
            &[
                ("blocking site", false),
                ("waits", true),
                ("total", true),
                ("p99", true),
                ("released from", false),
            ],
            &rows,
        );
    }
    if !b.by_reason.is_empty() {
        o.push_str("<h3>By reason</h3>");
        let rows: Vec<Vec<String>> = b
            .by_reason
            .iter()
            .map(|g| {
                vec![
                    esc(reason_label(&g.key.reason)),
                    g.count.to_string(),
                    duration(g.duration.total_ns),
                    duration(g.duration.p50_ns),
                    duration(g.duration.p99_ns),
                    duration(g.duration.max_ns),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("reason", false),
                ("waits", true),
                ("total", true),
                ("p50", true),
                ("p99", true),
                ("max", true),
            ],
            &rows,
        );
    }
    if !b.convoys.is_empty() {
        o.push_str("<h3>Convoys: goroutines waiting at one site at once</h3>");
        let rows: Vec<Vec<String>> = b
            .convoys
            .iter()
            .take(10)
            .map(|c| {
                vec![
                    format!(
                        "<code>{}</code>",
                        esc(&describe(c.site.as_ref(), "(no stack)"))
                    ),
                    c.peak.to_string(),
                    format!("{:.2}", c.mean_waiters),
                    c.released.to_string(),
                    duration(c.at_ns),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("site", false),
                ("peak waiters", true),
                ("mean", true),
                ("released", true),
                ("peak at", true),
            ],
            &rows,
        );
    }
    if !b.leaks.is_empty() {
        o.push_str("<h3>Still blocked when the trace ended (leak candidates)</h3>");
        let rows: Vec<Vec<String>> = b
            .leaks
            .iter()
            .take(10)
            .map(|l| {
                vec![
                    format!(
                        "<code>{}</code>",
                        esc(&describe(l.site.as_ref(), "(no stack)"))
                    ),
                    esc(reason_label(&l.reason)),
                    l.count.to_string(),
                    duration(l.longest_ns),
                    l.created_at
                        .first()
                        .map(|c| {
                            format!(
                                "<code>{}</code>",
                                esc(&describe(c.site.as_ref(), "(before the trace)"))
                            )
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                ("site", false),
                ("reason", false),
                ("goroutines", true),
                ("longest", true),
                ("created at", false),
            ],
            &rows,
        );
    }

    // Scheduling latency.
    o.push_str("<h2 id=\"latency\">Scheduling latency</h2>");
    let _ = write!(
        o,
        "<p class=\"note\">How long runnable goroutines waited for a P: {} runs; p50 {}, p90 {}, p99 {}, max {}.</p>",
        l.count,
        duration(l.overall.p50_ns),
        duration(l.overall.p90_ns),
        duration(l.overall.p99_ns),
        duration(l.overall.max_ns)
    );
    if !l.histogram.is_empty() {
        let bars: Vec<(String, u64, String)> = l
            .histogram
            .iter()
            .map(|h| {
                (
                    duration(h.from_ns),
                    h.count,
                    format!(
                        "{} runs waited {} to {}",
                        h.count,
                        duration(h.from_ns),
                        duration(h.to_ns)
                    ),
                )
            })
            .collect();
        chart(
            &mut o,
            &svg::histogram(
                "runs per latency bucket (log scale; each bucket twice as long as the one before)",
                &bars,
                "#e16f24",
            ),
        );
    }
    if l.per_window.iter().any(|w| w.count > 0) {
        o.push_str("<h3>p99 scheduling latency over time</h3><p class=\"note\">Per window of the trace; windows where no goroutine started running are empty.</p>");
        let pts: Vec<(i64, i64)> = l
            .per_window
            .iter()
            .filter(|w| w.count > 0)
            .map(|w| (w.start_ns, w.p99_ns))
            .collect();
        chart(
            &mut o,
            &svg::columns(
                "p99 scheduling latency per window",
                &pts,
                i.sched.window_ns,
                tr.duration_ns,
                "#e16f24",
            ),
        );
    }

    // Utilization.
    o.push_str("<h2 id=\"utilization\">P utilization over time</h2>");
    let u = &i.sched.utilization;
    let _ = write!(
        o,
        "<p class=\"note\">Share of P-time per window of {}: running goroutines {}, GC workers {}, syscalls {}, scheduler {}, idle {}. Ps sat idle while goroutines were runnable for {} of P-time.</p>",
        duration(i.sched.window_ns),
        percent(u.mean.running),
        percent(u.mean.gc),
        percent(u.mean.syscall),
        percent(u.mean.scheduler),
        percent(u.mean.idle),
        percent(i.sched.lost_work.fraction)
    );
    if !u.windows.is_empty() {
        let starts: Vec<i64> = u.windows.iter().map(|w| w.start_ns).collect();
        let series = [
            Series {
                name: "running goroutines",
                color: RUNNING,
                values: u.windows.iter().map(|w| w.running).collect(),
            },
            Series {
                name: "GC workers",
                color: GC,
                values: u.windows.iter().map(|w| w.gc).collect(),
            },
            Series {
                name: "syscalls",
                color: SYSCALL,
                values: u.windows.iter().map(|w| w.syscall).collect(),
            },
            Series {
                name: "scheduler",
                color: SCHED,
                values: u.windows.iter().map(|w| w.scheduler).collect(),
            },
            Series {
                name: "idle",
                color: IDLE,
                values: u.windows.iter().map(|w| w.idle).collect(),
            },
        ];
        chart(
            &mut o,
            &svg::stacked_area(
                "P utilization over time",
                &starts,
                i.sched.window_ns,
                tr.duration_ns,
                &series,
            ),
        );
    }

    // STW.
    let stw = &i.sched.stw;
    o.push_str("<h2 id=\"stw\">Stop-the-world pauses</h2>");
    let _ = write!(
        o,
        "<p class=\"note\">{} pauses, {} in all; p99 {}, longest {}.</p>",
        stw.count,
        duration(stw.duration.total_ns),
        duration(stw.duration.p99_ns),
        duration(stw.duration.max_ns)
    );
    if !stw.pauses.is_empty() {
        let intervals: Vec<(i64, i64, String)> = stw
            .pauses
            .iter()
            .map(|p| {
                (
                    p.start_ns,
                    p.start_ns + p.duration_ns,
                    format!(
                        "{} at {}: {}",
                        duration(p.duration_ns),
                        duration(p.start_ns),
                        p.kind
                    ),
                )
            })
            .collect();
        chart(
            &mut o,
            &svg::strip(
                "stop-the-world pauses",
                &intervals,
                tr.duration_ns,
                "#cf222e",
            ),
        );
        let rows: Vec<Vec<String>> = stw
            .pauses
            .iter()
            .map(|p| vec![duration(p.start_ns), duration(p.duration_ns), esc(&p.kind)])
            .collect();
        table(
            &mut o,
            &[("at", true), ("duration", true), ("kind", false)],
            &rows,
        );
    }

    // MMU.
    if !i.sched.mmu.is_empty() {
        o.push_str("<h3>Minimum mutator utilization</h3><p class=\"note\">The least share of P-time left to goroutines over any window of each length, with GC's stop-the-world pauses, background workers and assists taken out (as <code>go tool trace</code>'s MMU page computes it). Low values at short windows mean GC pauses that requests feel.</p>");
        let rows: Vec<Vec<String>> = i
            .sched
            .mmu
            .iter()
            .map(|p| vec![duration(p.window_ns), percent(p.mmu)])
            .collect();
        table(&mut o, &[("window", true), ("MMU", true)], &rows);
    }

    // Critical path.
    if let Some(c) = i.critical
        && (!c.paths.is_empty() || !c.breakdowns.is_empty())
    {
        o.push_str("<h2 id=\"critical\">Critical path</h2>");
        o.push_str("<p class=\"note\">Walking back from the end, following the goroutine that released each wait (but never past the start of the wait): where the time actually went.</p>");
        for bd in &c.breakdowns {
            let _ = write!(
                o,
                "<h3>{} <code>{}</code>: {} with a path; median {}, p99 {}, max {}</h3>",
                if bd.kind == "task" {
                    "Tasks"
                } else {
                    "Regions"
                },
                esc(&bd.name),
                bd.count,
                duration(bd.duration.p50_ns),
                duration(bd.duration.p99_ns),
                duration(bd.duration.max_ns)
            );
            let rows = vec![
                ("median".to_owned(), categories_rows(&bd.median)),
                ("mean".to_owned(), categories_rows(&bd.mean)),
                (
                    format!("slowest {} (mean)", bd.slowest_count),
                    categories_rows(&bd.slowest_mean),
                ),
            ];
            chart(
                &mut o,
                &svg::stacked_hbars("critical path by category", &rows, &category_color),
            );
            if !bd.slowest_sites.is_empty() {
                let rows: Vec<Vec<String>> = bd
                    .slowest_sites
                    .iter()
                    .take(10)
                    .map(|s| {
                        vec![
                            format!(
                                "<code>{}</code>",
                                esc(&describe(s.site.as_ref(), "(no stack)"))
                            ),
                            duration(s.total_ns),
                            duration(s.categories.running),
                            duration(s.categories.sched_latency),
                            duration(s.categories.runtime_wait + s.categories.blocked),
                        ]
                    })
                    .collect();
                o.push_str(
                    "<p class=\"note\">Where the slowest spent their path, by function:</p>",
                );
                table(
                    &mut o,
                    &[
                        ("function", false),
                        ("time", true),
                        ("running", true),
                        ("sched latency", true),
                        ("waiting", true),
                    ],
                    &rows,
                );
            }
        }
        for p in &c.paths {
            let _ = write!(
                o,
                "<h3>Goroutine {} <code>{}</code>, {} from {} to {}: {} goroutines on the path</h3>",
                p.target.goroutine,
                esc(&p.target.name),
                duration(p.end_ns - p.start_ns),
                duration(p.start_ns),
                duration(p.end_ns),
                p.goroutines.len()
            );
            chart(
                &mut o,
                &svg::stacked_hbars(
                    "critical path by category",
                    &[("path".to_owned(), categories_rows(&p.categories))],
                    &category_color,
                ),
            );
            let rows: Vec<Vec<String>> = p
                .by_site
                .iter()
                .take(10)
                .map(|s| {
                    vec![
                        format!(
                            "<code>{}</code>",
                            esc(&describe(s.site.as_ref(), "(no stack)"))
                        ),
                        duration(s.total_ns),
                        duration(s.categories.running),
                        duration(s.categories.sched_latency),
                        duration(s.categories.runtime_wait + s.categories.blocked),
                    ]
                })
                .collect();
            table(
                &mut o,
                &[
                    ("function", false),
                    ("time", true),
                    ("running", true),
                    ("sched latency", true),
                    ("waiting", true),
                ],
                &rows,
            );
        }
    }

    // Groups.
    o.push_str("<h2 id=\"groups\">Goroutines by start function</h2>");
    let _ = write!(
        o,
        "<p class=\"note\">{} of {} groups, most execution time first.</p>",
        s.groups.len(),
        s.groups_total
    );
    let rows: Vec<Vec<String>> = s
        .groups
        .iter()
        .map(|g| {
            vec![
                format!(
                    "<code>{}</code>",
                    esc(if g.name.is_empty() {
                        "(no stack seen)"
                    } else {
                        &g.name
                    })
                ),
                g.count.to_string(),
                duration(g.running_ns),
                duration(g.sched_wait_ns),
                duration(g.sched_wait_p99_ns),
                duration(g.blocked_ns),
                duration(g.syscall_ns),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            ("start function", false),
            ("count", true),
            ("running", true),
            ("sched wait", true),
            ("p99 wait", true),
            ("blocked", true),
            ("syscall", true),
        ],
        &rows,
    );
    let _ = write!(
        o,
        "<footer>Written by {}. Times are since the first event of the trace. This page needs no network and no script.</footer></main></body></html>",
        esc(i.generator)
    );
    o
}

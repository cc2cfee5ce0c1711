//! CPU cost of one timeline frame, headless, as egui's own benchmarks measure it: layout and
//! painting (`Context::run_ui`) and tessellation (`Context::tessellate`) separately.
//!
//! The trace is `GOROSCOPE_BENCH_TRACE` if set, else the largest `bench-data/*.trace`
//! (made by `just big-traces`, not committed), else the largest bundled fixture. Before
//! measuring, the benchmark prints how many spans the visible lanes hold in each view and
//! the memory of the level-of-detail summaries.

use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Context, RawInput, Rect, Vec2, pos2};
use goroscope_trace::Trace;
use goroscope_ui::{TraceModel, TraceViewer};

const SCREEN: Vec2 = Vec2::new(1600.0, 1000.0);

fn trace_path() -> PathBuf {
    if let Some(p) = std::env::var_os("GOROSCOPE_BENCH_TRACE") {
        return PathBuf::from(p);
    }
    let root = goroscope_testkit::workspace_root();
    let largest = |dir: PathBuf| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "trace"))
            .max_by_key(|p| p.metadata().map_or(0, |m| m.len()))
    };
    largest(root.join("bench-data"))
        .or_else(|| largest(root.join("fixtures").join("traces")))
        .expect("a trace to benchmark")
}

fn input() -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), SCREEN)),
        ..RawInput::default()
    }
}

/// Spans of the P, thread and visible goroutine lanes overlapping the view.
fn spans_in_view(v: &TraceViewer) -> usize {
    let tl = v.model.timelines();
    let a = tl.start + v.timeline.view.start as i64;
    let b = tl.start + v.timeline.view.end as i64;
    let count = |len: usize, i0: Option<usize>, i1: Option<usize>| {
        i1.map_or(0, |e| e + 1)
            .saturating_sub(i0.unwrap_or(0))
            .min(len)
    };
    let p: usize = tl
        .procs
        .iter()
        .map(|p| count(p.spans.len(), p.spans.index_at(a), p.spans.index_at(b)))
        .sum();
    let m: usize = tl
        .threads
        .iter()
        .take(40)
        .map(|t| count(t.spans.len(), t.spans.index_at(a), t.spans.index_at(b)))
        .sum();
    // The busiest goroutines, about as many as fit on screen.
    let mut g: Vec<usize> = tl
        .goroutines
        .iter()
        .map(|g| count(g.spans.len(), g.spans.index_at(a), g.spans.index_at(b)))
        .collect();
    g.sort_unstable_by(|x, y| y.cmp(x));
    p + m + g.iter().take(40).sum::<usize>()
}

fn bench(c: &mut Criterion) {
    let path = trace_path();
    let t = Instant::now();
    let trace = Trace::open(&path).expect("trace loads");
    let size = trace.size;
    let load = t.elapsed();
    let t = Instant::now();
    let model = TraceModel::new(trace);
    let prep = t.elapsed();
    println!(
        "{}: {:.1} MB, loaded in {load:.2?}, timeline prepared in {prep:.2?}; LOD summaries {:.1} MB ({:.3}x the file); {} goroutines, {} Ps, {} threads",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        size as f64 / 1e6,
        model.lod_heap_bytes() as f64 / 1e6,
        model.lod_heap_bytes() as f64 / size as f64,
        model.timelines().goroutines.len(),
        model.timelines().procs.len(),
        model.timelines().threads.len(),
    );
    println!(
        "thread lanes (spans, finest summary ns): {:?}",
        model.thread_lod_info()
    );
    let mut viewer = TraceViewer::new(model);
    // The analyses run on a background thread: let them finish before measuring frames.
    viewer.panels.wait_for_analyses();
    let ctx = Context::default();
    // Warm up fonts and layout caches.
    for _ in 0..3 {
        let out = ctx.run_ui(input(), |ui| viewer.ui(ui));
        ctx.tessellate(out.shapes, out.pixels_per_point);
    }

    breakdown(&ctx, &mut viewer);
    // For profiling one section: GOROSCOPE_BENCH_ONLY=Runtime|Procs|Threads|Goroutines.
    if let Ok(only) = std::env::var("GOROSCOPE_BENCH_ONLY") {
        use goroscope_ui::timeline::{Header, Section};
        for s in [
            Section::Runtime,
            Section::Procs,
            Section::Threads,
            Section::Goroutines,
        ] {
            let h = Header::Section(s);
            if viewer.timeline.is_collapsed(&viewer.model, h) != (s.title() != only) {
                viewer.timeline.toggle(h);
            }
        }
    }
    let views: [(&str, f64); 3] = [
        ("whole trace", 1.0),
        ("zoom 100x", 100.0),
        ("zoom 10000x", 1e4),
    ];
    let mut group = c.benchmark_group("timeline_frame");
    group.sample_size(20);
    for (name, zoom) in views {
        viewer.timeline.view.reset();
        let mid = viewer.timeline.view.span() / 2.0;
        viewer.timeline.view.zoom_at(mid, zoom);
        println!(
            "{name}: about {} spans in the visible lanes",
            spans_in_view(&viewer)
        );
        group.bench_function(format!("{name}: layout+paint"), |b| {
            b.iter(|| ctx.run_ui(input(), |ui| viewer.ui(ui)));
        });
        let out = ctx.run_ui(input(), |ui| viewer.ui(ui));
        println!("{name}: {} shapes", out.shapes.len());
        group.bench_function(format!("{name}: tessellate"), |b| {
            b.iter_batched(
                || out.shapes.clone(),
                |shapes| ctx.tessellate(shapes, out.pixels_per_point),
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

/// Where the whole-trace frame's time goes: the frame with only one section expanded.
fn breakdown(ctx: &Context, viewer: &mut TraceViewer) {
    use goroscope_ui::timeline::{Header, Section};
    let time = |ctx: &Context, viewer: &mut TraceViewer| {
        let t = Instant::now();
        for _ in 0..10 {
            let out = ctx.run_ui(input(), |ui| viewer.ui(ui));
            ctx.tessellate(out.shapes, out.pixels_per_point);
        }
        t.elapsed() / 10
    };
    let sections = [
        Section::Runtime,
        Section::Procs,
        Section::Threads,
        Section::Goroutines,
    ];
    let expand_only = |viewer: &mut TraceViewer, only: Option<Section>| {
        for s in sections {
            let h = Header::Section(s);
            let want_collapsed = Some(s) != only;
            if viewer.timeline.is_collapsed(&viewer.model, h) != want_collapsed {
                viewer.timeline.toggle(h);
            }
        }
    };
    viewer.timeline.view.reset();
    let all = time(ctx, viewer);
    expand_only(viewer, None);
    let none = time(ctx, viewer);
    println!(
        "breakdown (whole trace, layout+paint+tessellation): everything {all:.2?}, all sections collapsed {none:.2?}"
    );
    for s in sections {
        expand_only(viewer, Some(s));
        let t = time(ctx, viewer);
        println!("  only {:<10} expanded: {t:.2?}", s.title());
    }
    let defaults = goroscope_ui::TimelineState::new(&viewer.model);
    for s in sections {
        let h = Header::Section(s);
        if viewer.timeline.is_collapsed(&viewer.model, h) != defaults.is_collapsed(&viewer.model, h)
        {
            viewer.timeline.toggle(h);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The whole-trace dependency graph and the longest path between two events.

use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::Timelines;

use super::spans::{Context, Piece, Segments, Sink, SpanReader, Wake};
use super::{CriticalPath, Link, Target};
use crate::summary::Duration;

/// A node: goroutine `g` at `time` (a boundary of its spans, or an instant another node
/// depends on: a release it made, a wait it was waited on in, a task or region event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// The goroutine.
    pub g: GoId,
    /// The instant.
    pub time: Time,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// The goroutine's own timeline between two of its nodes, inside its span with this
    /// index.
    Span(u32),
    /// The goroutine's timeline before its first span (state unknown).
    BeforeFirstSpan,
    /// From a goroutine waiting at this instant to the goroutine that will release it, at
    /// the same instant (the start of the wait, or any later instant of it at which the
    /// waiter is depended on): the contention-aware entry into the releaser.
    Wait,
    /// From a goroutine releasing another to the released one, at the release; the waiter's
    /// waiting span has this index.
    Release(u32),
    /// From a goroutine to the one it created, at the `go` statement.
    Create,
}

/// An edge: what it is, and how much of the critical path it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dep {
    /// What it stands for.
    pub kind: DepKind,
    /// Its length for the longest path: the span's duration, except 0 for a wait released
    /// by another goroutine (its time is explained by the releaser) and for the instant
    /// edges ([`DepKind::Wait`], [`DepKind::Release`], [`DepKind::Create`]).
    pub weight: Duration,
}

/// Why a dependency graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Dependencies at one instant form a cycle (only in inconsistent traces).
    #[error("dependency cycle through goroutine {g} at {time} ns")]
    Cycle {
        /// A goroutine on the cycle.
        g: GoId,
        /// The instant.
        time: Time,
    },
}

/// A longest path found by [`DependencyGraph::longest_path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPath {
    /// Where it starts.
    pub from: NodeIndex,
    /// Where it ends.
    pub to: NodeIndex,
    /// Its edges, in time order.
    pub edges: Vec<EdgeIndex>,
    /// Its length (the sum of the edges' weights).
    pub weight: Duration,
}

/// The dependency graph of a whole trace (see the [module docs](super)).
#[derive(Debug)]
pub struct DependencyGraph<'t> {
    ctx: Context<'t>,
    graph: DiGraph<Node, Dep>,
    /// Per goroutine index: its first node; one more entry at the end.
    first: Vec<u32>,
    /// The nodes in time order, topologically sorted within an instant.
    order: Vec<NodeIndex>,
    /// Per node: its position in `order`.
    rank: Vec<u32>,
}

/// A wait the path may follow: goroutine `gi` waited over `[start, end)`, released by `by`.
#[derive(Debug, Clone, Copy)]
struct FollowedWait {
    start: Time,
    end: Time,
    by: u32,
    span: u32,
}

impl<'t> DependencyGraph<'t> {
    /// Builds the graph of `t`, with nodes at every task's and region's start and end.
    pub fn build(t: &'t Timelines) -> Result<Self, GraphError> {
        Self::build_with(t, &[])
    }

    /// Builds the graph of `t` with nodes also at `events` (goroutine, instant).
    pub fn build_with(t: &'t Timelines, events: &[(GoId, Time)]) -> Result<Self, GraphError> {
        let ctx = Context::new(t);
        let mut spans = SpanReader::new(t);
        let n = t.goroutines.len();
        // The waits the path follows, per goroutine, and the creations.
        let mut waits: Vec<Vec<FollowedWait>> = vec![Vec::new(); n];
        let mut creations: Vec<(u32, u32, Time)> = Vec::new();
        for gi in 0..n as u32 {
            let g = ctx.goroutine(gi);
            if let Some(tc) = g.created
                && let Some(ci) = ctx.creator(&mut spans, gi, tc)
            {
                creations.push((ci, gi, tc));
            }
            for (i, s) in g.spans.iter().enumerate() {
                if s.state != goroscope_trace::GoState::Waiting {
                    continue;
                }
                if let Wake::Goroutine { gi: by, at, .. } = ctx.wake(&mut spans, gi, i) {
                    waits[gi as usize].push(FollowedWait {
                        start: s.time,
                        end: at,
                        by,
                        span: i as u32,
                    });
                }
            }
            spans.trim();
        }
        // Extra node instants per goroutine, and the wait edges: every instant at which a
        // waiting goroutine has a node leads into its releaser at that instant.
        let mut points: Vec<Vec<Time>> = vec![Vec::new(); n];
        let mut wait_edges: Vec<(u32, u32, Time)> = Vec::new();
        let mut seeds: Vec<(u32, Time)> = Vec::new();
        for (gi, ws) in waits.iter().enumerate() {
            for w in ws {
                seeds.push((gi as u32, w.start));
                seeds.push((w.by, w.end));
            }
        }
        seeds.extend(creations.iter().map(|&(ci, _, tc)| (ci, tc)));
        let mut event = |g: GoId, time: Option<Time>| {
            if let (Some(gi), Some(time)) = (ctx.index(g), time) {
                seeds.push((gi, time.clamp(t.start, t.end)));
            }
        };
        for task in &t.tasks {
            event(task.start_g, task.interval.start);
            event(task.end_g, task.interval.end);
        }
        for g in &t.goroutines {
            for r in &g.regions {
                event(g.id, r.interval.start);
                event(g.id, r.interval.end);
            }
        }
        for &(g, time) in events {
            event(g, Some(time));
        }
        for (mut gi, time) in seeds {
            points[gi as usize].push(time);
            // A chain of goroutines each waiting for the next is at most as long as the
            // number of goroutines; the bound only guards against inconsistent input.
            for _ in 0..n {
                let ws = &waits[gi as usize];
                let k = ws.partition_point(|w| w.start <= time);
                let Some(w) = k.checked_sub(1).map(|k| ws[k]).filter(|w| time < w.end) else {
                    break;
                };
                wait_edges.push((gi, w.by, time));
                points[w.by as usize].push(time);
                gi = w.by;
            }
        }
        wait_edges.sort_unstable();
        wait_edges.dedup();

        // Nodes, goroutine by goroutine, and each goroutine's continuity edges.
        let mut graph: DiGraph<Node, Dep> = DiGraph::new();
        let mut first = Vec::with_capacity(n + 1);
        for gi in 0..n {
            let g = &t.goroutines[gi];
            let mut times = std::mem::take(&mut points[gi]);
            let lane: Vec<_> = g.spans.iter().collect();
            times.extend(lane.iter().map(|s| s.time));
            if !lane.is_empty() {
                times.push(t.end);
            }
            times.sort_unstable();
            times.dedup();
            first.push(graph.node_count() as u32);
            let followed = &waits[gi];
            let mut span: Option<usize> = None;
            let mut prev: Option<(NodeIndex, Time)> = None;
            for &time in &times {
                let node = graph.add_node(Node { g: g.id, time });
                if let Some((pn, pt)) = prev {
                    while span.map_or(0, |s| s + 1) < lane.len()
                        && lane[span.map_or(0, |s| s + 1)].time <= pt
                    {
                        span = Some(span.map_or(0, |s| s + 1));
                    }
                    let (kind, weight) = match span {
                        None => (DepKind::BeforeFirstSpan, time - pt),
                        Some(i) => {
                            let free = followed
                                .binary_search_by_key(&(i as u32), |w| w.span)
                                .is_ok();
                            (DepKind::Span(i as u32), if free { 0 } else { time - pt })
                        }
                    };
                    graph.add_edge(pn, node, Dep { kind, weight });
                }
                prev = Some((node, time));
            }
        }
        first.push(graph.node_count() as u32);
        let mut dg = Self {
            ctx,
            graph,
            first,
            order: Vec::new(),
            rank: Vec::new(),
        };
        let find = |dg: &Self, gi: u32, time: Time| {
            dg.node_in(gi, time)
                .expect("every dependency instant has a node")
        };
        for &(from, to, time) in &wait_edges {
            let (a, b) = (find(&dg, from, time), find(&dg, to, time));
            dg.graph.add_edge(
                a,
                b,
                Dep {
                    kind: DepKind::Wait,
                    weight: 0,
                },
            );
        }
        for (gi, ws) in waits.iter().enumerate() {
            for w in ws {
                let (a, b) = (find(&dg, w.by, w.end), find(&dg, gi as u32, w.end));
                dg.graph.add_edge(
                    a,
                    b,
                    Dep {
                        kind: DepKind::Release(w.span),
                        weight: 0,
                    },
                );
            }
        }
        for &(ci, gi, tc) in &creations {
            let (a, b) = (find(&dg, ci, tc), find(&dg, gi, tc));
            dg.graph.add_edge(
                a,
                b,
                Dep {
                    kind: DepKind::Create,
                    weight: 0,
                },
            );
        }
        dg.graph.shrink_to_fit();
        let mut order = toposort(&dg.graph, None).map_err(|c| {
            let n = dg.graph[c.node_id()];
            GraphError::Cycle {
                g: n.g,
                time: n.time,
            }
        })?;
        // Edges never go back in time, so a stable sort by time keeps the order topological.
        order.sort_by_key(|&v| dg.graph[v].time);
        let mut rank = vec![0u32; order.len()];
        for (r, &v) in order.iter().enumerate() {
            rank[v.index()] = r as u32;
        }
        dg.order = order;
        dg.rank = rank;
        Ok(dg)
    }

    /// The petgraph graph.
    pub fn graph(&self) -> &DiGraph<Node, Dep> {
        &self.graph
    }

    /// Approximate heap bytes used by the graph and its indexes.
    pub fn heap_bytes(&self) -> usize {
        let (nodes, edges) = self.graph.capacity();
        nodes * size_of::<petgraph::graph::Node<Node>>()
            + edges * size_of::<petgraph::graph::Edge<Dep>>()
            + (self.order.capacity() + self.rank.capacity() + self.first.capacity()) * 4
    }

    /// The timelines.
    pub fn timelines(&self) -> &'t Timelines {
        self.ctx.t
    }

    fn node_in(&self, gi: u32, time: Time) -> Option<NodeIndex> {
        let (a, b) = (
            self.first[gi as usize] as usize,
            self.first[gi as usize + 1] as usize,
        );
        let k = a + self.partition(a, b, time);
        (k < b && self.graph[NodeIndex::new(k)].time == time).then(|| NodeIndex::new(k))
    }

    /// The first node index in `[a, b)` whose time is not before `time`, minus `a`.
    fn partition(&self, a: usize, b: usize, time: Time) -> usize {
        let (mut lo, mut hi) = (a, b);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.graph[NodeIndex::new(mid)].time < time {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - a
    }

    /// The node of goroutine `g` at exactly `time`, if there is one.
    pub fn node(&self, g: GoId, time: Time) -> Option<NodeIndex> {
        self.node_in(self.ctx.index(g)?, time)
    }

    /// The longest path from `from` to `to` by edge weight, or `None` if `to` cannot be
    /// reached from `from`.
    ///
    /// Among equally long paths it takes the one the backward walk of
    /// [`super::PathFinder`] takes: the path is traced back from `to`, and where several
    /// predecessors are on a longest path it prefers returning to the waiter whose release it
    /// followed (at the start of that wait), then following a release, then a creation, then
    /// the goroutine's own timeline.
    ///
    /// Costs O(nodes + edges between the two instants).
    pub fn longest_path(&self, from: NodeIndex, to: NodeIndex) -> Option<GraphPath> {
        let (rs, rd) = (
            self.rank[from.index()] as usize,
            self.rank[to.index()] as usize,
        );
        if rs > rd {
            return None;
        }
        let n = rd - rs + 1;
        let mut dist = vec![Duration::MIN; n];
        dist[0] = 0;
        let dist_of = |dist: &[Duration], u: NodeIndex| {
            let ru = self.rank[u.index()] as usize;
            if ru < rs || ru > rd {
                Duration::MIN
            } else {
                dist[ru - rs]
            }
        };
        for k in 1..n {
            let v = self.order[rs + k];
            dist[k] = self
                .graph
                .edges_directed(v, Direction::Incoming)
                .filter_map(|e| {
                    let d = dist_of(&dist, e.source());
                    (d != Duration::MIN).then(|| d + e.weight().weight)
                })
                .max()
                .unwrap_or(Duration::MIN);
        }
        let weight = dist[n - 1];
        if weight == Duration::MIN {
            return None;
        }
        // Trace back, keeping the waiters whose releases the path followed (goroutine, the
        // instant to return to it), as the walk's frames do.
        let mut spans = SpanReader::new(self.ctx.t);
        let mut frames: Vec<(GoId, Time)> = Vec::new();
        let mut edges = Vec::new();
        let mut v = to;
        while v != from {
            let dv = dist_of(&dist, v);
            let here = self.graph[v];
            let bound = frames.last().map_or(self.graph[from].time, |f| f.1);
            let rank = |e: &petgraph::graph::EdgeReference<'_, Dep>| {
                let src = self.graph[e.source()];
                match e.weight().kind {
                    DepKind::Wait
                        if frames
                            .last()
                            .is_some_and(|f| f.0 == src.g && f.1 == here.time) =>
                    {
                        4
                    }
                    DepKind::Release(_) => 3,
                    DepKind::Create => 2,
                    DepKind::Span(_) | DepKind::BeforeFirstSpan => 1,
                    DepKind::Wait => 0,
                }
            };
            let e = self
                .graph
                .edges_directed(v, Direction::Incoming)
                .filter(|e| {
                    let d = dist_of(&dist, e.source());
                    d != Duration::MIN && d + e.weight().weight == dv
                })
                .max_by_key(|e| (rank(e), std::cmp::Reverse(e.id())))?;
            match e.weight().kind {
                DepKind::Wait => {
                    frames.pop();
                }
                DepKind::Release(span) => {
                    let gi = self.ctx.index(here.g)?;
                    let start = spans.get(gi, span as usize).time;
                    frames.push((here.g, start.max(bound)));
                }
                _ => {}
            }
            edges.push(e.id());
            v = e.source();
        }
        edges.reverse();
        Some(GraphPath {
            from,
            to,
            edges,
            weight,
        })
    }

    /// A path as critical-path segments (the same categories, stacks, links and holders as
    /// [`super::PathFinder`] gives).
    pub fn critical_path(&self, path: &GraphPath) -> CriticalPath {
        let (from, to) = (self.graph[path.from], self.graph[path.to]);
        let ctx = &self.ctx;
        let mut spans = SpanReader::new(ctx.t);
        let mut out = Sink::Segments(Segments::default());
        let mut link = Link::End;
        let mut end_stack = None;
        let mut k = path.edges.len();
        while k > 0 {
            k -= 1;
            let e = path.edges[k];
            let (u, v) = self.graph.edge_endpoints(e).expect("edge of the graph");
            let (gu, gv) = (self.graph[u], self.graph[v]);
            match self.graph[e].kind {
                kind @ (DepKind::Span(_) | DepKind::BeforeFirstSpan) => {
                    let mut start = gu.time;
                    while k > 0 {
                        let pe = path.edges[k - 1];
                        if self.graph[pe].kind != kind {
                            break;
                        }
                        let pu = self.graph.edge_endpoints(pe).expect("edge of the graph").0;
                        if self.graph[pu].g != gu.g {
                            break;
                        }
                        start = self.graph[pu].time;
                        k -= 1;
                    }
                    let piece = Piece {
                        gi: ctx.index(gv.g).expect("goroutine of a node"),
                        span: match kind {
                            DepKind::Span(i) => Some(i as usize),
                            _ => None,
                        },
                        start,
                        end: gv.time,
                        end_stack,
                        next: link,
                    };
                    ctx.emit(&mut spans, &piece, &mut out);
                    link = Link::Continue;
                    end_stack = None;
                }
                DepKind::Wait => {
                    link = Link::Blocked;
                    end_stack = None;
                }
                DepKind::Release(i) => {
                    let gi = ctx.index(gv.g).expect("goroutine of a node");
                    end_stack = match ctx.wake(&mut spans, gi, i as usize) {
                        Wake::Goroutine { stack, .. } => Some(stack),
                        _ => None,
                    };
                    link = Link::Released;
                }
                DepKind::Create => {
                    let gi = ctx.index(gv.g).expect("goroutine of a node");
                    end_stack = Some(ctx.goroutine(gi).creation_stack);
                    link = Link::Created;
                }
            }
        }
        let Sink::Segments(out) = out else {
            unreachable!("segments were asked for")
        };
        CriticalPath::from_backward(
            Target::Goroutine {
                g: to.g,
                start: from.time,
                end: to.time,
            },
            from.time,
            to.time,
            out,
        )
    }

    /// The longest path of the task at `index` in [`Timelines::tasks`], from its start on
    /// the goroutine that began it to its end on the one that ended it.
    pub fn task(&self, index: usize) -> Option<CriticalPath> {
        let t = self.ctx.t;
        let task = t.tasks.get(index)?;
        let from = self.node(task.start_g, task.interval.start?)?;
        let to = self.node(task.end_g, task.interval.end?)?;
        let path = self.longest_path(from, to)?;
        Some(self.critical_path(&path))
    }
}

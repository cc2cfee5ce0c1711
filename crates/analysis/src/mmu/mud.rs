//! An updatable mutator utilization distribution (Go's `mud.go`).
//!
//! A distribution of duration over utilization, not normalized: the integral from `a` to
//! `b` is the time during which the windowed utilization was in `[a, b]`. It is a sum of
//! scaled uniform distributions and Dirac deltas, kept as edges, plus a 1024-bucket
//! histogram to track one inverse cumulative sum cheaply while it is being built.

use crate::gosort;

/// Buckets of the summary histogram (Go's `mudDegree`).
const DEGREE: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Edge {
    /// At `x` the density increases by `delta`…
    x: f64,
    delta: f64,
    /// …and a Dirac delta of this area sits.
    dirac: f64,
}

#[derive(Debug, Clone)]
pub(super) struct Mud {
    sorted: Vec<Edge>,
    unsorted: Vec<Edge>,
    /// The inverse cumulative sum to track.
    track_mass: f64,
    /// The bucket `track_mass` falls in; `DEGREE` if the total is below it.
    track_bucket: usize,
    /// The cumulative sum of `hist[..track_bucket]`.
    track_sum: f64,
    hist: Box<[f64; DEGREE]>,
}

impl Default for Mud {
    fn default() -> Self {
        Self {
            sorted: Vec::new(),
            unsorted: Vec::new(),
            track_mass: 0.0,
            track_bucket: 0,
            track_sum: 0.0,
            hist: Box::new([0.0; DEGREE]),
        }
    }
}

/// Go's `math.Modf` for the values used here: the integer and fractional parts.
fn modf(f: f64) -> (f64, f64) {
    if f < 1.0 {
        if f < 0.0 {
            let (i, fr) = modf(-f);
            return (-i, -fr);
        }
        if f == 0.0 {
            return (f, f);
        }
        return (0.0, f);
    }
    let i = f.trunc();
    (i, f - i)
}

impl Mud {
    /// Adds a uniform distribution over `[l, r]` of total weight `area` (a Dirac delta if
    /// `l == r`).
    pub(super) fn add(&mut self, mut l: f64, mut r: f64, area: f64) {
        if area == 0.0 {
            return;
        }
        if r < l {
            std::mem::swap(&mut l, &mut r);
        }

        if l == r {
            self.unsorted.push(Edge {
                x: l,
                delta: 0.0,
                dirac: area,
            });
        } else {
            let delta = area / (r - l);
            self.unsorted.push(Edge {
                x: l,
                delta,
                dirac: 0.0,
            });
            self.unsorted.push(Edge {
                x: r,
                delta: -delta,
                dirac: 0.0,
            });
        }

        // Update the histogram.
        let h = &mut self.hist;
        let (lb_float, mut lf) = modf(l * DEGREE as f64);
        let mut lb = lb_float as i64;
        if lb >= DEGREE as i64 {
            lb = DEGREE as i64 - 1;
            lf = 1.0;
        }
        if l == r {
            h[bucket(lb)] += area;
        } else {
            let (rb_float, mut rf) = modf(r * DEGREE as f64);
            let mut rb = rb_float as i64;
            if rb >= DEGREE as i64 {
                rb = DEGREE as i64 - 1;
                rf = 1.0;
            }
            if lb == rb {
                h[bucket(lb)] += area;
            } else {
                let per_bucket = area / (r - l) / DEGREE as f64;
                h[bucket(lb)] += per_bucket * (1.0 - lf);
                h[bucket(rb)] += per_bucket * rf;
                for i in lb + 1..rb {
                    h[bucket(i)] += per_bucket;
                }
            }
        }

        // Update the mass tracking.
        let thresh = self.track_bucket as f64 / DEGREE as f64;
        if l < thresh {
            if r < thresh {
                self.track_sum += area;
            } else {
                self.track_sum += area * (thresh - l) / (r - l);
            }
            if self.track_sum >= self.track_mass {
                // The tracked mass moved to another bucket.
                self.set_track_mass(self.track_mass);
            }
        }
    }

    /// Tracks the inverse cumulative sum of `mass` from now on.
    pub(super) fn set_track_mass(&mut self, mass: f64) {
        self.track_mass = mass;
        let mut sum = 0.0;
        for (i, &val) in self.hist.iter().enumerate() {
            let new_sum = sum + val;
            if new_sum > mass {
                self.track_bucket = i;
                self.track_sum = sum;
                return;
            }
            sum = new_sum;
        }
        self.track_bucket = DEGREE;
        self.track_sum = sum;
    }

    /// Bounds `[lower, upper)` of the inverse cumulative sum of the tracked mass, or `None`
    /// if the distribution does not have that much mass yet.
    pub(super) fn approx_inv_cumulative_sum(&self) -> Option<(f64, f64)> {
        if self.track_bucket == DEGREE {
            return None;
        }
        Some((
            self.track_bucket as f64 / DEGREE as f64,
            (self.track_bucket + 1) as f64 / DEGREE as f64,
        ))
    }

    /// The utilization `x` such that the mass up to `x` is `y`; if the total is below `y`,
    /// the largest utilization and `false`; NaN if the distribution is empty.
    pub(super) fn inv_cumulative_sum(&mut self, y: f64) -> (f64, bool) {
        if self.sorted.is_empty() && self.unsorted.is_empty() {
            return (f64::NAN, false);
        }

        // Sort the new edges (with Go's unstable sort: the order of equal x decides the
        // order of the additions below) and merge them with the sorted ones.
        let mut edges = std::mem::take(&mut self.unsorted);
        gosort::sort_func(&mut edges, |a, b| {
            (a.x.is_nan() && !b.x.is_nan()) || a.x < b.x
        });
        if self.sorted.is_empty() {
            self.sorted = edges;
        } else {
            let old = std::mem::take(&mut self.sorted);
            let mut merged = Vec::with_capacity(old.len() + edges.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < edges.len() {
                if old[i].x < edges[j].x {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(edges[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&old[i..]);
            merged.extend_from_slice(&edges[j..]);
            self.sorted = merged;
        }

        // Walk the edges, summing.
        let (mut csum, mut rate, mut prev_x) = (0.0, 0.0, 0.0);
        for e in &self.sorted {
            let mut new_csum = csum + (e.x - prev_x) * rate;
            if new_csum >= y {
                // y was reached between the previous edge and this one.
                if rate == 0.0 {
                    return (e.x, true);
                }
                return ((y - csum) / rate + prev_x, true);
            }
            new_csum += e.dirac;
            if new_csum >= y {
                // y was reached by the Dirac delta at e.x.
                return (e.x, true);
            }
            csum = new_csum;
            prev_x = e.x;
            rate += e.delta;
        }
        (prev_x, false)
    }
}

/// A histogram index; out-of-range buckets (negative utilizations, which the MMU never
/// produces) go to the nearest end instead of panicking as Go would.
fn bucket(i: i64) -> usize {
    i.clamp(0, DEGREE as i64 - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator of floats in `[0, 1)` (Go's tests use math/rand; the
    /// properties hold for any inputs).
    struct Rng(u64);

    impl Rng {
        fn float(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Go's `aeq`: equal to 8 digits.
    fn aeq(x: f64, y: f64) -> bool {
        let factor = 1.0 - 10f64.powi(-8 + 1);
        x * factor <= y && y * factor <= x
    }

    /// Go's `TestMUD`: the histogram keeps the mass, and the approximate inverse
    /// cumulative sum brackets the exact one.
    #[test]
    fn histogram_mass_and_inverse_bounds() {
        let mut rng = Rng(42);
        let mut mass = 0.0;
        let mut mud = Mud::default();
        for i in 0..100 {
            let (area, l, mut r) = (rng.float(), rng.float(), rng.float());
            if i % 10 == 3 {
                r = l;
            }
            mud.add(l, r, area);
            mass += area;
            let hmass: f64 = mud.hist.iter().sum();
            assert!(aeq(mass, hmass), "want mass {mass}, got {hmass}");
            let mut j = 0.0;
            while j < mass {
                mud.set_track_mass(j);
                let (lo, hi) = mud.approx_inv_cumulative_sum().expect("approximation");
                let (inv, ok) = mud.inv_cumulative_sum(j);
                assert!(ok, "exact inverse of {j}");
                assert!(
                    lo <= inv && inv < hi,
                    "inverse({j}) = {inv} not in [{lo}, {hi})"
                );
                j += mass * 0.099;
            }
        }
    }

    /// Go's `TestMUDTracking`: the tracked mass stays right across updates.
    #[test]
    fn tracked_mass_across_updates() {
        let mut rng = Rng(42);
        let uniforms = 100;
        let mut track_mass = 0.0;
        while track_mass < uniforms as f64 {
            let mut mud = Mud::default();
            let mut mass = 0.0;
            mud.set_track_mass(track_mass);
            for _ in 0..uniforms {
                let (area, l, r) = (rng.float(), rng.float(), rng.float());
                mud.add(l, r, area);
                mass += area;
                let approx = mud.approx_inv_cumulative_sum();
                let (inv, ok) = mud.inv_cumulative_sum(track_mass);
                if mass < track_mass {
                    assert!(approx.is_none() && !ok, "mass {mass} < {track_mass}");
                } else {
                    let (lo, hi) = approx.expect("approximation");
                    assert!(ok, "exact inverse of {track_mass}");
                    assert!(lo <= inv && inv < hi, "inverse = {inv} not in [{lo}, {hi})");
                }
            }
            track_mass += (uniforms / 50) as f64;
        }
    }
}

//! Level of detail: multi-resolution summaries of dense lanes, so a frame costs O(visible
//! pixels) however many spans are in view.
//!
//! A [`Mip`] cuts a lane's time into buckets of `2^shift` ns (level 0) and stores, per
//! bucket, which fraction of it each of up to four span categories covered, how many spans
//! started in it, and the "key" (a goroutine group, a block reason, a P) that covered most of
//! the bucket in one chosen category. Level `l + 1` merges four buckets of level `l`. The
//! level-0 width is chosen so a lane of `n` spans has about `n / 16` level-0 buckets: about
//! one byte per span for all levels together.
//!
//! Drawing picks the coarsest level whose buckets are narrower than a pixel and aggregates
//! them per pixel column ([`Mip::columns`]); zoomed in further, the lane's spans are few
//! enough per pixel to be decoded directly.

/// Lanes with at most this many spans are always drawn from their spans.
pub const MIP_MIN_SPANS: usize = 256;

/// Level-0 buckets per span (inverse): `n / SPANS_PER_BUCKET` buckets for `n` spans.
const SPANS_PER_BUCKET: u64 = 16;

/// One bucket of a summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// The fraction (0–255) of the bucket covered by each category.
    pub frac: [u8; 4],
    /// The key that covered most of the bucket in the key category (saturated at
    /// `u16::MAX`).
    pub key: u16,
    /// How many spans started in the bucket (saturated at `u16::MAX`).
    pub count: u16,
}

/// A multi-resolution summary of one lane.
#[derive(Debug, Clone)]
pub struct Mip {
    /// The time at which bucket 0 of every level starts.
    origin: i64,
    /// log2 of the level-0 bucket width in ns.
    shift: u32,
    /// The category whose dominant key buckets keep.
    key_cat: u8,
    levels: Vec<Vec<Bucket>>,
}

/// One pixel column aggregated from a summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Column {
    /// The fraction (0–1) of the column covered by each category.
    pub frac: [f32; 4],
    /// The dominant key of the key category.
    pub key: u32,
    /// Spans that started in the column.
    pub count: u32,
    /// The category covering most of the column, if any covers some of it.
    pub dom: Option<u8>,
    /// How busy the column is, in eighths (0–8).
    pub busy8: u8,
}

impl Column {
    /// The fraction covered by any category.
    pub fn busy(&self) -> f32 {
        self.frac.iter().sum::<f32>().min(1.0)
    }

    /// The category covering most of the column, if any covers some of it.
    pub fn dominant(&self) -> Option<u8> {
        let (i, &f) = self
            .frac
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (f > 0.0).then_some(i as u8)
    }
}

impl Mip {
    /// The width of a bucket at `level`, in ns.
    pub fn bucket_ns(&self, level: usize) -> f64 {
        (1u64 << (self.shift + 2 * level as u32).min(62)) as f64
    }

    /// The finest resolution the summary has, in ns.
    pub fn finest_ns(&self) -> f64 {
        self.bucket_ns(0)
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| l.capacity() * size_of::<Bucket>())
            .sum()
    }

    /// The columns of `width` pixels starting at absolute time `t0`, `ns_per_px` each.
    ///
    /// Meant for `ns_per_px >= self.finest_ns() / 4` (buckets at most four columns wide);
    /// finer views should decode spans.
    pub fn columns(&self, t0: f64, ns_per_px: f64, width: usize, out: &mut Vec<Column>) {
        out.clear();
        let mut level = 0;
        while level + 1 < self.levels.len() && self.bucket_ns(level + 1) <= ns_per_px {
            level += 1;
        }
        let Some(buckets) = self.levels.get(level) else {
            return;
        };
        let w = self.bucket_ns(level);
        let origin = self.origin as f64;
        for x in 0..width {
            let a = t0 + x as f64 * ns_per_px;
            let b = a + ns_per_px;
            // Each bucket belongs to the column its start falls in; a bucket wider than a
            // column colours every column it covers.
            let (ba, bb) = if w > ns_per_px {
                let i = ((a - origin) / w).floor().max(0.0) as usize;
                (i, i + 1)
            } else {
                let ba = ((a - origin) / w).ceil().max(0.0) as usize;
                (
                    ba,
                    (((b - origin) / w).ceil().max(0.0) as usize).max(ba + 1),
                )
            };
            let mut sums = [0u32; 4];
            let mut col = Column::default();
            let mut best = 0u32;
            for bucket in buckets.iter().take(bb).skip(ba) {
                for (c, f) in sums.iter_mut().zip(bucket.frac) {
                    *c += u32::from(f);
                }
                col.count += u32::from(bucket.count);
                let f = u32::from(bucket.frac[self.key_cat as usize]);
                if f > best {
                    best = f;
                    col.key = u32::from(bucket.key);
                }
            }
            // Buckets past the lane's end count as empty.
            let full = 255 * (bb - ba) as u32;
            let total: u32 = sums.iter().sum();
            let mut dom = 0;
            for (i, &v) in sums.iter().enumerate() {
                if v > sums[dom] {
                    dom = i;
                }
            }
            col.dom = (total > 0).then_some(dom as u8);
            col.busy8 = ((total.min(full) * 8 + full / 2) / full.max(1)) as u8;
            let scale = 1.0 / full.max(1) as f32;
            for (c, v) in col.frac.iter_mut().zip(sums) {
                *c = v as f32 * scale;
            }
            out.push(col);
        }
    }
}

/// Builds a [`Mip`] from spans given in time order.
#[derive(Debug)]
pub struct MipBuilder {
    mip: Mip,
    /// Index of the bucket being filled.
    cur: u64,
    dur: [u64; 4],
    count: u16,
    key: u16,
    key_dur: u64,
}

impl MipBuilder {
    /// A builder for a lane of `spans` spans over `[start, end)`, keeping the dominant key of
    /// category `key_cat`.
    pub fn new(start: i64, end: i64, spans: usize, key_cat: u8) -> Self {
        let duration = (end - start).max(1) as u64;
        let per = (duration.saturating_mul(SPANS_PER_BUCKET) / (spans as u64).max(1)).max(1);
        let shift = 64 - (per - 1).leading_zeros();
        Self {
            mip: Mip {
                origin: start,
                shift,
                key_cat: key_cat.min(3),
                // Every bucket up to `end`'s, and the one `finish` flushes.
                levels: vec![Vec::with_capacity(
                    ((duration >> shift) + 2).min(1 << 24) as usize
                )],
            },
            cur: 0,
            dur: [0; 4],
            count: 0,
            key: 0,
            key_dur: 0,
        }
    }

    fn bucket_of(&self, t: i64) -> u64 {
        (t.saturating_sub(self.mip.origin).max(0) as u64) >> self.mip.shift
    }

    fn flush(&mut self) {
        let shift = self.mip.shift;
        let mut b = Bucket {
            key: self.key,
            count: self.count,
            ..Bucket::default()
        };
        for (f, d) in b.frac.iter_mut().zip(self.dur) {
            *f = frac255(d, shift);
        }
        self.mip.levels[0].push(b);
        self.dur = [0; 4];
        self.count = 0;
        self.key = 0;
        self.key_dur = 0;
        self.cur += 1;
    }

    fn advance_to(&mut self, b: u64) {
        while self.cur < b {
            self.flush();
        }
    }

    /// Adds a span `[start, end)` of category `cat` (`None`: empty time) with `key`.
    #[inline]
    pub fn add(&mut self, start: i64, end: i64, cat: Option<u8>, key: u32) {
        let mut b = self.bucket_of(start);
        self.advance_to(b);
        self.count = self.count.saturating_add(1);
        let Some(cat) = cat.map(|c| c.min(3)) else {
            return;
        };
        // The span's part in each bucket it covers, from bucket `b` (that of `t`) on.
        let mut t = start.max(self.mip.origin);
        while t < end {
            self.advance_to(b);
            let bucket_end = self.mip.origin + ((b + 1) << self.mip.shift) as i64;
            let seg_end = end.min(bucket_end);
            let d = (seg_end - t) as u64;
            self.dur[cat as usize] += d;
            if cat == self.mip.key_cat && d > self.key_dur {
                self.key_dur = d;
                self.key = u16::try_from(key).unwrap_or(u16::MAX);
            }
            t = seg_end;
            b += 1;
        }
    }

    /// The finished summary.
    pub fn finish(mut self) -> Mip {
        self.flush();
        let mut level = 0;
        while self.mip.levels[level].len() > 1 {
            let next: Vec<Bucket> = self.mip.levels[level]
                .chunks(4)
                .map(|c| merge(c, self.mip.key_cat))
                .collect();
            self.mip.levels.push(next);
            level += 1;
        }
        for l in &mut self.mip.levels {
            l.shrink_to_fit();
        }
        self.mip
    }
}

/// `d` ns of a bucket `2^shift` ns wide as a fraction of 255, rounded half up (as
/// `(d / 2^shift * 255.0).round()` gives it, without the call `round` is on x86-64).
fn frac255(d: u64, shift: u32) -> u8 {
    match shift {
        0 => d.saturating_mul(255).min(255) as u8,
        // Below 2^53, d * 255 / 2^shift is exact as a float too.
        1..=45 => ((d.min(1 << shift) * 255 + (1 << (shift - 1))) >> shift).min(255) as u8,
        _ => ((d as f64 / (1u64 << shift.min(63)) as f64) * 255.0)
            .round()
            .min(255.0) as u8,
    }
}

fn merge(children: &[Bucket], key_cat: u8) -> Bucket {
    let mut sum = [0u32; 4];
    let mut out = Bucket::default();
    let mut best = 0;
    for c in children {
        for (s, f) in sum.iter_mut().zip(c.frac) {
            *s += u32::from(f);
        }
        out.count = out.count.saturating_add(c.count);
        let f = c.frac[key_cat as usize];
        if f > best {
            best = f;
            out.key = c.key;
        }
    }
    for (f, s) in out.frac.iter_mut().zip(sum) {
        *f = (s / 4) as u8;
    }
    out
}

/// Metric series with more points than this get a [`SeriesMip`].
pub const SERIES_MIP_MIN: usize = 16 * 1024;

/// Level-0 buckets of a [`SeriesMip`] (at most).
const SERIES_BUCKETS: u64 = 1 << 17;

/// A multi-resolution summary of a metric series: per bucket, the heaviest value that held
/// during it (so peaks survive zooming out).
#[derive(Debug, Clone)]
pub struct SeriesMip<R> {
    origin: i64,
    shift: u32,
    levels: Vec<Vec<Option<R>>>,
}

impl<R: goroscope_trace::timeline::Record> SeriesMip<R> {
    /// Summarises `lane` (values hold until the next point, the last until `end`), if it is
    /// long enough to need it.
    pub fn build(
        lane: &goroscope_trace::timeline::Lane<R>,
        end: i64,
        weight: impl Fn(&R) -> u64,
    ) -> Option<Self> {
        if lane.len() <= SERIES_MIP_MIN {
            return None;
        }
        let origin = lane.get(0)?.time();
        let duration = (end - origin).max(1) as u64;
        let per = duration.div_ceil(SERIES_BUCKETS).max(1);
        let shift = 64 - (per - 1).leading_zeros();
        let n = ((duration >> shift) + 1) as usize;
        let mut level0: Vec<Option<R>> = vec![None; n];
        let bucket = |t: i64| (((t - origin).max(0) as u64) >> shift) as usize;
        let mut it = lane.iter().peekable();
        while let Some(r) = it.next() {
            let e = it.peek().map_or(end, |x| x.time()).max(r.time() + 1);
            let (b0, b1) = (bucket(r.time()), bucket(e - 1).min(n - 1));
            for slot in level0.iter_mut().take(b1 + 1).skip(b0) {
                if slot.is_none_or(|o| weight(&r) > weight(&o)) {
                    *slot = Some(r);
                }
            }
        }
        let mut levels = vec![level0];
        while let Some(last) = levels.last()
            && last.len() > 1
        {
            let next = last
                .chunks(4)
                .map(|c| c.iter().flatten().copied().max_by_key(|r| weight(r)))
                .collect();
            levels.push(next);
        }
        Some(Self {
            origin,
            shift,
            levels,
        })
    }

    /// The width of a level-0 bucket in ns.
    pub fn finest_ns(&self) -> f64 {
        (1u64 << self.shift) as f64
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| l.capacity() * size_of::<Option<R>>())
            .sum()
    }

    /// Fills `out` (one slot per pixel column from absolute time `t0`, `npp` ns each) with
    /// the heaviest value of each column.
    pub fn columns(&self, t0: f64, npp: f64, weight: impl Fn(&R) -> u64, out: &mut [Option<R>]) {
        let mut level = 0;
        while level + 1 < self.levels.len()
            && ((1u64 << (self.shift + 2 * (level as u32 + 1)).min(62)) as f64) <= npp
        {
            level += 1;
        }
        let Some(buckets) = self.levels.get(level) else {
            return;
        };
        let w = (1u64 << (self.shift + 2 * level as u32).min(62)) as f64;
        let origin = self.origin as f64;
        for (x, slot) in out.iter_mut().enumerate() {
            let a = t0 + x as f64 * npp;
            let ba = ((a - origin) / w).floor().max(0.0) as usize;
            let bb = (((a + npp - origin) / w).ceil().max(0.0) as usize).max(ba + 1);
            *slot = buckets
                .iter()
                .take(bb)
                .skip(ba)
                .flatten()
                .copied()
                .max_by_key(|r| weight(r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_alternating_spans() {
        // 1000 spans of 100 ns alternating running (0) and waiting (2, key 7).
        let mut b = MipBuilder::new(0, 100_000, 1000, 2);
        for i in 0..1000 {
            let cat = if i % 2 == 0 { 0 } else { 2 };
            b.add(i * 100, i * 100 + 100, Some(cat), 7);
        }
        let mip = b.finish();
        assert_eq!(mip.finest_ns(), 2048.0);
        let mut cols = Vec::new();
        mip.columns(0.0, 10_000.0, 10, &mut cols);
        assert_eq!(cols.len(), 10);
        for c in &cols[..9] {
            assert!((c.frac[0] - 0.5).abs() < 0.05, "{c:?}");
            assert!((c.frac[2] - 0.5).abs() < 0.05, "{c:?}");
            assert_eq!(c.key, 7);
            assert!((40..=170).contains(&c.count), "{c:?}");
        }
        let total: u32 = cols.iter().map(|c| c.count).sum();
        assert_eq!(total, 1000);
        assert!(mip.heap_bytes() < 1000 * 3);
    }

    #[test]
    fn fractions_round_as_floats_do() {
        for shift in [0u32, 1, 2, 5, 11, 20, 33, 40, 55, 56, 62] {
            let w = 1u64 << shift;
            let ds = [0, 1, w / 3, w / 2, w / 255, w / 510, w / 510 + 1, w - 1, w];
            for d in ds.into_iter().chain((0..600).map(|i| w / 600 * i)) {
                let want = ((d as f64 / w as f64) * 255.0).round().min(255.0) as u8;
                assert_eq!(frac255(d, shift), want, "d {d} shift {shift}");
            }
        }
    }

    #[test]
    fn long_spans_fill_buckets_and_gaps_stay_empty() {
        let mut b = MipBuilder::new(0, 1 << 20, 4096, 0);
        b.add(0, 1 << 18, Some(1), 0);
        b.add(1 << 18, 1 << 19, None, 0);
        b.add(1 << 19, 1 << 20, Some(0), 42);
        let mip = b.finish();
        let mut cols = Vec::new();
        mip.columns(0.0, f64::from(1 << 18), 4, &mut cols);
        assert_eq!(cols[0].dominant(), Some(1));
        assert_eq!(cols[0].dom, Some(1));
        assert_eq!(cols[0].busy8, 8);
        assert_eq!(cols[1].dominant(), None);
        assert_eq!((cols[1].dom, cols[1].busy8), (None, 0));
        assert_eq!(cols[1].busy(), 0.0);
        assert_eq!(cols[2].dominant(), Some(0));
        assert_eq!(cols[3].key, 42);
        assert!((cols[3].busy() - 1.0).abs() < 0.01);
    }
}

#[cfg(test)]
mod series_tests {
    use super::*;
    use goroscope_trace::timeline::{Lane, Point};

    #[test]
    fn series_summaries_keep_peaks() {
        let mut lane = Lane::default();
        for i in 0..100_000i64 {
            let v = if i == 54_321 { 1000 } else { (i % 7) as u64 };
            lane.push(Point {
                time: i * 10,
                value: v,
            });
        }
        let mip = SeriesMip::build(&lane, 1_000_000, |p: &Point| p.value).expect("dense");
        let mut out = vec![None; 100];
        mip.columns(0.0, 10_000.0, |p: &Point| p.value, &mut out);
        assert_eq!(out[54].map(|p| p.value), Some(1000));
        assert_eq!(out[10].map(|p| p.value), Some(6));
        assert!(out.iter().all(Option::is_some));
        let few = {
            let mut l = Lane::default();
            l.push(Point { time: 0, value: 1 });
            l
        };
        assert!(SeriesMip::build(&few, 10, |p: &Point| p.value).is_none());
    }
}

//! A mergeable quantile sketch for durations (response, resolution, sales-cycle times), stored
//! as ordinary rollup cells: key = bucket index, `n` = count, `sum` = milliseconds (for the
//! mean). Owns the bucketing and the quantile walk; not where durations come from.
//!
//! Buckets are log-linear ("HDR" style) and computed with integer operations only: values
//! below 64 ms have a bucket each; above, a value with its highest bit at position `e` falls
//! in one of 64 equal sub-buckets of `[2^e, 2^(e+1))`. A bucket is then at most 1/64 of its
//! lower bound wide, and answering with its midpoint is off by at most 1/128 ≈ 0.8 % of the
//! true value — under the 1 % asked for. Because the index is pure integer arithmetic (no
//! `ln`, no float rounding), a value lands in the same bucket native and in wasm, and merging
//! two sketches is exact: it is the rollup's pointwise addition. A 30-day span needs at most
//! ~1,700 distinct buckets; real days hold a few dozen.
//!
//! Why not a crate: `sketches-ddsketch`, `hdrhistogram` and `tdigest` all need `std`; DDSketch
//! indexes with a float logarithm (a bucket can differ across targets), t-digest does not merge
//! exactly, and every one keeps its own in-memory layout, while here each bucket must be one
//! D1 row updated with `n = n + ?` so that a ticket can be retracted exactly.
use crate::rollup::Entry;

/// Sub-buckets per power of two (2^6): the relative error bound is 1/(2·64).
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

/// The bucket index of a duration in milliseconds (negative values count as 0).
pub fn bucket(ms: i64) -> i64 {
    let v = ms.max(0) as u64;
    if v < SUB {
        return v as i64;
    }
    let e = 63 - v.leading_zeros();
    let sub = (v >> (e - SUB_BITS)) - SUB;
    ((e - SUB_BITS + 1) as i64) * SUB as i64 + sub as i64
}

/// The lowest value (ms) of a bucket and its width.
fn bounds(index: i64) -> (u64, u64) {
    let i = index.max(0) as u64;
    if i < SUB {
        return (i, 1);
    }
    let e = (i / SUB - 1) as u32 + SUB_BITS;
    if e > 62 {
        return (u64::MAX / 2, 1);
    }
    let sub = i % SUB;
    let width = 1u64 << (e - SUB_BITS);
    ((SUB + sub) << (e - SUB_BITS), width)
}

/// The value a bucket stands for: the midpoint of its integer range.
pub fn representative(index: i64) -> f64 {
    let (lo, width) = bounds(index);
    lo as f64 + (width - 1) as f64 / 2.0
}

/// The highest value (ms) that falls into a bucket.
pub fn upper(index: i64) -> u64 {
    let (lo, width) = bounds(index);
    lo.saturating_add(width - 1)
}

/// A duration sketch: the cells of one segment of a duration family (key = bucket, `n` =
/// count, `sum` = milliseconds), read in place. Cells with `n ≤ 0` (left by retractions)
/// hold no duration and are skipped.
#[derive(Debug, Clone, Copy)]
pub struct Sketch<'a> {
    run: &'a [Entry],
}

impl<'a> Sketch<'a> {
    /// The sketch held in `run`, the cells of one slot in key order.
    pub fn new(run: &'a [Entry]) -> Self {
        Sketch { run }
    }

    fn live(&self) -> impl Iterator<Item = &'a Entry> + 'a {
        self.run.iter().filter(|e| e.cell.n > 0)
    }

    /// Number of durations.
    pub fn count(&self) -> u64 {
        self.live()
            .fold(0u64, |a, e| a.saturating_add(e.cell.n as u64))
    }

    /// Mean in ms; `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        self.figures([]).mean
    }

    /// The nearest-rank quantile in ms, for `permille` in 0..=1000 (500 = median, 900 =
    /// p90), within 0.8 % of the exact nearest-rank value; `None` when empty.
    pub fn quantile(&self, permille: u16) -> Option<f64> {
        let [q] = self.figures([permille]).quantiles;
        q
    }

    /// The count, the mean and the quantiles at `permilles` (each as [`Sketch::quantile`]
    /// gives it) in two walks over the run, rather than two per quantile and one each for
    /// the count and the mean: a duration KPI reads all of them at every series point.
    pub fn figures<const N: usize>(&self, permilles: [u16; N]) -> Figures<N> {
        let (count, n, sum) = self.live().fold((0u64, 0i64, 0i64), |(c, n, s), e| {
            (
                c.saturating_add(e.cell.n as u64),
                n.saturating_add(e.cell.n),
                s.saturating_add(e.cell.sum),
            )
        });
        let mut quantiles = [None; N];
        if count > 0 {
            let ranks =
                permilles.map(|p| ((count as u128 * p.min(1000) as u128).div_ceil(1000)).max(1));
            let mut seen = 0u128;
            let mut last = None;
            for e in self.live() {
                seen += e.cell.n as u128;
                last = Some(e.key);
                for (q, rank) in quantiles.iter_mut().zip(&ranks) {
                    if q.is_none() && seen >= *rank {
                        *q = Some(representative(e.key));
                    }
                }
                if quantiles.iter().all(Option::is_some) {
                    break;
                }
            }
            for q in quantiles.iter_mut().filter(|q| q.is_none()) {
                *q = last.map(representative);
            }
        }
        Figures {
            count,
            mean: (n > 0).then(|| sum as f64 / n as f64),
            quantiles,
        }
    }

    /// How many durations are at most `limit_ms`, to the sketch's resolution: a bucket that
    /// straddles the limit counts when its midpoint is within it.
    pub fn count_within(&self, limit_ms: i64) -> u64 {
        self.live()
            .filter(|e| representative(e.key) <= limit_ms as f64)
            .fold(0u64, |a, e| a.saturating_add(e.cell.n as u64))
    }
}

/// What [`Sketch::figures`] reads in one go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures<const N: usize> {
    /// Number of durations.
    pub count: u64,
    /// Mean in ms; `None` when empty.
    pub mean: Option<f64>,
    /// The quantiles asked for, in the order asked; `None` when empty.
    pub quantiles: [Option<f64>; N],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{Builder, Cell, Dim, Family, Rollup, SegId, Sink};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn rollup(values: &[i64]) -> Rollup {
        let mut b = Builder::new();
        for &v in values {
            b.put(
                Family::FirstResponse,
                Dim::All,
                SegId::NONE,
                bucket(v),
                Cell { n: 1, sum: v },
            );
        }
        b.finish()
    }

    fn quantile(r: &Rollup, q: u16) -> Option<f64> {
        Sketch::new(r.cells().entries()).quantile(q)
    }

    #[test]
    fn buckets_are_monotone_and_contain_their_values() {
        let mut last = -1;
        for v in (0..2_000_000i64).step_by(7).chain([i64::MAX / 4, i64::MAX]) {
            let b = bucket(v);
            assert!(b >= last, "{v}");
            last = b;
            let (lo, w) = bounds(b);
            assert!(lo <= v as u64 && (v as u64) - lo < w, "{v} {lo} {w}");
        }
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(63), 63);
        assert_eq!(bucket(64), 64);
    }

    #[test]
    fn small_values_are_exact() {
        let r = rollup(&[3, 1, 2]);
        let s = Sketch::new(r.cells().entries());
        assert_eq!(s.quantile(500), Some(2.0));
        assert_eq!(s.mean(), Some(2.0));
        assert_eq!(Sketch::new(&[]).quantile(500), None);
        assert_eq!(Sketch::new(&[]).mean(), None);
    }

    fn exact(sorted: &[i64], permille: u16) -> i64 {
        let rank = (sorted.len() * permille as usize).div_ceil(1000).max(1);
        sorted[rank - 1]
    }

    /// The nearest-rank walk of one quantile, written plainly: what [`Sketch::figures`]
    /// must give for each quantile it reads at once.
    fn walk(run: &[Entry], permille: u16) -> Option<f64> {
        let live: Vec<&Entry> = run.iter().filter(|e| e.cell.n > 0).collect();
        let n: u128 = live.iter().map(|e| e.cell.n as u128).sum();
        let rank = (n * permille as u128).div_ceil(1000).max(1);
        let mut seen = 0;
        for e in &live {
            seen += e.cell.n as u128;
            if seen >= rank {
                return Some(representative(e.key));
            }
        }
        live.last().map(|e| representative(e.key))
    }

    proptest! {
        #[test]
        fn figures_read_at_once_equal_each_read_alone(
            values in prop::collection::vec(0i64..40 * 86_400_000, 0..300),
            retracted in prop::collection::vec(0usize..300, 0..5),
            ps in prop::collection::vec(0u16..=1000, 0..5)) {
            let r = rollup(&values);
            let mut run: Vec<Entry> = r.cells().entries().to_vec();
            // Cells a retraction left at zero or below hold no duration.
            for i in retracted {
                if let Some(e) = run.get_mut(i) {
                    e.cell.n = -e.cell.n;
                }
            }
            let s = Sketch::new(&run);
            let ps: [u16; 4] = core::array::from_fn(|i| ps.get(i).copied().unwrap_or(500));
            let f = s.figures(ps);
            prop_assert_eq!(f.quantiles, ps.map(|p| walk(&run, p)));
            prop_assert_eq!(f.count, run.iter().filter(|e| e.cell.n > 0).map(|e| e.cell.n as u64).sum::<u64>());
            let live = run.iter().filter(|e| e.cell.n > 0);
            let (n, sum) = live.fold((0i64, 0i64), |(n, s), e| (n + e.cell.n, s + e.cell.sum));
            prop_assert_eq!(f.mean, (n > 0).then(|| sum as f64 / n as f64));
            prop_assert_eq!(s.quantile(ps[0]), f.quantiles[0]);
        }
    }

    proptest! {
        #[test]
        fn quantiles_within_one_percent(values in prop::collection::vec(0i64..40 * 86_400_000, 1..400),
                                        q in 0u16..=1000) {
            let r = rollup(&values);
            let s = Sketch::new(r.cells().entries());
            let mut sorted = values.clone();
            sorted.sort();
            let truth = exact(&sorted, q) as f64;
            let got = s.quantile(q).unwrap();
            prop_assert!((got - truth).abs() <= truth * 0.01, "{} vs {}", got, truth);
            let mean = values.iter().sum::<i64>() as f64 / values.len() as f64;
            prop_assert!((s.mean().unwrap() - mean).abs() < 1e-6 * mean.max(1.0));
        }

        #[test]
        fn a_total_on_one_live_cell_reads_like_every_bucket_its_own(
            values in prop::collection::vec(0i64..40 * 86_400_000, 1..200), at in 0usize..200) {
            // What `Family::is_sketch` promises a reader: the mean is the only use of `sum`.
            let r = rollup(&values);
            let mut moved: Vec<Entry> = r.cells().entries().to_vec();
            let total: i64 = moved.iter().map(|e| e.cell.sum).sum();
            let at = at % moved.len();
            for (i, e) in moved.iter_mut().enumerate() {
                e.cell.sum = if i == at { total } else { 0 };
            }
            let (a, b) = (Sketch::new(r.cells().entries()), Sketch::new(&moved));
            prop_assert_eq!(a.mean(), b.mean());
            prop_assert_eq!(a.count(), b.count());
            for q in [0u16, 500, 900, 1000] {
                prop_assert_eq!(a.quantile(q), b.quantile(q));
            }
            prop_assert_eq!(a.count_within(300_000), b.count_within(300_000));
        }

        #[test]
        fn merge_is_exact(a in prop::collection::vec(0i64..1i64 << 40, 0..200),
                          b in prop::collection::vec(0i64..1i64 << 40, 0..200)) {
            let mut sa = rollup(&a);
            sa.merge(&rollup(&b));
            let all: Vec<i64> = a.iter().chain(&b).copied().collect();
            let all = rollup(&all);
            prop_assert_eq!(&sa, &all);
            prop_assert_eq!(quantile(&sa, 900), quantile(&all, 900));
        }
    }
}

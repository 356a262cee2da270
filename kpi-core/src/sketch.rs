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
use crate::rollup::{Cell, Dim, Family, Rollup};
use alloc::collections::BTreeMap;

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

/// A duration sketch: counts per bucket plus the exact sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    buckets: BTreeMap<i64, i64>,
    n: i64,
    sum_ms: i64,
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Sketch::default()
    }

    /// Records one duration.
    pub fn add(&mut self, ms: i64) {
        self.add_cell(bucket(ms), Cell { n: 1, sum: ms });
    }

    fn add_cell(&mut self, index: i64, c: Cell) {
        let e = self.buckets.entry(index).or_insert(0);
        *e = e.saturating_add(c.n);
        self.n = self.n.saturating_add(c.n);
        self.sum_ms = self.sum_ms.saturating_add(c.sum);
    }

    /// Adds another sketch (exact).
    pub fn merge(&mut self, other: &Sketch) {
        for (&i, &n) in &other.buckets {
            let e = self.buckets.entry(i).or_insert(0);
            *e = e.saturating_add(n);
        }
        self.n = self.n.saturating_add(other.n);
        self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
    }

    /// The sketch held in one segment of a rollup family.
    pub fn from_rollup(r: &Rollup, family: Family, dim: Dim, segment: &str) -> Sketch {
        let mut s = Sketch::new();
        for (k, c) in r.keyed(family, dim, segment) {
            if c.n > 0 {
                s.add_cell(k, c);
            }
        }
        s
    }

    /// Number of durations.
    pub fn count(&self) -> u64 {
        self.n.max(0) as u64
    }

    /// Mean in ms; `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum_ms as f64 / self.n as f64)
    }

    /// The nearest-rank quantile in ms, for `permille` in 0..=1000 (500 = median, 900 =
    /// p90), within 0.8 % of the exact nearest-rank value; `None` when empty.
    pub fn quantile(&self, permille: u16) -> Option<f64> {
        if self.n <= 0 {
            return None;
        }
        let n = self.n as u128;
        let rank = ((n * permille.min(1000) as u128).div_ceil(1000)).max(1);
        let mut seen = 0u128;
        for (&i, &c) in &self.buckets {
            seen += c.max(0) as u128;
            if seen >= rank {
                return Some(representative(i));
            }
        }
        self.buckets.keys().next_back().map(|&i| representative(i))
    }

    /// How many durations are at most `limit_ms`, to the sketch's resolution: a bucket that
    /// straddles the limit counts when its midpoint is within it.
    pub fn count_within(&self, limit_ms: i64) -> u64 {
        self.buckets
            .iter()
            .filter(|(&i, _)| representative(i) <= limit_ms as f64)
            .map(|(_, &c)| c.max(0) as u64)
            .fold(0, |a, x| a.saturating_add(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

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
        let mut s = Sketch::new();
        [3, 1, 2].into_iter().for_each(|v| s.add(v));
        assert_eq!(s.quantile(500), Some(2.0));
        assert_eq!(s.mean(), Some(2.0));
        assert_eq!(Sketch::new().quantile(500), None);
        assert_eq!(Sketch::new().mean(), None);
    }

    fn exact(sorted: &[i64], permille: u16) -> i64 {
        let rank = (sorted.len() * permille as usize).div_ceil(1000).max(1);
        sorted[rank - 1]
    }

    proptest! {
        #[test]
        fn quantiles_within_one_percent(values in prop::collection::vec(0i64..40 * 86_400_000, 1..400),
                                        q in 0u16..=1000) {
            let mut s = Sketch::new();
            values.iter().for_each(|&v| s.add(v));
            let mut sorted = values.clone();
            sorted.sort();
            let truth = exact(&sorted, q) as f64;
            let got = s.quantile(q).unwrap();
            prop_assert!((got - truth).abs() <= truth * 0.01, "{} vs {}", got, truth);
            let mean = values.iter().sum::<i64>() as f64 / values.len() as f64;
            prop_assert!((s.mean().unwrap() - mean).abs() < 1e-6 * mean.max(1.0));
        }

        #[test]
        fn merge_is_exact(a in prop::collection::vec(0i64..1i64 << 40, 0..200),
                          b in prop::collection::vec(0i64..1i64 << 40, 0..200)) {
            let mut sa = Sketch::new();
            a.iter().for_each(|&v| sa.add(v));
            let mut sb = Sketch::new();
            b.iter().for_each(|&v| sb.add(v));
            sa.merge(&sb);
            let mut all = Sketch::new();
            a.iter().chain(&b).for_each(|&v| all.add(v));
            prop_assert_eq!(&sa, &all);
            let merged: Vec<_> = [&sa].iter().map(|s| s.quantile(900)).collect();
            prop_assert_eq!(merged[0], all.quantile(900));
        }
    }
}

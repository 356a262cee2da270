//! Net Promoter Score: a tally of answers per score 0–10, and the score with its margin.
use serde::{Deserialize, Serialize};

use crate::rollup::Entry;
use crate::stats;

/// Count of NPS answers per score 0–10; merges by addition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsTally {
    counts: [u64; 11],
}

/// Promoters (9–10), passives (7–8) and detractors (0–6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsBreakdown {
    /// Answers 9–10.
    pub promoters: u64,
    /// Answers 7–8.
    pub passives: u64,
    /// Answers 0–6.
    pub detractors: u64,
}

impl NpsTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one answer; scores above 10 are ignored (scores are validated as facts first).
    pub fn add(&mut self, score: u8) {
        if let Some(c) = self.counts.get_mut(score as usize) {
            *c = c.saturating_add(1);
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &NpsTally) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a = a.saturating_add(b);
        }
    }

    /// The tally held in the cells of one segment of [`crate::rollup::Family::Nps`]
    /// (key = score); counters left non-positive by retractions count nothing.
    pub fn from_run(run: &[Entry]) -> Self {
        let mut t = NpsTally::new();
        for e in run {
            if (0..=10).contains(&e.key) && e.cell.n > 0 {
                let k = e.key as usize;
                t.counts[k] = t.counts[k].saturating_add(e.cell.n as u64);
            }
        }
        t
    }

    /// Answers per score, index = score.
    pub fn counts(&self) -> &[u64; 11] {
        &self.counts
    }

    /// Number of answers.
    pub fn n(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// Promoter / passive / detractor split.
    pub fn breakdown(&self) -> NpsBreakdown {
        let sum = |r: core::ops::RangeInclusive<usize>| {
            self.counts[r]
                .iter()
                .fold(0u64, |a, &c| a.saturating_add(c))
        };
        NpsBreakdown {
            promoters: sum(9..=10),
            passives: sum(7..=8),
            detractors: sum(0..=6),
        }
    }

    /// %promoters − %detractors, −100..100; `None` without answers.
    pub fn score(&self) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let b = self.breakdown();
        Some((b.promoters as f64 - b.detractors as f64) * 100.0 / n as f64)
    }

    /// 95 % margin of error in NPS points (kpis.md's variance formula).
    pub fn margin(&self) -> Option<f64> {
        let b = self.breakdown();
        stats::nps_margin(b.promoters, b.detractors, self.n())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tally(scores: &[u8]) -> NpsTally {
        let mut t = NpsTally::new();
        scores.iter().for_each(|&s| t.add(s));
        t
    }

    #[test]
    fn empty_has_no_score() {
        assert_eq!(NpsTally::new().score(), None);
        assert_eq!(NpsTally::new().margin(), None);
    }

    #[test]
    fn all_passives_is_zero() {
        assert_eq!(tally(&[7, 8, 7, 8]).score(), Some(0.0));
    }

    #[test]
    fn promoters_minus_detractors() {
        // 3 promoters, 1 passive, 1 detractor of 5 → 60 − 20 = 40.
        let t = tally(&[10, 9, 9, 7, 0]);
        assert_eq!(t.score(), Some(40.0));
        assert_eq!(
            t.breakdown(),
            NpsBreakdown {
                promoters: 3,
                passives: 1,
                detractors: 1
            }
        );
    }

    #[test]
    fn single_detractor_is_minus_100() {
        assert_eq!(tally(&[0]).score(), Some(-100.0));
    }

    proptest! {
        #[test]
        fn merge_equals_tally_of_concatenation(a in prop::collection::vec(0u8..=10, 0..200),
                                               b in prop::collection::vec(0u8..=10, 0..200)) {
            let mut m = tally(&a);
            m.merge(&tally(&b));
            let all: alloc::vec::Vec<u8> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(m, tally(&all));
        }
    }
}

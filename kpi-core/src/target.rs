//! Targets and what follows from them: the achievement of a value against its target, its
//! status, the weighted scorecard of seed 002's twelve steps and the customer health score.
//! Owns the arithmetic of targets; not where values come from (a scorecard of reported KPIs
//! is [`crate::report::scorecard`]).
//!
//! Achievement maps the reference point (the baseline, else the minimum) to 0 % and the goal to
//! 100 %, linearly, whichever the direction; it is capped to `0..=ACHIEVEMENT_CAP` so one
//! runaway KPI cannot carry a scorecard. Without a usable reference it falls back to
//! value ÷ goal (up) or goal ÷ value (down).
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::period::{Period, PeriodKind};

/// Whether higher or lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
    /// Neither: a volume to watch (ticket volume, comments).
    None,
}

impl Direction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::None => "none",
        }
    }
}

/// Highest achievement counted, in percent.
pub const ACHIEVEMENT_CAP: f64 = 120.0;

/// A KPI's target: the minimum acceptable value and the goal, and the length of period they
/// are meant for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Minimum acceptable value (at or beyond it: at risk rather than off track).
    pub min: f64,
    /// The goal (at or beyond it: on track).
    pub goal: f64,
    /// The length of period the bounds are meant for; `None`: any period, as is (targets
    /// stored before periods existed keep meaning what they meant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<TargetPeriod>,
}

/// The length of period a target is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetPeriod {
    /// One day.
    Day,
    /// One week.
    Week,
    /// One calendar month.
    Month,
    /// One calendar quarter.
    Quarter,
    /// Six calendar months (seed 000's repeat purchase "over 6 months").
    Half,
    /// One calendar year.
    Year,
}

impl TargetPeriod {
    /// Every value, in length order.
    pub const ALL: [TargetPeriod; 6] = [
        TargetPeriod::Day,
        TargetPeriod::Week,
        TargetPeriod::Month,
        TargetPeriod::Quarter,
        TargetPeriod::Half,
        TargetPeriod::Year,
    ];

    /// Parses `day|week|month|quarter|half|year`.
    pub fn parse(s: &str) -> Option<TargetPeriod> {
        TargetPeriod::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetPeriod::Day => "day",
            TargetPeriod::Week => "week",
            TargetPeriod::Month => "month",
            TargetPeriod::Quarter => "quarter",
            TargetPeriod::Half => "half",
            TargetPeriod::Year => "year",
        }
    }

    /// Its length.
    pub fn length(self) -> Length {
        match self {
            TargetPeriod::Day => Length::Days(1),
            TargetPeriod::Week => Length::Days(7),
            TargetPeriod::Month => Length::Months(1),
            TargetPeriod::Quarter => Length::Months(3),
            TargetPeriod::Half => Length::Months(6),
            TargetPeriod::Year => Length::Months(12),
        }
    }
}

/// Mean days of a Gregorian month (365.2425 ÷ 12), to compare months with days.
const DAYS_PER_MONTH: f64 = 30.436_875;

/// The length of a period: whole calendar months when it is made of them (a month of 28 days
/// and one of 31 are both one month: a monthly target means either), days otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A number of days.
    Days(i64),
    /// A number of calendar months.
    Months(i64),
}

impl Length {
    /// The length of `p`: months for a month, quarter, year or a range from a first of the
    /// month to a first of the month; days otherwise.
    pub fn of(p: &Period) -> Length {
        match p.kind {
            PeriodKind::Day => Length::Days(1),
            PeriodKind::Week => Length::Days(7),
            PeriodKind::Month => Length::Months(1),
            PeriodKind::Quarter => Length::Months(3),
            PeriodKind::Year => Length::Months(12),
            PeriodKind::Range if p.from.day == 1 && p.to.day == 1 => Length::Months(
                i64::from(p.to.year - p.from.year) * 12 + i64::from(p.to.month)
                    - i64::from(p.from.month),
            ),
            PeriodKind::Range => Length::Days(p.len_days()),
        }
    }

    fn days(self) -> f64 {
        match self {
            Length::Days(d) => d as f64,
            Length::Months(m) => m as f64 * DAYS_PER_MONTH,
        }
    }

    /// How many times `unit` fits in this length: exact between months and between days,
    /// through the mean month between the two.
    pub fn ratio(self, unit: Length) -> f64 {
        match (self, unit) {
            (Length::Months(a), Length::Months(b)) if b > 0 => a as f64 / b as f64,
            (Length::Days(a), Length::Days(b)) if b > 0 => a as f64 / b as f64,
            _ if unit.days() > 0.0 => self.days() / unit.days(),
            _ => 1.0,
        }
    }
}

/// How a target meant for one period length maps to a period of another length: the rule
/// each KPI of the catalog states ([`crate::kpi::Kpi::target_scaling`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// A level (a score, a share of facts, a duration, an amount per unit): the same bounds
    /// whatever the length.
    AsIs,
    /// A flow (a count or an amount over the period): bounds × the ratio of lengths.
    Days,
    /// A share lost per period (churn): 1 − (1 − p)^k over k target periods.
    Compound,
    /// A share kept per period (retention): r^k over k target periods.
    Power,
    /// A share over a window whose length changes its meaning (repeat purchase, adoption,
    /// upsell, ARPU, growth): judged only on periods of the target's length.
    SameLength,
}

impl Scaling {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scaling::AsIs => "as_is",
            Scaling::Days => "days",
            Scaling::Compound => "compound",
            Scaling::Power => "power",
            Scaling::SameLength => "same_length",
        }
    }

    /// The rule in words, as the catalog and README state it.
    pub fn rule(self) -> &'static str {
        match self {
            Scaling::AsIs => "a level: the target applies as is to any period",
            Scaling::Days => {
                "a flow: the target is scaled by the period's length over the target's (days; calendar months between month-based periods)"
            }
            Scaling::Compound => {
                "a share lost per period: a target p per target period becomes 1 − (1 − p)^k over k of them"
            }
            Scaling::Power => {
                "a share kept per period: a target r per target period becomes r^k over k of them"
            }
            Scaling::SameLength => {
                "a share over a window: judged only on periods of the target's length; status null with status_reason otherwise"
            }
        }
    }
}

/// Why a KPI with a value and a target has no status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// The target is meant for periods of another length and the KPI's rule
    /// ([`Scaling::SameLength`]) judges it only on periods of that length.
    TargetPeriodDiffers,
}

impl StatusReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::TargetPeriodDiffers => "target_period_differs",
        }
    }
}

/// A percentage as a share in 0..=1.
fn share(pct: f64) -> f64 {
    (pct / 100.0).clamp(0.0, 1.0)
}

/// Where a KPI stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At or beyond the goal.
    OnTrack,
    /// Between the minimum and the goal.
    AtRisk,
    /// Short of the minimum.
    OffTrack,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
        }
    }
}

fn at_least_as_good(a: f64, b: f64, direction: Direction) -> bool {
    match direction {
        Direction::Down => a <= b,
        Direction::Up | Direction::None => a >= b,
    }
}

/// The magnitudes a target's bounds may take besides 0: far beyond any KPI's values either
/// way, and within what every reader of the rollups reads back to the same bits (the offline
/// widget's [`crate::json::decimal_to_f64`]).
pub const BOUND_MAGNITUDE: core::ops::RangeInclusive<f64> = 1e-30..=1e30;

impl Target {
    /// True when `min` and `goal` are finite and 0 or within [`BOUND_MAGNITUDE`].
    pub fn bounds_valid(&self) -> bool {
        let ok = |v: f64| v == 0.0 || BOUND_MAGNITUDE.contains(&v.abs());
        ok(self.min) && ok(self.goal)
    }

    /// A target meant for any period.
    pub const fn new(min: f64, goal: f64) -> Target {
        Target {
            min,
            goal,
            period: None,
        }
    }

    /// A target meant for periods of `period`'s length.
    pub const fn per(min: f64, goal: f64, period: TargetPeriod) -> Target {
        Target {
            min,
            goal,
            period: Some(period),
        }
    }

    /// The bounds for a period of `length` under `scaling` (without a period of its own, or
    /// without a known length, the target as is); `None` when the rule does not compare
    /// the two lengths. The result is meant for that length (`period` `None`).
    pub fn for_length(&self, length: Option<Length>, scaling: Scaling) -> Option<Target> {
        let (Some(own), Some(length)) = (self.period.map(TargetPeriod::length), length) else {
            return Some(Target::new(self.min, self.goal));
        };
        let k = length.ratio(own);
        let map = |v: f64| -> f64 {
            match scaling {
                Scaling::AsIs | Scaling::SameLength => v,
                Scaling::Days => v * k,
                Scaling::Compound => (1.0 - libm::pow(1.0 - share(v), k)) * 100.0,
                Scaling::Power => libm::pow(share(v), k) * 100.0,
            }
        };
        if scaling == Scaling::SameLength && length != own {
            return None;
        }
        Some(Target::new(
            crate::stats::round_to(map(self.min), 3),
            crate::stats::round_to(map(self.goal), 3),
        ))
    }

    /// The status of `value` against this target, direction-aware.
    pub fn status(&self, value: f64, direction: Direction) -> Status {
        if at_least_as_good(value, self.goal, direction) {
            Status::OnTrack
        } else if at_least_as_good(value, self.min, direction) {
            Status::AtRisk
        } else {
            Status::OffTrack
        }
    }

    /// Achievement of `value` in percent, direction-aware and capped (module doc);
    /// `baseline` is the reference point when given.
    pub fn achievement(&self, value: f64, baseline: Option<f64>, direction: Direction) -> f64 {
        let reference = baseline.unwrap_or(self.min);
        let raw = if (self.goal - reference).abs() > f64::EPSILON
            && at_least_as_good(self.goal, reference, direction)
        {
            (value - reference) / (self.goal - reference) * 100.0
        } else {
            match direction {
                Direction::Down if value > 0.0 && self.goal > 0.0 => self.goal / value * 100.0,
                Direction::Up | Direction::None if self.goal > 0.0 => value / self.goal * 100.0,
                _ if at_least_as_good(value, self.goal, direction) => 100.0,
                _ => 0.0,
            }
        };
        if raw.is_nan() {
            return 0.0;
        }
        raw.clamp(0.0, ACHIEVEMENT_CAP)
    }
}

/// One KPI's line on a scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// Catalog id.
    pub kpi: String,
    /// The value over the period; `None` without data.
    pub value: Option<f64>,
    /// The value over the previous period.
    pub previous: Option<f64>,
    /// value − previous.
    pub change: Option<f64>,
    /// Achievement in percent.
    pub achievement: Option<f64>,
    /// Status against the target.
    pub status: Option<Status>,
    /// Weight.
    pub weight: f64,
}

/// A weighted scorecard (step 12: expected against actual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// One line per KPI definition.
    pub lines: Vec<ScoreLine>,
    /// Weighted mean achievement of the lines that have a value; `None` when none has.
    pub score: Option<f64>,
}

/// The weighted mean of `(achievement, weight)` pairs, ignoring missing achievements and
/// non-positive weights; `None` when nothing remains.
pub fn weighted_score(items: impl IntoIterator<Item = (Option<f64>, f64)>) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for (a, w) in items {
        if let Some(a) = a.filter(|a| a.is_finite()) {
            if w > 0.0 && w.is_finite() {
                num += a * w;
                den += w;
            }
        }
    }
    (den > 0.0).then(|| num / den)
}

/// Builds a scorecard from its lines, in order: the lines with their weighted score.
pub fn scorecard(lines: Vec<ScoreLine>) -> Scorecard {
    let score = weighted_score(lines.iter().map(|l| (l.achievement, l.weight)));
    Scorecard { lines, score }
}

/// The customer health score, 0–100: the weighted mean of the chosen leading KPIs'
/// achievements, each capped at 100 so that no KPI makes up for another beyond its goal.
pub fn health_score(items: impl IntoIterator<Item = (Option<f64>, f64)>) -> Option<f64> {
    weighted_score(
        items
            .into_iter()
            .map(|(a, w)| (a.map(|a| a.clamp(0.0, 100.0)), w)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bound the API accepts is read back to the same bits by the offline widget's
    /// reader from the text the worker writes (serde_json's shortest form), at the edges of
    /// the range and with all 17 digits; bounds past the range are refused.
    #[test]
    fn valid_bounds_read_back_exactly_from_the_worker_s_text() {
        let lo = *BOUND_MAGNITUDE.start();
        let hi = *BOUND_MAGNITUDE.end();
        let mut edges = alloc::vec![0.0, -0.0, lo, hi, -lo, -hi, 0.1 + 0.2, 1.0 / 3.0];
        for v in [lo, hi, 1.0, 12_345.678_9] {
            edges.push(f64::from_bits(v.to_bits() + 1));
            edges.push(f64::from_bits(v.to_bits() - 1));
        }
        for v in edges {
            let t = Target::new(v, -v);
            if !t.bounds_valid() {
                assert!(v.abs() < lo || v.abs() > hi, "{v:e} refused");
                continue;
            }
            let text = serde_json::to_string(&v).unwrap();
            let read = crate::json::parse(&text).ok().and_then(|j| j.as_f64());
            assert_eq!(read.map(f64::to_bits), Some(v.to_bits()), "{text}");
        }
        for v in [f64::NAN, f64::INFINITY, 1e31, 1e-31, f64::MIN_POSITIVE] {
            assert!(!Target::new(v, 1.0).bounds_valid(), "{v:e}");
            assert!(!Target::new(1.0, v).bounds_valid(), "{v:e}");
        }
    }

    #[test]
    fn achievement_is_direction_aware_and_capped() {
        let up = Target::new(70.0, 85.0);
        assert_eq!(up.achievement(85.0, None, Direction::Up), 100.0);
        assert_eq!(up.achievement(77.5, None, Direction::Up), 50.0);
        assert_eq!(up.achievement(60.0, None, Direction::Up), 0.0);
        assert_eq!(up.achievement(200.0, None, Direction::Up), ACHIEVEMENT_CAP);
        // Churn: lower is better, goal 3 %, minimum 5 %.
        let down = Target::new(5.0, 3.0);
        assert_eq!(down.achievement(4.0, None, Direction::Down), 50.0);
        assert_eq!(down.achievement(3.0, None, Direction::Down), 100.0);
        assert_eq!(down.status(4.0, Direction::Down), Status::AtRisk);
        assert_eq!(down.status(6.0, Direction::Down), Status::OffTrack);
        // A single threshold: ratio to the goal.
        let single = Target::new(5.0, 5.0);
        assert_eq!(single.achievement(10.0, None, Direction::Down), 50.0);
        // Baseline as the reference point: from 40 towards 85, at 49 → 20 %.
        assert_eq!(up.achievement(49.0, Some(40.0), Direction::Up), 20.0);
    }

    fn line(kpi: &str, value: Option<f64>, achievement: Option<f64>, weight: f64) -> ScoreLine {
        ScoreLine {
            kpi: kpi.into(),
            value,
            previous: None,
            change: None,
            achievement,
            status: None,
            weight,
        }
    }

    #[test]
    fn scorecard_weights_and_skips_missing_values() {
        let s = scorecard(alloc::vec![
            line("a", Some(100.0), Some(100.0), 3.0),
            line("b", Some(0.0), Some(0.0), 1.0),
            line("c", None, None, 5.0),
            line("d", Some(9.0), Some(50.0), 0.0),
        ]);
        // (100 × 3 + 0 × 1) ÷ 4; c has no value, d no weight.
        assert_eq!(s.score, Some(75.0));
        assert_eq!(s.lines.len(), 4);
        assert_eq!(weighted_score([]), None);
    }

    #[test]
    fn health_score_caps_each_part_at_100() {
        assert_eq!(
            health_score([(Some(120.0), 1.0), (Some(50.0), 1.0)]),
            Some(75.0)
        );
        assert_eq!(health_score([(None, 1.0)]), None);
    }
}

//! Targets and what follows from them: the KPI definition of seed 002's twelve steps, the
//! achievement of a value against its target, its status, the weighted scorecard and the
//! customer health score. Owns the arithmetic of targets; not where values come from.
//!
//! Achievement maps the reference point (the baseline, else the minimum) to 0 % and the goal to
//! 100 %, linearly, whichever the direction; it is capped to `0..=ACHIEVEMENT_CAP` so one
//! runaway KPI cannot carry a scorecard. Without a usable reference it falls back to
//! value ÷ goal (up) or goal ÷ value (down).
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::kpi::meta::{Direction, Indicator, Unit};
use crate::period::{CivilDate, PeriodKind};

/// Highest achievement counted, in percent.
pub const ACHIEVEMENT_CAP: f64 = 120.0;

/// A KPI's target: the minimum acceptable value and the goal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Minimum acceptable value (at or beyond it: at risk rather than off track).
    pub min: f64,
    /// The goal (at or beyond it: on track).
    pub goal: f64,
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

impl Target {
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

/// Who may see or change a KPI definition (step 10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// The person accountable.
    pub owner: String,
    /// Who may view it.
    #[serde(default)]
    pub viewers: Vec<String>,
    /// Who may change it.
    #[serde(default)]
    pub editors: Vec<String>,
}

/// A KPI as a business tracks it: seed 002's twelve steps, per tenant and KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiDefinition {
    /// Catalog id (step 1: the name is the catalog label unless `name` overrides it).
    pub kpi: String,
    /// The tenant's own name for it.
    #[serde(default)]
    pub name: Option<String>,
    /// The strategic goal it serves (step 2).
    #[serde(default)]
    pub goal_of: Option<String>,
    /// Where the data comes from and how it is collected (step 4).
    #[serde(default)]
    pub data_source: Option<String>,
    /// What tracking it costs per review period, in the tenant's words (step 9).
    #[serde(default)]
    pub tracking_cost: Option<String>,
    /// How the KPI is used: the decisions it informs (step 11).
    #[serde(default)]
    pub scope: Option<String>,
    /// Increase or decrease.
    pub direction: Direction,
    /// Unit.
    pub unit: Unit,
    /// Current result when the KPI was set (step 3).
    #[serde(default)]
    pub baseline: Option<f64>,
    /// Minimum acceptable value and target (step 3).
    pub target: Target,
    /// How often it is reviewed (step 5).
    pub review: PeriodKind,
    /// Expiry or next review date (step 6).
    #[serde(default, with = "opt_date")]
    pub review_date: Option<CivilDate>,
    /// Weight among the KPIs of the same goal (step 8).
    pub weight: f64,
    /// Owner, viewers, editors (step 10).
    #[serde(default)]
    pub roles: Roles,
    /// Leading or lagging (step 7).
    pub indicator: Indicator,
}

mod opt_date {
    use super::CivilDate;
    use alloc::string::{String, ToString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<CivilDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CivilDate>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| CivilDate::parse(&s).map_err(serde::de::Error::custom))
            .transpose()
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

impl KpiDefinition {
    /// True when the review date has come (`today` is at or after it).
    pub fn review_due(&self, today: CivilDate) -> bool {
        self.review_date.is_some_and(|d| today >= d)
    }

    /// This definition's scorecard line for a value and its previous value.
    pub fn line(&self, value: Option<f64>, previous: Option<f64>) -> ScoreLine {
        ScoreLine {
            kpi: self.kpi.clone(),
            value,
            previous,
            change: value.zip(previous).map(|(v, p)| v - p),
            achievement: value.map(|v| self.target.achievement(v, self.baseline, self.direction)),
            status: value.map(|v| self.target.status(v, self.direction)),
            weight: self.weight,
        }
    }
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

/// Builds a scorecard from definitions and their (value, previous) pairs, in order.
pub fn scorecard(items: &[(&KpiDefinition, Option<f64>, Option<f64>)]) -> Scorecard {
    let lines: Vec<ScoreLine> = items.iter().map(|(d, v, p)| d.line(*v, *p)).collect();
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

    fn def(direction: Direction, min: f64, goal: f64, weight: f64) -> KpiDefinition {
        KpiDefinition {
            kpi: "x".into(),
            name: None,
            goal_of: None,
            data_source: Some("CRM tickets".into()),
            tracking_cost: None,
            scope: None,
            direction,
            unit: Unit::Percent,
            baseline: None,
            target: Target { min, goal },
            review: PeriodKind::Month,
            review_date: Some(CivilDate::new(2026, 12, 31).unwrap()),
            weight,
            roles: Roles::default(),
            indicator: Indicator::Lagging,
        }
    }

    #[test]
    fn achievement_is_direction_aware_and_capped() {
        let up = Target {
            min: 70.0,
            goal: 85.0,
        };
        assert_eq!(up.achievement(85.0, None, Direction::Up), 100.0);
        assert_eq!(up.achievement(77.5, None, Direction::Up), 50.0);
        assert_eq!(up.achievement(60.0, None, Direction::Up), 0.0);
        assert_eq!(up.achievement(200.0, None, Direction::Up), ACHIEVEMENT_CAP);
        // Churn: lower is better, goal 3 %, minimum 5 %.
        let down = Target {
            min: 5.0,
            goal: 3.0,
        };
        assert_eq!(down.achievement(4.0, None, Direction::Down), 50.0);
        assert_eq!(down.achievement(3.0, None, Direction::Down), 100.0);
        assert_eq!(down.status(4.0, Direction::Down), Status::AtRisk);
        assert_eq!(down.status(6.0, Direction::Down), Status::OffTrack);
        // A single threshold: ratio to the goal.
        let single = Target {
            min: 5.0,
            goal: 5.0,
        };
        assert_eq!(single.achievement(10.0, None, Direction::Down), 50.0);
        // Baseline as the reference point: from 40 towards 85, at 49 → 20 %.
        assert_eq!(up.achievement(49.0, Some(40.0), Direction::Up), 20.0);
    }

    #[test]
    fn scorecard_weights_and_skips_missing_values() {
        let a = def(Direction::Up, 0.0, 100.0, 3.0);
        let b = def(Direction::Up, 0.0, 100.0, 1.0);
        let c = def(Direction::Up, 0.0, 100.0, 5.0);
        let s = scorecard(&[
            (&a, Some(100.0), Some(90.0)),
            (&b, Some(0.0), None),
            (&c, None, None),
        ]);
        assert_eq!(s.score, Some(75.0));
        assert_eq!(s.lines[0].change, Some(10.0));
        assert_eq!(s.lines[2].status, None);
        assert!(a.review_due(CivilDate::new(2027, 1, 1).unwrap()));
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

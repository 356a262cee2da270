//! KPIs out: the catalog entries and the report of one KPI over a period, computed from
//! merged rollups. The report's shape is the JSON the API serves and the widget reads.
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::nps::NpsTally;
use crate::rollup::{Dim, Rollup};
use crate::stats;

/// Label language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Parses `vi` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The unit a KPI's value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A percentage, 0–100.
    Percent,
    /// A score on the KPI's own scale (NPS −100..100).
    Score,
    /// Seconds.
    Duration,
    /// Major units of a currency.
    Money,
    /// A whole number.
    Count,
    /// A ratio of two counts.
    Ratio,
}

/// Whether higher or lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
}

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

impl Target {
    /// The status of `value` against this target, direction-aware.
    pub fn status(&self, value: f64, direction: Direction) -> Status {
        let better_or_equal = |a: f64, b: f64| match direction {
            Direction::Up => a >= b,
            Direction::Down => a <= b,
        };
        if better_or_equal(value, self.goal) {
            Status::OnTrack
        } else if better_or_equal(value, self.min) {
            Status::AtRisk
        } else {
            Status::OffTrack
        }
    }
}

/// One entry of the KPI catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiDef {
    /// Stable id (`nps`, `csat`, …).
    pub id: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// Vietnamese label.
    pub label_vi: &'static str,
    /// Unit of the value.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// Default target, where the source articles give one.
    pub default_target: Option<Target>,
    /// Source article (file stem in the seeds).
    pub source: &'static str,
}

impl KpiDef {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.label_vi,
            Lang::En => self.label_en,
        }
    }
}

/// Every KPI the product computes.
pub const CATALOG: &[KpiDef] = &[KpiDef {
    id: "nps",
    label_en: "Net Promoter Score",
    label_vi: "Chỉ số khuyến nghị",
    unit: Unit::Score,
    direction: Direction::Up,
    default_target: Some(Target {
        min: 0.0,
        goal: 50.0,
    }),
    source: "000_0c99e78863d5dcfa",
}];

/// A KPI id that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKpi(pub String);

impl core::fmt::Display for UnknownKpi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unknown KPI id `{}`", self.0)
    }
}

/// Looks up a catalog entry.
pub fn find(id: &str) -> Result<&'static KpiDef, UnknownKpi> {
    CATALOG
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| UnknownKpi(id.to_string()))
}

/// The value of a KPI over one rollup, with what stands beside it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Measure {
    /// The value; `None` when there is no data (never NaN, never a made-up 0).
    pub value: Option<f64>,
    /// Sample size, where the KPI is computed from a sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// 95 % interval, where the KPI has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// True when `n` is below the minimum sample.
    #[serde(default)]
    pub insufficient_sample: bool,
    /// Named parts of the value (NPS: promoters, passives, detractors).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub breakdown: BTreeMap<String, u64>,
}

/// One point of a KPI's series (a sparkline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// First day of the sub-period, `YYYY-MM-DD`.
    pub from: String,
    /// Value over the sub-period.
    pub value: Option<f64>,
    /// Sample size over the sub-period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
}

/// A KPI over a period: the `kpis[]` element of `GET /v1/kpis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// Catalog id.
    pub id: String,
    /// Label in the requested language.
    pub label: String,
    /// Unit of `value`.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// The measure over the period.
    #[serde(flatten)]
    pub measure: Measure,
    /// The target in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// Status against the target; absent without a value or a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Value over the previous period, when compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<f64>,
    /// value − previous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// Sub-period values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
    /// Per-segment measures, keyed by segment value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, Measure>,
}

/// Options that shape a report.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Label language.
    pub lang: Lang,
    /// Minimum sample for `insufficient_sample`.
    pub min_sample: u64,
    /// Target overriding the catalog default.
    pub target: Option<Target>,
    /// Segment dimension to break down by.
    pub segment: Option<Dim>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            lang: Lang::Vi,
            min_sample: stats::DEFAULT_MIN_SAMPLE,
            target: None,
            segment: None,
        }
    }
}

/// The measure of KPI `def` over one segment of a rollup.
pub fn measure(def: &KpiDef, r: &Rollup, dim: Dim, segment: &str, min_sample: u64) -> Measure {
    match def.id {
        "nps" => {
            let t = NpsTally::from_rollup(r, dim, segment);
            let n = t.n();
            let b = t.breakdown();
            let value = t.score().map(|v| stats::round_to(v, 1));
            let interval = match (t.score(), t.margin()) {
                (Some(v), Some(m)) => Some([
                    stats::round_to((v - m).max(-100.0), 1),
                    stats::round_to((v + m).min(100.0), 1),
                ]),
                _ => None,
            };
            let mut breakdown = BTreeMap::new();
            breakdown.insert("promoters".to_string(), b.promoters);
            breakdown.insert("passives".to_string(), b.passives);
            breakdown.insert("detractors".to_string(), b.detractors);
            Measure {
                value,
                n: Some(n),
                interval,
                insufficient_sample: n < min_sample,
                breakdown,
            }
        }
        _ => Measure::default(),
    }
}

/// The report of KPI `def`: the period's rollup, optionally the previous period's, and the
/// rollups of the sub-periods for the series (first day, rollup).
pub fn report(
    def: &KpiDef,
    period: &Rollup,
    previous: Option<&Rollup>,
    series: &[(String, Rollup)],
    opts: &ReportOptions,
) -> KpiReport {
    let m = measure(def, period, Dim::All, "", opts.min_sample);
    let target = opts.target.or(def.default_target);
    let status = match (m.value, target) {
        (Some(v), Some(t)) => Some(t.status(v, def.direction)),
        _ => None,
    };
    let previous = previous.and_then(|p| measure(def, p, Dim::All, "", opts.min_sample).value);
    let delta = match (m.value, previous) {
        (Some(v), Some(p)) => Some(stats::round_to(v - p, 1)),
        _ => None,
    };
    let series = series
        .iter()
        .map(|(from, r)| {
            let sm = measure(def, r, Dim::All, "", opts.min_sample);
            SeriesPoint {
                from: from.clone(),
                value: sm.value,
                n: sm.n,
            }
        })
        .collect();
    let mut segments = BTreeMap::new();
    if let Some(dim) = opts.segment.filter(|d| *d != Dim::All) {
        for seg in period.segments(crate::rollup::Family::Nps, dim) {
            let sm = measure(def, period, dim, &seg, opts.min_sample);
            segments.insert(seg, sm);
        }
    }
    KpiReport {
        id: def.id.to_string(),
        label: def.label(opts.lang).to_string(),
        unit: def.unit,
        direction: def.direction,
        measure: m,
        target,
        status,
        previous,
        delta,
        series,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact::{Channel, SurveyKind, SurveyResponse};

    fn rollup(scores: &[(u8, Channel)]) -> Rollup {
        let mut r = Rollup::new();
        for &(s, ch) in scores {
            r.extend(
                SurveyResponse::new(SurveyKind::Nps, s as i64, ch, false)
                    .unwrap()
                    .contributions(),
            );
        }
        r
    }

    #[test]
    fn nps_report_from_rollup_with_segments_and_previous() {
        let cur = rollup(&[
            (10, Channel::Email),
            (9, Channel::Chat),
            (3, Channel::Email),
        ]);
        let prev = rollup(&[(0, Channel::Email)]);
        let opts = ReportOptions {
            segment: Some(Dim::Channel),
            lang: Lang::En,
            ..Default::default()
        };
        let rep = report(find("nps").unwrap(), &cur, Some(&prev), &[], &opts);
        assert_eq!(rep.label, "Net Promoter Score");
        assert_eq!(rep.measure.value, Some(33.3));
        assert_eq!(rep.measure.n, Some(3));
        assert!(rep.measure.insufficient_sample);
        assert_eq!(rep.previous, Some(-100.0));
        assert_eq!(rep.delta, Some(133.3));
        assert_eq!(rep.status, Some(Status::AtRisk));
        assert_eq!(rep.segments["email"].value, Some(0.0));
        assert_eq!(rep.segments["chat"].value, Some(100.0));
    }

    #[test]
    fn no_data_means_no_value() {
        let rep = report(
            find("nps").unwrap(),
            &Rollup::new(),
            None,
            &[],
            &Default::default(),
        );
        assert_eq!(rep.measure.value, None);
        assert_eq!(rep.status, None);
        assert_eq!(rep.label, "Chỉ số khuyến nghị");
    }

    #[test]
    fn unknown_id_is_an_error() {
        assert_eq!(find("nope"), Err(UnknownKpi("nope".into())));
    }
}

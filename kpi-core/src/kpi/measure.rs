//! The value of a KPI over one view ([`Measure`]) and the shapes formulas share: a share with
//! its Wilson interval, a count, money, a duration from a sketch, a mean score.
use alloc::collections::BTreeMap;
use alloc::string::String;

use serde::{Deserialize, Serialize};

use super::view::View;
use crate::money::Currency;
use crate::rollup::{Cell, Family};
use crate::sketch::Sketch;
use crate::stats;

/// Why a KPI has no value although facts exist: an input it needs was never given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Missing {
    /// Resolved tickets exist, none with `contacts` (first-contact resolution).
    ContactsNotSent,
    /// Tickets exist, none with the `transferred` flag (transfer rate).
    TransferredNotSent,
    /// Tickets exist, none with the `abandoned` flag (abandonment rate).
    AbandonedNotSent,
    /// The tenant's `licensed_users` setting is not set (CRM adoption).
    LicensedUsersNotSet,
}

impl Missing {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Missing::ContactsNotSent => "contacts_not_sent",
            Missing::TransferredNotSent => "transferred_not_sent",
            Missing::AbandonedNotSent => "abandoned_not_sent",
            Missing::LicensedUsersNotSet => "licensed_users_not_set",
        }
    }
}

/// The value of a KPI over one view, with what stands beside it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Measure {
    /// The value; `None` when there is no data (never NaN, never a made-up 0). Durations:
    /// the median in seconds. Money: major units of `currency`. Whole values are written as
    /// JSON integers (counts are integers on the wire).
    #[serde(serialize_with = "whole_as_integer")]
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
    /// Durations: 90th percentile in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// Durations: mean in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Money: the ISO 4217 currency of `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// NPS: the catalog's 95 % margin of error, in points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// A second figure in percent: CES share of 5–7 answers, sales growth's progress to the
    /// revenue target, retention cost as a share of MRR per customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Why `value` is null although facts exist (an input never sent); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Missing>,
    /// The sample behind `value`, for testing a change against the previous period (not on
    /// the wire: `n`, `breakdown` and the interval say it for readers).
    #[serde(skip)]
    pub sample: Option<Sample>,
}

/// The sample a value was computed from, as a significance test needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// `hits` of `n` (a proportion).
    Share {
        /// Successes.
        hits: u64,
        /// Trials.
        n: u64,
    },
    /// NPS answers: promoters and detractors of `n`.
    Nps {
        /// Promoters.
        promoters: u64,
        /// Detractors.
        detractors: u64,
        /// Answers.
        n: u64,
    },
    /// A mean with its sample variance (from stored sums and sums of squares).
    Mean {
        /// Observations.
        n: u64,
        /// Mean.
        mean: f64,
        /// Sample variance (n − 1 in the denominator).
        var: f64,
    },
    /// A mean whose counters keep no sum of squares (durations, money): no variance.
    MeanWithoutVariance,
}

impl Measure {
    /// Writes the measure's fields into the object being written (as serde does with the
    /// field flattened into a report): the same names, the same fields left out.
    pub fn write_fields(&self, o: &mut crate::json::Out) {
        o.key("value");
        o.opt_num(self.value);
        if let Some(n) = self.n {
            o.key("n");
            o.int(n);
        }
        if let Some([lo, hi]) = self.interval {
            o.key("interval");
            o.open_array();
            o.num(lo);
            o.num(hi);
            o.close_array();
        }
        o.key("insufficient_sample");
        o.bool(self.insufficient_sample);
        if !self.breakdown.is_empty() {
            o.key("breakdown");
            o.open();
            for (k, v) in &self.breakdown {
                o.key(k);
                o.int(*v);
            }
            o.close();
        }
        for (k, v) in [("p90", self.p90), ("mean", self.mean)] {
            if let Some(v) = v {
                o.key(k);
                o.num(v);
            }
        }
        if let Some(c) = self.currency {
            o.key("currency");
            o.str(c.code());
        }
        for (k, v) in [("margin", self.margin), ("share", self.share)] {
            if let Some(v) = v {
                o.key(k);
                o.num(v);
            }
        }
        if let Some(r) = self.reason {
            o.key("reason");
            o.str(r.as_str());
        }
    }

    /// The measure as a JSON object.
    pub fn write(&self, o: &mut crate::json::Out) {
        o.open();
        self.write_fields(o);
        o.close();
    }
}

/// Writes a whole number as a JSON integer, anything else as a float.
pub(crate) fn whole_as_integer<S: serde::Serializer>(
    v: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if libm::trunc(*x) == *x && libm::fabs(*x) < 9.0e15 => {
            s.serialize_some(&(*x as i64))
        }
        Some(x) => s.serialize_some(x),
        None => s.serialize_none(),
    }
}

/// `v` rounded to `digits`, or `None` when it is not finite.
pub(crate) fn round(v: f64, digits: i32) -> Option<f64> {
    v.is_finite().then(|| stats::round_to(v, digits))
}

/// A count as unsigned (negative counts, which only retractions in flight can leave, are 0).
pub(crate) fn pos(v: i64) -> u64 {
    v.max(0) as u64
}

/// A share in percent with its Wilson interval; no value when the denominator is not
/// positive.
pub(crate) fn proportion(num: i64, den: i64, v: &View) -> Measure {
    let min_sample = v.opts.min_sample;
    if den <= 0 {
        return Measure {
            n: Some(0),
            insufficient_sample: 0 < min_sample,
            ..Measure::default()
        };
    }
    let interval = (num >= 0 && num <= den)
        .then(|| stats::wilson_percent(pos(num), pos(den)))
        .flatten()
        .map(|(lo, hi)| [stats::round_to(lo, 1), stats::round_to(hi, 1)]);
    Measure {
        value: round(num as f64 * 100.0 / den as f64, 1),
        n: Some(pos(den)),
        interval,
        insufficient_sample: pos(den) < min_sample,
        sample: (num >= 0 && num <= den).then_some(Sample::Share {
            hits: pos(num),
            n: pos(den),
        }),
        ..Measure::default()
    }
}

/// A share of the facts that carry an input: `num` of `den − unknown`. Without any fact
/// carrying it while facts exist, no value and `reason`.
pub(crate) fn known_proportion(
    num: i64,
    den: i64,
    unknown: i64,
    reason: Missing,
    v: &View,
) -> Measure {
    let known = den.saturating_sub(unknown.max(0));
    let mut m = proportion(num, known, v);
    if known <= 0 && den > 0 {
        m.reason = Some(reason);
    }
    m
}

/// A count, present only when its facts are.
pub(crate) fn count(v: i64, present: bool) -> Measure {
    Measure {
        value: present.then_some(v as f64),
        ..Measure::default()
    }
}

/// An amount in minor units as major units of `cur`.
pub(crate) fn money_value(minor: f64, cur: Currency) -> Measure {
    Measure {
        value: round(cur.to_major(minor), cur.exponent() as i32),
        currency: Some(cur),
        ..Measure::default()
    }
}

/// Money per unit of `den`; no value without a positive denominator.
pub(crate) fn ratio_money(num_minor: i64, den: i64, cur: Currency) -> Measure {
    if den <= 0 {
        return Measure {
            currency: Some(cur),
            ..Measure::default()
        };
    }
    let mut m = money_value(num_minor as f64 / den as f64, cur);
    m.n = Some(pos(den));
    m
}

/// Median, p90 and mean of a duration sketch, in seconds.
pub(crate) fn duration(s: &Sketch, v: &View) -> Measure {
    let secs = |ms: Option<f64>| ms.and_then(|ms| round(ms / 1000.0, 1));
    let f = s.figures([500, 900]);
    let [median, p90] = f.quantiles;
    let n = f.count;
    Measure {
        value: secs(median),
        p90: secs(p90),
        mean: secs(f.mean),
        n: Some(n),
        insufficient_sample: n < v.opts.min_sample,
        sample: Some(Sample::MeanWithoutVariance),
        ..Measure::default()
    }
}

/// A mean score with its interval from per-score counts; `map` puts a score on the scale.
pub(crate) fn mean_score(
    cells: impl Iterator<Item = (i64, Cell)>,
    map: impl Fn(i64) -> f64,
    v: &View,
) -> Measure {
    let (mut n, mut sum, mut sq) = (0u64, 0.0, 0.0);
    for (k, c) in cells {
        let s = map(k);
        let w = pos(c.n);
        n = n.saturating_add(w);
        sum += s * w as f64;
        sq += s * s * w as f64;
    }
    if n == 0 {
        return Measure {
            n: Some(0),
            insufficient_sample: 0 < v.opts.min_sample,
            ..Measure::default()
        };
    }
    let var = if n >= 2 {
        ((sq - sum * (sum / n as f64)) / (n as f64 - 1.0)).max(0.0)
    } else {
        0.0
    };
    let sample = Some(Sample::Mean {
        n,
        mean: sum / n as f64,
        var,
    });
    Measure {
        value: round(sum / n as f64, 2),
        n: Some(n),
        sample,
        interval: stats::mean_interval(n, sum, sq)
            .map(|(lo, hi)| [stats::round_to(lo, 2), stats::round_to(hi, 2)]),
        insufficient_sample: n < v.opts.min_sample,
        ..Measure::default()
    }
}

/// The currency to report money in: the option, else the one with the most facts in the
/// totals of `families`.
pub(crate) fn pick_currency(v: &View, families: &[Family]) -> Option<Currency> {
    if v.opts.currency.is_some() {
        return v.opts.currency;
    }
    let mut best: Option<(Currency, i64)> = None;
    let mut by: alloc::vec::Vec<(Currency, i64)> = alloc::vec::Vec::new();
    for &f in families {
        for e in v.totals(f) {
            if let Some(cur) = Currency::from_key(e.key) {
                let w = e.cell.n.saturating_abs().max(1);
                match by.iter_mut().find(|(c, _)| *c == cur) {
                    Some((_, n)) => *n = n.saturating_add(w),
                    None => by.push((cur, w)),
                }
            }
        }
    }
    // Most facts first; on a tie the currency that sorts last, as a BTreeMap max did.
    for (c, n) in by {
        match best {
            Some((bc, bn)) if bn > n || (bn == n && bc > c) => {}
            _ => best = Some((c, n)),
        }
    }
    best.map(|(c, _)| c)
}

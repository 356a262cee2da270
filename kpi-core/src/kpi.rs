//! KPIs out: the measure of every catalog KPI over merged rollups, and the report of one KPI
//! over a period (value, interval, target, status, previous, series, segments). The report's
//! shape is the JSON the API serves and the widget reads. Owns the formulas; the catalog
//! entries are [`crate::catalog`]'s, targets [`crate::target`]'s.
//!
//! Flows (tickets, orders, leads…) are sums over the period's days. Stocks — the backlog, open
//! pipeline, MRR, customers at the start and end — are sums over every day up to the period's
//! end: pass that *to-date* rollup in [`Inputs::to_date`]; without it a stock KPI has no value
//! rather than a wrong one. The stock at the period's start is the to-date rollup minus the
//! period. KPIs that count distinct customers in a window (repeat purchase rate, ARPU, CLV)
//! need the period's first day ([`ReportOptions::period`]); see [`crate::event`].
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

pub use crate::catalog::{catalog, Direction, Group, Indicator, KpiDef, Lang, Unit, CATALOG};
pub use crate::target::{Status, Target};

use crate::fact::{Channel, SurveyKind};
use crate::money::Currency;
use crate::nps::NpsTally;
use crate::period::{CivilDate, Period};
use crate::rollup::{key, Cell, Dim, Family, Rollup};
use crate::sketch::Sketch;
use crate::stats;

/// A KPI id that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKpi(pub String);

impl core::fmt::Display for UnknownKpi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unknown KPI id `{}`", self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for UnknownKpi {}

/// Looks up a catalog entry.
pub fn find(id: &str) -> Result<&'static KpiDef, UnknownKpi> {
    CATALOG
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| UnknownKpi(id.to_string()))
}

/// The rollup families a KPI reads, the first being the one whose segments it breaks down by.
/// A storage layer loads only these.
pub fn families(id: &str) -> &'static [Family] {
    use Family::*;
    match id {
        "nps" => &[Nps],
        "csat" | "csat_mean" => &[Csat5, Csat10],
        "ces" => &[Ces],
        "survey_response_rate" => &[LinksIssued, Nps, Csat5, Csat10, Ces],
        "feedback_balance" => &[Nps, Csat5, Csat10],
        "comments" => &[Comments],
        "first_response_time" => &[FirstResponse, FirstResponseBiz],
        "resolution_time" => &[Resolution, ResolutionBiz],
        "service_level" => &[Tickets, FirstResponse, FirstResponseBiz],
        "fcr" | "ticket_volume" | "transfer_rate" | "abandonment_rate" => &[Tickets],
        "backlog" => &[TicketOpenUntil],
        "support_cost_ratio" => &[SupportSpend, Orders],
        "conversion_rate" => &[Leads, Customers],
        "transaction_conversion" => &[Activities, Orders],
        "stage_conversion" => &[StageReached],
        "sales_cycle_length" => &[SalesCycle],
        "lead_response_time" => &[LeadResponse],
        "pipeline_value" => &[Pipeline],
        "average_order_value" | "sales_growth" => &[Orders],
        "revenue_per_rep" => &[Orders, ActiveUsers],
        "cancellation_rate" => &[Cancellations, Orders],
        "appointment_acceptance" => &[Appointments],
        "cost_per_lead" => &[Spend, Leads],
        "cost_per_acquisition" => &[Spend, Customers],
        "roi" => &[Spend, CampaignRevenue],
        "visit_to_lead" => &[Web, Leads],
        "landing_conversion" | "bounce_rate" => &[Web],
        "ctr" => &[Ads],
        "cost_per_click" => &[Spend, Ads],
        "engagement_rate" => &[Social],
        "email_open_rate" | "email_click_rate" | "unsubscribe_rate" => &[Email],
        "total_leads" => &[Leads],
        "arpu" => &[Orders, RepeatOrders],
        "mrr" => &[Mrr],
        "expansion_mrr" => &[ExpansionMrr],
        "clv" => &[Orders, RepeatOrders, Customers],
        "customer_net_value" => &[FirstOrders, Spend, Customers],
        "retention_rate" | "churn_rate" => &[Customers],
        "repeat_purchase_rate" => &[RepeatOrders],
        "renewal_rate" => &[Renewals],
        "upsell_rate" => &[Upsell, Customers],
        "retention_cost" => &[RetentionSpend, Customers, Mrr],
        "health_score" => &[Nps, Csat5, Csat10, Customers, FirstResponse],
        "crm_adoption_rate" => &[ActiveUsers],
        "activities_per_rep" => &[Activities, ActiveUsers],
        _ => &[],
    }
}

/// The value of a KPI over one rollup, with what stands beside it.
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
}

/// Writes a whole number as a JSON integer, anything else as a float.
fn whole_as_integer<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if libm::trunc(*x) == *x && libm::fabs(*x) < 9.0e15 => {
            s.serialize_some(&(*x as i64))
        }
        Some(x) => s.serialize_some(x),
        None => s.serialize_none(),
    }
}

/// One point of a KPI's series (a sparkline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// First day of the sub-period, `YYYY-MM-DD`.
    pub from: String,
    /// Value over the sub-period.
    #[serde(serialize_with = "whole_as_integer")]
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

/// First-response targets per channel, in seconds ([`Channel::ALL`] order), for the service
/// level. Defaults from seed 000: chat and Zalo 5 min, phone 1 min, the rest 1 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTargets(pub [u32; 7]);

impl Default for ServiceTargets {
    fn default() -> Self {
        ServiceTargets([3600, 300, 60, 300, 3600, 3600, 3600])
    }
}

impl ServiceTargets {
    /// The target of a channel, in seconds.
    pub fn of(&self, channel: Channel) -> u32 {
        let i = Channel::ALL.iter().position(|c| *c == channel).unwrap_or(6);
        self.0[i]
    }
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
    /// The period reported on: its first day opens the window of distinct-customer KPIs, its
    /// end is where stocks are read.
    pub period: Option<Period>,
    /// Lowest positive CSAT answer on the 5-point scale (default 4).
    pub csat_positive_5: u8,
    /// Lowest positive CSAT answer on the 10-point scale (default 8).
    pub csat_positive_10: u8,
    /// Report money in this currency (default: the one with the most facts).
    pub currency: Option<Currency>,
    /// Durations in business hours (tickets validated with a calendar) instead of calendar
    /// time.
    pub business_hours: bool,
    /// First-response targets per channel.
    pub service_targets: ServiceTargets,
    /// Licensed CRM users, for the adoption rate.
    pub licensed_users: Option<u64>,
    /// Mean customer lifespan in years for CLV (default: 1 ÷ the annualised churn).
    pub customer_lifespan_years: Option<f64>,
    /// Revenue target of the period in major units, for sales growth's progress.
    pub revenue_target: Option<f64>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            lang: Lang::Vi,
            min_sample: stats::DEFAULT_MIN_SAMPLE,
            target: None,
            segment: None,
            period: None,
            csat_positive_5: 4,
            csat_positive_10: 8,
            currency: None,
            business_hours: false,
            service_targets: ServiceTargets::default(),
            licensed_users: None,
            customer_lifespan_years: None,
            revenue_target: None,
        }
    }
}

/// The rollups a report reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Every day of the period, merged.
    pub period: &'a Rollup,
    /// Every day of the previous period, when compared.
    pub previous: Option<&'a Rollup>,
    /// Sub-periods for the series: (first day `YYYY-MM-DD`, rollup).
    pub series: &'a [(String, Rollup)],
    /// Every day from the first record up to the period's end (stocks); `None` leaves stock
    /// KPIs without a value.
    pub to_date: Option<&'a Rollup>,
}

/// One segment of a rollup, with what the formulas may need beside it.
#[derive(Clone, Copy)]
struct View<'a> {
    r: &'a Rollup,
    dim: Dim,
    seg: &'a str,
    to_date: Option<&'a Rollup>,
    previous: Option<&'a Rollup>,
    from: Option<CivilDate>,
    to: Option<CivilDate>,
}

impl<'a> View<'a> {
    fn at(&self, f: Family, k: i64) -> i64 {
        self.r.at(f, self.dim, self.seg, k).n
    }
    fn total(&self, f: Family) -> Cell {
        self.r.total(f, self.dim, self.seg)
    }
    fn has(&self, f: Family) -> bool {
        self.r.keyed(f, self.dim, self.seg).next().is_some()
    }
    fn money(&self, f: Family, cur: Currency) -> Cell {
        self.r.at(f, self.dim, self.seg, cur.key())
    }
    fn with(&self, r: &'a Rollup) -> View<'a> {
        View { r, ..*self }
    }
}

fn round(v: f64, digits: i32) -> Option<f64> {
    v.is_finite().then(|| stats::round_to(v, digits))
}

fn pos(v: i64) -> u64 {
    v.max(0) as u64
}

/// A share in percent with its Wilson interval; `None` when the denominator is not positive.
fn proportion(num: i64, den: i64, opts: &ReportOptions) -> Measure {
    if den <= 0 {
        return Measure {
            n: Some(0),
            insufficient_sample: 0 < opts.min_sample,
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
        insufficient_sample: pos(den) < opts.min_sample,
        ..Measure::default()
    }
}

fn count(v: i64, present: bool) -> Measure {
    Measure {
        value: present.then_some(v as f64),
        ..Measure::default()
    }
}

fn money_value(minor: f64, cur: Currency) -> Measure {
    Measure {
        value: round(cur.to_major(minor), cur.exponent() as i32),
        currency: Some(cur),
        ..Measure::default()
    }
}

fn duration(s: &Sketch, opts: &ReportOptions) -> Measure {
    let secs = |ms: Option<f64>| ms.and_then(|ms| round(ms / 1000.0, 1));
    let n = s.count();
    Measure {
        value: secs(s.quantile(500)),
        p90: secs(s.quantile(900)),
        mean: secs(s.mean()),
        n: Some(n),
        insufficient_sample: n < opts.min_sample,
        ..Measure::default()
    }
}

/// The currency to report money in: the option, else the one with the most facts in `fams`.
fn pick_currency(v: &View, fams: &[Family], opts: &ReportOptions) -> Option<Currency> {
    if opts.currency.is_some() {
        return opts.currency;
    }
    let mut by: BTreeMap<Currency, i64> = BTreeMap::new();
    for &f in fams {
        for (k, c) in v.r.keyed(f, Dim::All, "") {
            if let Some(cur) = Currency::from_key(k) {
                let e = by.entry(cur).or_insert(0);
                *e = e.saturating_add(c.n.saturating_abs().max(1));
            }
        }
    }
    by.into_iter().max_by_key(|(_, n)| *n).map(|(c, _)| c)
}

fn csat_counts(v: &View, opts: &ReportOptions) -> (i64, i64, i64) {
    let (mut pos_, mut neg, mut n) = (0i64, 0i64, 0i64);
    for (f, t, scale) in [
        (Family::Csat5, opts.csat_positive_5, 5),
        (Family::Csat10, opts.csat_positive_10, 10),
    ] {
        let bottom = SurveyKind::Csat { scale }.bottom_box().unwrap_or(0) as i64;
        for (k, c) in v.r.keyed(f, v.dim, v.seg) {
            n = n.saturating_add(c.n);
            if k >= t as i64 {
                pos_ = pos_.saturating_add(c.n);
            }
            if k <= bottom {
                neg = neg.saturating_add(c.n);
            }
        }
    }
    (pos_, neg, n)
}

/// A mean score with its interval from per-score counts; `map` puts a score on the scale.
fn mean_score(cells: &[(i64, Cell)], map: impl Fn(i64) -> f64, opts: &ReportOptions) -> Measure {
    let (mut n, mut sum, mut sq) = (0u64, 0.0, 0.0);
    for &(k, c) in cells {
        let s = map(k);
        let w = pos(c.n);
        n = n.saturating_add(w);
        sum += s * w as f64;
        sq += s * s * w as f64;
    }
    if n == 0 {
        return Measure {
            n: Some(0),
            insufficient_sample: 0 < opts.min_sample,
            ..Measure::default()
        };
    }
    Measure {
        value: round(sum / n as f64, 2),
        n: Some(n),
        interval: stats::mean_interval(n, sum, sq)
            .map(|(lo, hi)| [stats::round_to(lo, 2), stats::round_to(hi, 2)]),
        insufficient_sample: n < opts.min_sample,
        ..Measure::default()
    }
}

/// Customers at the end of the view's period, new, lost, and at the start; needs a to-date
/// rollup.
fn customer_stock(v: &View) -> Option<(i64, i64, i64, i64)> {
    let td = v.to_date?;
    let at = |r: &Rollup, k: i64| r.at(Family::Customers, Dim::All, "", k).n;
    let end = at(td, key::CUSTOMER_WON).saturating_sub(at(td, key::CUSTOMER_LOST));
    let (won, lost) = (at(v.r, key::CUSTOMER_WON), at(v.r, key::CUSTOMER_LOST));
    Some((end, won, lost, end.saturating_sub(won).saturating_add(lost)))
}

/// Distinct customers with at least one, and at least two, orders in the view's window.
fn window_customers(v: &View) -> Option<(i64, i64)> {
    let from = v.from?.days_since_epoch();
    let (mut one, mut two) = (0i64, 0i64);
    for (k, c) in v.r.keyed(Family::RepeatOrders, Dim::All, "") {
        let (prev, prev2) = key::repeat_parts(k);
        match prev {
            Some(p) if p >= from => {
                if prev2.is_none_or(|p2| p2 < from) {
                    two = two.saturating_add(c.n);
                }
            }
            _ => one = one.saturating_add(c.n),
        }
    }
    Some((one, two))
}

fn distinct_keys(r: &Rollup, f: Family) -> i64 {
    r.keyed(f, Dim::All, "").filter(|(_, c)| c.n > 0).count() as i64
}

fn revenue(v: &View, cur: Currency) -> Cell {
    v.money(Family::Orders, cur)
}

fn ratio_money(num_minor: i64, den: i64, cur: Currency) -> Measure {
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

fn ticket_sketch(v: &View, calendar: Family, business: Family, opts: &ReportOptions) -> Sketch {
    let f = if opts.business_hours {
        business
    } else {
        calendar
    };
    Sketch::from_rollup(v.r, f, v.dim, v.seg)
}

fn service_level(v: &View, opts: &ReportOptions) -> Measure {
    let family = if opts.business_hours {
        Family::FirstResponseBiz
    } else {
        Family::FirstResponse
    };
    let channels: Vec<Channel> = match v.dim {
        Dim::Channel => Channel::parse(v.seg).into_iter().collect(),
        _ => Channel::ALL.to_vec(),
    };
    let mut within = 0u64;
    for ch in channels {
        let limit = opts.service_targets.of(ch) as i64 * 1000;
        let s = match v.dim {
            Dim::Channel | Dim::All => Sketch::from_rollup(v.r, family, Dim::Channel, ch.as_str()),
            _ => Sketch::new(),
        };
        within = within.saturating_add(s.count_within(limit));
    }
    if !matches!(v.dim, Dim::Channel | Dim::All) {
        // Other segments have no per-channel split: use the strictest target for all.
        let limit = opts.service_targets.0.iter().min().copied().unwrap_or(0) as i64 * 1000;
        within = Sketch::from_rollup(v.r, family, v.dim, v.seg).count_within(limit);
    }
    proportion(
        within.min(i64::MAX as u64) as i64,
        v.at(Family::Tickets, key::TICKET_OPENED),
        opts,
    )
}

fn stage_conversion(v: &View, opts: &ReportOptions) -> Measure {
    let all: Vec<(i64, Cell)> = v.r.keyed(Family::StageReached, Dim::All, "").collect();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    for (k, _) in
        v.r.iter()
            .filter(|(k, _)| k.family == Family::StageReached && k.dim == Dim::Stage && k.key >= 0)
    {
        names.entry(k.key).or_insert_with(|| k.segment.clone());
    }
    let reached = |order: i64| {
        all.iter()
            .find(|(k, _)| *k == order)
            .map_or(0, |(_, c)| c.n)
    };
    let (num, den) = match v.dim {
        Dim::Stage => {
            let Some((order, c)) = v.r.keyed(Family::StageReached, Dim::Stage, v.seg).next() else {
                return Measure::default();
            };
            // The last stage has no next one: no conversion to report.
            let Some(next) = all.iter().map(|(k, _)| *k).find(|k| *k > order) else {
                return Measure::default();
            };
            (reached(next), c.n)
        }
        _ => match (all.first(), all.last()) {
            (Some(first), Some(last)) if first.0 != last.0 => (last.1.n, first.1.n),
            _ => (0, 0),
        },
    };
    let mut m = proportion(num, den, opts);
    if v.dim == Dim::All {
        for (k, c) in &all {
            let name = names.get(k).cloned().unwrap_or_else(|| k.to_string());
            m.breakdown.insert(name, pos(c.n));
        }
    }
    m
}

/// The measure of one KPI over one view.
fn compute(def: &KpiDef, v: &View, opts: &ReportOptions) -> Measure {
    use Family::*;
    let ratio_pct = |num: i64, den: i64| proportion(num, den, opts);
    match def.id {
        "nps" => {
            let t = NpsTally::from_rollup(v.r, v.dim, v.seg);
            let n = t.n();
            let b = t.breakdown();
            let mut breakdown = BTreeMap::new();
            breakdown.insert("promoters".to_string(), b.promoters);
            breakdown.insert("passives".to_string(), b.passives);
            breakdown.insert("detractors".to_string(), b.detractors);
            Measure {
                value: t.score().and_then(|s| round(s, 1)),
                n: Some(n),
                interval: stats::nps_adjusted_wald(b.promoters, b.detractors, n)
                    .map(|(lo, hi)| [stats::round_to(lo, 1), stats::round_to(hi, 1)]),
                insufficient_sample: n < opts.min_sample,
                breakdown,
                margin: t.margin().and_then(|m| round(m, 1)),
                ..Measure::default()
            }
        }
        "csat" => {
            let (p, _, n) = csat_counts(v, opts);
            ratio_pct(p, n)
        }
        "csat_mean" => {
            let mut cells: Vec<(i64, Cell)> = v.r.keyed(Csat5, v.dim, v.seg).collect();
            // 10-point answers are put on the 5-point scale: 1 → 1, 10 → 5.
            let ten: Vec<(i64, Cell)> = v.r.keyed(Csat10, v.dim, v.seg).collect();
            cells.extend(ten.iter().map(|&(k, c)| (k.saturating_add(1000), c)));
            mean_score(
                &cells,
                |k| {
                    if k >= 1000 {
                        1.0 + k.saturating_sub(1001) as f64 * 4.0 / 9.0
                    } else {
                        k as f64
                    }
                },
                opts,
            )
        }
        "ces" => {
            let cells: Vec<(i64, Cell)> = v.r.keyed(Ces, v.dim, v.seg).collect();
            let mut m = mean_score(&cells, |k| k as f64, opts);
            let part = |lo: i64, hi: i64| -> u64 {
                cells
                    .iter()
                    .filter(|(k, _)| (lo..=hi).contains(k))
                    .map(|(_, c)| pos(c.n))
                    .fold(0, |a, x| a.saturating_add(x))
            };
            let (easy, n) = (part(5, 7), part(1, 7));
            m.breakdown.insert("easy".into(), easy);
            m.breakdown.insert("neutral".into(), part(4, 4));
            m.breakdown.insert("hard".into(), part(1, 3));
            m.share = (n > 0).then(|| stats::round_to(easy as f64 * 100.0 / n as f64, 1));
            m
        }
        "survey_response_rate" => {
            let responses = match v.dim {
                Dim::Survey => match v.seg {
                    "nps" => v.r.total(Nps, Dim::All, "").n,
                    "csat" => {
                        v.r.total(Csat5, Dim::All, "")
                            .n
                            .saturating_add(v.r.total(Csat10, Dim::All, "").n)
                    }
                    "ces" => v.r.total(Ces, Dim::All, "").n,
                    _ => 0,
                },
                _ => [Nps, Csat5, Csat10, Ces]
                    .iter()
                    .map(|f| v.total(*f).n)
                    .fold(0i64, |a, x| a.saturating_add(x)),
            };
            ratio_pct(responses, v.total(LinksIssued).n)
        }
        "feedback_balance" => {
            let (p, neg, _) = csat_counts(v, opts);
            let b = NpsTally::from_rollup(v.r, v.dim, v.seg).breakdown();
            let good = p.saturating_add(b.promoters as i64);
            let bad = neg.saturating_add(b.detractors as i64);
            let mut m = Measure {
                value: (bad > 0).then(|| stats::round_to(good as f64 / bad as f64, 2)),
                n: Some(pos(good.saturating_add(bad))),
                ..Measure::default()
            };
            m.breakdown.insert("positive".into(), pos(good));
            m.breakdown.insert("negative".into(), pos(bad));
            m
        }
        "comments" => count(v.total(Comments).n, v.has(Comments)),
        "first_response_time" => duration(
            &ticket_sketch(v, FirstResponse, FirstResponseBiz, opts),
            opts,
        ),
        "resolution_time" => duration(&ticket_sketch(v, Resolution, ResolutionBiz, opts), opts),
        "service_level" => service_level(v, opts),
        "fcr" => ratio_pct(
            v.at(Tickets, key::TICKET_RESOLVED_FIRST_CONTACT),
            v.at(Tickets, key::TICKET_RESOLVED),
        ),
        "backlog" => {
            let Some(td) = v.to_date else {
                return Measure::default();
            };
            let end = v.to.map_or(key::STILL_OPEN, |d| d.days_since_epoch());
            let open: i64 = td
                .keyed(TicketOpenUntil, v.dim, v.seg)
                .filter(|(k, _)| *k >= end)
                .map(|(_, c)| c.n)
                .fold(0, |a, x| a.saturating_add(x));
            count(
                open,
                td.keyed(TicketOpenUntil, v.dim, v.seg).next().is_some(),
            )
        }
        "ticket_volume" => {
            let mut m = count(v.at(Tickets, key::TICKET_OPENED), v.has(Tickets));
            m.breakdown.insert(
                "complaints".into(),
                pos(v.at(Tickets, key::TICKET_COMPLAINT)),
            );
            m
        }
        "transfer_rate" => ratio_pct(
            v.at(Tickets, key::TICKET_TRANSFERRED),
            v.at(Tickets, key::TICKET_OPENED),
        ),
        "abandonment_rate" => ratio_pct(
            v.at(Tickets, key::TICKET_ABANDONED),
            v.at(Tickets, key::TICKET_OPENED),
        ),
        "support_cost_ratio" => {
            let Some(cur) = pick_currency(v, &[SupportSpend, Orders], opts) else {
                return Measure::default();
            };
            let mut m = ratio_pct(v.money(SupportSpend, cur).sum, revenue(v, cur).sum);
            m.interval = None;
            m.n = None;
            m.insufficient_sample = false;
            m
        }
        "conversion_rate" => ratio_pct(v.at(Customers, key::CUSTOMER_WON), v.total(Leads).n),
        "transaction_conversion" => ratio_pct(v.total(Orders).n, v.total(Activities).n),
        "stage_conversion" => stage_conversion(v, opts),
        "sales_cycle_length" => duration(&Sketch::from_rollup(v.r, SalesCycle, v.dim, v.seg), opts),
        "lead_response_time" => {
            duration(&Sketch::from_rollup(v.r, LeadResponse, v.dim, v.seg), opts)
        }
        "pipeline_value" => {
            let Some(td) = v.to_date else {
                return Measure::default();
            };
            let tv = v.with(td);
            let Some(cur) = pick_currency(&tv, &[Pipeline], opts) else {
                return Measure::default();
            };
            let c = tv.money(Pipeline, cur);
            let mut m = money_value(c.sum as f64, cur);
            m.n = Some(pos(c.n));
            m
        }
        "average_order_value" => {
            let Some(cur) = pick_currency(v, &[Orders], opts) else {
                return Measure::default();
            };
            let c = revenue(v, cur);
            ratio_money(c.sum, c.n, cur)
        }
        "revenue_per_rep" => {
            let Some(cur) = pick_currency(v, &[Orders], opts) else {
                return Measure::default();
            };
            ratio_money(revenue(v, cur).sum, distinct_keys(v.r, ActiveUsers), cur)
        }
        "sales_growth" => {
            let Some(cur) = pick_currency(v, &[Orders], opts) else {
                return Measure::default();
            };
            let now = revenue(v, cur).sum;
            let mut m = Measure::default();
            if let Some(p) = v.previous {
                let before = v.with(p).money(Orders, cur).sum;
                if before > 0 && v.has(Orders) {
                    m.value = round(now.saturating_sub(before) as f64 * 100.0 / before as f64, 1);
                }
            }
            if let Some(t) = opts.revenue_target.filter(|t| *t > 0.0) {
                m.share = round(cur.to_major(now as f64) * 100.0 / t, 1);
            }
            m
        }
        "cancellation_rate" => ratio_pct(v.total(Cancellations).n, v.total(Orders).n),
        "appointment_acceptance" => ratio_pct(
            v.at(Appointments, key::APPOINTMENT_ACCEPTED),
            v.at(Appointments, key::APPOINTMENT_PROPOSED),
        ),
        "cost_per_lead" | "cost_per_acquisition" | "cost_per_click" => {
            let Some(cur) = pick_currency(v, &[Spend], opts) else {
                return Measure::default();
            };
            let den = match def.id {
                "cost_per_lead" => v.total(Leads).n,
                "cost_per_acquisition" => v.at(Customers, key::CUSTOMER_WON),
                _ => v.at(Ads, key::AD_CLICK),
            };
            ratio_money(v.money(Spend, cur).sum, den, cur)
        }
        "roi" => {
            let Some(cur) = pick_currency(v, &[Spend, CampaignRevenue], opts) else {
                return Measure::default();
            };
            let cost = v.money(Spend, cur).sum;
            let ret = v.money(CampaignRevenue, cur).sum;
            Measure {
                value: (cost > 0)
                    .then(|| ret.saturating_sub(cost) as f64 * 100.0 / cost as f64)
                    .and_then(|x| round(x, 1)),
                currency: Some(cur),
                ..Measure::default()
            }
        }
        "visit_to_lead" => ratio_pct(v.total(Leads).n, v.at(Web, key::WEB_VISIT)),
        "landing_conversion" => ratio_pct(
            v.at(Web, key::WEB_CONVERSION),
            v.at(Web, key::WEB_LANDING_VISIT),
        ),
        "ctr" => ratio_pct(v.at(Ads, key::AD_CLICK), v.at(Ads, key::AD_IMPRESSION)),
        "bounce_rate" => ratio_pct(v.at(Web, key::WEB_BOUNCE), v.at(Web, key::WEB_SESSION)),
        "engagement_rate" => ratio_pct(
            v.at(Social, key::SOCIAL_INTERACTION),
            v.at(Social, key::SOCIAL_REACH),
        ),
        "email_open_rate" => ratio_pct(
            v.at(Email, key::EMAIL_OPENED),
            v.at(Email, key::EMAIL_DELIVERED),
        ),
        "email_click_rate" => ratio_pct(
            v.at(Email, key::EMAIL_CLICKED),
            v.at(Email, key::EMAIL_DELIVERED),
        ),
        "unsubscribe_rate" => ratio_pct(
            v.at(Email, key::EMAIL_UNSUBSCRIBED),
            v.at(Email, key::EMAIL_DELIVERED),
        ),
        "total_leads" => count(v.total(Leads).n, v.has(Leads)),
        "arpu" => {
            let (Some(cur), Some((active, _))) =
                (pick_currency(v, &[Orders], opts), window_customers(v))
            else {
                return Measure::default();
            };
            ratio_money(revenue(v, cur).sum, active, cur)
        }
        "mrr" => {
            let Some(td) = v.to_date else {
                return Measure::default();
            };
            let tv = v.with(td);
            let Some(cur) = pick_currency(&tv, &[Mrr], opts) else {
                return Measure::default();
            };
            let c = tv.money(Mrr, cur);
            let mut m = money_value(c.sum as f64, cur);
            m.breakdown.insert("subscriptions".into(), pos(c.n));
            m
        }
        "expansion_mrr" => {
            let Some(cur) = pick_currency(v, &[ExpansionMrr], opts) else {
                return Measure::default();
            };
            money_value(v.money(ExpansionMrr, cur).sum as f64, cur)
        }
        "clv" => {
            let (Some(cur), Some((active, _)), Some(days)) = (
                pick_currency(v, &[Orders], opts),
                window_customers(v),
                v.from
                    .zip(v.to)
                    .map(|(f, t)| t.days_since_epoch() - f.days_since_epoch()),
            ) else {
                return Measure::default();
            };
            let c = revenue(v, cur);
            let lifespan = opts.customer_lifespan_years.or_else(|| {
                let (_, _, lost, start) = customer_stock(v)?;
                let annual_churn = lost as f64 / start as f64 * 365.0 / days as f64;
                (start > 0 && lost > 0).then(|| (1.0 / annual_churn).min(50.0))
            });
            match lifespan {
                Some(years) if c.n > 0 && active > 0 && days > 0 => {
                    let mean_purchase = c.sum as f64 / c.n as f64;
                    let per_year = c.n as f64 / active as f64 * 365.0 / days as f64;
                    money_value(clv(mean_purchase, per_year, years), cur)
                }
                _ => Measure::default(),
            }
        }
        "customer_net_value" => {
            let Some(cur) = pick_currency(v, &[FirstOrders, Spend], opts) else {
                return Measure::default();
            };
            let first = v.money(FirstOrders, cur);
            let won = v.at(Customers, key::CUSTOMER_WON);
            let spend = v.money(Spend, cur).sum;
            if first.n <= 0 || won <= 0 {
                return Measure::default();
            }
            let mut m = money_value(
                net_value(first.sum as f64 / first.n as f64, spend as f64 / won as f64),
                cur,
            );
            m.n = Some(pos(won));
            m
        }
        "retention_rate" | "churn_rate" => {
            let Some((end, won, lost, start)) = customer_stock(v) else {
                return Measure::default();
            };
            let mut m = if def.id == "churn_rate" {
                ratio_pct(lost, start)
            } else {
                let mut m = ratio_pct(end.saturating_sub(won), start);
                m.interval = None;
                m
            };
            m.breakdown.insert("start".into(), pos(start));
            m.breakdown.insert("end".into(), pos(end));
            m.breakdown.insert("new".into(), pos(won));
            m.breakdown.insert("lost".into(), pos(lost));
            m
        }
        "repeat_purchase_rate" => match window_customers(v) {
            Some((one, two)) => ratio_pct(two, one),
            None => Measure::default(),
        },
        "renewal_rate" => ratio_pct(
            v.at(Renewals, key::RENEWAL_DONE),
            v.at(Renewals, key::RENEWAL_DUE),
        ),
        "upsell_rate" => match customer_stock(v) {
            Some((_, _, _, start)) => ratio_pct(v.total(Upsell).n, start),
            None => Measure::default(),
        },
        "retention_cost" => {
            let (Some((end, ..)), Some(cur)) =
                (customer_stock(v), pick_currency(v, &[RetentionSpend], opts))
            else {
                return Measure::default();
            };
            let mut m = ratio_money(v.money(RetentionSpend, cur).sum, end, cur);
            if let (Some(td), Some(cost)) = (v.to_date, m.value) {
                let mrr = td.at(Mrr, Dim::All, "", cur.key()).sum;
                if mrr > 0 && end > 0 {
                    let per_customer = cur.to_major(mrr as f64) / end as f64;
                    m.share = round(cost * 100.0 / per_customer, 1);
                }
            }
            m
        }
        "health_score" => {
            let parts = HEALTH_PARTS.iter().map(|(id, w)| {
                let d = find(id).ok();
                let a = d.and_then(|d| {
                    let value = compute(d, v, opts).value?;
                    Some(d.default_target?.achievement(value, None, d.direction))
                });
                (a, *w)
            });
            Measure {
                value: crate::target::health_score(parts).and_then(|s| round(s, 1)),
                ..Measure::default()
            }
        }
        "crm_adoption_rate" => match opts.licensed_users {
            Some(l) if v.has(ActiveUsers) => ratio_pct(
                distinct_keys(v.r, ActiveUsers),
                l.min(i64::MAX as u64) as i64,
            ),
            _ => Measure::default(),
        },
        "activities_per_rep" => {
            let reps = distinct_keys(v.r, ActiveUsers);
            Measure {
                value: (reps > 0)
                    .then(|| stats::round_to(v.total(Activities).n as f64 / reps as f64, 1)),
                n: Some(pos(reps)),
                ..Measure::default()
            }
        }
        _ => Measure::default(),
    }
}

/// The default composite of the health score: (KPI, weight), each scored by its achievement
/// against its catalog target.
pub const HEALTH_PARTS: [(&str, f64); 4] = [
    ("nps", 1.0),
    ("csat", 1.0),
    ("churn_rate", 1.0),
    ("first_response_time", 1.0),
];

/// Customer lifetime value: mean purchase value × purchases per year × lifespan in years.
pub fn clv(mean_purchase: f64, purchases_per_year: f64, lifespan_years: f64) -> f64 {
    mean_purchase * purchases_per_year * lifespan_years
}

/// Net value per new customer: revenue per new customer − acquisition cost per customer.
pub fn net_value(revenue_per_customer: f64, acquisition_cost: f64) -> f64 {
    revenue_per_customer - acquisition_cost
}

/// Return on investment in percent: (return − cost) ÷ cost × 100; `None` without cost.
pub fn roi_percent(cost: f64, ret: f64) -> Option<f64> {
    (cost > 0.0).then(|| (ret - cost) / cost * 100.0)
}

fn view<'a>(r: &'a Rollup, dim: Dim, seg: &'a str, opts: &ReportOptions) -> View<'a> {
    View {
        r,
        dim,
        seg,
        to_date: None,
        previous: None,
        from: opts.period.map(|p| p.from),
        to: opts.period.map(|p| p.to),
    }
}

/// The measure of KPI `def` over one segment of a rollup, with default options.
pub fn measure(def: &KpiDef, r: &Rollup, dim: Dim, segment: &str, min_sample: u64) -> Measure {
    let opts = ReportOptions {
        min_sample,
        ..ReportOptions::default()
    };
    compute(def, &view(r, dim, segment, &opts), &opts)
}

/// The measure of KPI `def` over one segment of the inputs, with `opts`.
pub fn measure_with(
    def: &KpiDef,
    inputs: &Inputs,
    dim: Dim,
    segment: &str,
    opts: &ReportOptions,
) -> Measure {
    let v = View {
        to_date: inputs.to_date,
        previous: inputs.previous,
        ..view(inputs.period, dim, segment, opts)
    };
    compute(def, &v, opts)
}

/// The families a KPI reads from the to-date rollup ([`Inputs::to_date`]): empty for KPIs
/// that are sums over the period's days. A storage layer sums only these families over every
/// day before the period's end, e.g. one `GROUP BY family, dim, segment, key` query.
pub fn stock_families(id: &str) -> &'static [Family] {
    match id {
        "backlog" => &[Family::TicketOpenUntil],
        "pipeline_value" => &[Family::Pipeline],
        "mrr" => &[Family::Mrr],
        "retention_cost" => &[Family::Customers, Family::Mrr],
        "retention_rate" | "churn_rate" | "upsell_rate" | "clv" | "health_score" => {
            &[Family::Customers]
        }
        _ => &[],
    }
}

fn delta_digits(unit: Unit) -> i32 {
    match unit {
        Unit::Ratio => 2,
        Unit::Money => 2,
        _ => 1,
    }
}

/// The report of KPI `def`: the period's rollup, optionally the previous period's, and the
/// rollups of the sub-periods for the series (first day, rollup). Stock KPIs need
/// [`report_with`] and a to-date rollup.
pub fn report(
    def: &KpiDef,
    period: &Rollup,
    previous: Option<&Rollup>,
    series: &[(String, Rollup)],
    opts: &ReportOptions,
) -> KpiReport {
    report_with(
        def,
        &Inputs {
            period,
            previous,
            series,
            to_date: None,
        },
        opts,
    )
}

/// The report of KPI `def` over all its inputs.
pub fn report_with(def: &KpiDef, inputs: &Inputs, opts: &ReportOptions) -> KpiReport {
    let base = View {
        to_date: inputs.to_date,
        previous: inputs.previous,
        ..view(inputs.period, Dim::All, "", opts)
    };
    let m = compute(def, &base, opts);
    let target = opts.target.or(def.default_target);
    let status = match (m.value, target, def.direction) {
        (_, _, Direction::None) => None,
        (Some(v), Some(t), d) => Some(t.status(v, d)),
        _ => None,
    };
    let stock = !stock_families(def.id).is_empty();
    let fams = stock_families(def.id);
    // The previous period ends where this one starts: its to-date is ours minus the period.
    // Only the families the KPI reads are copied: a to-date rollup can be large.
    let prev_to_date = match (stock, inputs.to_date) {
        (true, Some(td)) => {
            let mut p = td.restricted(fams);
            p.subtract(&inputs.period.restricted(fams));
            Some(p)
        }
        _ => None,
    };
    let prev_period = opts.period.and_then(|p| p.previous().ok());
    let previous = inputs.previous.and_then(|p| {
        compute(
            def,
            &View {
                r: p,
                to_date: prev_to_date.as_ref(),
                previous: None,
                from: prev_period.map(|p| p.from),
                to: prev_period.map(|p| p.to),
                ..base
            },
            opts,
        )
        .value
    });
    let delta = m
        .value
        .zip(previous)
        .and_then(|(v, p)| round(v - p, delta_digits(def.unit)));
    let series = series_points(def, inputs, &base, opts, stock);
    let mut segments = BTreeMap::new();
    if let Some(dim) = opts.segment.filter(|d| *d != Dim::All) {
        let primary = families(def.id).first().copied().unwrap_or(Family::Nps);
        let source = if stock {
            inputs.to_date.unwrap_or(inputs.period)
        } else {
            inputs.period
        };
        for seg in source.segments(primary, dim) {
            let sm = compute(
                def,
                &View {
                    dim,
                    seg: &seg,
                    ..base
                },
                opts,
            );
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

fn series_points(
    def: &KpiDef,
    inputs: &Inputs,
    base: &View,
    opts: &ReportOptions,
    stock: bool,
) -> Vec<SeriesPoint> {
    let s = inputs.series;
    // For stocks, each point's to-date is the period's to-date minus the points after it.
    let mut to_dates: Vec<Option<Rollup>> = alloc::vec![None; s.len()];
    if let (true, Some(td)) = (stock, inputs.to_date) {
        let fams = stock_families(def.id);
        let mut acc = td.restricted(fams);
        for i in (0..s.len()).rev() {
            to_dates[i] = Some(acc.clone());
            acc.subtract(&s[i].1.restricted(fams));
        }
    }
    let end = opts.period.map(|p| p.to);
    (0..s.len())
        .map(|i| {
            let (from, r) = (&s[i].0, &s[i].1);
            let from_d = CivilDate::parse(from).ok();
            let to_d = s
                .get(i + 1)
                .and_then(|(f, _)| CivilDate::parse(f).ok())
                .or(end);
            let sm = compute(
                def,
                &View {
                    r,
                    to_date: to_dates[i].as_ref(),
                    previous: i.checked_sub(1).map(|j| &s[j].1),
                    from: from_d,
                    to: to_d,
                    ..*base
                },
                opts,
            );
            SeriesPoint {
                from: from.clone(),
                value: sm.value,
                n: sm.n,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;

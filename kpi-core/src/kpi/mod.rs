//! The KPI catalog: every KPI of `shared/spec/kpis.md` as one [`Kpi`] value holding its id,
//! labels, unit, direction, default target, source article, what it reads and its formula.
//! Definitions live in one file per department ([`voice`], [`service`], [`sales`],
//! [`marketing`], [`value`], [`team`]); adding a KPI is adding a `const` and its formula to
//! that file and naming it in the file's `KPIS`. A report over a period is
//! [`crate::report`]'s job; a tenant's own targets are [`crate::target`]'s.
//!
//! Flows (tickets, orders, leads…) are sums over a span's days. Stocks — the backlog, open
//! pipeline, MRR, customers — are sums over every day up to the span's end: a KPI names
//! those families in [`Kpi::stocks`] and reads them from [`View`]'s to-date counters. KPIs
//! that count distinct customers in a window (repeat purchase rate, ARPU, CLV) read the
//! span's first day; see [`crate::event`].
use alloc::string::{String, ToString};

use serde::Serialize;

pub mod marketing;
mod measure;
pub(crate) mod meta;
mod options;
pub mod sales;
pub mod service;
pub mod team;
pub mod value;
mod view;
pub mod voice;

pub(crate) use measure::{round, whole_as_integer};
pub use measure::{Measure, Missing, Sample};
pub use meta::{Direction, Group, Indicator, Lang, Unit};
pub use options::{ReportOptions, ServiceTargets};
pub use view::View;

pub use crate::target::{Scaling, Status, StatusReason, Target, TargetPeriod};

use crate::rollup::{Cells, Dim, Family, SegId, Slot};

/// One KPI of the catalog: everything about it, in one place.
#[derive(Debug, Clone, Copy)]
pub struct Kpi {
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
    /// Default target, where the source articles give one, with the period it is meant for
    /// where its source says one (churn per month). When an article gives a single
    /// threshold, `min` and `goal` are both that threshold.
    pub default_target: Option<Target>,
    /// How a target meant for one period length maps to another (`GET /v1/kpis/catalog`'s
    /// `target_rule`).
    pub target_scaling: Scaling,
    /// Source article (file stem in the seeds).
    pub source: &'static str,
    /// Catalog group.
    pub group: Group,
    /// Leading or lagging.
    pub indicator: Indicator,
    /// Segment dimensions the KPI's facts carry (`segment=` accepts these).
    pub segments: &'static [Dim],
    /// Families summed over a span's days; the first is the one whose segments a breakdown
    /// lists. A storage layer loads only these (plus [`Kpi::stocks`] and the asked segment).
    pub reads: &'static [Family],
    /// Families read as stocks: summed over every day up to a span's end.
    pub stocks: &'static [Family],
    /// Breakdowns the formula reads whatever `segment=` asks (stage names).
    pub breakdowns: &'static [(Family, Dim)],
    /// What the formula reads only for days folded before an exact count existed.
    pub fallback: Option<Fallback>,
    /// What it needs from the CRM, and what it returns without it.
    pub needs: Needs,
    /// True when the formula sees the period's trailing year ([`Period::trailing_year`])
    /// instead of the period: a quantity that needs a year to see how often customers buy
    /// (CLV) is then the same whatever period it is shown for. Its report names the window;
    /// it has no series and no segments.
    ///
    /// [`Period::trailing_year`]: crate::period::Period::trailing_year
    pub trailing_year: bool,
    /// The value over one view.
    pub formula: fn(&View) -> Measure,
}

/// Counters a formula reads only for days folded before an exact count of its own existed
/// (service level: the first-response sketches by channel, for days without the
/// within-target counts). A storage layer reads them only when [`Fallback::needed`] finds
/// such days in what it read; [`families`] lists them, so a layer that reads everything
/// needs no second look.
#[derive(Debug, Clone, Copy)]
pub struct Fallback {
    /// The family holding the exact counts.
    pub family: Family,
    /// The exact counts' keys: each fact folded since they exist adds `n = 1` to each, as
    /// it adds `n = 1` to `of`.
    pub exact: &'static [i64],
    /// The key every fact adds `n = 1` to.
    pub of: i64,
    /// Read in the totals and the asked segment, like [`Kpi::reads`].
    pub reads: &'static [Family],
    /// Read whatever `segment=` asks, like [`Kpi::breakdowns`].
    pub breakdowns: &'static [(Family, Dim)],
}

impl Fallback {
    /// True when some of `cells` (a span's buckets and windows) count, in the totals, fewer
    /// exact facts than facts: days folded before the exact counts are among them.
    pub fn needed<'a>(&self, cells: impl IntoIterator<Item = &'a Cells>) -> bool {
        let slot = Slot::new(self.family, Dim::All, SegId::NONE);
        cells.into_iter().any(|c| {
            let of = c.get(slot, self.of).n;
            self.exact.iter().any(|k| c.get(slot, *k).n < of)
        })
    }
}

/// What a KPI needs from the tenant's CRM (events and their fields, ticket fields, survey
/// answers, settings) and what it returns when they are missing: served by
/// `GET /v1/kpis/catalog` and listed in README's "What each KPI needs from your CRM".
///
/// The texts are kept only with the `catalog` feature (the worker's): a build without it
/// (the widget's offline module, which reports but serves no catalog) carries none of them,
/// since [`Needs::new`] drops them at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// The inputs, as the API names them.
    #[cfg(feature = "catalog")]
    pub inputs: &'static str,
    /// What the KPI returns when they are missing.
    #[cfg(feature = "catalog")]
    pub when_missing: &'static str,
}

impl Needs {
    /// What a KPI needs (`inputs`) and returns without it (`when_missing`).
    pub const fn new(inputs: &'static str, when_missing: &'static str) -> Needs {
        #[cfg(feature = "catalog")]
        return Needs {
            inputs,
            when_missing,
        };
        #[cfg(not(feature = "catalog"))]
        {
            let _ = (inputs, when_missing);
            Needs {}
        }
    }
}

impl PartialEq for Kpi {
    fn eq(&self, other: &Kpi) -> bool {
        self.id == other.id
    }
}

impl Kpi {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.label_vi,
            Lang::En => self.label_en,
        }
    }

    /// True when the KPI reads stocks.
    pub fn is_stock(&self) -> bool {
        !self.stocks.is_empty()
    }
}

/// The departments' definitions, in catalog order.
const DEPARTMENTS: [&[Kpi]; 6] = [
    voice::KPIS,
    service::KPIS,
    sales::KPIS,
    marketing::KPIS,
    value::KPIS,
    team::KPIS,
];

/// Every KPI the product computes, in catalog order.
pub fn catalog() -> impl Iterator<Item = &'static Kpi> {
    DEPARTMENTS.iter().flat_map(|d| d.iter())
}

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
pub fn find(id: &str) -> Result<&'static Kpi, UnknownKpi> {
    catalog()
        .find(|d| d.id == id)
        .ok_or_else(|| UnknownKpi(id.to_string()))
}

/// The families a KPI reads (flows, stocks, breakdowns and its fallback's), without repeats:
/// what a storage layer that reads everything loads for it.
pub fn families(def: &Kpi) -> impl Iterator<Item = Family> + '_ {
    families_with(def, true)
}

/// The families a KPI reads, without repeats; its [`Fallback`]'s only when `fallback`.
pub fn families_with(def: &Kpi, fallback: bool) -> impl Iterator<Item = Family> + '_ {
    let fb = def.fallback.filter(|_| fallback);
    let all = def
        .reads
        .iter()
        .chain(def.stocks)
        .chain(def.breakdowns.iter().map(|(f, _)| f))
        .chain(
            fb.into_iter()
                .flat_map(|fb| fb.reads.iter().chain(fb.breakdowns.iter().map(|(f, _)| f))),
        );
    all.clone()
        .enumerate()
        .filter(move |(i, f)| !all.clone().take(*i).any(|g| g == *f))
        .map(|(_, f)| *f)
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

#[cfg(test)]
mod tests;

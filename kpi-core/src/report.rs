//! Reports: the KPIs of a period, its previous period and its series, computed in one pass
//! from a [`Span`] of rollups. The one report assembly of the product: the worker's
//! `GET /v1/kpis` fills a span from D1, the widget's offline module from `GET /v1/rollups`
//! ([`crate::days`]), and both call [`reports`].
//!
//! A span holds one bucket of counters per sub-period the report shows ([`buckets`]: the
//! series points, and the previous period as a whole), so merging is done once per bucket
//! and shared by every KPI. Stocks come from `closing`, the stock families summed over
//! every day before the period's end: the stock at the end of an earlier point is `closing`
//! minus the points after it, so no report reads history.
use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::kpi::{
    round, Direction, Kpi, Measure, ReportOptions, Sample, Status, StatusReason, Target, Unit, View,
};
use crate::period::{CivilDate, Period};
use crate::rollup::{Acc, Cells, Dim, Family, Rollup, SegId, Segments, Slot};
use crate::stats;
use crate::target::{self, Length, ScoreLine, Scorecard};

/// One point of a KPI's series (a sparkline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// First day of the sub-period, `YYYY-MM-DD`.
    pub from: String,
    /// Value over the sub-period.
    #[serde(serialize_with = "crate::kpi::whole_as_integer")]
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
    /// The target in force, as stated (with the period it is meant for, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The target mapped to this report's period by the KPI's rule ([`Kpi::target_scaling`]),
    /// what `status` judges against; absent when the target states no period, or when the
    /// rule does not compare the two lengths (`status_reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_applied: Option<Target>,
    /// Status against the target; absent without a value or a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Why a value with a target has no status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// Value over the previous period, when compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<f64>,
    /// value − previous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// When compared: whether the change from the previous period is distinguishable from
    /// noise at 95 % (`Some(None)`, written `null`: the data do not allow the test).
    #[serde(
        default,
        deserialize_with = "some_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub change_significant: Option<Option<bool>>,
    /// When compared: the test behind `change_significant`, or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_note: Option<ChangeNote>,
    /// Sub-period values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
    /// Per-segment measures, keyed by segment value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, Measure>,
    /// The days the value is computed over when they are not the period's: the trailing
    /// year of a KPI that needs one ([`Kpi::trailing_year`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// The days behind a value, both inclusive, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

impl Window {
    fn of(p: Period) -> Window {
        Window {
            from: p.from.to_string(),
            to: p.last_day().to_string(),
        }
    }
}

fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<bool>>, D::Error> {
    Option::<bool>::deserialize(d).map(Some)
}

/// The test behind a report's `change_significant`, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeNote {
    /// Two-proportion z-test with the pooled share (a share of facts).
    TwoProportionZ,
    /// z of the difference of two NPS, each with the catalog's variance.
    NpsDifference,
    /// Welch's t-test from the stored sums and sums of squares (a mean score).
    WelchT,
    /// No value in the period or in the previous one.
    NoPreviousValue,
    /// Fewer than two answers (a mean) or none (a share) in a period.
    SampleTooSmall,
    /// A mean whose counters keep no sum of squares (durations, money): no variance.
    NoVarianceStored,
    /// The value is not an estimate from a sample (a count, an amount, a stock, a ratio of
    /// sums): its change is the change.
    NotASample,
}

impl ChangeNote {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeNote::TwoProportionZ => "two_proportion_z",
            ChangeNote::NpsDifference => "nps_difference",
            ChangeNote::WelchT => "welch_t",
            ChangeNote::NoPreviousValue => "no_previous_value",
            ChangeNote::SampleTooSmall => "sample_too_small",
            ChangeNote::NoVarianceStored => "no_variance_stored",
            ChangeNote::NotASample => "not_a_sample",
        }
    }
}

/// Whether the change from `previous` to `now` is distinguishable from noise at 95 %
/// (two-sided), and the test used or why none applies. Two samples without any variance
/// differ exactly when their values do.
pub fn change_significance(now: &Measure, previous: &Measure) -> (Option<bool>, ChangeNote) {
    if now.value.is_none() || previous.value.is_none() {
        return (None, ChangeNote::NoPreviousValue);
    }
    let differ = now.value != previous.value;
    match (now.sample, previous.sample) {
        (Some(Sample::Share { hits: x1, n: n1 }), Some(Sample::Share { hits: x2, n: n2 })) => {
            if n1 == 0 || n2 == 0 {
                return (None, ChangeNote::SampleTooSmall);
            }
            let sig = stats::two_proportion_z(x1, n1, x2, n2)
                .map_or(differ, |z| libm::fabs(z) > stats::Z95);
            (Some(sig), ChangeNote::TwoProportionZ)
        }
        (
            Some(Sample::Nps {
                promoters: p1,
                detractors: d1,
                n: n1,
            }),
            Some(Sample::Nps {
                promoters: p2,
                detractors: d2,
                n: n2,
            }),
        ) => {
            if n1 == 0 || n2 == 0 {
                return (None, ChangeNote::SampleTooSmall);
            }
            let sig = stats::nps_difference_z((p1, d1, n1), (p2, d2, n2))
                .map_or(differ, |z| libm::fabs(z) > stats::Z95);
            (Some(sig), ChangeNote::NpsDifference)
        }
        (
            Some(Sample::Mean {
                n: n1,
                mean: m1,
                var: v1,
            }),
            Some(Sample::Mean {
                n: n2,
                mean: m2,
                var: v2,
            }),
        ) => {
            if n1 < 2 || n2 < 2 {
                return (None, ChangeNote::SampleTooSmall);
            }
            let sig = stats::welch_t((n1, m1, v1), (n2, m2, v2))
                .map_or(differ, |(t, df)| libm::fabs(t) > stats::t_critical_95(df));
            (Some(sig), ChangeNote::WelchT)
        }
        (Some(Sample::MeanWithoutVariance), _) | (_, Some(Sample::MeanWithoutVariance)) => {
            (None, ChangeNote::NoVarianceStored)
        }
        _ => (None, ChangeNote::NotASample),
    }
}

impl KpiReport {
    /// The report as a JSON object: the fields, names and omissions of its serde form, and
    /// numbers to nine decimals with whole ones as integers (`kpis[]` of
    /// `GET /v1/kpis`, and of the widget's offline module, which carries no serde_json).
    pub fn write(&self, o: &mut crate::json::Out) {
        o.open();
        o.key("id");
        o.str(&self.id);
        o.key("label");
        o.str(&self.label);
        o.key("unit");
        o.str(self.unit.as_str());
        o.key("direction");
        o.str(self.direction.as_str());
        self.measure.write_fields(o);
        for (k, t) in [
            ("target", self.target),
            ("target_applied", self.target_applied),
        ] {
            if let Some(t) = t {
                o.key(k);
                o.open();
                o.key("min");
                o.num(t.min);
                o.key("goal");
                o.num(t.goal);
                if let Some(p) = t.period {
                    o.key("period");
                    o.str(p.as_str());
                }
                o.close();
            }
        }
        if let Some(s) = self.status {
            o.key("status");
            o.str(s.as_str());
        }
        if let Some(r) = self.status_reason {
            o.key("status_reason");
            o.str(r.as_str());
        }
        for (k, v) in [("previous", self.previous), ("delta", self.delta)] {
            if let Some(v) = v {
                o.key(k);
                o.num(v);
            }
        }
        if let Some(sig) = self.change_significant {
            o.key("change_significant");
            match sig {
                Some(b) => o.bool(b),
                None => o.null(),
            }
        }
        if let Some(note) = self.change_note {
            o.key("change_note");
            o.str(note.as_str());
        }
        if !self.series.is_empty() {
            o.key("series");
            o.open_array();
            for p in &self.series {
                o.open();
                o.key("from");
                o.str(&p.from);
                o.key("value");
                o.opt_num(p.value);
                if let Some(n) = p.n {
                    o.key("n");
                    o.int(n);
                }
                o.close();
            }
            o.close_array();
        }
        if !self.segments.is_empty() {
            o.key("segments");
            o.open();
            for (k, m) in &self.segments {
                o.key(k);
                m.write(o);
            }
            o.close();
        }
        if let Some(w) = &self.window {
            o.key("window");
            o.open();
            o.key("from");
            o.str(&w.from);
            o.key("to");
            o.str(&w.to);
            o.close();
        }
        o.close();
    }
}

/// Writes `reports` as a JSON array.
pub fn write_reports(o: &mut crate::json::Out, reports: &[KpiReport]) {
    o.open_array();
    for r in reports {
        r.write(o);
    }
    o.close_array();
}

/// The weighted scorecard of reported KPIs (seed 002, step 12: expected against actual): one
/// line per report with its value, previous value, change, status and achievement against the
/// target in force, weighted by `weights` (KPI id → weight, default 1). A KPI without a value,
/// a target or a direction has no achievement and does not count in the score.
pub fn scorecard(reports: &[KpiReport], weights: &BTreeMap<String, f64>) -> Scorecard {
    let lines = reports
        .iter()
        .map(|r| {
            let target = match r.target {
                Some(Target {
                    period: Some(_), ..
                }) => r.target_applied,
                t => t,
            };
            let achievement = match (r.measure.value, target, r.direction) {
                (_, _, Direction::None) => None,
                (Some(v), Some(t), d) => round(t.achievement(v, None, d), 1),
                _ => None,
            };
            ScoreLine {
                kpi: r.id.clone(),
                value: r.measure.value,
                previous: r.previous,
                change: r.delta,
                achievement,
                status: r.status,
                weight: weights.get(&r.id).copied().unwrap_or(1.0),
            }
        })
        .collect();
    target::scorecard(lines)
}

/// The sub-periods whose counters a report over `period` reads, in day order: the previous
/// period as a whole (when compared), then each series point. A storage layer fills one
/// [`Bucket`] per entry, from day rows or from coarser rows that cover it exactly.
pub fn buckets(period: Period, compare: bool) -> Vec<Period> {
    let mut out = Vec::new();
    if compare {
        if let Ok(p) = period.previous() {
            out.push(p);
        }
    }
    out.extend(period.series());
    out
}

/// The trailing years a report over `period` reads besides its [`buckets`] for the KPIs
/// that need one ([`Kpi::trailing_year`]): the period's, then the previous period's (when
/// compared), each ending at `until` at the latest (the day after the last day with data:
/// a year ending in days still to come would count them as days without orders). A
/// storage layer fills one [`Bucket`] per entry into [`Span::windows`], with those KPIs'
/// families.
pub fn windows(period: Period, compare: bool, until: CivilDate) -> Vec<Period> {
    let previous = compare.then(|| period.previous().ok()).flatten();
    core::iter::once(period)
        .chain(previous)
        .filter_map(|p| {
            let w = p.trailing_year().ok()?;
            Period::range(w.from, w.to.min(until)).ok()
        })
        .collect()
}

/// The counters of the days `[from, to)`.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// First day.
    pub from: CivilDate,
    /// The day after the last.
    pub to: CivilDate,
    /// Their counters, with segment ids of the span's table: shared, so that a reader
    /// keeping buckets it summed before (the worker's closed months) hands them out uncopied.
    pub cells: Rc<Cells>,
}

/// What a report reads: buckets covering the period (and the previous period when
/// compared), and the stocks at the period's end, all under one segment table.
#[derive(Debug, Clone, Default)]
pub struct Span {
    /// The names behind every segment id of the buckets and `closing`.
    pub segs: Segments,
    /// Buckets in day order; a bucket counts in the sub-period holding its first day.
    pub buckets: Vec<Bucket>,
    /// The stock families summed over every day before the period's end.
    pub closing: Cells,
    /// One bucket per entry of [`windows`], with the families of the KPIs that read them.
    pub windows: Vec<Bucket>,
    /// The sum of some of the buckets, when the reader keeps it from an earlier report over
    /// the same buckets (the worker's closed months of a year): the period's total then adds
    /// it and the period's other buckets, instead of every bucket. Ignored unless it holds
    /// the very cells of the buckets it names and every one of them lies in the period.
    pub part_sum: Option<PartSum>,
}

/// The sum of some buckets of a [`Span`], made once ([`PartSum::of`]) and handed to later
/// spans whose buckets are the same cells (the same `Rc`s, so the same counters).
#[derive(Debug, Clone)]
pub struct PartSum {
    /// The buckets summed: their index in [`Span::buckets`] and their cells, in index order.
    parts: Vec<(usize, Rc<Cells>)>,
    /// Their sum.
    cells: Rc<Cells>,
}

impl PartSum {
    /// The sum of the buckets of `span` at `indexes`: an index given twice counts once, one
    /// past the buckets not at all.
    pub fn of(span: &Span, indexes: &[usize]) -> PartSum {
        let mut indexes = indexes.to_vec();
        indexes.sort_unstable();
        indexes.dedup();
        let parts: Vec<(usize, Rc<Cells>)> = indexes
            .into_iter()
            .filter_map(|i| Some((i, Rc::clone(&span.buckets.get(i)?.cells))))
            .collect();
        let mut acc = Acc::new();
        for (_, c) in &parts {
            acc.add_cells(c);
        }
        PartSum {
            parts,
            cells: Rc::new(acc.finish()),
        }
    }

    /// The indexes of the buckets it sums, in order.
    pub fn indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().map(|(i, _)| *i)
    }

    /// Its counters.
    pub fn cells(&self) -> &Cells {
        &self.cells
    }

    /// Whether it is the sum of those buckets of `span` as they are: the same cells.
    fn holds(&self, span: &Span) -> bool {
        self.parts.iter().all(|(i, c)| {
            span.buckets
                .get(*i)
                .is_some_and(|b| Rc::ptr_eq(&b.cells, c))
        })
    }
}

impl Span {
    /// The counters of every bucket and window, in that order (not `closing`).
    pub fn read(&self) -> impl Iterator<Item = &Cells> {
        self.buckets.iter().chain(&self.windows).map(|b| &*b.cells)
    }
}

/// One series point, assembled.
struct Point<'a> {
    /// First day, as the series shows it.
    label: String,
    from: Option<CivilDate>,
    to: Option<CivilDate>,
    cells: Cow<'a, Cells>,
    to_date: Option<Cells>,
}

/// Everything the KPIs of one report read, merged once.
struct Assembled<'a> {
    segs: Cow<'a, Segments>,
    period: Option<Period>,
    cells: Cow<'a, Cells>,
    previous: Option<(Option<Period>, Cow<'a, Cells>)>,
    points: Vec<Point<'a>>,
    to_date: Option<Cow<'a, Cells>>,
    prev_to_date: Option<Cells>,
    /// Trailing years: (days, counters), found by their end.
    windows: Vec<(Period, Cow<'a, Cells>)>,
}

/// The sum of the buckets whose first day lies in `p`; borrowed when one bucket is exactly
/// `p`.
fn sum_buckets(buckets: &[Bucket], p: Period) -> Cow<'_, Cells> {
    let lo = buckets.partition_point(|b| b.from < p.from);
    let hi = buckets.partition_point(|b| b.from < p.to);
    match &buckets[lo..hi] {
        [] => Cow::Owned(Cells::new()),
        [one] if one.to == p.to => Cow::Borrowed(&*one.cells),
        many => {
            let mut acc = Acc::new();
            for b in many {
                acc.add_cells(&b.cells);
            }
            Cow::Owned(acc.finish())
        }
    }
}

/// `base − Σ minus`, restricted to `families`.
fn minus(base: &Cells, minus: &[&Cells], families: &[Family]) -> Cells {
    let mut acc = Acc::new();
    acc.add_families(base, families, 1);
    for m in minus {
        acc.add_families(m, families, -1);
    }
    acc.finish()
}

/// The stock families any of `defs` reads.
fn stock_families(defs: &[&Kpi]) -> Vec<Family> {
    let mut out = Vec::new();
    for f in defs.iter().flat_map(|d| d.stocks) {
        if !out.contains(f) {
            out.push(*f);
        }
    }
    out
}

impl<'a> Assembled<'a> {
    /// Assembles a report over `period` from a span.
    fn new(span: &'a Span, period: Period, compare: bool) -> Self {
        let points: Vec<Point> = period
            .series()
            .into_iter()
            .map(|p| Point {
                label: p.from.to_string(),
                from: Some(p.from),
                to: Some(p.to),
                cells: sum_buckets(&span.buckets, p),
                to_date: None,
            })
            .collect();
        // The period's total: every bucket whose first day lies in it (so every point's), a
        // part of them through their kept sum when the span carries one.
        let in_period = |b: &Bucket| period.contains(b.from);
        let part = span.part_sum.as_ref().filter(|s| {
            s.holds(span)
                && s.indexes()
                    .all(|i| span.buckets.get(i).is_some_and(in_period))
        });
        let cells = match part {
            Some(s) => {
                let mut summed = s.indexes().peekable();
                let rest: Vec<&Bucket> = (span.buckets.iter().enumerate())
                    .filter(|(i, b)| summed.next_if_eq(i).is_none() && in_period(b))
                    .map(|(_, b)| b)
                    .collect();
                match rest.is_empty() {
                    // A closed period, every bucket kept: the sum as it is.
                    true => Cow::Borrowed(&*s.cells),
                    false => {
                        let mut acc = Acc::new();
                        acc.add_cells(&s.cells);
                        rest.iter().for_each(|b| acc.add_cells(&b.cells));
                        Cow::Owned(acc.finish())
                    }
                }
            }
            None => {
                let mut acc = Acc::new();
                for p in &points {
                    acc.add_cells(&p.cells);
                }
                Cow::Owned(acc.finish())
            }
        };
        let previous = if compare {
            period
                .previous()
                .ok()
                .map(|p| (Some(p), sum_buckets(&span.buckets, p)))
        } else {
            None
        };
        Assembled {
            segs: Cow::Borrowed(&span.segs),
            period: Some(period),
            cells,
            previous,
            points,
            to_date: Some(Cow::Borrowed(&span.closing)),
            prev_to_date: None,
            windows: span
                .windows
                .iter()
                .filter_map(|b| Some((Period::range(b.from, b.to).ok()?, Cow::Borrowed(&*b.cells))))
                .collect(),
        }
    }

    /// The trailing year of the view ending at `to`, if read: the one starting where that
    /// year starts and ending latest, but not after `to` (it ends earlier when `to` is still
    /// to come).
    fn window(&self, to: Option<CivilDate>) -> Option<(Period, &Cells)> {
        let to = to?;
        let from = Period::range(to.add_days(-1).ok()?, to)
            .ok()?
            .trailing_year()
            .ok()?
            .from;
        self.windows
            .iter()
            .filter(|(p, _)| p.from == from && p.to <= to)
            .max_by_key(|(p, _)| p.to)
            .map(|(p, c)| (*p, &**c))
    }

    /// Derives the stocks at the end of each point and of the previous period from the
    /// stocks at the period's end: each is the later stock minus what came after it.
    fn with_stocks(mut self, stocks: &[Family]) -> Self {
        let Some(closing) = self.to_date.as_deref().filter(|_| !stocks.is_empty()) else {
            self.to_date = None;
            return self;
        };
        for i in (0..self.points.len()).rev() {
            let later = self.points.get(i + 1);
            let td = match later.and_then(|l| Some((l.to_date.as_ref()?, &l.cells))) {
                None => minus(closing, &[], stocks),
                Some((l, after)) => minus(l, &[after], stocks),
            };
            self.points[i].to_date = Some(td);
        }
        if self.previous.is_some() {
            self.prev_to_date = Some(minus(closing, &[&self.cells], stocks));
        }
        self
    }

    fn view<'v>(&'v self, opts: &'v ReportOptions) -> View<'v> {
        View {
            cells: &self.cells,
            segs: &self.segs,
            dim: Dim::All,
            seg: SegId::NONE,
            name: "",
            to_date: self.to_date.as_deref(),
            previous: self.previous.as_ref().map(|(_, c)| &**c),
            from: self.period.map(|p| p.from),
            to: self.period.map(|p| p.to),
            opts,
        }
    }
}

fn delta_digits(unit: Unit) -> i32 {
    match unit {
        Unit::Ratio => 2,
        Unit::Money => 2,
        _ => 1,
    }
}

/// The segments of dimension `dim` a breakdown of `def` lists, with their names.
fn segments_of(def: &Kpi, a: &Assembled, dim: Dim) -> Vec<(SegId, String)> {
    let Some(&primary) = def.reads.first() else {
        return Vec::new();
    };
    let source: &Cells = match (def.is_stock(), &a.to_date) {
        (true, Some(td)) => td,
        _ => &a.cells,
    };
    let mut out: Vec<(SegId, String)> = Vec::new();
    if dim == Dim::Survey && primary.is_survey() {
        // Survey families are their own split by survey kind.
        for (kind, families) in [
            ("nps", &[Family::Nps][..]),
            ("csat", &[Family::Csat5, Family::Csat10][..]),
            ("ces", &[Family::Ces][..]),
        ] {
            let answered = families
                .iter()
                .any(|f| def.reads.contains(f) && !source.run(Slot::total(*f)).is_empty());
            if answered {
                // No counter of a survey family sits in a `Survey` segment: the formula
                // reads the kind from the name.
                out.push((a.segs.find(kind).unwrap_or(SegId::NONE), kind.to_string()));
            }
        }
        return out;
    }
    out.extend(
        source
            .family_dim_runs(primary, dim)
            .map(|(slot, _)| (slot.seg(), a.segs.name(slot.seg()).to_string())),
    );
    out
}

fn report_one(def: &Kpi, a: &Assembled, opts: &ReportOptions, target: Option<Target>) -> KpiReport {
    let base = a.view(opts);
    // A KPI over the trailing year sees that window's counters instead of the period's:
    // no value when the span has not read it.
    let formula = |v: View| match def.trailing_year {
        false => (def.formula)(&v),
        true => a
            .window(v.to)
            .map(|(w, cells)| {
                (def.formula)(&View {
                    cells,
                    from: Some(w.from),
                    to: Some(w.to),
                    previous: None,
                    ..v
                })
            })
            .unwrap_or_default(),
    };
    let m = formula(base);
    let target = target.or(def.default_target);
    let length = opts.period.as_ref().map(Length::of);
    let applied = target.and_then(|t| t.for_length(length, def.target_scaling));
    let status = match (m.value, applied, def.direction) {
        (_, _, Direction::None) => None,
        (Some(v), Some(t), d) => Some(t.status(v, d)),
        _ => None,
    };
    let status_reason = (m.value.is_some()
        && target.is_some()
        && applied.is_none()
        && def.direction != Direction::None)
        .then_some(StatusReason::TargetPeriodDiffers);
    let target_applied = applied.filter(|_| target.is_some_and(|t| t.period.is_some()));
    let previous_m = a.previous.as_ref().map(|(p, cells)| {
        formula(View {
            cells,
            to_date: a.prev_to_date.as_ref(),
            previous: None,
            from: p.map(|p| p.from),
            to: p.map(|p| p.to),
            ..base
        })
    });
    let previous = previous_m.as_ref().and_then(|p| p.value);
    let (change_significant, change_note) = match &previous_m {
        Some(p) => {
            let (sig, note) = change_significance(&m, p);
            (Some(sig), Some(note))
        }
        None => (None, None),
    };
    let delta = m
        .value
        .zip(previous)
        .and_then(|(v, p)| round(v - p, delta_digits(def.unit)));
    // A trailing year moves by days, not by series points: it has no series or segments.
    let points = if def.trailing_year {
        &[][..]
    } else {
        &a.points[..]
    };
    let series = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let sm = (def.formula)(&View {
                cells: &p.cells,
                to_date: p.to_date.as_ref(),
                previous: i.checked_sub(1).map(|j| &*a.points[j].cells),
                from: p.from,
                to: p.to,
                ..base
            });
            SeriesPoint {
                from: p.label.clone(),
                value: sm.value,
                n: sm.n,
            }
        })
        .collect();
    let mut segments = BTreeMap::new();
    if let Some(dim) = opts
        .segment
        .filter(|d| *d != Dim::All && !def.trailing_year)
    {
        for (seg, name) in segments_of(def, a, dim) {
            let v = View {
                dim,
                seg,
                name: &name,
                ..base
            };
            let m = (def.formula)(&v);
            segments.insert(name, m);
        }
    }
    KpiReport {
        id: def.id.to_string(),
        label: def.label(opts.lang).to_string(),
        unit: def.unit,
        direction: def.direction,
        measure: m,
        target,
        target_applied,
        status,
        status_reason,
        previous,
        delta,
        change_significant,
        change_note,
        series,
        segments,
        window: def
            .trailing_year
            .then(|| a.window(base.to))
            .flatten()
            .map(|(w, _)| Window::of(w)),
    }
}

/// The reports of `defs` over `period`, with the previous period when `compare`, from
/// `span`. A tenant target in `targets` overrides `opts.target`, which overrides the catalog
/// default.
pub fn reports(
    span: &Span,
    period: Period,
    compare: bool,
    defs: &[&Kpi],
    opts: &ReportOptions,
    targets: &BTreeMap<String, Target>,
) -> Vec<KpiReport> {
    let a = Assembled::new(span, period, compare).with_stocks(&stock_families(defs));
    let opts = ReportOptions {
        period: Some(period),
        ..*opts
    };
    defs.iter()
        .map(|d| report_one(d, &a, &opts, targets.get(d.id).copied().or(opts.target)))
        .collect()
}

/// Re-interns standalone rollups into one table: what tests and benchmarks that fold facts
/// into [`Rollup`]s hand to [`reports`].
#[derive(Debug, Default)]
pub struct SpanBuilder {
    span: Span,
}

impl SpanBuilder {
    /// An empty span.
    pub fn new() -> Self {
        SpanBuilder::default()
    }

    fn add_into(&mut self, acc: &mut Acc, r: &Rollup, families: Option<&[Family]>) {
        let segs = &mut self.span.segs;
        acc.add_mapped(r.cells(), 1, |slot| {
            let read = families.is_none_or(|f| f.contains(&slot.family()));
            read.then(|| slot.adopted(r.segs(), segs))
        });
    }

    /// Adds the counters of the days `[from, to)` (buckets must come in day order).
    pub fn bucket(self, from: CivilDate, to: CivilDate, r: &Rollup) -> Self {
        self.bucket_sum(from, to, [r])
    }

    /// The sum of `rollups`, re-interned into the span's table.
    fn sum<'r>(&mut self, rollups: impl IntoIterator<Item = &'r Rollup>) -> Cells {
        let mut acc = Acc::new();
        for r in rollups {
            self.add_into(&mut acc, r, None);
        }
        acc.finish()
    }

    /// Adds the sum of `rollups` as the bucket of the days `[from, to)`.
    pub fn bucket_sum<'r>(
        mut self,
        from: CivilDate,
        to: CivilDate,
        rollups: impl IntoIterator<Item = &'r Rollup>,
    ) -> Self {
        let cells = Rc::new(self.sum(rollups));
        self.span.buckets.push(Bucket { from, to, cells });
        self
    }

    /// Adds the sum of `rollups` as the trailing year `[from, to)` ([`windows`]).
    pub fn window_sum<'r>(
        mut self,
        from: CivilDate,
        to: CivilDate,
        rollups: impl IntoIterator<Item = &'r Rollup>,
    ) -> Self {
        let cells = Rc::new(self.sum(rollups));
        self.span.windows.push(Bucket { from, to, cells });
        self
    }

    /// Sets the stocks at the period's end (every day before it).
    pub fn closing(self, r: &Rollup) -> Self {
        self.closing_sum([r], &[])
    }

    /// Sets the stocks at the period's end to the sum of `rollups`, keeping only `families`
    /// (every family when empty).
    pub fn closing_sum<'r>(
        mut self,
        rollups: impl IntoIterator<Item = &'r Rollup>,
        families: &[Family],
    ) -> Self {
        let mut acc = Acc::new();
        for r in rollups {
            self.add_into(&mut acc, r, (!families.is_empty()).then_some(families));
        }
        self.span.closing = acc.finish();
        self
    }

    /// The span.
    pub fn finish(self) -> Span {
        self.span
    }
}

/// A report's inputs as standalone rollups: the period's counters, the previous period's,
/// the series points' (first day, counters) and the stocks at the period's end. For tests
/// and benchmarks that fold facts into [`Rollup`]s; the product reads a [`Span`].
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Every day of the period, merged.
    pub period: &'a Rollup,
    /// Every day of the previous period, when compared.
    pub previous: Option<&'a Rollup>,
    /// Sub-periods for the series: (first day `YYYY-MM-DD`, rollup).
    pub series: &'a [(String, Rollup)],
    /// Every day up to the period's end (stocks); `None` leaves stock KPIs without a value.
    pub to_date: Option<&'a Rollup>,
    /// Every day of the period's trailing year ([`Period::trailing_year`]), for KPIs that
    /// read one; without it they have a value only when the period is its own trailing year.
    pub trailing_year: Option<&'a Rollup>,
}

/// The report of `def` over standalone rollups, with `opts.period` as the period (its end
/// closes the last series point; without it, windows and stocks have no dates).
pub fn report_with(def: &Kpi, inputs: &Inputs, opts: &ReportOptions) -> KpiReport {
    let mut b = SpanBuilder::new();
    let mut cells_of = |r: &Rollup| {
        let mut acc = Acc::new();
        b.add_into(&mut acc, r, None);
        acc.finish()
    };
    let cells = cells_of(inputs.period);
    let previous = inputs.previous.map(|p| {
        (
            opts.period.and_then(|p| p.previous().ok()),
            Cow::Owned(cells_of(p)),
        )
    });
    let to_date = inputs.to_date.map(|t| Cow::Owned(cells_of(t)));
    let s = inputs.series;
    let points = (0..s.len())
        .map(|i| Point {
            label: s[i].0.clone(),
            from: CivilDate::parse(&s[i].0).ok(),
            to: s
                .get(i + 1)
                .and_then(|(f, _)| CivilDate::parse(f).ok())
                .or(opts.period.map(|p| p.to)),
            cells: Cow::Owned(cells_of(&s[i].1)),
            to_date: None,
        })
        .collect();
    let window = match (opts.period.map(|p| p.trailing_year()), inputs.trailing_year) {
        (Some(Ok(w)), Some(r)) => Some((w, Cow::Owned(cells_of(r)))),
        (Some(Ok(w)), None) if Some(w.from) == opts.period.map(|p| p.from) => {
            Some((w, Cow::Owned(cells.clone())))
        }
        _ => None,
    };
    let a = Assembled {
        segs: Cow::Owned(b.span.segs),
        period: opts.period,
        cells: Cow::Owned(cells),
        previous,
        points,
        to_date,
        prev_to_date: None,
        windows: window.into_iter().collect(),
    }
    .with_stocks(def.stocks);
    report_one(def, &a, opts, opts.target)
}

/// [`report_with`] without stocks.
pub fn report(
    def: &Kpi,
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
            trailing_year: None,
        },
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::days::tests::nps_day as nps;
    use crate::days::DayRollups;
    use crate::kpi::{self, Kpi, ReportOptions};
    use crate::period::PeriodKind;
    use crate::rollup::{key, Cell, CellKey, Dim};

    /// A part of a span's buckets summed ahead ([`PartSum`]) gives the very reports
    /// of summing every bucket; one that does not hold the span's cells, or names a bucket
    /// outside the period, is not used.
    #[test]
    fn a_kept_part_sum_reports_as_every_bucket_summed() {
        let mut days = BTreeMap::new();
        for m in 1..=11 {
            let mut r = nps(m, 11 - m);
            r.add(
                CellKey::new(Family::FirstResponse, Dim::Channel, "zalo", 100 + m),
                Cell {
                    n: m,
                    sum: 1000 * m,
                },
            );
            r.add(
                CellKey::total(Family::Customers, key::CUSTOMER_WON),
                Cell { n: m % 4, sum: 0 },
            );
            days.insert(alloc::format!("2025-{m:02}-05"), nps(m + 1, 1));
            days.insert(alloc::format!("2026-{m:02}-07"), r);
        }
        let data = DayRollups {
            tz: "Asia/Ho_Chi_Minh".into(),
            from: "2025-01-01".into(),
            to: "2026-11-30".into(),
            days,
            ..Default::default()
        };
        let year =
            Period::containing(PeriodKind::Year, CivilDate::parse("2026-11-15").unwrap()).unwrap();
        let defs: Vec<&Kpi> = kpi::catalog().collect();
        let opts = ReportOptions {
            segment: Some(Dim::Channel),
            ..ReportOptions::default()
        };
        let mut span = data.span(year, true, &defs);
        let want = reports(&span, year, true, &defs, &opts, &data.targets);
        // Buckets: the previous year, then January to December.
        assert_eq!(span.buckets.len(), 13);
        let closed: Vec<usize> = (1..11).collect();
        let part = PartSum::of(&span, &closed);
        assert!(part.indexes().eq(1..11));
        span.part_sum = Some(part);
        assert_eq!(
            reports(&span, year, true, &defs, &opts, &data.targets),
            want
        );
        let doubled = PartSum::of(&span, &[1, 1, 2, 99]);
        assert!(doubled.indexes().eq([1, 2]));
        let mut once = Acc::new();
        once.add_cells(&span.buckets[1].cells);
        once.add_cells(&span.buckets[2].cells);
        assert_eq!(doubled.cells(), &once.finish());
        // Made to be wrong: twice the counters it stands for. In a span read again (the same
        // counters in other cells, not kept) it is not used.
        let mut again = data.span(year, true, &defs);
        let mut wrong = PartSum::of(&span, &closed);
        let mut acc = Acc::new();
        acc.add_cells(wrong.cells());
        acc.add_cells(wrong.cells());
        wrong.cells = alloc::rc::Rc::new(acc.finish());
        again.part_sum = Some(wrong.clone());
        assert_eq!(
            reports(&again, year, true, &defs, &opts, &data.targets),
            want
        );
        // In the span it was made from, the wrong sum is used: the test above saw it ignored.
        span.part_sum = Some(wrong);
        assert_ne!(
            reports(&span, year, true, &defs, &opts, &data.targets),
            want
        );
        // Every bucket of the period summed ahead (a closed year): the sum as it is.
        let all: Vec<usize> = (1..13).collect();
        span.part_sum = Some(PartSum::of(&span, &all));
        assert_eq!(
            reports(&span, year, true, &defs, &opts, &data.targets),
            want
        );
        // A span with fewer buckets than the sum names: not used.
        let mut short = span.clone();
        short.buckets.truncate(5);
        short.part_sum = Some(PartSum::of(&span, &closed));
        assert!(!short.part_sum.as_ref().is_some_and(|s| s.holds(&short)));
        // The previous year's bucket is outside the period: a sum holding it is not used.
        span.part_sum = Some(PartSum::of(&span, &[0, 1]));
        assert_eq!(
            reports(&span, year, true, &defs, &opts, &data.targets),
            want
        );
    }
}

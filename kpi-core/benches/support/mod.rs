//! Deterministic facts for the benchmarks, shared by the criterion benches and the wasm build
//! of them (`src/wasm_bench.rs`, feature `bench`).
use std::collections::BTreeMap;

use kpi_core::event::{Event, RawEvent};
use kpi_core::fact::{SurveyKind, SurveyResponse, WireInstant};
use kpi_core::kpi::{self, Kpi, ReportOptions};
use kpi_core::period::{CivilDate, Period, PeriodKind, TimeZone};
use kpi_core::report::{self, KpiReport, Span, SpanBuilder};
use kpi_core::rollup::{Acc, Builder, Cells, Rollup, Sink};
use kpi_core::{Channel, Ticket};

const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_793_466_000_000; // 2026-11-01T00:00:00+07:00

/// A deterministic stream of facts: every 4th is a ticket, the rest survey answers.
pub struct Facts(pub u64);

impl Facts {
    pub fn next(&mut self) -> u64 {
        // xorshift64*: cheap and reproducible.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Hands the next fact to the rollup of its day (0..31).
    pub fn fact_into<S: Sink>(&mut self, days: &mut [S]) {
        let x = self.next();
        let day = (x % 31) as usize;
        let ch = Channel::ALL[(x >> 8) as usize % 7];
        if x.is_multiple_of(4) {
            let opened = START_MS + day as i64 * DAY_MS + (x >> 16) as i64 % DAY_MS;
            let first = (x >> 20) as i64 % 7_200_000;
            let resolved = (x >> 24) as i64 % (3 * DAY_MS);
            let t = Ticket::new(
                ch,
                opened,
                Some(opened + first),
                Some(opened + first + resolved),
                TimeZone::DEFAULT,
            )
            .expect("valid ticket");
            t.contribute(&mut days[day]);
        } else {
            let kind = [
                SurveyKind::Nps,
                SurveyKind::Csat { scale: 5 },
                SurveyKind::Ces,
            ][(x >> 4) as usize % 3];
            let (lo, hi) = kind.range();
            let score = lo as i64 + (x >> 32) as i64 % (hi - lo + 1) as i64;
            let r =
                SurveyResponse::new(kind, score, ch, x.is_multiple_of(7)).expect("valid answer");
            r.contribute(&mut days[day]);
        }
    }
}

pub fn month_of_days(facts_per_day: usize) -> Vec<Rollup> {
    let mut days: Vec<Builder> = (0..31).map(|_| Builder::new()).collect();
    let mut f = Facts(42);
    for _ in 0..facts_per_day * 31 {
        f.fact_into(&mut days);
    }
    // A few CRM events a day so that every family has cells.
    for (d, day) in days.iter_mut().enumerate() {
        for (i, t) in kpi_core::event::EVENT_TYPES.iter().enumerate() {
            let raw = RawEvent {
                kind: (*t).into(),
                at: Some(WireInstant::Millis(
                    START_MS + d as i64 * DAY_MS + i as i64 * 1000,
                )),
                count: Some(1 + i as i64),
                amount: Some(100_000 * (1 + i as i64)),
                mrr: Some(50_000),
                pages: Some(1 + (i % 3) as i64),
                user: Some(format!("rep{}", i % 5)),
                activity: Some("call".into()),
                stage: Some(["interested", "consult", "demo", "won"][i % 4].into()),
                campaign: Some(["tet", "summer"][i % 2].into()),
                ..RawEvent::default()
            };
            Event::from_wire(&raw, TimeZone::DEFAULT)
                .expect("valid event")
                .contribute(day);
        }
    }
    days.into_iter().map(Builder::finish).collect()
}

/// Folds `n` facts into 31 daily rollups.
pub fn fold(n: u64, seed: u64) -> Vec<Rollup> {
    let mut days: Vec<Builder> = (0..31).map(|_| Builder::new()).collect();
    let mut f = Facts(seed);
    for _ in 0..n {
        f.fact_into(&mut days);
    }
    days.into_iter().map(Builder::finish).collect()
}

/// A month of dense days and their sum, the previous month's stand-in.
pub fn month_with_history() -> (Vec<Rollup>, Rollup) {
    let days = month_of_days(3000);
    let mut history = Rollup::new();
    days.iter().for_each(|d| history.merge(d));
    (days, history)
}

/// The month of the benchmarks.
pub fn month() -> Period {
    Period::parse_at(PeriodKind::Month, "2026-11").expect("month")
}

/// The span of a month report as the worker assembles it: the 31 days as buckets, the
/// previous month as one bucket (`history`), and the stocks at the month's end.
pub fn month_span(days: &[Rollup], history: &Rollup) -> Span {
    let period = month();
    let prev = period.previous().expect("previous");
    let mut b = SpanBuilder::new().bucket(prev.from, prev.to, history);
    for (p, d) in period.series().iter().zip(days) {
        b = b.bucket(p.from, p.to, d);
    }
    b.closing_sum(std::iter::once(history).chain(days), &[])
        .finish()
}

/// Every catalog KPI for the month, with the previous month, stocks and a daily series.
pub fn month_kpis(span: &Span) -> Vec<KpiReport> {
    catalog_kpis(span, month())
}

/// Every catalog KPI over `period`, with the previous period, stocks and a series.
fn catalog_kpis(span: &Span, period: Period) -> Vec<KpiReport> {
    let opts = ReportOptions {
        licensed_users: Some(10),
        ..ReportOptions::default()
    };
    let defs: Vec<&Kpi> = kpi::catalog().collect();
    report::reports(span, period, true, &defs, &opts, &BTreeMap::new())
}

/// The span of a year report as the worker assembles it in December: the previous year and
/// the twelve months as buckets (each a month of `history`'s counters), the stocks at the
/// year's end; with `closed_summed`, the eleven closed months' sum made ahead, as the worker
/// keeps it beside their kept sums (`report::PartSum`).
pub fn year_span(history: &Rollup, closed_summed: bool) -> Span {
    let period = year();
    let prev = period.previous().expect("previous");
    let mut b = SpanBuilder::new().bucket(prev.from, prev.to, history);
    for p in period.series() {
        b = b.bucket(p.from, p.to, history);
    }
    let mut span = b.closing(history).finish();
    if closed_summed {
        let closed: Vec<usize> = (1..12).collect();
        span.part_sum = Some(report::PartSum::of(&span, &closed));
    }
    span
}

/// The year of the benchmarks.
pub fn year() -> Period {
    Period::parse_at(PeriodKind::Year, "2026").expect("year")
}

/// Every catalog KPI for the year, with the previous year, stocks and a monthly series.
pub fn year_kpis(span: &Span) -> Vec<KpiReport> {
    catalog_kpis(span, year())
}

/// The reports as `GET /v1/kpis` writes its `kpis` array.
pub fn month_json(reports: &[KpiReport]) -> String {
    let mut o = kpi_core::json::Out::default();
    report::write_reports(&mut o, reports);
    o.s
}

/// 365 daily rollups under one segment table (the month's days, repeated), as a span holds
/// them.
pub fn year_of_days(month: &[Rollup]) -> Vec<Cells> {
    let first = CivilDate::parse("2026-01-01").expect("day");
    let mut b = SpanBuilder::new();
    for i in 0..365 {
        let d = first.add_days(i).expect("day");
        b = b.bucket(d, d.add_days(1).expect("day"), &month[i as usize % 31]);
    }
    b.finish()
        .buckets
        .into_iter()
        .map(|b| std::rc::Rc::unwrap_or_clone(b.cells))
        .collect()
}

/// Reads every counter of the 365 daily buckets once, in memory order, and adds them all
/// into one: the merge's floor on this machine (it reads the same bytes, and keeps nothing).
/// The key is folded into the sum so that it is read, as the merge reads it.
pub fn read_year(year: &[Cells]) -> (i64, i64) {
    year.iter()
        .flat_map(|d| d.entries())
        .fold((0i64, 0i64), |(n, sum), e| {
            (
                n.wrapping_add(e.cell.n),
                sum.wrapping_add(e.cell.sum ^ e.key),
            )
        })
}

/// Merges 365 daily buckets into one, as a year report's period does.
pub fn merge_year(year: &[Cells]) -> Cells {
    let mut acc = Acc::new();
    year.iter().for_each(|d| acc.add_cells(d));
    acc.finish()
}

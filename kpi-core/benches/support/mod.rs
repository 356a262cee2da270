//! Deterministic facts for the benchmarks, shared by the criterion benches and the wasm build
//! of them (`src/wasm_bench.rs`, feature `bench`).
use kpi_core::event::{Event, RawEvent};
use kpi_core::fact::{SurveyKind, SurveyResponse, WireInstant};
use kpi_core::kpi::{self, Inputs, KpiReport, ReportOptions, CATALOG};
use kpi_core::period::{Period, PeriodKind, TimeZone};
use kpi_core::rollup::Rollup;
use kpi_core::{Cell, CellKey, Channel, Ticket};

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

    /// The day index (0..31) and contributions of the next fact.
    pub fn fact(&mut self) -> (usize, Vec<(CellKey, Cell)>) {
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
            (day, t.contributions())
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
            (day, r.contributions())
        }
    }
}

pub fn month_of_days(facts_per_day: usize) -> Vec<Rollup> {
    let mut days = vec![Rollup::new(); 31];
    let mut f = Facts(42);
    for _ in 0..facts_per_day * 31 {
        let (d, c) = f.fact();
        days[d].extend(c);
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
            day.extend(
                Event::from_wire(&raw, TimeZone::DEFAULT)
                    .expect("valid event")
                    .contributions(),
            );
        }
    }
    days
}

/// Folds `n` facts into 31 daily rollups.
pub fn fold(n: u64, seed: u64) -> Vec<Rollup> {
    let mut days = vec![Rollup::new(); 31];
    let mut f = Facts(seed);
    for _ in 0..n {
        let (d, c) = f.fact();
        days[d].extend(c);
    }
    days
}

/// The month of the benchmarks.
pub fn month() -> Period {
    Period::parse_at(PeriodKind::Month, "2026-11").expect("month")
}

/// Every catalog KPI for the month from its 31 daily rollups, with a previous month, a
/// to-date rollup and a daily series.
pub fn month_kpis(days: &[Rollup], history: &Rollup) -> Vec<KpiReport> {
    let period = month();
    let opts = ReportOptions {
        period: Some(period),
        licensed_users: Some(10),
        ..ReportOptions::default()
    };
    let mut month = Rollup::new();
    days.iter().for_each(|d| month.merge(d));
    let series: Vec<(String, Rollup)> = period
        .series()
        .iter()
        .zip(days)
        .map(|(p, d)| (p.from.to_string(), d.clone()))
        .collect();
    let mut to_date = history.clone();
    to_date.merge(&month);
    let inputs = Inputs {
        period: &month,
        previous: Some(history),
        series: &series,
        to_date: Some(&to_date),
    };
    CATALOG
        .iter()
        .map(|d| kpi::report_with(d, &inputs, &opts))
        .collect()
}

/// Merges 365 daily rollups (the month's days, repeated).
pub fn merge_year(year: &[Rollup]) -> Rollup {
    let mut r = Rollup::new();
    year.iter().for_each(|d| r.merge(d));
    r
}

//! Benchmarks of issue 3: fold ten million responses and tickets into daily rollups, compute
//! the full KPI set for a month from 31 daily rollups, merge 365 daily rollups.
//! Run with `cargo bench -p kpi-core`; it prints figures and never fails on a timing.
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kpi_core::event::{Event, RawEvent};
use kpi_core::fact::{SurveyKind, SurveyResponse, WireInstant};
use kpi_core::kpi::{self, Inputs, ReportOptions, CATALOG};
use kpi_core::period::{Period, PeriodKind, TimeZone};
use kpi_core::rollup::Rollup;
use kpi_core::{Channel, Ticket};

const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_793_552_400_000; // 2026-11-01T00:00:00+07:00

/// A deterministic stream of facts: every 4th is a ticket, the rest survey answers.
struct Facts(u64);

impl Facts {
    fn next(&mut self) -> u64 {
        // xorshift64*: cheap and reproducible.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The day index (0..31) and contributions of the next fact.
    fn fact(&mut self) -> (usize, Vec<(kpi_core::CellKey, kpi_core::Cell)>) {
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

fn month_of_days(facts_per_day: usize) -> Vec<Rollup> {
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

fn fold(c: &mut Criterion) {
    let mut g = c.benchmark_group("fold");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    const N: u64 = 10_000_000;
    g.throughput(Throughput::Elements(N));
    g.bench_function("10M responses+tickets into 31 daily rollups", |b| {
        b.iter(|| {
            let mut days = vec![Rollup::new(); 31];
            let mut f = Facts(7);
            for _ in 0..N {
                let (d, c) = f.fact();
                days[d].extend(c);
            }
            black_box(days)
        })
    });
    g.finish();
}

fn month_kpis(c: &mut Criterion) {
    let days = month_of_days(3000);
    let history = {
        let mut h = Rollup::new();
        days.iter().for_each(|d| h.merge(d));
        h
    };
    let period = Period::parse_at(PeriodKind::Month, "2026-11").expect("month");
    let opts = ReportOptions {
        period: Some(period),
        licensed_users: Some(10),
        ..ReportOptions::default()
    };
    println!(
        "a day holds {} cells; the month {} cells ({} bytes encoded)",
        days[0].len(),
        history.len(),
        kpi_core::codec::encode(&history).len()
    );
    c.bench_function("full KPI set for a month from 31 daily rollups", |b| {
        b.iter(|| {
            let mut month = Rollup::new();
            days.iter().for_each(|d| month.merge(d));
            let series: Vec<(String, Rollup)> = period
                .series()
                .iter()
                .zip(&days)
                .map(|(p, d)| (p.from.to_string(), d.clone()))
                .collect();
            let mut to_date = history.clone();
            to_date.merge(&month);
            let inputs = Inputs {
                period: &month,
                previous: Some(&history),
                series: &series,
                to_date: Some(&to_date),
            };
            let reports: Vec<_> = CATALOG
                .iter()
                .map(|d| kpi::report_with(d, &inputs, &opts))
                .collect();
            black_box(reports)
        })
    });
}

fn merge_year(c: &mut Criterion) {
    let month = month_of_days(3000);
    let year: Vec<Rollup> = (0..365).map(|i| month[i % 31].clone()).collect();
    c.bench_function("merge 365 daily rollups", |b| {
        b.iter_batched(
            || (),
            |_| {
                let mut r = Rollup::new();
                year.iter().for_each(|d| r.merge(d));
                black_box(r)
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, merge_year, month_kpis, fold);
criterion_main!(benches);

//! Benchmarks: fold ten million responses and tickets into daily rollups, compute the full
//! KPI set for a month with its previous month and daily series and write it as JSON, the
//! same for a year of month buckets (with and without its closed months summed ahead), merge 365 daily rollups
//! and read their counters once (what the merge cannot go below).
//! Run with `cargo bench -p kpi-core`; it prints figures and never fails on a timing.
// A benchmark: its own fixed inputs, unwrapped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod support;

fn fold(c: &mut Criterion) {
    let mut g = c.benchmark_group("fold");
    g.sample_size(10).measurement_time(Duration::from_secs(200));
    const N: u64 = 10_000_000;
    g.throughput(Throughput::Elements(N));
    g.bench_function("10M responses+tickets into 31 daily rollups", |b| {
        b.iter(|| black_box(support::fold(N, 7)))
    });
    g.finish();
}

fn month_kpis(c: &mut Criterion) {
    let (days, history) = support::month_with_history();
    println!(
        "a day holds {} cells; the month {} cells ({} bytes encoded)",
        days[0].len(),
        history.len(),
        kpi_core::codec::encode(&history).len()
    );
    let span = support::month_span(&days, &history);
    c.bench_function(
        "full KPI set for a month with previous and series (31 day buckets)",
        |b| b.iter(|| black_box(support::month_kpis(&span))),
    );
    for (name, summed) in [
        (
            "full KPI set for a year with previous and series (12 month buckets)",
            false,
        ),
        (
            "the same, its 11 closed months summed ahead (the worker's kept part sum)",
            true,
        ),
    ] {
        let span = support::year_span(&history, summed);
        c.bench_function(name, |b| b.iter(|| black_box(support::year_kpis(&span))));
    }
    let reports = support::month_kpis(&span);
    c.bench_function("JSON of the full KPI set for a month", |b| {
        b.iter(|| black_box(support::month_json(&reports)))
    });
}

fn merge_year(c: &mut Criterion) {
    let month = support::month_of_days(3000);
    let year = support::year_of_days(&month);
    c.bench_function("merge 365 daily rollups", |b| {
        b.iter(|| black_box(support::merge_year(&year)))
    });
    c.bench_function(
        "read every counter of 365 daily rollups once (the merge's memory floor)",
        |b| b.iter(|| black_box(support::read_year(&year))),
    );
}

criterion_group!(benches, merge_year, month_kpis, fold);
criterion_main!(benches);

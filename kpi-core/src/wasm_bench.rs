//! The benchmarks of `benches/rollups.rs` as wasm exports (feature `bench`, off by default),
//! so that the same work can be timed in a wasm engine: `benches/wasm.mjs` loads the module
//! and times each export with Node's clock (wasm32-unknown-unknown has none).
// The benchmarks' own fixed inputs (feature `bench` only), unwrapped as in the benches.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "../benches/support/mod.rs"]
#[allow(missing_docs)]
mod support;

/// Folds `n` facts into 31 daily rollups; returns the cells of the first day.
#[no_mangle]
pub extern "C" fn bench_fold(n: u32) -> u32 {
    support::fold(n as u64, 7)[0].len() as u32
}

/// Computes every KPI for a month `times` times; returns the number of reports.
#[no_mangle]
pub extern "C" fn bench_month_kpis(times: u32) -> u32 {
    let (days, history) = support::month_with_history();
    let span = support::month_span(&days, &history);
    (0..times)
        .map(|_| support::month_kpis(&span).len() as u32)
        .sum()
}

/// Computes every KPI for a year of month buckets `times` times, its eleven closed months
/// summed ahead when `summed` is 1 (the worker's kept part sum); returns the number of
/// reports.
#[no_mangle]
pub extern "C" fn bench_year_kpis(times: u32, summed: u32) -> u32 {
    let (_, history) = support::month_with_history();
    let span = support::year_span(&history, summed == 1);
    (0..times)
        .map(|_| support::year_kpis(&span).len() as u32)
        .sum()
}

/// Writes every KPI of a month as JSON `times` times (the reports computed once); returns
/// the bytes written.
#[no_mangle]
pub extern "C" fn bench_month_json(times: u32) -> u32 {
    let (days, history) = support::month_with_history();
    let reports = support::month_kpis(&support::month_span(&days, &history));
    (0..times)
        .map(|_| support::month_json(&reports).len() as u32)
        .sum()
}

/// Merges 365 daily rollups `times` times; returns the cells of the result.
#[no_mangle]
pub extern "C" fn bench_merge_year(times: u32) -> u32 {
    let month = support::month_of_days(3000);
    let year = support::year_of_days(&month);
    (0..times)
        .map(|_| support::merge_year(&year).len() as u32)
        .sum()
}

/// Reads every counter of 365 daily rollups `times` times (the merge's memory floor);
/// returns the counts read. The input goes through `black_box` each time: the read is
/// pure, so the optimiser could otherwise do it once for all `times`.
#[no_mangle]
pub extern "C" fn bench_read_year(times: u32) -> u32 {
    let month = support::month_of_days(3000);
    let year = support::year_of_days(&month);
    (0..times)
        .map(|_| support::read_year(core::hint::black_box(&year)).0 as u32)
        .fold(0, u32::wrapping_add)
}

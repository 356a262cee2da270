//! KPI reads from the counters against a scan of the raw rows, as responses grow: responses
//! seeded straight into the D1 file (their triggers add the counters), the route timed over
//! HTTP, and both queries timed on the file with Python's sqlite3.
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kpi_core::period::{CivilDate, TimeZone};
use serde_json::Value;

use super::{Rng, KPI_METRICS, MONTH};
use crate::d1::{self, lit, Cells};
use crate::local::TenantKeys;
use crate::sh::{self, Result};

/// Appends responses `from..to` of `tenant` to the D1 file in batches (the worker stopped),
/// with the `contrib` JSON kpi-core computes for them, as the worker writes it; the rows'
/// triggers add the counters, as they do for the worker's own writes.
pub fn seed(db: &Path, tenant: &str, from: usize, to: usize, cells: &mut Cells) -> Result<()> {
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
        // The rows' triggers add their counters, as they do for the worker's writes.
        writeln!(w, ";")?;
        writeln!(w, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
    })?;
    result
}

/// Timings of the two ways to compute the month's KPIs from the same D1 file.
pub struct SqlTimes {
    pub rollup_p50: f64,
    pub rollup_p99: f64,
    pub rollup_runs: u64,
    pub rollup_rows: u64,
    pub scan_p50: f64,
    pub scan_p99: f64,
    pub scan_runs: u64,
    /// Per survey kind: (n, promoters or positive, detractors) from the scan.
    pub scan_totals: Value,
}

/// Times, in one Python process with the sqlite3 module: the worker's rollup query for the
/// month (the SQL of `store::day_rollups`, same families) and a straightforward GROUP BY
/// over the raw rows giving the same KPIs per day; each repeated for `budget_s` seconds.
pub fn time_sql(db: &Path, tenant: &str, budget_s: f64) -> Result<SqlTimes> {
    let mut families: Vec<u8> = Vec::new();
    for id in KPI_METRICS.split(',') {
        let def = kpi_core::kpi::find(id).map_err(|e| e.to_string())?;
        for f in kpi_core::kpi::families(def) {
            if !families.contains(&f.id()) {
                families.push(f.id());
            }
        }
    }
    let fams = families
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rollup = format!(
        "SELECT day, family, dim, segment, key, n, sum FROM cells \
         WHERE tenant_id = ?1 AND family IN ({fams}) AND dim = 0 AND day >= ?2 AND day < ?3 \
         AND (n != 0 OR sum != 0)"
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

pub fn kpis(url: &str, t: &TenantKeys, path: &str) -> Result<Value> {
    let resp = ureq::get(&format!("{url}{path}"))
        .set("authorization", &format!("Bearer {}", t.sk))
        .call()
        .map_err(|e| format!("GET {path}: {e}"))?;
    resp.into_json().map_err(|e| format!("GET {path}: {e}"))
}

/// The API's month (from rollups) must agree with the scan of raw rows: same n per survey,
/// same NPS — else one of the two measurements computes something else.
pub fn check_same_kpis(api: &Value, sql: &SqlTimes, seeded: usize) -> Result<()> {
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

/// `bench scan`: KPI reads from the counters against a scan of the raw rows, as the stored
/// responses grow (seeded straight into the D1 file while the worker is stopped).
pub fn measure(
    t: &crate::tools::Tools,
    plan: &super::Plan,
    local: &mut crate::local::Local,
    (wrk, script): (&Path, &Path),
    kpi_tenant: &TenantKeys,
    rows: &mut Vec<super::Row>,
    notes: &mut Vec<String>,
) -> Result<()> {
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
        let worker = local.start(t)?;
        let path = format!("/v1/kpis?metrics={KPI_METRICS}&period=month&at={MONTH}");
        let api = kpis(&worker.url, kpi_tenant, &path)?;
        check_same_kpis(&api, &sql, n)?;
        let res = super::load::run_wrk(
            wrk,
            script,
            &worker.url,
            1,
            plan.read_seconds,
            &["get", &path, &kpi_tenant.sk],
        )?;
        let mem = crate::local::wasm_memory(&worker.url)?;
        drop(worker);
        if !res.ok() {
            notes.push(format!(
                "GET /v1/kpis at {n} responses had errors: {} non-2xx",
                res.non2xx
            ));
        }
        rows.push(super::row(
            format!("GET /v1/kpis month ({KPI_METRICS}), {n} responses stored"),
            format!("p50 {:.1} ms", res.p50_ms),
            format!(
                "p99 {:.1} ms over HTTP (c=1, {} requests{}); worker wasm memory after: {}",
                res.p99_ms,
                res.requests,
                if res.ok() { "" } else { ", ERRORS" },
                crate::local::mib(mem)
            ),
        ));
        rows.push(super::row(
            format!("  its D1 query (day counters), {n} responses"),
            format!("p50 {:.2} ms", sql.rollup_p50),
            format!(
                "p99 {:.2} ms; sqlite3 on the D1 file, {} rows read, {} runs",
                sql.rollup_p99, sql.rollup_rows, sql.rollup_runs
            ),
        ));
        rows.push(super::row(
            format!("  the same KPIs by scanning raw rows, {n} responses"),
            format!("p50 {:.2} ms", sql.scan_p50),
            format!(
                "p99 {:.2} ms; {} runs; scan ÷ counter read = {:.1}×",
                sql.scan_p99,
                sql.scan_runs,
                sql.scan_p50 / sql.rollup_p50
            ),
        ));
    }
    Ok(())
}

//! `cargo xtask bench [--smoke]`: the product's speed and size, measured on this machine and
//! printed as one table (also written to `docs/BENCHMARKS.md`; `--smoke` writes
//! `target/bench-smoke/BENCHMARKS.md` and runs each step for a moment, to keep it working).
//! It never fails on a timing; it fails when a step cannot run or a result is wrong.
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::local::{self, kb, Local, TenantKeys};
use crate::sh::{self, root, Result};
use crate::{build, tools};

mod answers;
mod cpu;
mod criterion;
mod doc;
mod floors;
mod load;
mod memory;
mod profile;
mod reads;
mod scan;

/// The month every response seeded into the file falls in, read back by `GET /v1/kpis`.
const MONTH: &str = "2026-10";
/// The KPIs of the counters-versus-scan reads.
const KPI_METRICS: &str = "nps,csat,ces";

/// How long and how big each step is.
pub struct Plan {
    smoke: bool,
    load_seconds: u32,
    links_per_level: usize,
    seeded: &'static [usize],
    read_seconds: u32,
    sql_budget_s: f64,
    refreshes: u32,
    /// Years of dense history seeded per tenant for the KPI reads' CPU. Two and three years
    /// both have a full compared year, so their year reads show whether age costs.
    dense_years: &'static [u32],
    /// Rounds of (floor, each kind) and requests per round for the CPU figures.
    cpu_rounds: u32,
    cpu_requests: u32,
}

const FULL: Plan = Plan {
    smoke: false,
    load_seconds: 15,
    links_per_level: 12_000,
    seeded: &[10_000, 100_000, 1_000_000],
    read_seconds: 10,
    sql_budget_s: 20.0,
    refreshes: 100,
    dense_years: &[1, 2, 3],
    cpu_rounds: 5,
    cpu_requests: 50,
};

const SMOKE: Plan = Plan {
    smoke: true,
    load_seconds: 1,
    links_per_level: 600,
    seeded: &[2_000],
    read_seconds: 1,
    sql_budget_s: 0.5,
    refreshes: 3,
    dense_years: &[],
    cpu_rounds: 1,
    cpu_requests: 3,
};

/// One line of the table: what, the figure, how to read it.
pub struct Row(pub String, pub String, pub String);

fn row(a: impl Into<String>, b: impl Into<String>, c: impl Into<String>) -> Row {
    Row(a.into(), b.into(), c.into())
}

/// The parts of the bench, each runnable alone: `cargo xtask bench reads`. `profile` runs
/// only when named: it builds the worker with its function names kept.
const SECTIONS: [&str; 7] = [
    "sizes",
    "answers",
    "reads",
    "memory",
    "scan",
    "criterion",
    "profile",
];

/// `cargo xtask bench [--smoke] [SECTION …]`.
pub fn main(args: &[String]) -> Result<()> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let plan = if smoke { &SMOKE } else { &FULL };
    let only: Vec<&str> = args
        .iter()
        .filter(|a| *a != "--smoke")
        .map(String::as_str)
        .collect();
    if let Some(bad) = only.iter().find(|s| !SECTIONS.contains(s)) {
        return Err(format!(
            "usage: cargo xtask bench [--smoke] [{}…]; unknown `{bad}`",
            SECTIONS.join("|")
        ));
    }
    let on = |s: &str| (only.is_empty() && s != "profile") || only.contains(&s);
    let started = Instant::now();
    let t = tools::ensure(true)?;
    let wrk = tools::apt_tool("wrk", "wrk")?;
    tools::apt_tool("sqlite3", "sqlite3")?;
    if on("profile") {
        // Names kept for the whole run: wrangler's build command inherits the variable.
        std::env::set_var("KPI_KEEP_NAMES", "1");
    }
    build::all(&t)?;
    let r = root();
    let dir = r.join(if plan.smoke {
        "target/bench-smoke"
    } else {
        "target/bench"
    });
    let script = dir.join("wrk.lua");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(&script, include_str!("../../scripts/wrk.lua")).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if on("sizes") {
        rows.extend(sizes()?);
    }

    let mut local = Local::fresh(&t, &dir)?;
    let worker = local.start(&t)?;
    let url = worker.url.clone();
    let load_tenant = local::tenant(&url, &local.admin, "bench-load", &url)?;
    let kpi_tenant = local::tenant(&url, &local.admin, "bench-kpis", &url)?;
    if on("sizes") {
        rows.push(survey_page(&dir, &url, &load_tenant)?);
    }

    if on("profile") {
        let rows = profile::measure(
            &t,
            plan,
            &dir,
            &mut local,
            worker,
            only.contains(&"answers"),
            rows,
        )?;
        println!("\n{}", doc::render_table(&rows));
        return Ok(());
    }

    let worker = if on("answers") && !on("profile") {
        let (r, w) = answers::measure(&t, plan, &wrk, &script, &mut local, worker, &load_tenant)?;
        rows.extend(r);
        w
    } else {
        worker
    };
    let url = worker.url.clone();

    // KPI reads: the fixed costs, then tenants with dense histories.
    let worker = if on("reads") {
        let worker = reads::measure(&t, plan, &mut local, worker, &kpi_tenant.sk, &mut rows)?;
        rows.extend(floors::measure(&t, plan, &dir, &local, &worker)?);
        worker
    } else {
        worker
    };

    // Floors for the reads below: the smallest route, and the KPI route on an empty month.
    if on("scan") {
        rows.extend(load::floors(&wrk, &script, &url, plan, &kpi_tenant.sk)?);
    }

    // The widget in Chromium.
    if on("memory") {
        rows.push(widget_memory(&t, &local, &url, plan)?);
    }
    drop(worker);

    // KPI reads from the counters against a scan of the raw rows, as responses grow.
    if on("scan") {
        scan::measure(
            &t,
            plan,
            &mut local,
            (&wrk, &script),
            &kpi_tenant,
            &mut rows,
            &mut notes,
        )?;
    }

    // kpi-core's own figures.
    if !plan.smoke && on("criterion") {
        rows.extend(criterion::criterion()?);
    } else {
        notes.push("kpi-core criterion benches skipped in --smoke (minutes long)".into());
    }

    let table = doc::render_table(&rows);
    println!("\n{table}");
    for n in &notes {
        println!("note: {n}");
    }
    let text = doc::document(plan, &table, &notes, started.elapsed().as_secs_f64())?;
    // Only a full run of every section rewrites docs/BENCHMARKS.md.
    let out = if plan.smoke || !only.is_empty() {
        dir.join("BENCHMARKS.md")
    } else {
        r.join("docs/BENCHMARKS.md")
    };
    doc::write_doc(&out, &text)?;
    eprintln!(
        "bench done in {:.0} s; written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn keys_url(w: &crate::server::Worker) -> String {
    w.url.clone()
}

/// The widget's memory in Chromium over `plan.refreshes` refreshes.
fn widget_memory(t: &tools::Tools, local: &Local, url: &str, plan: &Plan) -> Result<Row> {
    let out = sh::output(
        "widget memory in headless Chromium",
        t.node_cmd(&t.node_bin.join("node"))
            .arg("tests/browser/widget-memory.mjs")
            .current_dir(root())
            .env("KPI_TEST_URL", url)
            .env("KPI_ADMIN_TOKEN", &local.admin)
            .env("KPI_REFRESHES", plan.refreshes.to_string())
            .env("CHROMIUM", "/usr/bin/chromium"),
    )?;
    let samples: Value = out
        .lines()
        .find_map(|l| l.strip_prefix("KPI_WIDGET_MEMORY "))
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| format!("widget-memory.mjs printed no figures: {out}"))?;
    memory::widget_memory_row(&samples)
}

/// Sizes of what ships: the widget (the offline module apart) and the worker.
fn sizes() -> Result<Vec<Row>> {
    let r = root();
    let mut rows = Vec::new();
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
    rows.push(row(
        "widget transfer size (gzip -9: loader with its CSS + glue + wasm)",
        kb(widget_gz),
        parts.join("; "),
    ));
    rows.push(row(
        "widget offline module (gzip -9), fetched only by mount(el, {data})",
        kb(offline_gz),
        offline_parts.join("; "),
    ));
    let worker_wasm = r.join("edge-worker/build/index_bg.wasm");
    let (raw, gz) = build::sizes(&worker_wasm).ok_or("worker wasm missing")?;
    rows.push(row(
        "worker wasm (gzip -9)",
        kb(gz),
        format!("{} raw", kb(raw)),
    ));
    // Written by the worker's build from its names section, before they are stripped.
    let by_crate = r.join("edge-worker/build/size-by-crate.txt");
    let text = std::fs::read_to_string(&by_crate)
        .map_err(|e| format!("reading {}: {e}", by_crate.display()))?;
    rows.push(row(
        "worker wasm by crate (function bodies, from the names section)",
        kb(raw),
        text,
    ));
    Ok(rows)
}

/// The survey page a customer opens.
fn survey_page(dir: &Path, url: &str, tenant: &TenantKeys) -> Result<Row> {
    let link = local::mint(url, &tenant.sk, 1)?;
    let page = ureq::get(&format!("{url}/s/{}", link[0].token))
        .call()
        .map_err(|e| format!("GET /s/<token>: {e}"))?
        .into_string()
        .map_err(|e| e.to_string())?;
    let page_file = dir.join("survey-page.html");
    std::fs::write(&page_file, &page).map_err(|e| e.to_string())?;
    let (raw, gz) = build::sizes(&page_file).ok_or("gzip failed")?;
    Ok(row(
        "survey page GET /s/<token> (gzip -9)",
        kb(gz),
        format!("{} raw, HTML with inline CSS and script", kb(raw)),
    ))
}

/// A deterministic generator: the same seeded data on every run.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

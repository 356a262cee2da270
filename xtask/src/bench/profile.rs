//! Where a request's CPU goes: V8's sampling profiler on the worker's isolate, through
//! workerd's DevTools inspector (`xtask/scripts/profile.mjs`), over requests of one kind,
//! with the worker built with its wasm function names (`KPI_KEEP_NAMES=1`).
use serde_json::Value;

use super::{Plan, Row};
use crate::server::Worker;
use crate::sh::{self, Result};
use crate::tools::Tools;

/// Profiles `path` and returns the top functions by self time as one row.
pub fn kind(
    t: &Tools,
    w: &Worker,
    port: u16,
    key: &str,
    name: &str,
    path: &str,
    plan: &Plan,
) -> Result<Row> {
    // Warm: the first read rebuilds month snapshots the seeding marked stale.
    for _ in 0..if path.starts_with("POST ") { 0 } else { 2 } {
        let _ = ureq::get(&format!("{}{path}", w.url))
            .set("authorization", &format!("Bearer {key}"))
            .call();
        std::thread::sleep(std::time::Duration::from_millis(1000));
    }
    let script = crate::sh::root().join("xtask/scripts/profile.mjs");
    let n = plan.cpu_requests.max(5).to_string();
    let out = sh::output(
        &format!("profiling {name}"),
        t.node_cmd(&t.node_bin.join("node")).arg(&script).args([
            &port.to_string(),
            &w.url,
            key,
            &n,
            path,
        ]),
    )?;
    let v: Value = out
        .lines()
        .find_map(|l| l.strip_prefix("KPI_PROFILE "))
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| format!("profile.mjs printed no profile: {out}"))?;
    let list = |field: &str, n: usize| -> String {
        v[field]
            .as_array()
            .into_iter()
            .flatten()
            .take(n)
            .map(|r| {
                format!(
                    "{} {}%",
                    r["name"].as_str().unwrap_or("?"),
                    r["share"].as_f64().unwrap_or(0.0)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Ok(Row(
        format!("profile of {name}"),
        format!("{} ms busy", v["total_ms"]),
        format!(
            "self time by function over {n} requests: {}. Inclusive (the function and what \
             it calls): {}",
            list("rows", 25),
            list("inclusive", 40)
        ),
    ))
}

/// `bench profile`: a worker built with its function names kept, under the inspector; CPU
/// profiles of the floor, of first answers and (unless `answers_only`) of each KPI read.
pub fn measure(
    t: &Tools,
    plan: &Plan,
    dir: &std::path::Path,
    local: &mut crate::local::Local,
    worker: Worker,
    answers_only: bool,
    mut rows: Vec<Row>,
) -> Result<Vec<Row>> {
    let port = crate::local::free_port()?;
    drop(worker);
    // The reads' dearest day, as in `bench reads`.
    let clock = crate::clock::Clock::dearest(&dir.join("clock"))?;
    local.env = clock.env(&[]);
    let worker = local.start_inspected(t, Some(port))?;
    let keys = super::reads::tenant(&worker.url, &local.admin, "profiled")?;
    let n = plan.cpu_requests.max(5) as usize;
    let tokens = dir.join("profile-tokens.txt");
    let links = crate::local::mint(&worker.url, &keys.sk, n + 20)?;
    let text: String = links.iter().map(|l| format!("{}\n", l.token)).collect();
    std::fs::write(&tokens, text).map_err(|e| e.to_string())?;
    let post = format!("POST /v1/responses {}", tokens.display());
    rows.push(kind(
        t,
        &worker,
        port,
        "-",
        "GET /healthz (the floor)",
        "/healthz",
        plan,
    )?);
    rows.push(kind(
        t,
        &worker,
        port,
        "-",
        "POST /v1/responses, first answers",
        &post,
        plan,
    )?);
    let all: Vec<&str> = kpi_core::kpi::catalog().map(|d| d.id).collect();
    // `bench profile answers`: the answers only.
    let kinds = if answers_only {
        Vec::new()
    } else {
        super::reads::seed(&super::keys_url(&worker), &keys.sk, 1, clock.now_ms())?;
        super::reads::kinds(&all.join(","))
    };
    for (name, path) in kinds {
        let name = format!("GET /v1/kpis, {name}");
        rows.push(kind(t, &worker, port, &keys.sk, &name, &path, plan)?);
    }
    Ok(rows)
}

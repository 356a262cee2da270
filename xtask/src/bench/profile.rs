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

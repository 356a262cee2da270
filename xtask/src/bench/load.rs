//! Answers per second under load: `wrk` with `xtask/scripts/wrk.lua` against a worker.
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::{KPI_METRICS, MONTH};
use crate::sh::{self, Result};

/// wrk's figures for one run (see `xtask/scripts/wrk.lua`).
pub struct WrkResult {
    pub requests: u64,
    pub seconds: f64,
    pub non2xx: u64,
    pub socket_errors: u64,
    pub wraps: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl WrkResult {
    pub fn ok(&self) -> bool {
        self.non2xx == 0 && self.socket_errors == 0 && self.requests > 0
    }
}

/// Runs wrk with the bench script; `args` are the script's (see wrk.lua).
pub fn run_wrk(
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

/// The floors of the counter-versus-scan reads: the smallest route, and the KPI route on an
/// empty month, over HTTP at c=1.
pub fn floors(
    wrk: &Path,
    script: &Path,
    url: &str,
    plan: &super::Plan,
    sk: &str,
) -> Result<Vec<super::Row>> {
    let mut rows = Vec::new();
    for (what, path) in [
        (
            "GET /healthz (wrangler dev proxy + workerd floor)",
            "/healthz".to_string(),
        ),
        (
            "GET /v1/kpis month (nps,csat,ces), no responses stored",
            format!("/v1/kpis?metrics={KPI_METRICS}&period=month&at={MONTH}"),
        ),
    ]
    .into_iter()
    {
        let res = run_wrk(wrk, script, url, 1, plan.read_seconds, &["get", &path, sk])?;
        rows.push(super::row(
            what,
            format!("p50 {:.1} ms", res.p50_ms),
            format!(
                "p99 {:.1} ms over HTTP (c=1, {} requests{})",
                res.p99_ms,
                res.requests,
                if res.ok() { "" } else { ", ERRORS" }
            ),
        ));
    }
    Ok(rows)
}

//! What any worker pays under `wrangler dev --local` before its own work, measured beside the
//! product in the same run: the plain JavaScript peer's `/healthz`, and its `GET /probe/d1`,
//! one D1 `SELECT 1` (local D1 runs inside the same workerd processes, so its SQLite and its
//! result's trip between isolates count in their CPU). Against these, the product's
//! `/healthz` shows what the wasm entry costs, and its reads' figures what is theirs.
use std::path::Path;

use super::{cpu, row, Plan, Row};
use crate::local::{self, Local};
use crate::server::{self, Worker};
use crate::sh::Result;
use crate::tools::Tools;

/// Rounds alternating the product's `/healthz`, the peer's `/healthz` and the peer's one D1
/// read; the medians as rows.
pub fn measure(
    t: &Tools,
    plan: &Plan,
    dir: &Path,
    local: &Local,
    product: &Worker,
) -> Result<Vec<Row>> {
    let _ = std::fs::remove_dir_all(dir.join("peer-floor-state"));
    let peer = server::start_peer(
        t,
        local::free_port()?,
        &dir.join("peer-floor-state"),
        &[("LINK_SIGNING_SECRET", local.signing())],
        Some(&dir.join("peer-floor.log")),
    )?;
    let ours = cpu::workerd_pids(product.pid());
    let theirs = cpu::workerd_pids(peer.pid());
    if ours.is_empty() || theirs.is_empty() {
        return Err("no workerd process found below wrangler".into());
    }
    let urls = [
        (&ours, format!("{}/healthz", product.url)),
        (&theirs, format!("{}/healthz", peer.url)),
        (&theirs, format!("{}/probe/d1", peer.url)),
    ];
    for (pids, url) in &urls {
        cpu::per_request(pids, url, None, 20)?;
    }
    let mut ms: [Vec<f64>; 3] = Default::default();
    for _ in 0..plan.cpu_rounds {
        for (i, (pids, url)) in urls.iter().enumerate() {
            ms[i].push(cpu::per_request(pids, url, None, plan.cpu_requests)?);
        }
    }
    let mut d1: Vec<f64> = ms[2].iter().zip(&ms[1]).map(|(d, f)| d - f).collect();
    let mut entry: Vec<f64> = ms[0].iter().zip(&ms[1]).map(|(o, f)| o - f).collect();
    let [mut product_floor, mut peer_floor, _] = ms;
    let (product_floor, peer_floor) = (
        cpu::median(&mut product_floor),
        cpu::median(&mut peer_floor),
    );
    let how = format!(
        "median of {} rounds × {} sequential requests, alternated with the other rows of \
         this pair",
        plan.cpu_rounds, plan.cpu_requests
    );
    Ok(vec![
        row(
            "one D1 round trip (`SELECT 1`) from the plain JavaScript peer",
            format!("+{:.2} ms CPU", cpu::median(&mut d1)),
            format!(
                "workerd CPU per request of the peer's GET /probe/d1 above its /healthz floor \
                 of {peer_floor:.2} ms ({how}). Local D1 runs in the same workerd processes, \
                 so no worker that reads D1 once per request measures less above its floor \
                 here; on Cloudflare, D1's own work is not the worker's CPU"
            ),
        ),
        row(
            "the product's /healthz above the peer's (the wasm entry and the asset router)",
            format!("+{:.2} ms CPU", cpu::median(&mut entry)),
            format!(
                "the product's floor {product_floor:.2} ms, the peer's {peer_floor:.2} ms \
                 ({how}): what every request of the product pays here over the JavaScript \
                 peer's: wrangler dev's asset router in front of a worker with `[assets]` (the \
                 answers section measures it alone: the row \"the asset router under wrangler \
                 dev\"), and the wasm entry (workers-rs converting the request, env and \
                 context, the wasm-bindgen future and the response)"
            ),
        ),
    ])
}

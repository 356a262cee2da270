//! What any worker pays under `wrangler dev --local` before its own work, measured beside the
//! product in the same run: the plain JavaScript peer's `/healthz`, and its `GET /probe/d1`,
//! one D1 `SELECT 1` (local D1 runs inside the same workerd processes, so its SQLite and its
//! result's trip between isolates count in their CPU); and the product's `/healthz` with and
//! without its `[assets]` (`Local::start_bare`), which splits the product's floor above the
//! peer's into wrangler dev's asset router and the wasm entry; and the catalog (no key, no
//! D1) from the product with and without `[assets]`, which shows what wrangler dev's asset
//! router adds to a larger response beyond its hop.
use std::path::Path;

use super::{cpu, row, Plan, Row};
use crate::local::{self, Local};
use crate::server::{self, Worker};
use crate::sh::Result;
use crate::tools::Tools;

/// Requests per round: the floors differ by tenths of a millisecond, and `/proc` counts CPU
/// in 10 ms ticks.
const PER_ROUND: u32 = 4;

/// Rounds alternating the product's `/healthz`, the same worker's without its assets, the
/// peer's `/healthz`, the peer's one D1 read, and the catalog from the product and from the
/// worker without its assets; the medians as rows.
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
    let bare = local.start_bare(t, &dir.join("floors"))?;
    let ours = cpu::workerd_pids(product.pid());
    let bares = cpu::workerd_pids(bare.pid());
    let theirs = cpu::workerd_pids(peer.pid());
    if ours.is_empty() || bares.is_empty() || theirs.is_empty() {
        return Err("no workerd process found below wrangler".into());
    }
    let urls = [
        (&ours, format!("{}/healthz", product.url)),
        (&bares, format!("{}/healthz", bare.url)),
        (&theirs, format!("{}/healthz", peer.url)),
        (&theirs, format!("{}/probe/d1", peer.url)),
        (&ours, format!("{}/v1/kpis/catalog", product.url)),
        (&bares, format!("{}/v1/kpis/catalog", bare.url)),
    ];
    for (pids, url) in &urls {
        cpu::per_request(pids, url, None, 20)?;
    }
    let n = plan.cpu_requests * PER_ROUND;
    let mut ms: [Vec<f64>; 6] = Default::default();
    for _ in 0..plan.cpu_rounds {
        for (i, (pids, url)) in urls.iter().enumerate() {
            ms[i].push(cpu::per_request(pids, url, None, n)?);
        }
    }
    let less =
        |a: usize, b: usize| -> Vec<f64> { ms[a].iter().zip(&ms[b]).map(|(x, y)| x - y).collect() };
    let (mut d1, mut router, mut entry) = (less(3, 2), less(0, 1), less(1, 2));
    let (mut catalog, mut bare_catalog) = (less(4, 0), less(5, 1));
    let catalog_kb = ureq::get(&urls[4].1)
        .call()
        .map_err(|e| format!("GET {}: {e}", urls[4].1))?
        .into_string()
        .map_err(|e| e.to_string())?
        .len() as f64
        / 1024.0;
    let [mut product_floor, mut bare_floor, mut peer_floor, ..] = ms;
    let (product_floor, bare_floor, peer_floor) = (
        cpu::median(&mut product_floor),
        cpu::median(&mut bare_floor),
        cpu::median(&mut peer_floor),
    );
    let how = format!(
        "median of {} rounds × {n} sequential requests, alternated with the other rows of \
         this group",
        plan.cpu_rounds
    );
    Ok(vec![
        row(
            "GET /v1/kpis/catalog (no key, no D1) above /healthz: the product, and the same \
             worker without `[assets]`",
            format!(
                "{:+.2} / {:+.2} ms CPU",
                cpu::median(&mut catalog),
                cpu::median(&mut bare_catalog)
            ),
            format!(
                "the same {catalog_kb:.1} KB of JSON, written once an isolate, each above its \
                 own worker's /healthz ({how}): the first above the second is what wrangler \
                 dev's asset router adds to a response of that size, beyond the hop every \
                 request pays (the asset router's row below)"
            ),
        ),
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
            "wrangler dev's asset router: the product's /healthz above the same worker's \
             without `[assets]`",
            format!("{:+.2} ms CPU", cpu::median(&mut router)),
            format!(
                "the product's floor {product_floor:.2} ms, without its assets \
                 {bare_floor:.2} ms ({how}). With `[assets]`, wrangler dev reaches the worker \
                 through its asset router, a worker of its own in the same workerd processes; \
                 every request of the product pays it here, the peer's do not. On Cloudflare \
                 that hop is not the worker's CPU"
            ),
        ),
        row(
            "the wasm entry: the product's /healthz without `[assets]` above the peer's",
            format!("{:+.2} ms CPU", cpu::median(&mut entry)),
            format!(
                "the product without its assets {bare_floor:.2} ms, the peer \
                 {peer_floor:.2} ms ({how}): what every request of the Rust worker pays over a \
                 JavaScript one (workers-rs converting the request, env and context, the \
                 wasm-bindgen future, the route table and the response)"
            ),
        ),
    ])
}

//! Survey answers under load, side by side with the plain JavaScript peer (`xtask/peer/`):
//! both under `wrangler dev`, driven by the same wrk script with distinct pre-minted links
//! (the peer verifies the product's tokens); then the workerd CPU per answer above each one's
//! `/healthz` floor and the D1 rows each writes per answer. A third worker runs in the same
//! rounds, alternated product, peer, third, twice at each concurrency: the product from a
//! copy of its configuration without `[assets]` (`Local::start_bare`), which shows what
//! wrangler dev's asset router, in front of the product and not of the peer, costs.
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{cpu, load, row, Plan, Row};
use crate::local::{self, mib, Link, Local, TenantKeys};
use crate::server::{self, Worker};
use crate::sh::Result;
use crate::tools::Tools;

/// One wrk run's figures.
struct Run {
    per_s: f64,
    p50: f64,
    p99: f64,
    ok: bool,
}

fn write_tokens(path: &Path, links: &[Link]) -> Result<()> {
    let text: String = links.iter().map(|l| format!("{}\n", l.token)).collect();
    std::fs::write(path, text).map_err(|e| e.to_string())
}

/// One wrk run of the bench script: answers (`submit`, the links of a tokens file) or a GET.
fn run(wrk: &Path, script: &Path, url: &str, c: u32, secs: u32, args: &[&str]) -> Result<Run> {
    let r = load::run_wrk(wrk, script, url, c, secs, args)?;
    Ok(Run {
        per_s: r.requests as f64 / r.seconds,
        p50: r.p50_ms,
        p99: r.p99_ms,
        ok: r.ok() && r.wraps == 0,
    })
}

/// POSTs the first answer of each of `links`, one after the other; returns the CPU per
/// answer and the replies' bodies.
fn answer_each(pids: &[u32], url: &str, links: &[Link]) -> Result<(f64, Vec<Value>)> {
    let before = cpu::cpu_seconds(pids);
    let mut replies = Vec::with_capacity(links.len());
    for (i, l) in links.iter().enumerate() {
        let body = serde_json::json!({"token": l.token, "score": (i * 7) % 11});
        let resp = ureq::post(&format!("{url}/v1/responses"))
            .timeout(Duration::from_secs(30))
            .send_json(body)
            .map_err(|e| format!("POST {url}/v1/responses: {e}"))?;
        replies.push(resp.into_json::<Value>().unwrap_or(Value::Null));
    }
    Ok((
        (cpu::cpu_seconds(pids) - before) * 1000.0 / links.len().max(1) as f64,
        replies,
    ))
}

/// The `d1_rows_written` of the product's last answers' request log lines.
fn product_rows_written(log: &Path, last: usize) -> Vec<u64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out: Vec<u64> = text
        .lines()
        .filter(|l| l.contains("\"/v1/responses\"") && l.contains("d1_rows_written"))
        .filter_map(|l| {
            let v: Value = serde_json::from_str(&l[l.find('{')?..]).ok()?;
            v["d1_rows_written"].as_u64()
        })
        .collect();
    let n = out.len();
    out.drain(..n.saturating_sub(last));
    out
}

/// The workers of each round, in their order (0, 1, 2), as the rows name them.
const WORKERS: [&str; 3] = [
    "the product",
    "the JavaScript peer",
    "the product without its assets",
];

/// A note on each of the [`WORKERS`], joined with `; `.
fn each_worker(mut note: impl FnMut(usize, &str) -> String) -> String {
    WORKERS
        .iter()
        .enumerate()
        .map(|(who, name)| note(who, name))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The row of an answer's p50 at c=1 above its worker's `/healthz` p50 taken just before,
/// from the rounds of each worker (product, peer, product without its assets).
/// A round counts only when both its runs had no error.
fn p50_above_floor(runs: &[Vec<Run>; 3], floors: &[Vec<Run>; 3]) -> Row {
    let above = |who: usize| -> Vec<Option<f64>> {
        runs[who]
            .iter()
            .zip(&floors[who])
            .map(|(r, f)| (r.ok && f.ok).then_some(r.p50 - f.p50))
            .collect()
    };
    let counted = |who: usize| -> Vec<f64> { above(who).into_iter().flatten().collect() };
    let list = |v: &[Option<f64>]| {
        v.iter()
            .map(|x| x.map_or("ERRORS (does not count)".into(), |x| format!("{x:+.1}")))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let notes = each_worker(|who, name| {
        format!(
            "{name} {} ms above its /healthz p50 of {} ms",
            list(&above(who)),
            floors[who]
                .iter()
                .map(|f| format!("{:.1}", f.p50))
                .collect::<Vec<_>>()
                .join(" / ")
        )
    });
    row(
        "POST /v1/responses, c=1: p50 above the same worker's /healthz p50",
        format!("{:+.1} ms", cpu::median(&mut counted(0))),
        format!(
            "in each round of the c=1 rows above, a c=1 run of the worker's /healthz right \
             before its answers; the median of the rounds; {notes}"
        ),
    )
}

/// The rows and the notes of the answers section.
#[allow(clippy::too_many_arguments)]
pub fn measure(
    t: &Tools,
    plan: &Plan,
    wrk: &Path,
    script: &Path,
    local: &mut Local,
    product: Worker,
    tenant: &TenantKeys,
) -> Result<(Vec<Row>, Worker)> {
    let dir = script.parent().ok_or("no bench directory")?;
    let url = product.url.clone();
    let mut rows = Vec::new();

    // Rows written, from the log of the product (started logging its lines): three first
    // answers (the first of a month also marks the month changed, once per survey kind),
    // then the first link again with the same score and a comment (the one-click page's
    // second step), then the second with another score.
    let probe = local::mint(&url, &tenant.sk, 3)?;
    let post = |body: Value| -> Result<()> {
        ureq::post(&format!("{url}/v1/responses"))
            .send_json(body)
            .map(|_| ())
            .map_err(|e| format!("POST /v1/responses: {e}"))
    };
    for l in &probe {
        post(serde_json::json!({"token": l.token, "score": 8}))?;
    }
    post(serde_json::json!({"token": probe[0].token, "score": 8, "comment": "Nhanh, chu đáo"}))?;
    post(serde_json::json!({"token": probe[1].token, "score": 3}))?;
    std::thread::sleep(Duration::from_millis(500));
    let written = product_rows_written(&local.last_log(), 5);
    drop(product);

    // The product again without relaying its console lines (CPU), and the peer.
    let product = local.start_quiet(t)?;
    let peer_port = local::free_port()?;
    let _ = std::fs::remove_dir_all(dir.join("peer-state"));
    let peer = server::start_peer(
        t,
        peer_port,
        &dir.join("peer-state"),
        &[("LINK_SIGNING_SECRET", local.signing())],
        Some(&dir.join("peer.log")),
    )?;
    let peer_probe = local::mint(&url, &tenant.sk, 2)?;
    let mut peer_written = Vec::new();
    for (i, score) in [(0, 3), (0, 9), (1, 10)] {
        let body = serde_json::json!({"token": peer_probe[i].token, "score": score});
        let v: Value = ureq::post(&format!("{}/v1/responses", peer.url))
            .send_json(body)
            .map_err(|e| format!("peer: {e}"))?
            .into_json()
            .unwrap_or(Value::Null);
        peer_written.push(v["response"]["rows_written"].as_u64().unwrap_or(0));
    }
    // The product once more, without its `[assets]`: under `wrangler dev` the widget's files
    // put the asset router in front of every request, a hop Cloudflare does not bill to the
    // worker. Its own state, tenant and links.
    let bare = local.start_bare(t, dir)?;
    let bare_tenant = local::tenant(&bare.url, &local.admin, "bench-bare", &bare.url)?;
    let at = |i: usize| written.get(i).map_or("?".into(), |w: &u64| w.to_string());
    rows.push(row(
        "D1 rows written per answer: first answer / re-answer adding a comment / re-answer \
         with another score",
        format!("{} / {} / {}", at(2), at(3), at(4)),
        format!(
            "the product, from D1's result meta of the answer's statement: {written:?} (three \
             first answers, the first of them also marking its month and year changed; a comment; \
             another score); the JavaScript peer (no comments): {} / {}",
            peer_written.first().copied().unwrap_or(0),
            peer_written.get(1).copied().unwrap_or(0)
        ),
    ));

    // Throughput, alternated. Every link is minted first: minting runs in the
    // product's worker and would otherwise count in its memory growth.
    let levels = [1u32, 16, 64];
    let token_file =
        |c: u32, round: usize, who: usize| dir.join(format!("tokens-c{c}-{round}-{who}.txt"));
    // Who: 0 the product, 1 the peer (links minted by the product), 2 the bare product.
    let minter = |who: usize| {
        if who == 2 {
            (bare.url.as_str(), bare_tenant.sk.as_str())
        } else {
            (url.as_str(), tenant.sk.as_str())
        }
    };
    for c in levels {
        for round in 0..2 {
            for who in 0..3 {
                let (at, sk) = minter(who);
                let links = local::mint(at, sk, plan.links_per_level)?;
                write_tokens(&token_file(c, round, who), &links)?;
            }
        }
    }
    let mem_before = local::wasm_memory(&url)?;
    let mut mem_after = Vec::new();
    // The `/healthz` runs before the c=1 answers: a third of their time.
    let floor_secs = plan.load_seconds.div_ceil(3);
    for c in levels {
        let mut runs: [Vec<Run>; 3] = Default::default();
        // At c=1, each answer run follows a run of the same worker's `/healthz`: an answer's
        // latency above the floor of the same worker at the same moment.
        let mut floors: [Vec<Run>; 3] = Default::default();
        for round in 0..2 {
            for (who, w) in [(0usize, &product), (1, &peer), (2, &bare)] {
                if c == 1 {
                    let h = run(
                        wrk,
                        script,
                        &w.url,
                        1,
                        floor_secs,
                        &["get", "/healthz", "-"],
                    )?;
                    floors[who].push(h);
                }
                let file = token_file(c, round, who);
                let args = ["submit", &file.to_string_lossy(), &c.min(2).to_string()];
                runs[who].push(run(wrk, script, &w.url, c, plan.load_seconds, &args)?);
            }
        }
        let sum = |who: usize| runs[who].iter().map(|r| r.per_s).sum::<f64>();
        let fmt = |rs: &[Run]| {
            rs.iter()
                .map(|r| {
                    format!(
                        "{:.0}/s (p50 {:.1} ms, p99 {:.1} ms{})",
                        r.per_s,
                        r.p50,
                        r.p99,
                        if r.ok { "" } else { ", ERRORS: does not count" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push(row(
            format!("POST /v1/responses, distinct links, c={c}: product ÷ JavaScript peer"),
            format!("{:.2}", sum(0) / sum(1)),
            format!(
                "alternated product, peer, product without its assets, and again, {} s each{}: \
                 product {}; peer {}",
                plan.load_seconds,
                match c {
                    1 => format!(
                        ", each after {} s of its worker's /healthz (the p50 row below)",
                        floor_secs
                    ),
                    _ => String::new(),
                },
                fmt(&runs[0]),
                fmt(&runs[1])
            ),
        ));
        rows.push(row(
            format!(
                "POST /v1/responses, distinct links, c={c}: the product without its assets \
                 (no asset router) ÷ JavaScript peer"
            ),
            format!("{:.2}", sum(2) / sum(1)),
            format!(
                "the same worker and build from a copy of wrangler.toml without `[assets]`, in \
                 the rounds of the row above: {}",
                fmt(&runs[2])
            ),
        ));
        if c == 1 {
            rows.push(p50_above_floor(&runs, &floors));
        }
        mem_after.push(local::wasm_memory(&url)?);
    }
    rows.push(row(
        "worker wasm linear memory (GET /healthz)",
        mib(*mem_after.last().unwrap_or(&mem_before)),
        format!(
            "before the load {}; after c=1, 16, 64: {} (isolate limit 128 MiB)",
            mib(mem_before),
            mem_after
                .iter()
                .map(|b| mib(*b))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));

    // CPU per answer above each worker's floor, alternated.
    let n = plan.cpu_requests as usize;
    let (pp, qp, bp) = (
        cpu::workerd_pids(product.pid()),
        cpu::workerd_pids(peer.pid()),
        cpu::workerd_pids(bare.pid()),
    );
    let warm = local::mint(&url, &tenant.sk, 40)?;
    answer_each(&pp, &url, &warm[..20])?;
    answer_each(&qp, &peer.url, &warm[20..])?;
    answer_each(
        &bp,
        &bare.url,
        &local::mint(&bare.url, &bare_tenant.sk, 20)?,
    )?;
    let (mut above, mut floors): ([Vec<f64>; 3], [Vec<f64>; 3]) = Default::default();
    for _ in 0..plan.cpu_rounds {
        for (who, pids, w) in [(0usize, &pp, &product), (1, &qp, &peer), (2, &bp, &bare)] {
            let floor = cpu::per_request(pids, &format!("{}/healthz", w.url), None, n as u32)?;
            let (at, sk) = minter(who);
            let links = local::mint(at, sk, n)?;
            let (ms, _) = answer_each(pids, &w.url, &links)?;
            above[who].push(ms - floor);
            floors[who].push(floor);
        }
    }
    let notes = each_worker(|who, name| {
        format!(
            "{name}: +{:.2} ms over a floor of {:.2} ms",
            cpu::median(&mut above[who]),
            cpu::median(&mut floors[who])
        )
    });
    rows.push(row(
        "workerd CPU per first answer above the /healthz floor",
        format!("+{:.2} ms", cpu::median(&mut above[0].clone())),
        format!(
            "median of {} rounds × {n} sequential answers to distinct links; {notes}",
            plan.cpu_rounds
        ),
    ));
    drop(bare);
    drop(peer);
    Ok((rows, product))
}

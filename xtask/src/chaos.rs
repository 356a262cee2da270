//! `cargo xtask chaos [--smoke]`: no acknowledged answer lost, no link counted twice, rollups
//! equal to their rows — under load at concurrency 64, across SIGKILLs of workerd with
//! restarts on the same state, and when batches of tickets and events are replayed.
//! Results go to the chaos section of `docs/BENCHMARKS.md` (`--smoke`: `target/chaos-smoke/`).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::d1::{self, lit, Cells};
use crate::local::{self, Local, TenantKeys};
use crate::sections::{self, CHAOS_BEGIN, CHAOS_END};
use crate::server::Worker;
use crate::sh::{self, root, Result};
use crate::tools::{self, Tools};

struct Plan {
    smoke: bool,
    links: usize,
    concurrency: usize,
    kills: usize,
    batches: usize,
    per_batch: usize,
}

const FULL: Plan = Plan {
    smoke: false,
    links: 20_000,
    concurrency: 64,
    kills: 5,
    batches: 5,
    per_batch: 200,
};

const SMOKE: Plan = Plan {
    smoke: true,
    links: 300,
    concurrency: 16,
    kills: 1,
    batches: 2,
    per_batch: 20,
};

/// `cargo xtask chaos [--smoke]`.
pub fn main(args: &[String]) -> Result<()> {
    let plan = match args {
        [] => &FULL,
        [s] if s == "--smoke" => &SMOKE,
        _ => return Err("usage: cargo xtask chaos [--smoke]".into()),
    };
    let started = Instant::now();
    let t = tools::ensure(false)?;
    tools::apt_tool("sqlite3", "sqlite3")?;
    crate::build::all(&t)?;
    let r = root();
    let dir = r.join(if plan.smoke {
        "target/chaos-smoke"
    } else {
        "target/chaos"
    });
    let mut local = Local::fresh(&t, &dir)?;
    let worker = local.start(&t)?;
    let url = worker.url.clone();
    let tenant = local::tenant(&url, &local.admin, "chaos", &url)?;
    let mut report = String::new();
    let mut failures = Vec::new();

    // 1. Load with crashes.
    let links = local::mint(&url, &tenant.sk, plan.links)?;
    sh::step(&format!(
        "{} answers over distinct links at concurrency {}, SIGKILLing workerd {} times",
        plan.links, plan.concurrency, plan.kills
    ));
    let load = Load::new(links.into_iter().map(|l| (l.token, l.link_id)).collect());
    let (worker, kills, load_seconds) = run_load(&t, &mut local, worker, &load, plan)?;
    drop(worker);
    let db = local.db()?;
    let check = check_load(&db, &tenant, &load, plan.links)?;
    let _ = writeln!(
        report,
        "| answers sent over distinct links | {} at concurrency {} |\n\
         | workerd SIGKILLed and restarted (same state) | {} times, after {} |\n\
         | requests | {} ({} failed: {} connection errors or timeouts, {} 5xx, {} other) |\n\
         | acknowledged (2xx) | {} |\n\
         | present as rows | {} ({} distinct links; {} acknowledged missing; {} with another score) |\n\
         | failed, then found written (retry answered 200 \"updated\") | {} |\n\
         | rollups = recomputation from rows | {} ({} counters; {} rows' stored contrib ≠ kpi-core) |\n\
         | month and year snapshots, their lines and stock balances = sums of the day counters | {} |\n\
         | links issued counter | {} (minted {}) |\n\
         | load time | {:.0} s, {:.0} acknowledged answers/s including restarts |",
        plan.links,
        plan.concurrency,
        kills.len(),
        kills
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
            + " answers started",
        load.requests.load(Relaxed),
        load.transport.load(Relaxed) + load.server.load(Relaxed) + load.client.load(Relaxed),
        load.transport.load(Relaxed),
        load.server.load(Relaxed),
        load.client.load(Relaxed),
        check.acked,
        check.rows,
        check.distinct,
        check.missing,
        check.wrong_score,
        load.written_before_ack.load(Relaxed),
        if check.cells_diff.is_empty() { "equal" } else { "DIFFERENT" },
        check.cells,
        check.bad_contrib,
        if check.derived_diff.is_empty() { "equal" } else { "DIFFERENT" },
        check.links_issued,
        plan.links,
        load_seconds,
        check.acked as f64 / load_seconds,
    );
    for (n, restart) in &kills {
        eprintln!("    kill after {n} answers started; back in {restart:.1} s");
    }
    if check.acked != plan.links
        || check.missing > 0
        || check.rows != check.distinct
        || check.wrong_score > 0
        || !check.cells_diff.is_empty()
        || !check.derived_diff.is_empty()
        || check.bad_contrib > 0
        || check.links_issued != plan.links as i64
        || load.client.load(Relaxed) > 0
        || kills.len() != plan.kills
    {
        failures.push(format!(
            "load/crash check failed: {} acknowledged of {}, {} missing, rows {} vs distinct {}, \
             {} wrong scores, {} client errors, {} kills; rollup differences: {:?}; \
             snapshot or balance differences: {:?}",
            check.acked,
            plan.links,
            check.missing,
            check.rows,
            check.distinct,
            check.wrong_score,
            load.client.load(Relaxed),
            kills.len(),
            check.cells_diff,
            check.derived_diff
        ));
    }

    // 2. Replays of ticket and event batches.
    sh::step("replay: the same ticket and event batches sent again change nothing");
    let batches = replay_batches(plan);
    let worker = local.start(&t)?;
    for b in &batches {
        let (status, v) = post(&worker.url, &tenant.sk, b)?;
        if status != 200 {
            return Err(format!("{}: {status} {v}", b.0));
        }
    }
    drop(worker);
    let before = snapshot(&db, &tenant.id)?;
    let worker = local.start(&t)?;
    // Every batch twice more, all at once: replays racing each other too.
    let replies: Vec<Result<(u16, Value)>> = std::thread::scope(|s| {
        let hs: Vec<_> = batches
            .iter()
            .chain(batches.iter())
            .map(|b| s.spawn(|| post(&worker.url, &tenant.sk, b)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    drop(worker);
    let (mut bad_replies, mut busy) = (0, 0);
    for rep in &replies {
        let (ok, b) = replay_reply_ok(rep);
        bad_replies += u64::from(!ok);
        busy += b;
    }
    let after = snapshot(&db, &tenant.id)?;
    let rec = d1::recompute(&db, &tenant.id)?;
    let mut stored = d1::stored_cells(&db, &tenant.id)?;
    stored.retain(|k, _| k.1 != "links_issued");
    let replay_diff = d1::diff(&before.0, &after.0, 10);
    let rows_equal = before.1 == after.1;
    let mut recompute_diff = d1::diff(&rec.cells, &stored, 10);
    recompute_diff.extend(derived_diff(
        &db,
        &tenant.id,
        &d1::stored_cells(&db, &tenant.id)?,
    )?);
    let _ = writeln!(
        report,
        "| replay: {} ticket and {} event batches of {}, each sent again twice concurrently | {} replies not 200 or storing something new ({} tickets answered \"changed concurrently, send again\") |\n\
         | replay: rollup counters before vs after | {} ({} counters) |\n\
         | replay: ticket and event rows before vs after | {} ({} rows) |\n\
         | rollups (days, fresh months and years with their lines, balances) = recomputation from all rows at the end | {} |",
        plan.batches,
        plan.batches,
        plan.per_batch,
        bad_replies,
        busy,
        if replay_diff.is_empty() { "equal" } else { "DIFFERENT" },
        after.0.len(),
        if rows_equal { "equal" } else { "DIFFERENT" },
        after.1.len(),
        if recompute_diff.is_empty() { "equal" } else { "DIFFERENT" },
    );
    if bad_replies > 0 || !replay_diff.is_empty() || !rows_equal || !recompute_diff.is_empty() {
        failures.push(format!(
            "replay check failed: {bad_replies} bad replies; rollup diff {replay_diff:?}; rows equal {rows_equal}; recompute diff {recompute_diff:?}"
        ));
    }

    let section = format!(
        "{CHAOS_BEGIN}\n## Chaos: `cargo xtask chaos{}`\n\nRun on {} ({:.0} s), worker under workerd via \
         `wrangler dev --local` with `--var RATE_LIMIT:off`, on the same shared machine. The \
         client (Rust threads in xtask, one HTTP connection each) retries an answer that failed \
         (connection refused or reset, timeout, 5xx) until it is acknowledged, as a browser's \
         resubmit would. Kills come at random points of the load (uniform in 5–95 % of the links \
         started, plus up to 0.5 s): SIGKILL to the workerd process serving the port, then \
         wrangler is stopped and started again on the same `--persist-to` directory. All \
         checks read the D1 SQLite file with the worker stopped: rows, their scores, and every \
         `rollup_cells` counter against a recomputation of the rows by kpi-core.\n\n\
         | check | result |\n|---|---|\n{report}{CHAOS_END}",
        if plan.smoke { " --smoke" } else { "" },
        sh_date(),
        started.elapsed().as_secs_f64()
    );
    println!("\n{section}");
    let out = if plan.smoke {
        dir.join("BENCHMARKS.md")
    } else {
        r.join("docs/BENCHMARKS.md")
    };
    let old = std::fs::read_to_string(&out).unwrap_or_else(|_| "# Benchmarks\n".into());
    let text = match sections::chaos(&old) {
        Some(s) => old.replace(&s, &section),
        None => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::create_dir_all(out.parent().unwrap_or(&r)).map_err(|e| e.to_string())?;
    std::fs::write(&out, text).map_err(|e| format!("writing {}: {e}", out.display()))?;
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    eprintln!(
        "chaos passed in {:.0} s; written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn sh_date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Shared state of the load: the links and what happened to each.
struct Load {
    links: Vec<(String, String)>,
    /// Per link: 0 not acknowledged, 1 created (201), 2 updated (200).
    acked: Vec<AtomicU8>,
    next: AtomicUsize,
    requests: AtomicU64,
    transport: AtomicU64,
    server: AtomicU64,
    client: AtomicU64,
    written_before_ack: AtomicU64,
    abort: AtomicBool,
}

impl Load {
    fn new(links: Vec<(String, String)>) -> Load {
        Load {
            acked: links.iter().map(|_| AtomicU8::new(0)).collect(),
            links,
            next: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            transport: AtomicU64::new(0),
            server: AtomicU64::new(0),
            client: AtomicU64::new(0),
            written_before_ack: AtomicU64::new(0),
            abort: AtomicBool::new(false),
        }
    }
}

/// Link i's score: deterministic, so the rows can be checked.
fn score_of(i: usize) -> i64 {
    (i * 7 % 11) as i64
}

fn answer_all(url: &str, load: &Load) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build();
    loop {
        let i = load.next.fetch_add(1, Relaxed);
        let Some((token, _)) = load.links.get(i) else {
            return;
        };
        let body = json!({"token": token, "score": score_of(i)});
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut failed_before = false;
        while Instant::now() < deadline && !load.abort.load(Relaxed) {
            load.requests.fetch_add(1, Relaxed);
            let status = match agent
                .post(&format!("{url}/v1/responses"))
                .send_json(body.clone())
            {
                Ok(r) => r.status(),
                Err(ureq::Error::Status(s, _)) => s,
                Err(ureq::Error::Transport(_)) => 0,
            };
            match status {
                200..=299 => {
                    let state = if status == 201 { 1 } else { 2 };
                    if failed_before && status == 200 {
                        // The failed attempt had committed: the row was there, unacknowledged.
                        load.written_before_ack.fetch_add(1, Relaxed);
                    }
                    load.acked[i].store(state, Relaxed);
                    break;
                }
                0 => load.transport.fetch_add(1, Relaxed),
                500.. => load.server.fetch_add(1, Relaxed),
                _ => {
                    // A 4xx to a valid first answer is a bug, not chaos: no retry.
                    load.client.fetch_add(1, Relaxed);
                    break;
                }
            };
            failed_before = true;
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The pids of `root`'s descendants (from /proc).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent: Vec<(u32, u32)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`; comm may hold spaces, so split after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok());
            if let Some(ppid) = ppid {
                parent.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out.remove(0);
    out
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// SIGKILLs the workerd serving `port` under `worker`, then stops the rest of that wrangler
/// (and anything of it still alive) so the port is free for a restart.
fn crash(worker: Worker, port: u16) -> Result<()> {
    let tree = descendants(worker.pid());
    let entry = format!("entry=127.0.0.1:{port}");
    let runtime: Vec<u32> = tree
        .iter()
        .copied()
        .filter(|p| {
            let c = cmdline(*p);
            c.contains("workerd") && c.contains(&entry)
        })
        .collect();
    if runtime.is_empty() {
        return Err(format!("no workerd serving port {port} under wrangler"));
    }
    for p in &runtime {
        signal(*p, "KILL");
    }
    drop(worker);
    for p in tree {
        if std::path::Path::new(&format!("/proc/{p}")).exists() {
            signal(p, "KILL");
        }
    }
    Ok(())
}

fn random_u64() -> u64 {
    sh::random_hex(8)
        .ok()
        .and_then(|h| u64::from_str_radix(&h, 16).ok())
        .unwrap_or(0x1234_5678)
}

/// Per kill: answers started before it, seconds until the worker answered again.
type Kills = Vec<(usize, f64)>;

/// Runs the load; crashes and restarts the worker at random points. Returns the worker then
/// running, per kill the number of answers started before it and the seconds until the
/// worker answered again, and the load's duration.
fn run_load(
    t: &Tools,
    local: &mut Local,
    worker: Worker,
    load: &Load,
    plan: &Plan,
) -> Result<(Worker, Kills, f64)> {
    let mut points: Vec<usize> = (0..plan.kills)
        .map(|_| plan.links / 20 + (random_u64() as usize) % (plan.links * 9 / 10))
        .collect();
    points.sort();
    eprintln!("    kills planned when these many answers have started: {points:?}");
    let url = worker.url.clone();
    let started = Instant::now();
    let mut kills = Vec::new();
    let mut current = Some(worker);
    std::thread::scope(|s| -> Result<()> {
        let hs: Vec<_> = (0..plan.concurrency)
            .map(|_| s.spawn(|| answer_all(&url, load)))
            .collect();
        let mut next_kill = 0;
        let mut result = Ok(());
        while hs.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            if result.is_ok()
                && next_kill < points.len()
                && load.next.load(Relaxed) >= points[next_kill]
            {
                std::thread::sleep(Duration::from_millis(random_u64() % 500));
                let at = load.next.load(Relaxed).min(plan.links);
                let t0 = Instant::now();
                result = current
                    .take()
                    .ok_or_else(|| "no worker".to_string())
                    .and_then(|w| crash(w, local.port))
                    .and_then(|_| local.start(t))
                    .map(|w| current = Some(w));
                if result.is_err() {
                    // Without a worker the clients would retry for minutes: stop them.
                    load.abort.store(true, Relaxed);
                }
                kills.push((at, t0.elapsed().as_secs_f64()));
                next_kill += 1;
            }
        }
        for h in hs {
            h.join().map_err(|_| "a load thread panicked".to_string())?;
        }
        result
    })?;
    let worker = current.ok_or("no worker after the load")?;
    Ok((worker, kills, started.elapsed().as_secs_f64()))
}

/// What the D1 file says after the load.
struct LoadCheck {
    acked: usize,
    rows: usize,
    distinct: usize,
    missing: usize,
    wrong_score: usize,
    cells: usize,
    cells_diff: Vec<String>,
    /// Fresh month and year snapshots, their lines, and stock balances against the sums of
    /// the day counters.
    derived_diff: Vec<String>,
    bad_contrib: usize,
    links_issued: i64,
}

/// Where the month snapshots and the balances differ from what the day counters make.
fn derived_diff(db: &Path, tenant: &str, days: &d1::Cells) -> Result<Vec<String>> {
    let d = d1::derived(db, tenant, days)?;
    // A stale month or year is rebuilt by the next read that needs it: only fresh ones must
    // agree.
    let fresh = |table: &str, stale: &[(String, String)]| -> Result<d1::Cells> {
        let mut stored = d1::stored(db, tenant, table)?;
        stored.retain(|k, _| !stale.iter().any(|(f, m)| *f == k.1 && *m == k.0));
        Ok(stored)
    };
    let mut out = d1::diff(&d.months, &fresh("cells_month", &d.stale_months)?, 5);
    out.extend(d1::diff(&d.years, &fresh("cells_year", &d.stale_years)?, 5));
    // The lines reads take (migration 0015): the same cells, in the form reads send them.
    let fresh_lines = |table: &str, stale: &[(String, String)]| -> Result<d1::Cells> {
        let mut stored = d1::stored_lines(db, tenant, table)?;
        stored.retain(|k, _| !stale.iter().any(|(f, m)| *f == k.1 && *m == k.0));
        Ok(stored)
    };
    out.extend(d1::diff(
        &d1::report_form(&d.months),
        &fresh_lines("lines_month", &d.stale_months)?,
        5,
    ));
    out.extend(d1::diff(
        &d1::report_form(&d.years),
        &fresh_lines("lines_year", &d.stale_years)?,
        5,
    ));
    out.extend(d1::diff(
        &d.balances,
        &d1::stored(db, tenant, "balances")?,
        5,
    ));
    Ok(out)
}

fn check_load(db: &Path, tenant: &TenantKeys, load: &Load, links: usize) -> Result<LoadCheck> {
    let out = d1::sql(
        db,
        &format!(
            "SELECT link_id, score FROM responses WHERE tenant_id = {};",
            lit(&tenant.id)
        ),
    )?;
    let mut rows = 0;
    let mut present: BTreeMap<&str, i64> = BTreeMap::new();
    for line in out.lines() {
        rows += 1;
        if let Some((id, score)) = line.split_once('\x1f') {
            present.insert(id, score.parse().unwrap_or(-1));
        }
    }
    let (mut acked, mut missing, mut wrong_score) = (0, 0, 0);
    for (i, (_, link_id)) in load.links.iter().enumerate().take(links) {
        if load.acked[i].load(Relaxed) == 0 {
            continue;
        }
        acked += 1;
        match present.get(link_id.as_str()) {
            None => missing += 1,
            Some(s) if *s != score_of(i) => wrong_score += 1,
            Some(_) => {}
        }
    }
    let rec = d1::recompute(db, &tenant.id)?;
    let mut stored = d1::stored_cells(db, &tenant.id)?;
    let derived_diff = derived_diff(db, &tenant.id, &stored)?;
    let links_issued = stored
        .iter()
        .filter(|(k, _)| k.1 == "links_issued" && k.2.is_empty())
        .map(|(_, v)| v.0)
        .sum();
    stored.retain(|k, _| k.1 != "links_issued");
    Ok(LoadCheck {
        acked,
        rows,
        distinct: present.len(),
        missing,
        wrong_score,
        cells: stored.len(),
        cells_diff: d1::diff(&rec.cells, &stored, 10),
        derived_diff,
        bad_contrib: rec.bad_contrib,
        links_issued,
    })
}

/// Batches of tickets and CRM events (`(path, body)`), the same on every run.
fn replay_batches(plan: &Plan) -> Vec<(String, Value)> {
    // 2026-11-02 09:00 +07:00.
    let base: i64 = 1793584800000;
    let mut out = Vec::new();
    for b in 0..plan.batches {
        let tickets: Vec<Value> = (0..plan.per_batch)
            .map(|j| {
                let opened = base + ((b * plan.per_batch + j) as i64) * 600_000;
                let channel = ["chat", "email", "phone"][j % 3];
                let mut t = json!({
                    "id": format!("T-{b}-{j}"),
                    "channel": channel,
                    "opened_at": opened,
                    "first_response_at": opened + (j as i64 % 30 + 1) * 60_000,
                    "contacts": 1 + (j % 4 == 0) as i64,
                    "agent": format!("agent-{}", j % 4),
                    "tags": if j % 5 == 0 { json!(["complaint"]) } else { json!([]) },
                    "transferred": j % 7 == 0,
                    "abandoned": false,
                });
                if j % 3 != 0 {
                    t["resolved_at"] = json!(opened + (j as i64 % 9 + 1) * 3_600_000);
                }
                t
            })
            .collect();
        out.push(("/v1/tickets".to_string(), json!({ "tickets": tickets })));
        let events: Vec<Value> = (0..plan.per_batch)
            .map(|j| {
                let at = base + ((b * plan.per_batch + j) as i64) * 300_000;
                let id = format!("E-{b}-{j}");
                let source = ["zalo", "facebook"][j % 2];
                match j % 4 {
                    0 => json!({"id": id, "type": "lead.created", "at": at,
                                "source": source, "campaign": "tet"}),
                    1 => json!({"id": id, "type": "order.placed", "at": at,
                                "customer": format!("c-{}", j % 50), "amount": 150_000 + j as i64 * 1000,
                                "currency": "VND"}),
                    2 => json!({"id": id, "type": "spend", "at": at, "channel": "web",
                                "campaign": "tet", "amount": 90_000, "currency": "VND"}),
                    _ => json!({"id": id, "type": "email.delivered", "at": at, "count": 40}),
                }
            })
            .collect();
        out.push(("/v1/events".to_string(), Value::Array(events)));
    }
    out
}

/// Sends one batch; a 2xx reply whose body says whether anything new was stored.
fn post(url: &str, sk: &str, batch: &(String, Value)) -> Result<(u16, Value)> {
    crate::server::send("POST", &format!("{url}{}", batch.0), sk, &batch.1)
}

/// Whether a reply to a replayed batch stored nothing new: no ticket created, no event
/// stored, nothing rejected except "changed concurrently" (the client resends those).
fn replay_reply_ok(reply: &Result<(u16, Value)>) -> (bool, u64) {
    let Ok((200, v)) = reply else {
        return (false, 0);
    };
    let rejected = v["rejected"].as_array().cloned().unwrap_or_default();
    let busy = rejected
        .iter()
        .filter(|r| {
            r["error"]
                .as_str()
                .is_some_and(|e| e.contains("concurrently"))
        })
        .count() as u64;
    let nothing_new = v["created"].as_u64().unwrap_or(0) == 0
        && (v.get("duplicates").is_none() || v["stored"].as_u64() == Some(0));
    (nothing_new && busy == rejected.len() as u64, busy)
}

/// Rollup counters and the ticket and event rows (minus per-write revision and batch token).
fn snapshot(db: &Path, tenant: &str) -> Result<(Cells, Vec<String>)> {
    let t = lit(tenant);
    let rows = d1::sql(
        db,
        &format!(
            "SELECT 'T', id, channel, opened_at, first_response_at, resolved_at, contacts, agent, \
             tags, transferred, abandoned, day, contrib FROM tickets WHERE tenant_id = {t} ORDER BY id; \
             SELECT 'E', id, type, at, day, body, contrib FROM events WHERE tenant_id = {t} ORDER BY id;"
        ),
    )?;
    Ok((
        d1::stored_cells(db, tenant)?,
        rows.lines().map(String::from).collect(),
    ))
}

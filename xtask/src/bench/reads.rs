//! KPI reads on a tenant with a dense history, seeded through the public API (the same code
//! paths as any integration): per request kind, the workerd CPU above the `/healthz` floor
//! measured in the same run, and the rows D1 reports as read (from the request's log line).
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use super::cpu;
use super::Rng;
use crate::local::TenantKeys;
use crate::server::{self, Worker};
use crate::sh::{self, Result};

/// What was seeded.
pub struct Seeded {
    /// Years of history.
    pub years: u32,
    /// Survey answers, tickets and CRM events stored.
    pub answers: usize,
    pub tickets: usize,
    pub events: usize,
}

const DAY_MS: i64 = 86_400_000;
const CHANNELS: [&str; 6] = ["email", "zalo", "sms", "chat", "web", "phone"];
const AGENTS: [&str; 12] = [
    "lan", "minh", "hoa", "tuan", "mai", "khoa", "thu", "nam", "linh", "duc", "ngoc", "vy",
];

fn post(url: &str, sk: &str, path: &str, body: &Value) -> Result<Value> {
    let (status, v) = server::send("POST", &format!("{url}{path}"), sk, body)?;
    if !(200..300).contains(&status) {
        return Err(format!("POST {path}: {status} {v}"));
    }
    Ok(v)
}

/// Seeds `years` dense years ending now: per year 12 000 survey answers (NPS, CSAT on 5 and
/// 10 points, CES; six channels), 3 000 tickets (three channels, twelve agents, 3 % still
/// open) and 6 000 CRM events (leads, deal stages, wins and losses, customers won and lost,
/// orders of 800 returning customers, subscriptions, spend). Deterministic.
pub fn seed(url: &str, sk: &str, years: u32, now_ms: i64) -> Result<Seeded> {
    let span_ms = years as i64 * 365 * DAY_MS;
    let start = now_ms - span_ms;
    let mut rng = Rng(0x5eed_0000_0000_0001 ^ years as u64);
    let at = |rng: &mut Rng| start + (rng.below(span_ms as u64 - 3_600_000)) as i64;

    sh::step(&format!(
        "seeding {years} dense year(s) through the public API"
    ));
    let n_answers = 12_000 * years as usize;
    let mut batch = Vec::new();
    for i in 0..n_answers {
        let (survey, scale, score) = match rng.below(10) {
            0..=4 => (
                "nps",
                10,
                [3, 5, 6, 7, 8, 8, 9, 9, 10, 10][rng.below(10) as usize],
            ),
            5 | 6 => ("csat", 5, [2, 3, 4, 4, 5][rng.below(5) as usize]),
            7 => ("csat", 10, 3 + rng.below(8) as i64),
            _ => ("ces", 7, 2 + rng.below(6) as i64),
        };
        let mut a = json!({"id": format!("A-{i}"), "survey": survey, "scale": scale,
            "score": score, "at": at(&mut rng),
            "channel": CHANNELS[rng.below(6) as usize]});
        if rng.below(10) == 0 {
            a["comment"] = json!("Nhân viên nhiệt tình, sẽ quay lại");
        }
        batch.push(a);
        if batch.len() == 300 || i + 1 == n_answers {
            post(
                url,
                sk,
                "/v1/responses/import",
                &json!({"responses": batch}),
            )?;
            batch.clear();
        }
    }

    let n_tickets = 3_000 * years as usize;
    for chunk in 0..n_tickets.div_ceil(1000) {
        let tickets: Vec<Value> = (chunk * 1000..((chunk + 1) * 1000).min(n_tickets))
            .map(|i| {
                let opened = at(&mut rng);
                let first = opened + 60_000 + rng.below(8 * 3_600_000) as i64;
                let mut t = json!({"id": format!("T-{i}"),
                    "channel": (["chat", "email", "phone"][rng.below(3) as usize]),
                    "opened_at": opened, "first_response_at": first,
                    "agent": AGENTS[rng.below(12) as usize],
                    "contacts": 1 + rng.below(3) as i64});
                if rng.below(100) >= 3 {
                    t["resolved_at"] = json!(first + 600_000 + rng.below(3 * DAY_MS as u64) as i64);
                }
                if rng.below(20) == 0 {
                    t["tags"] = json!(["complaint"]);
                }
                t
            })
            .collect();
        post(url, sk, "/v1/tickets", &json!({"tickets": tickets}))?;
    }

    let n_events = 6_000 * years as usize;
    let mut instants: Vec<i64> = (0..n_events).map(|_| at(&mut rng)).collect();
    instants.sort_unstable();
    // Each customer's two latest orders, so that an order names its previous ones.
    let mut orders: Vec<(Option<i64>, Option<i64>)> = vec![(None, None); 800];
    let mut mrr: Vec<i64> = vec![0; 800];
    let mut events = Vec::new();
    for (i, t) in instants.into_iter().enumerate() {
        let c = rng.below(800) as usize;
        let amount = 200_000 + rng.below(48) as i64 * 100_000;
        let mut e = match rng.below(100) {
            0..=34 => json!({"type": "lead.created",
                "source": (["facebook", "google", "referral", "zalo"][rng.below(4) as usize]),
                "channel": CHANNELS[rng.below(6) as usize],
                "first_contact_at": t + 300_000 + rng.below(2 * DAY_MS as u64) as i64}),
            35..=44 => json!({"type": "deal.stage", "deal": format!("D-{}", rng.below(3000)),
                "stage": (["interested", "consult", "demo", "negotiate"][rng.below(4) as usize]),
                "amount": amount}),
            45..=50 => json!({"type": "deal.won", "amount": amount,
                "first_touch_at": t - 86_400_000 * (1 + rng.below(60) as i64)}),
            51..=54 => json!({"type": "deal.lost", "amount": amount}),
            55..=60 => json!({"type": "customer.won"}),
            61..=62 => json!({"type": "customer.lost"}),
            63..=92 => {
                let (p1, p2) = orders[c];
                orders[c] = (Some(t), p1);
                let mut o = json!({"type": "order.placed", "customer": format!("C-{c}"),
                    "amount": amount, "channel": CHANNELS[rng.below(6) as usize]});
                if let Some(p) = p1 {
                    o["previous_order_at"] = json!(p);
                }
                if let Some(p) = p2 {
                    o["second_previous_order_at"] = json!(p);
                }
                o
            }
            93..=96 => {
                let before = mrr[c];
                mrr[c] = if before > 0 && rng.below(4) == 0 {
                    0
                } else {
                    500_000 + rng.below(20) as i64 * 100_000
                };
                json!({"type": "subscription.changed", "customer": format!("C-{c}"),
                    "mrr": mrr[c], "previous_mrr": before})
            }
            _ => json!({"type": "spend", "amount": amount * 3,
                "campaign": (["tet", "summer", "back-to-school"][rng.below(3) as usize])}),
        };
        e["id"] = json!(format!("E-{i}"));
        e["at"] = json!(t);
        events.push(e);
        if events.len() == 1000 {
            post(
                url,
                sk,
                "/v1/events",
                &Value::Array(std::mem::take(&mut events)),
            )?;
        }
    }
    if !events.is_empty() {
        post(url, sk, "/v1/events", &Value::Array(events))?;
    }
    Ok(Seeded {
        years,
        answers: n_answers,
        tickets: n_tickets,
        events: n_events,
    })
}

/// Requests to measure, as `(name, path)`.
type Kinds = Vec<(String, String)>;

/// The requests measured, as `(name, path)`.
pub fn kinds(all: &str) -> Vec<(String, String)> {
    let k = "/v1/kpis?period=month&compare=previous&metrics=";
    vec![
        (
            "3 KPIs (nps,csat,ces), month, compare".into(),
            format!("{k}nps,csat,ces"),
        ),
        (
            "the widget's preset=service (6 KPIs), month, compare".into(),
            format!("{k}csat,nps,first_response_time,fcr,backlog,service_level"),
        ),
        (
            format!("all {} KPIs, month, compare", all.split(',').count()),
            format!("{k}{all}"),
        ),
        (
            format!("all {} KPIs, year, compare", all.split(',').count()),
            format!("/v1/kpis?period=year&compare=previous&metrics={all}"),
        ),
    ]
}

/// The `d1_rows_read` of the last `GET /v1/kpis` line of the worker's log.
fn last_rows_read(log: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .filter(|l| l.contains("\"route\":\"/v1/kpis\""))
        .find_map(|l| {
            let start = l.find('{')?;
            let v: Value = serde_json::from_str(&l[start..]).ok()?;
            v["d1_rows_read"].as_u64()
        })
}

/// Per tenant: its key, what its history is, the requests, the D1 rows each read
/// ([`rows_read`]), and the tag of its `KPI_PERF_OUT` files.
type Measured = (String, String, Kinds, Vec<(u64, u64)>, String);

/// Sends each kind three times (the first read rebuilds the month snapshots the seeding
/// marked stale) and returns the rows D1 reported as read by the second (which reads the
/// rebuilt snapshots' lines) and by the third (the isolate keeps closed months' lines,
/// `db/lines_cache.rs`), from the worker's log (a worker started with its console lines in
/// the log).
pub fn rows_read(
    w: &Worker,
    log: &Path,
    sk: &str,
    kinds: &[(String, String)],
) -> Result<Vec<(u64, u64)>> {
    let pids = cpu::workerd_pids(w.pid());
    let mut out = Vec::new();
    for (_, path) in kinds {
        cpu::per_request(&pids, &format!("{}{path}", w.url), Some(sk), 1)?;
        // The stale months are rebuilt after the reply (waitUntil): let that finish.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let mut again = [0; 2];
        for rows in &mut again {
            cpu::per_request(&pids, &format!("{}{path}", w.url), Some(sk), 1)?;
            std::thread::sleep(std::time::Duration::from_millis(300));
            *rows = last_rows_read(log).unwrap_or(0);
        }
        out.push((again[0], again[1]));
    }
    Ok(out)
}

/// Per request (a key and a path): the median over `rounds` rounds of (CPU per request −
/// the round's `/healthz` floor), `n` sequential requests each, alternated over every tenant's
/// requests within a round, so that tenants of different ages are compared side by side; and
/// the median floor. Taken on a worker without its console lines in the log.
pub fn cpu(w: &Worker, reqs: &[(&str, &str)], (rounds, n): (u32, u32)) -> Result<(Vec<f64>, f64)> {
    let pids = cpu::workerd_pids(w.pid());
    if pids.is_empty() {
        return Err("no workerd process found below wrangler".into());
    }
    // Warm the isolate first: V8 compiles the hot wasm functions again, optimised, on
    // background threads of the same process, which would otherwise count in the first rounds.
    cpu::per_request(&pids, &format!("{}/healthz", w.url), None, 20)?;
    for (sk, path) in reqs {
        cpu::per_request(&pids, &format!("{}{path}", w.url), Some(sk), 20)?;
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut floors = Vec::new();
    let mut above: Vec<Vec<f64>> = vec![Vec::new(); reqs.len()];
    for _ in 0..rounds {
        let floor = cpu::per_request(&pids, &format!("{}/healthz", w.url), None, n)?;
        floors.push(floor);
        for (i, (sk, path)) in reqs.iter().enumerate() {
            let ms = cpu::per_request(&pids, &format!("{}{path}", w.url), Some(sk), n)?;
            above[i].push(ms - floor);
        }
    }
    let floor = cpu::median(&mut floors);
    Ok((above.iter_mut().map(|a| cpu::median(a)).collect(), floor))
}

/// `KPI_PERF_OUT=<dir>`: a `perf record` of the workerd processes over 200 more requests of
/// `/healthz` and of each kind, `<dir>/<tag>-<i>.perf.data` (`0` the floor, then the kinds in
/// order): where the CPU goes outside the isolate too, since local D1 (its object, its SQLite)
/// runs in these processes.
fn perf(w: &Worker, sk: &str, kinds: &[(String, String)], tag: &str, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let pids = cpu::workerd_pids(w.pid());
    let pid_list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let floor = ("/healthz".to_string(), "/healthz".to_string());
    for (i, (_, path)) in std::iter::once(&floor).chain(kinds).enumerate() {
        let out = dir.join(format!("{tag}-{i}.perf.data"));
        let _ = std::fs::remove_file(&out);
        let mut perf = std::process::Command::new("perf")
            .args([
                "record",
                "-q",
                "-F",
                "4999",
                "-p",
                &pid_list.join(","),
                "-o",
            ])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting perf: {e}"))?;
        // perf attaches before the first request.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let key = (i > 0).then_some(sk);
        cpu::per_request(&pids, &format!("{}{path}", w.url), key, 200)?;
        // SIGINT: perf writes its file and exits.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
        eprintln!("    perf of {path}: {}", out.display());
    }
    Ok(())
}

/// Creates a tenant for a seeded history.
pub fn tenant(url: &str, admin: &str, id: &str) -> Result<TenantKeys> {
    crate::local::tenant(url, admin, id, url)
}

/// `bench reads`: KPI reads' CPU and D1 rows, for the fixed costs (the catalog, with no key
/// and no D1; a tenant with no data, `kpi_sk`) and for tenants with dense histories. Rows
/// read come from a worker logging its request lines; CPU from one that does not (wrangler
/// relaying each line costs workerd CPU), which is returned.
pub fn measure(
    t: &crate::tools::Tools,
    plan: &super::Plan,
    local: &mut crate::local::Local,
    worker: Worker,
    kpi_sk: &str,
    rows: &mut Vec<super::Row>,
) -> Result<Worker> {
    // Rows read come from the request lines: a worker that logs every request (the answers
    // section may have left a quiet one running). It runs on the dearest day's clock, and so
    // do the workers after it.
    drop(worker);
    let clock = crate::clock::Clock::dearest(&local.persist.with_file_name("clock"))?;
    local.env = clock.env(&[]);
    let worker = local.start(t)?;
    let url = worker.url.clone();
    let fixed = vec![
        (
            "GET /v1/kpis/catalog (no key, no D1)".to_string(),
            "/v1/kpis/catalog".to_string(),
        ),
        (
            "GET /v1/kpis, 3 KPIs, month, compare, a tenant with no data".to_string(),
            "/v1/kpis?period=month&compare=previous&metrics=nps,csat,ces".to_string(),
        ),
    ];
    let all: Vec<&str> = kpi_core::kpi::catalog().map(|d| d.id).collect();
    // Per tenant: its key, what its history is, the requests, the D1 rows each read, a tag.
    let mut measured: Vec<Measured> = Vec::new();
    let read = rows_read(&worker, &local.last_log(), kpi_sk, &fixed)?;
    measured.push((
        kpi_sk.to_string(),
        String::new(),
        fixed,
        read,
        "fixed".into(),
    ));
    for &years in plan.dense_years {
        let keys = tenant(&url, &local.admin, &format!("dense-{years}y"))?;
        let t0 = Instant::now();
        let s = seed(&url, &keys.sk, years, clock.now_ms())?;
        eprintln!(
            "    seeded {} answers, {} tickets, {} events in {:.0} s",
            s.answers,
            s.tickets,
            s.events,
            t0.elapsed().as_secs_f64()
        );
        let kinds = kinds(&all.join(","));
        let read = rows_read(&worker, &local.last_log(), &keys.sk, &kinds)?;
        let what = format!(
            "{} year(s) of history: {} answers, {} tickets, {} events, ending at noon of {} \
             in Asia/Ho_Chi_Minh, the day the worker's clock shows (a month's last day: \
             the dearest read)",
            s.years, s.answers, s.tickets, s.events, clock.day
        );
        measured.push((keys.sk.clone(), what, kinds, read, format!("{years}y")));
    }
    // Links are minted for a tenant of their own: minting counts the links issued on the
    // day, and the reads above keep their tenants as seeded.
    let minter = tenant(&url, &local.admin, "bench-mint")?;
    drop(worker);
    let worker = local.start_quiet(t)?;
    let reqs: Vec<(&str, &str)> = measured
        .iter()
        .flat_map(|(sk, _, kinds, _, _)| kinds.iter().map(move |(_, p)| (sk.as_str(), p.as_str())))
        .collect();
    let (above, floor) = cpu(&worker, &reqs, (plan.cpu_rounds, plan.cpu_requests))?;
    if let Ok(dir) = std::env::var("KPI_PERF_OUT") {
        for (sk, _, kinds, _, tag) in &measured {
            perf(&worker, sk, kinds, tag, Path::new(&dir))?;
        }
    }
    // The figures come in the order of `reqs`: each tenant's kinds in turn.
    let mut above = above.into_iter();
    for (_, what, kinds, rows_read, _) in measured {
        for (((name, _), ms), (read, kept)) in kinds.iter().zip(above.by_ref()).zip(rows_read) {
            let label = if what.is_empty() {
                name.clone()
            } else {
                format!(
                    "GET /v1/kpis, {name} ({})",
                    what.split(':').next().unwrap_or("")
                )
            };
            rows.push(super::row(
                label,
                format!("+{ms:.2} ms CPU"),
                format!(
                    "workerd CPU per request above the /healthz floor of {floor:.2} ms \
                     (median of {} rounds × {} requests, each round alternating every \
                     tenant's reads); {read} D1 rows read, {kept} once this isolate keeps \
                     the closed months' lines{}",
                    plan.cpu_rounds,
                    plan.cpu_requests,
                    if what.is_empty() {
                        String::new()
                    } else {
                        format!("; {what}")
                    }
                ),
            ));
        }
    }
    rows.push(mint_cpu(&worker, &minter.sk, plan)?);
    Ok(worker)
}

/// `POST /v1/survey-links` of the most links one request mints (1000 NPS links, each with
/// its eleven score URLs): workerd CPU per request above the `/healthz` floor, alternated
/// round by round, for a tenant of their own.
fn mint_cpu(w: &Worker, sk: &str, plan: &super::Plan) -> Result<super::Row> {
    let pids = cpu::workerd_pids(w.pid());
    let url = format!("{}/v1/survey-links", w.url);
    let body = json!({"survey": "nps", "channel": "email", "count": 1000}).to_string();
    let n = (plan.cpu_requests / 10).max(2);
    cpu::per_post(&pids, &url, sk, &body, 2)?;
    let (mut above, mut floors, mut bytes) = (Vec::new(), Vec::new(), 0);
    for _ in 0..plan.cpu_rounds {
        let floor = cpu::per_request(&pids, &format!("{}/healthz", w.url), None, n)?;
        let (ms, b) = cpu::per_post(&pids, &url, sk, &body, n)?;
        above.push(ms - floor);
        floors.push(floor);
        bytes = b;
    }
    Ok(super::row(
        "POST /v1/survey-links, 1000 NPS links",
        format!("+{:.1} ms CPU", cpu::median(&mut above)),
        format!(
            "workerd CPU per request above the /healthz floor of {:.2} ms (median of {} rounds \
             × {n} requests, each round after its floor); a reply of {:.0} KB: each link with \
             its eleven score URLs and its QR code's URL",
            cpu::median(&mut floors),
            plan.cpu_rounds,
            bytes as f64 / 1024.0
        ),
    ))
}

//! The demo tenant: Hoa Sen Spa with a year of history, created and kept current through the
//! public HTTP API only (so the worker's rollups equal its raw rows, as for any tenant), and
//! registered for the demo CRM page with the day rollups its offline widget inlines.
//! The business itself is [`business`]; this module sends it.
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::server;
use crate::sh::{self, Result};

mod business;
mod words;

pub use business::{stamp, Story};

/// The demo tenant's id.
pub const TENANT: &str = "hoa-sen-spa";

/// Answers per `POST /v1/responses/import`, tickets and events per request: the API's limits.
const ANSWERS_PER_CALL: usize = 300;
const PER_CALL: usize = 1000;

/// A demo tenant: its keys and its story, and how far its data reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Demo {
    /// Tenant id.
    pub tenant: String,
    /// `sk_…`.
    pub sk: String,
    /// `pk_…`.
    pub pk: String,
    /// First day and incident month.
    pub story: Story,
    /// Facts up to this instant (ms) are stored; `None` before the first seed finished.
    pub seeded_to: Option<i64>,
}

/// What one seed sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    /// Survey answers.
    pub answers: usize,
    /// Tickets (first round: each ticket once).
    pub tickets: usize,
    /// Ticket calls of the later rounds (reopened, resolved again).
    pub reopen_calls: usize,
    /// CRM events.
    pub events: usize,
}

impl Demo {
    fn to_json(&self) -> Value {
        json!({"tenant": self.tenant, "secret_key": self.sk, "publishable_key": self.pk,
               "first_day": self.story.first_day, "incident": [self.story.incident.0, self.story.incident.1],
               "seeded_to": self.seeded_to})
    }

    fn from_json(v: &Value) -> Option<Demo> {
        let s = |k: &str| v[k].as_str().map(String::from);
        Some(Demo {
            tenant: s("tenant")?,
            sk: s("secret_key")?,
            pk: s("publishable_key")?,
            story: Story {
                first_day: v["first_day"].as_i64()?,
                incident: (
                    v["incident"][0].as_i64()? as i32,
                    v["incident"][1].as_i64()? as u8,
                ),
            },
            seeded_to: v["seeded_to"].as_i64(),
        })
    }

    /// Reads the demo kept in `file`, if any (an older file without a story is ignored).
    pub fn load(file: &Path) -> Option<Demo> {
        let text = std::fs::read_to_string(file).ok()?;
        Demo::from_json(&serde_json::from_str(&text).ok()?)
    }

    /// Writes it to `file`.
    pub fn save(&self, file: &Path) -> Result<()> {
        std::fs::write(file, self.to_json().to_string())
            .map_err(|e| format!("writing {}: {e}", file.display()))
    }

    /// Whether the worker still knows this tenant's secret key (a wiped D1 forgets it).
    pub fn alive(&self, url: &str) -> Result<bool> {
        let (status, _) = get(url, "/v1/settings", &self.sk)?;
        Ok(status == 200)
    }
}

/// Now, in Unix ms.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The tenant-local day (days since 1970-01-01) of `ms`.
pub fn day_of(ms: i64) -> i64 {
    business::day_of(ms)
}

/// Creates the demo tenant `id` (its pages on `origins` may embed the widget) with its
/// settings, targets and opening balances; its year ends on the day of `now`.
pub fn create(url: &str, admin: &str, id: &str, origins: &[String], now: i64) -> Result<Demo> {
    let body = call(
        url,
        "POST",
        "/admin/tenants",
        admin,
        &json!({"id": id, "name": "Hoa Sen Spa", "timezone": "Asia/Ho_Chi_Minh", "locale": "vi",
                "allowed_origins": origins}),
    )?;
    let key = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let demo = Demo {
        tenant: id.to_string(),
        sk: key("secret_key"),
        pk: key("publishable_key"),
        story: Story::ending(day_of(now)),
        seeded_to: None,
    };
    configure(url, &demo)?;
    Ok(demo)
}

/// Business hours (before any ticket: tickets measure business time from then on), targets
/// for the main KPIs, and the opening balances of the window's first day.
fn configure(url: &str, demo: &Demo) -> Result<()> {
    let open = format!(
        "{:02}:{:02}",
        business::OPEN_MIN / 60,
        business::OPEN_MIN % 60
    );
    let close = format!(
        "{:02}:{:02}",
        business::CLOSE_MIN / 60,
        business::CLOSE_MIN % 60
    );
    let hours: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!([[open, close]])))
        .collect();
    call(
        url,
        "PATCH",
        "/v1/settings",
        &demo.sk,
        &json!({"business_hours": hours}),
    )?;
    call(url, "PUT", "/v1/targets", &demo.sk, &targets())?;
    let opening = business::opening(&demo.story);
    call(url, "PUT", "/v1/opening-balances", &demo.sk, &opening)?;
    Ok(())
}

/// The targets a spa chain would set: statuses on every board say something.
pub fn targets() -> Value {
    json!({"targets": {
        "nps": {"min": 30, "goal": 50},
        "csat": {"min": 80, "goal": 90},
        "ces": {"min": 5, "goal": 5.5},
        "first_response_time": {"min": 900, "goal": 300},
        "fcr": {"min": 70, "goal": 80},
        "service_level": {"min": 75, "goal": 85},
        "backlog": {"min": 40, "goal": 15},
        "conversion_rate": {"min": 15, "goal": 25},
        "average_order_value": {"min": 550000, "goal": 650000},
        "cost_per_lead": {"min": 300000, "goal": 200000},
        "cost_per_acquisition": {"min": 1500000, "goal": 1000000},
        "roi": {"min": 100, "goal": 200},
        "ctr": {"min": 1.5, "goal": 2.5},
        "email_open_rate": {"min": 25, "goal": 35},
        "churn_rate": {"min": 3, "goal": 2},
        "retention_rate": {"min": 96, "goal": 98},
        "mrr": {"min": 300000000, "goal": 350000000},
        "renewal_rate": {"min": 80, "goal": 90}
    }})
}

/// Sends every fact of the demo business in `(demo.seeded_to, until]` (everything up to
/// `until` on the first seed) and records how far it reached. A failed seed can be run again:
/// answers and tickets are upserted by id, events deduplicated by id.
pub fn sync(url: &str, demo: &mut Demo, until: i64, file: Option<&Path>) -> Result<Sent> {
    let after = demo.seeded_to.unwrap_or(i64::MIN);
    if until <= after {
        return Ok(Sent::default());
    }
    let f = business::facts(&demo.story, after, until);
    let sk = demo.sk.clone();
    let mut sent = Sent::default();
    for chunk in f.answers.chunks(ANSWERS_PER_CALL) {
        call(
            url,
            "POST",
            "/v1/responses/import",
            &sk,
            &json!({"responses": chunk}),
        )?;
        sent.answers += chunk.len();
    }
    for (round, tickets) in f.tickets.iter().enumerate() {
        for chunk in tickets.chunks(PER_CALL) {
            let reply = call(url, "POST", "/v1/tickets", &sk, &json!({"tickets": chunk}))?;
            refuse_rejections("tickets", &reply)?;
            if round == 0 {
                sent.tickets += chunk.len();
            } else {
                sent.reopen_calls += chunk.len();
            }
        }
    }
    for chunk in f.events.chunks(PER_CALL) {
        let reply = call(url, "POST", "/v1/events", &sk, &json!(chunk))?;
        refuse_rejections("events", &reply)?;
        sent.events += chunk.len();
    }
    demo.seeded_to = Some(until);
    if let Some(file) = file {
        demo.save(file)?;
    }
    Ok(sent)
}

/// A new demo tenant with its whole year, for a fresh worker (tests, screenshots).
pub fn fresh(url: &str, admin: &str, origins: &[String]) -> Result<(Demo, Sent)> {
    let started = Instant::now();
    sh::step("creating the demo tenant Hoa Sen Spa with a year of history");
    let now = now_ms();
    let mut demo = create(url, admin, TENANT, origins, now)?;
    let sent = sync(url, &mut demo, now, None)?;
    report(&sent, started);
    Ok((demo, sent))
}

/// Prints what a seed sent and how long it took.
pub fn report(sent: &Sent, started: Instant) {
    eprintln!(
        "    {} answers, {} tickets ({} reopen calls), {} events in {:.1} s",
        sent.answers,
        sent.tickets,
        sent.reopen_calls,
        sent.events,
        started.elapsed().as_secs_f64()
    );
}

/// The KPIs of the offline twin on the demo page come from these days of rollups: the
/// previous month's first day to today, enough for a month compared with the one before.
fn rollup_span(today: i64) -> (String, String) {
    use kpi_core::period::{CivilDate, Period, PeriodKind};
    let day = CivilDate::from_days_since_epoch(today).unwrap_or(CivilDate {
        year: 1970,
        month: 1,
        day: 1,
    });
    let from = Period::containing(PeriodKind::Month, day)
        .and_then(|p| p.previous())
        .map(|p| p.from)
        .unwrap_or(day);
    (from.to_string(), day.to_string())
}

/// The KPIs of the demo page's offline board: none reads a duration in business time, which
/// the worker measures with the tenant's opening hours and day rollups do not carry.
pub const OFFLINE_METRICS: &str = "nps,csat,ces,conversion_rate,churn_rate,mrr";

/// Registers the demo tenant for `GET /demo`: its publishable key, and the offline board's
/// KPIs with the day rollups they read, fetched now with the secret key as a CRM's backend
/// would.
pub fn register(url: &str, admin: &str, demo: &Demo) -> Result<()> {
    let (from, to) = rollup_span(day_of(now_ms()));
    let (status, rollups) = get(
        url,
        &format!("/v1/rollups?from={from}&to={to}&metrics={OFFLINE_METRICS}"),
        &demo.sk,
    )?;
    if status != 200 {
        return Err(format!("GET /v1/rollups: {status} {rollups}"));
    }
    call(
        url,
        "PUT",
        "/admin/demo",
        admin,
        &json!({"tenant": demo.tenant, "publishable_key": demo.pk,
                "offline": {"metrics": OFFLINE_METRICS, "rollups": rollups},
                "story": {"incident": format!("{}-{:02}", demo.story.incident.0, demo.story.incident.1)}}),
    )?;
    Ok(())
}

/// A call that must succeed (2xx); returns the JSON reply. A rate-limited call (429: the
/// tests share one client address and their admin budget) waits and tries again.
fn call(url: &str, method: &str, path: &str, bearer: &str, body: &Value) -> Result<Value> {
    for _ in 0..12 {
        let (status, reply) = server::send(method, &format!("{url}{path}"), bearer, body)?;
        match status {
            200..=299 => return Ok(reply),
            429 => std::thread::sleep(Duration::from_secs(5)),
            _ => return Err(format!("{method} {path}: {status} {reply}")),
        }
    }
    Err(format!(
        "{method} {path}: still rate limited after a minute"
    ))
}

fn refuse_rejections(what: &str, reply: &Value) -> Result<()> {
    match reply["rejected"].as_array() {
        Some(r) if !r.is_empty() => Err(format!(
            "the worker rejected demo {what}: {}",
            Value::Array(r.iter().take(3).cloned().collect())
        )),
        _ => Ok(()),
    }
}

/// `GET` with a bearer token; status and JSON body.
fn get(url: &str, path: &str, bearer: &str) -> Result<(u16, Value)> {
    let resp = match ureq::get(&format!("{url}{path}"))
        .set("authorization", &format!("Bearer {bearer}"))
        .timeout(Duration::from_secs(60))
        .call()
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(format!("GET {path}: {e}")),
    };
    let status = resp.status();
    Ok((status, resp.into_json().unwrap_or(Value::Null)))
}

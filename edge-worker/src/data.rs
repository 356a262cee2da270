//! Data access: raw records in keyset pages (`GET /v1/responses`, `GET /v1/tickets`), CSV
//! exports, and erasing a respondent. The only routes that read raw rows; they always read in
//! bounded pages along an index, never with OFFSET and never unbounded.
//!
//! Rows come in `(day, key)` order — the tenant-local day (a response's first answer, a
//! ticket's opening) then the link or ticket id — and a cursor is base64url of the last
//! row's `[day, key]`. `from`/`to` are tenant-local dates, both inclusive, as in `/v1/kpis`.
//!
//! A response row holds its respondent's opaque reference; reads give the tenant its own
//! CRM id back through `respondents` (gone once erased). CSV cells a spreadsheet would run
//! as a formula are defused.
use kpi_core::kpi::{self, Lang, ReportOptions};
use kpi_core::period::{format_rfc3339, CivilDate};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, b64url_decode, now_ms, query, query_pairs};
use crate::kpis;
use crate::respondents;
use crate::tenants::TenantConfig;
use crate::tickets::{self, TICKET_COLUMNS};

/// Rows per page when `limit` is absent.
const DEFAULT_LIMIT: usize = 100;
/// Largest `limit`.
const MAX_LIMIT: usize = 500;
/// Rows per query of an export: 40 pages reach the cap within D1's per-request query budget.
const EXPORT_PAGE: usize = 2500;
/// Most rows one export returns; beyond it the caller narrows `from`/`to`.
pub const EXPORT_CAP: usize = 100_000;
const MAX_ID_CHARS: usize = 200;

/// The raw tables served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Responses,
    Tickets,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Responses => "responses",
            Table::Tickets => "tickets",
        }
    }

    /// Output fields, in CSV column order.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Responses => &[
                "link_id",
                "survey",
                "scale",
                "score",
                "comment",
                "respondent",
                "ticket",
                "channel",
                "lang",
                "day",
                "answered_at",
                "updated_at",
            ],
            Table::Tickets => &[
                "id",
                "channel",
                "opened_at",
                "first_response_at",
                "resolved_at",
                "contacts",
                "agent",
                "tags",
                "transferred",
                "abandoned",
                "day",
                "updated_at",
            ],
        }
    }

    /// One page in key order after `(?5, ?6)`, at most `limit` rows. Both tables bind the
    /// same six parameters (tickets have no survey: `?4` is read but filters nothing).
    fn page_sql(self, limit: usize) -> String {
        match self {
            Table::Responses => format!(
                "SELECT r.link_id, r.survey, r.scale, r.score, r.comment, m.respondent, \
                 r.ticket, r.channel, r.lang, r.day, r.answered_at, r.updated_at \
                 FROM responses r LEFT JOIN respondents m \
                 ON m.tenant_id = r.tenant_id AND m.ref = r.respondent \
                 WHERE r.tenant_id = ?1 AND r.day >= ?2 AND r.day <= ?3 \
                 AND (?4 IS NULL OR r.survey = ?4) AND (r.day, r.link_id) > (?5, ?6) \
                 ORDER BY r.day, r.link_id LIMIT {limit}"
            ),
            Table::Tickets => format!(
                "SELECT {TICKET_COLUMNS} FROM tickets \
                 WHERE tenant_id = ?1 AND day >= ?2 AND day <= ?3 \
                 AND (?4 IS NULL OR ?4 = ?4) AND (day, id) > (?5, ?6) \
                 ORDER BY day, id LIMIT {limit}"
            ),
        }
    }
}

/// Which rows a request selects.
struct Filter {
    from: String,
    to: String,
    survey: Option<String>,
}

fn filter(pairs: &[(String, String)], table: Table) -> ApiResult<Filter> {
    let date = |name: &str, default: &str| -> ApiResult<String> {
        match query(pairs, name) {
            Some(s) => CivilDate::parse(s)
                .map(|d| d.to_string())
                .map_err(|_| ApiError::Invalid(format!("`{name}` must be a date (YYYY-MM-DD)"))),
            None => Ok(default.to_string()),
        }
    };
    let from = date("from", "0000-01-01")?;
    let to = date("to", "9999-12-31")?;
    if to < from {
        return Err(ApiError::Invalid("`to` is before `from`".into()));
    }
    let survey = match (table, query(pairs, "survey")) {
        (Table::Responses, Some(s)) if matches!(s, "nps" | "csat" | "ces") => Some(s.to_string()),
        (Table::Responses, Some(s)) => {
            return Err(ApiError::Invalid(format!("unknown survey `{s}`")));
        }
        _ => None,
    };
    Ok(Filter { from, to, survey })
}

fn parse_limit(pairs: &[(String, String)]) -> ApiResult<usize> {
    match query(pairs, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::Invalid(format!("`limit` must be 1–{MAX_LIMIT}"))),
    }
}

/// A row's position in key order: `(day, id)`.
type Key = (String, String);

/// The key before every row.
fn start() -> Key {
    (String::new(), String::new())
}

fn encode_cursor(k: &Key) -> String {
    b64url(json!([k.0, k.1]).to_string().as_bytes())
}

fn decode_cursor(s: &str) -> ApiResult<Key> {
    b64url_decode(s)
        .and_then(|b| serde_json::from_slice::<Key>(&b).ok())
        .ok_or_else(|| ApiError::Malformed("`cursor` is not one this API returned".into()))
}

#[derive(Deserialize)]
struct ResponseRow {
    link_id: String,
    survey: String,
    scale: f64,
    score: f64,
    comment: Option<String>,
    respondent: Option<String>,
    ticket: Option<String>,
    channel: String,
    lang: String,
    day: String,
    answered_at: f64,
    updated_at: f64,
}

fn instant(ms: f64) -> Value {
    Value::from(format_rfc3339(ms as i64))
}

fn opt_instant(ms: Option<f64>) -> Value {
    ms.map(instant).unwrap_or(Value::Null)
}

fn select(
    db: &D1Database,
    sql: String,
    tenant: &str,
    f: &Filter,
    after: &Key,
) -> ApiResult<worker::D1PreparedStatement> {
    Ok(db.prepare(sql).bind(&[
        JsValue::from_str(tenant),
        JsValue::from_str(&f.from),
        JsValue::from_str(&f.to),
        f.survey
            .as_deref()
            .map(JsValue::from_str)
            .unwrap_or(JsValue::NULL),
        JsValue::from_str(&after.0),
        JsValue::from_str(&after.1),
    ])?)
}

/// Up to `limit` rows after `after`, as API objects with their keys.
async fn fetch(
    db: &D1Database,
    tenant: &str,
    table: Table,
    f: &Filter,
    after: &Key,
    limit: usize,
) -> ApiResult<Vec<(Key, Value)>> {
    let stmt = select(db, table.page_sql(limit), tenant, f, after)?;
    let result = stmt.all().await?;
    Ok(match table {
        Table::Responses => result
            .results::<ResponseRow>()?
            .into_iter()
            .map(|r| {
                let v = json!({
                    "link_id": r.link_id, "survey": r.survey, "scale": r.scale as i64,
                    "score": r.score as i64, "comment": r.comment, "respondent": r.respondent,
                    "ticket": r.ticket, "channel": r.channel, "lang": r.lang, "day": r.day,
                    "answered_at": instant(r.answered_at), "updated_at": instant(r.updated_at),
                });
                ((r.day, r.link_id), v)
            })
            .collect(),
        Table::Tickets => result
            .results::<tickets::TicketRow>()?
            .into_iter()
            .map(|r| {
                let tags: Vec<String> = serde_json::from_str(&r.tags).unwrap_or_default();
                let v = json!({
                    "id": r.id, "channel": r.channel, "opened_at": instant(r.opened_at),
                    "first_response_at": opt_instant(r.first_response_at),
                    "resolved_at": opt_instant(r.resolved_at), "contacts": r.contacts as i64,
                    "agent": r.agent, "tags": tags, "transferred": r.transferred != 0.0,
                    "abandoned": r.abandoned != 0.0, "day": r.day,
                    "updated_at": instant(r.updated_at),
                });
                ((r.day, r.id), v)
            })
            .collect(),
    })
}

/// `GET /v1/responses` (secret key): survey responses with comments, one page.
pub async fn list_responses(req: Request, env: &Env) -> ApiResult<Response> {
    list(req, env, Table::Responses).await
}

/// `GET /v1/tickets` (secret key): tickets, one page.
pub async fn list_tickets(req: Request, env: &Env) -> ApiResult<Response> {
    list(req, env, Table::Tickets).await
}

async fn list(req: Request, env: &Env, table: Table) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let f = filter(&pairs, table)?;
    let limit = parse_limit(&pairs)?;
    let after = match query(&pairs, "cursor") {
        Some(c) => decode_cursor(c)?,
        None => start(),
    };
    let db = crate::db::open(env)?;
    // One row more than asked says whether another page follows.
    let mut rows = fetch(&db, &p.tenant.id, table, &f, &after, limit + 1).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|(k, _)| encode_cursor(k))
    } else {
        None
    };
    let items: Vec<Value> = rows.into_iter().map(|(_, v)| v).collect();
    let mut body = Map::new();
    body.insert(table.name().into(), Value::Array(items));
    body.insert(
        "next_cursor".into(),
        next.map(Value::from).unwrap_or(Value::Null),
    );
    http::json(200, &Value::Object(body))
}

/// A CSV cell: empty for null, JSON text for arrays and objects. Text that a spreadsheet
/// would run as a formula — starting with `=`, `+`, `-`, `@`, tab or CR (OWASP's CSV
/// injection rule) — gets a leading `'`, which Excel and Sheets show as text; numbers stay
/// numbers (an NPS of -12.5 is a number, not a formula).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A CSV document under construction (RFC 4180: CRLF line ends; a field is quoted, with
/// quotes doubled, when it holds a comma, a quote, CR or LF). Hand-written rather than the
/// `csv` crate, which added 19 KB gzip (28 KB raw) to the worker for these dozen lines.
struct Csv(String);

impl Csv {
    fn new() -> Csv {
        Csv(String::new())
    }

    fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            let f = f.as_ref();
            if f.contains([',', '"', '\r', '\n']) {
                self.0.push('"');
                self.0.push_str(&f.replace('"', "\"\""));
                self.0.push('"');
            } else {
                self.0.push_str(f);
            }
        }
        self.0.push_str("\r\n");
    }
}

fn csv_reply(w: Csv, filename: &str) -> ApiResult<Response> {
    let mut resp = Response::from_bytes(w.0.into_bytes())?;
    let h = resp.headers_mut();
    h.set("content-type", "text/csv; charset=utf-8")?;
    h.set(
        "content-disposition",
        &format!("attachment; filename=\"{filename}\""),
    )?;
    h.set("cache-control", "no-store")?;
    Ok(resp)
}

/// `GET /v1/export.csv?kind=responses|tickets|kpis&from&to` (secret key).
pub async fn export(req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    match query(&pairs, "kind") {
        Some("responses") => export_rows(env, &p.tenant.id, &pairs, Table::Responses).await,
        Some("tickets") => export_rows(env, &p.tenant.id, &pairs, Table::Tickets).await,
        Some("kpis") => export_kpis(env, &p.tenant, &pairs).await,
        _ => Err(ApiError::Invalid(
            "`kind` must be `responses`, `tickets` or `kpis`".into(),
        )),
    }
}

async fn export_rows(
    env: &Env,
    tenant: &str,
    pairs: &[(String, String)],
    table: Table,
) -> ApiResult<Response> {
    let f = filter(pairs, table)?;
    let db = crate::db::open(env)?;
    // Counting at most cap + 1 rows refuses an oversized export before building it.
    #[derive(Deserialize)]
    struct Count {
        n: f64,
    }
    let count_sql = format!(
        "SELECT count(*) AS n FROM ({})",
        table.page_sql(EXPORT_CAP + 1)
    );
    let count: Option<Count> = select(&db, count_sql, tenant, &f, &start())?
        .first(None)
        .await?;
    if count.map(|c| c.n as usize).unwrap_or(0) > EXPORT_CAP {
        return Err(ApiError::ExportTooLarge(EXPORT_CAP));
    }
    let columns = table.columns();
    let mut w = Csv::new();
    w.row(columns);
    let mut after = start();
    let mut written = 0;
    while written < EXPORT_CAP {
        let rows = fetch(&db, tenant, table, &f, &after, EXPORT_PAGE).await?;
        let full = rows.len() == EXPORT_PAGE;
        for (key, v) in rows {
            w.row(columns.iter().map(|c| cell(&v[*c])));
            written += 1;
            after = key;
        }
        if !full {
            break;
        }
    }
    csv_reply(w, &format!("{tenant}-{}.csv", table.name()))
}

async fn export_kpis(
    env: &Env,
    cfg: &TenantConfig,
    pairs: &[(String, String)],
) -> ApiResult<Response> {
    let tenant = cfg.id.as_str();
    let today = CivilDate::of_instant(now_ms(), cfg.tz())?;
    // `from`/`to` without `period` mean a range, as the row exports read them.
    let mut q = pairs.to_vec();
    if query(pairs, "period").is_none() && query(pairs, "from").is_some() {
        q.push(("period".into(), "range".into()));
    }
    let period = kpis::requested_period(&q, today)?;
    let lang = Lang::parse(&cfg.locale).unwrap_or_default();
    let opts = ReportOptions {
        lang,
        period: Some(period),
        ..Default::default()
    };
    let defs: Vec<_> = kpi::catalog().collect();
    let db = crate::db::open(env)?;
    let (reports, _) = kpis::reports(&db, cfg, today, period, false, &defs, &opts).await?;
    let from = period.from.to_string();
    let to = period.to.add_days(-1)?.to_string();
    let mut w = Csv::new();
    w.row([
        "id",
        "label",
        "unit",
        "direction",
        "value",
        "n",
        "currency",
        "target_min",
        "target_goal",
        "status",
        "from",
        "to",
    ]);
    for r in &reports {
        let v = serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?;
        w.row([
            cell(&v["id"]),
            cell(&v["label"]),
            cell(&v["unit"]),
            cell(&v["direction"]),
            cell(&v["value"]),
            cell(&v["n"]),
            cell(&v["currency"]),
            cell(&v["target"]["min"]),
            cell(&v["target"]["goal"]),
            cell(&v["status"]),
            from.clone(),
            to.clone(),
        ]);
    }
    csv_reply(w, &format!("{tenant}-kpis-{from}-{to}.csv"))
}

/// `DELETE /v1/respondents/<respondent>` (secret key): anonymises that respondent's
/// responses in place — respondent and comment become NULL — so each row keeps its `contrib`
/// and the rollups keep equalling the rows' sum, now as anonymous counts; forgets the id
/// (`respondents::erase`), so links sent before answer anonymously. Idempotent.
pub async fn erase(req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let path = req.path();
    let raw = path.strip_prefix("/v1/respondents/").unwrap_or("");
    let respondent = http::percent_decode(raw)
        .ok_or_else(|| ApiError::Malformed("the respondent id is not valid UTF-8".into()))?;
    if respondent.is_empty() || respondent.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::Invalid(format!(
            "the respondent id must have 1–{MAX_ID_CHARS} characters"
        )));
    }
    let db = crate::db::open(env)?;
    let erased = respondents::erase(env, &db, &p.tenant.id, &respondent).await?;
    crate::log::event(
        "respondent_erased",
        &[("tenant", &p.tenant.id), ("rows", &erased.to_string())],
    );
    http::json(200, &json!({"erased": erased}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_malformed() {
        let k = ("2026-03-10".to_string(), "imp:a,b\"c".to_string());
        assert_eq!(decode_cursor(&encode_cursor(&k)).ok(), Some(k));
        assert!(matches!(decode_cursor("%%"), Err(ApiError::Malformed(_))));
        assert!(matches!(
            decode_cursor(&b64url(b"[1,2]")),
            Err(ApiError::Malformed(_))
        ));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut w = Csv::new();
        w.row([
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\r",
            "plain",
            "",
            "Dịch vụ",
        ]);
        w.row(["x"]);
        assert_eq!(
            w.0,
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"cr\r\",plain,,Dịch vụ\r\nx\r\n"
        );
    }

    #[test]
    fn cells() {
        assert_eq!(cell(&Value::Null), "");
        assert_eq!(cell(&json!(["x", "y"])), "[\"x\",\"y\"]");
        assert_eq!(cell(&json!(true)), "true");
        assert_eq!(cell(&json!(-3)), "-3");
        assert_eq!(cell(&json!(-12.5)), "-12.5");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_text() {
        for (given, exported) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+1", "'+1"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("a=1", "a=1"),
            ("2026-03-01", "2026-03-01"),
            ("", ""),
        ] {
            assert_eq!(cell(&json!(given)), exported, "{given:?}");
        }
    }
}

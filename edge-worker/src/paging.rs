//! Raw records in keyset pages (`GET /v1/responses`, `GET /v1/tickets`) and the rows of a
//! CSV export: the only reads of raw rows, always in bounded pages along an index, never with
//! OFFSET and never unbounded.
//!
//! Rows come in `(day, key)` order — the tenant-local day (a response's first answer, a
//! ticket's opening) then the link or ticket id — and a cursor is base64url of the last
//! row's `[day, key]`. `from`/`to` are tenant-local dates, both inclusive, as in `/v1/kpis`.
//!
//! A response row holds its respondent's opaque reference; reads give the tenant its own
//! CRM id back through `respondents` (gone once erased).
use kpi_core::period::{format_rfc3339, CivilDate};
use serde_json::{json, Map, Value};
use worker::{D1Database, Response};

use crate::auth::Principal;
use crate::db::{self, start, Filter, Key};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, b64url_decode, query};
use crate::route::Call;

/// Rows per page when `limit` is absent.
const DEFAULT_LIMIT: usize = 100;
/// Largest `limit`.
const MAX_LIMIT: usize = 500;

/// The raw tables served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `responses`.
    Responses,
    /// `tickets`.
    Tickets,
}

impl Table {
    /// The table's name, and the list's key in a page.
    pub fn name(self) -> &'static str {
        match self {
            Table::Responses => "responses",
            Table::Tickets => "tickets",
        }
    }

    /// Output fields, in CSV column order.
    pub fn columns(self) -> &'static [&'static str] {
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
}

/// The filter a request's `from`, `to` and `survey` say.
pub fn filter(pairs: &[(String, String)], table: Table) -> ApiResult<Filter> {
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

fn encode_cursor(k: &Key) -> String {
    b64url(json!([k.0, k.1]).to_string().as_bytes())
}

fn decode_cursor(s: &str) -> ApiResult<Key> {
    b64url_decode(s)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|b| serde_json::from_str::<Key>(&b).ok())
        .ok_or_else(|| ApiError::Malformed("`cursor` is not one this API returned".into()))
}

fn instant(ms: f64) -> Value {
    Value::from(format_rfc3339(ms as i64))
}

fn opt_instant(ms: Option<f64>) -> Value {
    ms.map(instant).unwrap_or(Value::Null)
}

/// Up to `limit` rows after `after`, as API objects with their keys.
pub async fn fetch(
    db: &D1Database,
    tenant: &str,
    table: Table,
    f: &Filter,
    after: &Key,
    limit: usize,
) -> ApiResult<Vec<(Key, Value)>> {
    Ok(match table {
        Table::Responses => db::responses::page(db, tenant, f, after, limit)
            .await?
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
        Table::Tickets => db::tickets::page(db, tenant, f, after, limit)
            .await?
            .into_iter()
            .map(|r| {
                let tags: Vec<String> = serde_json::from_str(&r.tags).unwrap_or_default();
                let v = json!({
                    "id": r.id, "channel": r.channel, "opened_at": instant(r.opened_at),
                    "first_response_at": opt_instant(r.first_response_at),
                    "resolved_at": opt_instant(r.resolved_at), "contacts": r.contacts(),
                    "agent": r.agent, "tags": tags, "transferred": r.transferred(),
                    "abandoned": r.abandoned(), "day": r.day,
                    "updated_at": instant(r.updated_at),
                });
                ((r.day, r.id), v)
            })
            .collect(),
    })
}

/// `GET /v1/responses` or `GET /v1/tickets` (secret key): one page of rows.
pub async fn list(mut c: Call, p: Principal, table: Table) -> ApiResult<Response> {
    let pairs = c.query();
    let f = filter(&pairs, table)?;
    let limit = parse_limit(&pairs)?;
    let after = match query(&pairs, "cursor") {
        Some(c) => decode_cursor(c)?,
        None => start(),
    };
    let db = db::open(&c.env)?;
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
}

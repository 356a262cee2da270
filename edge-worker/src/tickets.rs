//! `POST /v1/tickets`: service-desk tickets upserted by `(tenant, id)`. A later call fills in
//! or corrects fields: a field it omits keeps its stored value, `null` clears a timestamp or
//! the agent. Owns the merge and its race-free write; validation is `kpi_core::ticket`'s.
//!
//! The merge needs the stored row, so each write is guarded by the revision it read: the
//! upsert changes the row only if its revision is unchanged, and the row's triggers retract
//! its old contribution and add the new one in the same statement (migration 0005). When a
//! concurrent write got there first, the statement does nothing and the ticket is read,
//! merged and written again. Rollups thus always equal the sum of the rows' `contrib`.
use std::collections::{BTreeMap, BTreeSet};

use kpi_core::calendar::BusinessHours;
use kpi_core::fact::{check_text, WireInstant};
use kpi_core::period::TimeZone;
use kpi_core::{FactError, RawTicket, Ticket};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, Request, Response};

use crate::auth;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, body_bytes, media_type, now_ms, query_pairs, random_bytes};

/// Tickets per request.
const MAX_TICKETS: usize = 1000;
/// Tickets per D1 batch.
const PER_BATCH: usize = 100;
/// Read-merge-write attempts before a ticket under constant concurrent updates is given up.
const MAX_ROUNDS: usize = 10;
const BUSY: &str = "the ticket changed concurrently too often; send it again";
/// Tags per ticket.
const MAX_TAGS: usize = 32;

/// `Some(None)` for an explicit `null`, `Some(Some(v))` for a value; absent stays `None`.
fn patch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A ticket as a call sends it: every field but `id` may be left out to keep its stored value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketIn {
    id: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    opened_at: Option<WireInstant>,
    #[serde(default, deserialize_with = "patch")]
    first_response_at: Option<Option<WireInstant>>,
    #[serde(default, deserialize_with = "patch")]
    resolved_at: Option<Option<WireInstant>>,
    #[serde(default)]
    contacts: Option<i64>,
    #[serde(default, deserialize_with = "patch")]
    agent: Option<Option<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    transferred: Option<bool>,
    #[serde(default)]
    abandoned: Option<bool>,
}

/// The columns of a stored ticket, in the order [`TicketRow`] reads them.
pub(crate) const TICKET_COLUMNS: &str = "id, channel, opened_at, first_response_at, resolved_at, \
     contacts, agent, tags, transferred, abandoned, day, updated_at, rev";

/// A stored ticket, as D1 returns it (numbers come back as f64). Read by the upsert here and
/// by the paged reads and exports in `data`.
#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "fuzzing"), derive(Debug, PartialEq))]
pub(crate) struct TicketRow {
    pub id: String,
    pub channel: String,
    pub opened_at: f64,
    pub first_response_at: Option<f64>,
    pub resolved_at: Option<f64>,
    pub contacts: f64,
    pub agent: Option<String>,
    pub tags: String,
    pub transferred: f64,
    pub abandoned: f64,
    pub day: String,
    pub updated_at: f64,
    pub rev: String,
}

/// The merged ticket a write stores.
struct Merged {
    channel: String,
    opened_ms: i64,
    first_response_ms: Option<i64>,
    resolved_ms: Option<i64>,
    contacts: i64,
    agent: Option<String>,
    tags: Vec<String>,
    transferred: bool,
    abandoned: bool,
}

fn ms(w: &WireInstant) -> Result<i64, FactError> {
    w.to_ms()
}

/// Merges a call over the stored row (if any): present fields win, absent ones are kept.
fn merge(t: &TicketIn, old: Option<&TicketRow>) -> Result<Merged, FactError> {
    let keep = |v: Option<f64>| v.map(|x| x as i64);
    let instant = |new: &Option<Option<WireInstant>>, old: Option<i64>| match new {
        None => Ok(old),
        Some(None) => Ok(None),
        Some(Some(w)) => ms(w).map(Some),
    };
    let channel = match (&t.channel, old) {
        (Some(c), _) => c.clone(),
        (None, Some(o)) => o.channel.clone(),
        (None, None) => return Err(FactError::MissingField { field: "channel" }),
    };
    let opened_ms = match (&t.opened_at, old) {
        (Some(w), _) => ms(w)?,
        (None, Some(o)) => o.opened_at as i64,
        (None, None) => return Err(FactError::MissingField { field: "opened_at" }),
    };
    let tags = match (&t.tags, old) {
        (Some(tags), _) => tags.clone(),
        (None, Some(o)) => serde_json::from_str(&o.tags).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    if tags.len() > MAX_TAGS {
        return Err(FactError::CountOutOfRange {
            count: tags.len() as i64,
        });
    }
    for tag in &tags {
        check_text("tags", tag)?;
    }
    Ok(Merged {
        channel,
        opened_ms,
        first_response_ms: instant(
            &t.first_response_at,
            old.and_then(|o| keep(o.first_response_at)),
        )?,
        resolved_ms: instant(&t.resolved_at, old.and_then(|o| keep(o.resolved_at)))?,
        contacts: t.contacts.or(old.map(|o| o.contacts as i64)).unwrap_or(1),
        agent: match &t.agent {
            Some(a) => a.clone(),
            None => old.and_then(|o| o.agent.clone()),
        },
        tags,
        transferred: t
            .transferred
            .or(old.map(|o| o.transferred != 0.0))
            .unwrap_or(false),
        abandoned: t
            .abandoned
            .or(old.map(|o| o.abandoned != 0.0))
            .unwrap_or(false),
    })
}

impl Merged {
    /// Validates the merged ticket with the domain's rules.
    fn validate(&self, tz: TimeZone, hours: Option<&BusinessHours>) -> Result<Ticket, FactError> {
        let raw = RawTicket {
            id: None,
            channel: self.channel.clone(),
            opened_at: WireInstant::Millis(self.opened_ms),
            first_response_at: self.first_response_ms.map(WireInstant::Millis),
            resolved_at: self.resolved_ms.map(WireInstant::Millis),
            contacts: Some(self.contacts),
            agent: self.agent.clone(),
            tags: self.tags.clone(),
            transferred: Some(self.transferred),
            abandoned: Some(self.abandoned),
        };
        Ticket::from_wire(&raw, tz, hours)
    }
}

fn js_opt_f64(v: Option<i64>) -> JsValue {
    v.map(|x| JsValue::from_f64(x as f64))
        .unwrap_or(JsValue::NULL)
}

/// The guarded write: upsert the merged row if its revision is still `old_rev` (or it is
/// still absent); its triggers move the counters.
#[allow(clippy::too_many_arguments)]
fn write_statement(
    db: &D1Database,
    tenant: &str,
    id: &str,
    m: &Merged,
    ticket: &Ticket,
    old_rev: Option<&str>,
    new_rev: &str,
    now: i64,
) -> ApiResult<D1PreparedStatement> {
    let contrib = kpi_core::rollup::contrib_json(&ticket.contributions());
    let tags = serde_json::to_string(&m.tags).map_err(|e| ApiError::Internal(e.to_string()))?;
    let upsert = db
        .prepare(
            "INSERT INTO tickets (tenant_id, id, channel, opened_at, first_response_at, \
             resolved_at, contacts, agent, tags, transferred, abandoned, day, contrib, \
             updated_at, rev) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET channel = excluded.channel, \
             opened_at = excluded.opened_at, first_response_at = excluded.first_response_at, \
             resolved_at = excluded.resolved_at, contacts = excluded.contacts, \
             agent = excluded.agent, tags = excluded.tags, transferred = excluded.transferred, \
             abandoned = excluded.abandoned, day = excluded.day, contrib = excluded.contrib, \
             updated_at = excluded.updated_at, rev = excluded.rev \
             WHERE tickets.rev = ?16",
        )
        .bind(&[
            JsValue::from_str(tenant),
            JsValue::from_str(id),
            JsValue::from_str(&m.channel),
            JsValue::from_f64(m.opened_ms as f64),
            js_opt_f64(m.first_response_ms),
            js_opt_f64(m.resolved_ms),
            JsValue::from_f64(m.contacts as f64),
            m.agent
                .as_deref()
                .map(JsValue::from_str)
                .unwrap_or(JsValue::NULL),
            JsValue::from_str(&tags),
            JsValue::from_f64(if m.transferred { 1.0 } else { 0.0 }),
            JsValue::from_f64(if m.abandoned { 1.0 } else { 0.0 }),
            JsValue::from_str(&ticket.day().to_string()),
            JsValue::from_str(&contrib),
            JsValue::from_f64(now as f64),
            JsValue::from_str(new_rev),
            // NULL for a new ticket: `rev = NULL` never holds, so a row inserted meanwhile by
            // someone else is left alone and this ticket goes round again.
            old_rev.map(JsValue::from_str).unwrap_or(JsValue::NULL),
        ])?;
    Ok(upsert)
}

/// Reads the stored rows of `ids`.
async fn read_rows(
    db: &D1Database,
    tenant: &str,
    ids: &[&str],
) -> ApiResult<BTreeMap<String, TicketRow>> {
    let list = serde_json::to_string(ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows: Vec<TicketRow> = db
        .prepare(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets \
             WHERE tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2))"
        ))
        .bind(&[JsValue::from_str(tenant), JsValue::from_str(&list)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
}

/// What happened to one ticket of a request.
enum Outcome {
    Created,
    Updated,
    Rejected(String),
    /// Concurrent writes to the same ticket won every round.
    Busy,
}

/// Stores `items` (index, ticket) for `tenant`; returns each index's outcome.
async fn store_tickets(
    db: &D1Database,
    tenant: &str,
    tz: TimeZone,
    hours: Option<BusinessHours>,
    items: Vec<(usize, TicketIn)>,
) -> ApiResult<BTreeMap<usize, Outcome>> {
    let mut outcomes = BTreeMap::new();
    let mut pending = items;
    for _ in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        // One write per id and round: a later occurrence of an id in the same request waits
        // for the earlier one, so calls apply in request order.
        let mut seen = BTreeSet::new();
        let (now_items, later): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(_, t)| seen.insert(t.id.clone()));
        let ids: Vec<&str> = now_items.iter().map(|(_, t)| t.id.as_str()).collect();
        let rows = read_rows(db, tenant, &ids).await?;
        let now = now_ms();
        let mut retry = Vec::new();
        let mut writes: Vec<(usize, TicketIn, bool, D1PreparedStatement)> = Vec::new();
        for (i, t) in now_items {
            let old = rows.get(&t.id);
            let checked =
                merge(&t, old).and_then(|m| m.validate(tz, hours.as_ref()).map(|tk| (m, tk)));
            let (m, ticket) = match checked {
                Ok(v) => v,
                Err(e) => {
                    outcomes.insert(i, Outcome::Rejected(e.to_string()));
                    continue;
                }
            };
            let new_rev = b64url(&random_bytes::<12>()?);
            let stmt = write_statement(
                db,
                tenant,
                &t.id,
                &m,
                &ticket,
                old.map(|o| o.rev.as_str()),
                &new_rev,
                now,
            )?;
            writes.push((i, t, old.is_some(), stmt));
        }
        while !writes.is_empty() {
            let rest = writes.split_off(writes.len().min(PER_BATCH));
            let chunk = std::mem::replace(&mut writes, rest);
            let mut stmts = Vec::with_capacity(chunk.len());
            let mut meta = Vec::with_capacity(chunk.len());
            for (i, t, existed, s) in chunk {
                stmts.push(s);
                meta.push((i, t, existed));
            }
            let results = db.batch(stmts).await?;
            for (at, (i, t, existed)) in meta.into_iter().enumerate() {
                let changes = db::changes(&results, at);
                if changes > 0 {
                    outcomes.insert(
                        i,
                        if existed {
                            Outcome::Updated
                        } else {
                            Outcome::Created
                        },
                    );
                } else {
                    retry.push((i, t));
                }
            }
        }
        retry.extend(later);
        retry.sort_by_key(|(i, _)| *i);
        pending = retry;
    }
    for (i, _) in pending {
        outcomes.insert(i, Outcome::Busy);
    }
    Ok(outcomes)
}

/// Parses one ticket of a request, checking its id.
fn parse_item(v: Value) -> Result<TicketIn, String> {
    let t: TicketIn = serde_json::from_value(v).map_err(|e| format!("invalid ticket: {e}"))?;
    check_text("id", &t.id).map_err(|e| e.to_string())?;
    Ok(t)
}

/// The tickets of a body: one ticket object (`false`), or `{"tickets": [...]}` (`true`) of at
/// most [`MAX_TICKETS`].
pub(crate) fn parse_body(bytes: &[u8]) -> ApiResult<(bool, Vec<Value>)> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Malformed(format!("invalid JSON: {e}")))?;
    let batch = body.get("tickets").is_some();
    let values: Vec<Value> = match body {
        Value::Object(mut o) if batch => match o.remove("tickets") {
            Some(Value::Array(a)) => a,
            _ => return Err(ApiError::Malformed("`tickets` must be an array".into())),
        },
        v @ Value::Object(_) => vec![v],
        _ => {
            return Err(ApiError::Malformed(
                "send one ticket object or {\"tickets\": [...]}".into(),
            ))
        }
    };
    if values.len() > MAX_TICKETS {
        return Err(ApiError::Invalid(format!(
            "send at most {MAX_TICKETS} tickets a request"
        )));
    }
    Ok((batch, values))
}

/// `POST /v1/tickets` (secret key): one ticket, or `{"tickets": [...]}` of up to 1000.
/// One ticket answers 201 (created) or 200 (updated), or the error of that ticket (422);
/// a batch answers 200 with a per-ticket report, one bad ticket not rejecting the others.
pub async fn ingest(mut req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    if media_type(&req) != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "Send tickets as application/json.",
        ));
    }
    let bytes = body_bytes(&mut req, http::BATCH_LIMIT).await?;
    let (batch, values) = parse_body(&bytes)?;
    let mut ids: Vec<Option<String>> = Vec::with_capacity(values.len());
    let mut items = Vec::with_capacity(values.len());
    let mut outcomes = BTreeMap::new();
    for (i, v) in values.into_iter().enumerate() {
        ids.push(v.get("id").and_then(Value::as_str).map(str::to_string));
        match parse_item(v) {
            Ok(t) => items.push((i, t)),
            Err(e) if !batch => return Err(ApiError::Invalid(e)),
            Err(e) => {
                outcomes.insert(i, Outcome::Rejected(e));
            }
        }
    }
    let db = crate::db::open(env)?;
    outcomes
        .extend(store_tickets(&db, &p.tenant.id, p.tenant.tz(), p.tenant.hours(), items).await?);
    if !batch {
        let id = ids.first().cloned().flatten();
        return match outcomes.remove(&0) {
            Some(Outcome::Created) => http::json(201, &json!({"id": id, "created": true})),
            Some(Outcome::Updated) => http::json(200, &json!({"id": id, "created": false})),
            Some(Outcome::Rejected(e)) => Err(ApiError::Invalid(e)),
            Some(Outcome::Busy) => Err(ApiError::Conflict(BUSY.into())),
            None => Err(ApiError::Internal("ticket without an outcome".into())),
        };
    }
    let (mut created, mut updated, mut rejected) = (0, 0, Vec::new());
    for (i, o) in outcomes {
        match o {
            Outcome::Created => created += 1,
            Outcome::Updated => updated += 1,
            Outcome::Rejected(e) => rejected.push(json!({
                "index": i, "id": ids.get(i).cloned().flatten(), "error": e
            })),
            Outcome::Busy => rejected.push(json!({
                "index": i, "id": ids.get(i).cloned().flatten(), "error": BUSY
            })),
        }
    }
    crate::log::event(
        "tickets_stored",
        &[
            ("tenant", &p.tenant.id),
            ("stored", &(created + updated).to_string()),
        ],
    );
    http::json(
        200,
        &json!({"stored": created + updated, "created": created, "updated": updated,
                "rejected": rejected}),
    )
}

/// The pure path of one `POST /v1/tickets` body, as [`ingest`] and `store_tickets` run it,
/// with `stored` standing in for the D1 rows: parse, merge each ticket over its stored row,
/// validate, encode its contribution, and keep the merged row (as D1 would return it) for
/// the next call. Each ticket's outcome is its `contrib` JSON or its rejection. For the
/// parser fuzz targets; the routes never call it.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn upsert_offline(
    bytes: &[u8],
    tz: TimeZone,
    stored: &mut BTreeMap<String, TicketRow>,
) -> ApiResult<Vec<Result<String, String>>> {
    let (_, values) = parse_body(bytes)?;
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let t = match parse_item(v) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let checked =
            merge(&t, stored.get(&t.id)).and_then(|m| m.validate(tz, None).map(|k| (m, k)));
        let (m, ticket) = match checked {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(e.to_string()));
                continue;
            }
        };
        let contrib = kpi_core::rollup::contrib_json(&ticket.contributions());
        let row = TicketRow {
            id: t.id.clone(),
            channel: m.channel,
            // D1 keeps numbers as REAL: store them as the write binds them.
            opened_at: m.opened_ms as f64,
            first_response_at: m.first_response_ms.map(|x| x as f64),
            resolved_at: m.resolved_ms.map(|x| x as f64),
            contacts: m.contacts as f64,
            agent: m.agent,
            tags: serde_json::to_string(&m.tags).map_err(|e| ApiError::Internal(e.to_string()))?,
            transferred: if m.transferred { 1.0 } else { 0.0 },
            abandoned: if m.abandoned { 1.0 } else { 0.0 },
            day: ticket.day().to_string(),
            updated_at: 0.0,
            rev: String::new(),
        };
        stored.insert(t.id, row);
        out.push(Ok(contrib));
    }
    Ok(out)
}

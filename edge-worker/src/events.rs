//! `POST /v1/events`: CRM events as a JSON array or NDJSON, validated by `kpi_core::event`,
//! stored once per `(tenant, id)`. Owns parsing, the per-event report, what of an event is
//! kept, and the idempotent write; not what an event means (kpi-core) nor how counters are
//! stored (`store`).
//!
//! A row's `body` keeps only the fields validated for the event's type: whatever else a CRM
//! sends along (names, e-mails, phone numbers, notes) never reaches D1, so erasure has
//! nothing to chase there.
//!
//! Idempotency without a read: one D1 batch inserts every valid event with `ON CONFLICT DO
//! NOTHING`, stamping the rows it inserts with a random per-request token, then adds to the
//! rollups the contributions of exactly the rows carrying that token. A replayed or concurrent
//! duplicate inserts nothing, so it adds nothing; the insert's `changes` tell stored from
//! duplicate.
use kpi_core::fact::check_text;
use kpi_core::{Event, RawEvent};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, body_bytes, media_type, query_pairs};

/// Events per request.
const MAX_EVENTS: usize = 1000;
/// Events per insert statement (its one JSON parameter stays well under D1's 2 MB).
const PER_INSERT: usize = 250;

/// An event ready to insert: the row's fields as one JSON object.
pub(crate) fn row(raw: &RawEvent, id: &str, ev: &Event) -> Value {
    json!({
        "id": id,
        "type": raw.kind,
        "at": ev.at_ms,
        "day": ev.day.to_string(),
        "body": kept(raw).to_string(),
        "contrib": kpi_core::rollup::contrib_json(&ev.contributions()),
    })
}

/// What is kept of a validated event: its id, type, instant and count, the segments
/// kpi-core checks on every event (channel, campaign, source, agent), and the fields
/// `Event::from_wire` reads for its type. Unknown fields were never parsed; known fields
/// its type does not read (a `customer` or `user` sent along) are dropped here.
pub(crate) fn kept(raw: &RawEvent) -> Value {
    let r = raw.clone();
    let mut k = RawEvent {
        id: r.id,
        kind: r.kind,
        at: r.at,
        count: r.count,
        channel: r.channel,
        campaign: r.campaign,
        source: r.source,
        agent: r.agent,
        ..RawEvent::default()
    };
    let money = |k: &mut RawEvent| {
        k.amount = raw.amount;
        k.currency = raw.currency.clone();
    };
    let deal = |k: &mut RawEvent| {
        money(k);
        k.previous_amount = raw.previous_amount;
        k.previous_stage = raw.previous_stage.clone();
    };
    match raw.kind.as_str() {
        "lead.created" => k.first_contact_at = raw.first_contact_at.clone(),
        "deal.stage" => {
            deal(&mut k);
            k.stage = raw.stage.clone();
            k.stage_position = raw.stage_position;
            k.order = raw.order.clone();
        }
        "deal.won" => {
            deal(&mut k);
            k.first_touch_at = raw.first_touch_at.clone();
        }
        "deal.lost" => deal(&mut k),
        "order.placed" => {
            money(&mut k);
            k.previous_order_at = raw.previous_order_at.clone();
            k.second_previous_order_at = raw.second_previous_order_at.clone();
            k.upsell = raw.upsell;
        }
        "order.cancelled" => money(&mut k),
        "subscription.changed" => {
            k.mrr = raw.mrr;
            k.previous_mrr = raw.previous_mrr;
            k.currency = raw.currency.clone();
        }
        "spend" => {
            money(&mut k);
            k.purpose = raw.purpose.clone();
        }
        "web.visit" => k.landing = raw.landing,
        "web.session" => k.pages = raw.pages,
        "crm.user_active" => k.user = raw.user.clone(),
        "crm.activity" => {
            k.user = raw.user.clone();
            k.activity = raw.activity.clone();
        }
        _ => {}
    }
    match serde_json::to_value(&k) {
        Ok(Value::Object(mut m)) => {
            m.retain(|_, v| !v.is_null());
            Value::Object(m)
        }
        _ => json!({"id": raw.id, "type": raw.kind}),
    }
}

/// Validates one event: its id and its type's fields.
pub(crate) fn validate(
    v: &Value,
    tz: kpi_core::period::TimeZone,
) -> Result<(String, RawEvent, Event), String> {
    let raw: RawEvent =
        serde_json::from_value(v.clone()).map_err(|e| format!("invalid event: {e}"))?;
    let id = raw
        .id
        .as_deref()
        .ok_or_else(|| "missing field `id`".to_string())?;
    let id = check_text("id", id).map_err(|e| e.to_string())?;
    let ev = Event::from_wire(&raw, tz).map_err(|e| e.to_string())?;
    Ok((id, raw, ev))
}

/// The events of a body: a JSON array (or `{"events": [...]}`), or NDJSON, one per line.
/// A line of NDJSON that is not JSON is that event's error, not the request's.
pub(crate) fn parse_body(bytes: &[u8], ndjson: bool) -> ApiResult<Vec<Result<Value, String>>> {
    if ndjson {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::Malformed("the body is not UTF-8".into()))?;
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("invalid JSON: {e}")))
            .collect());
    }
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Malformed(format!("invalid JSON: {e}")))?;
    match body {
        Value::Array(a) => Ok(a.into_iter().map(Ok).collect()),
        Value::Object(mut o) => match o.remove("events") {
            Some(Value::Array(a)) => Ok(a.into_iter().map(Ok).collect()),
            _ => Err(ApiError::Malformed(
                "send a JSON array of events, or NDJSON".into(),
            )),
        },
        _ => Err(ApiError::Malformed(
            "send a JSON array of events, or NDJSON".into(),
        )),
    }
}

/// `POST /v1/events` (secret key): up to 1000 events; replies with how many were stored, how
/// many were duplicates (an id already stored), and which were rejected and why.
pub async fn ingest(mut req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let ndjson = match media_type(&req).as_str() {
        "application/json" => false,
        "application/x-ndjson" | "application/jsonl" => true,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "Send events as application/json (an array) or application/x-ndjson.",
            ))
        }
    };
    let bytes = body_bytes(&mut req, http::BATCH_LIMIT).await?;
    let items = parse_body(&bytes, ndjson)?;
    if items.len() > MAX_EVENTS {
        return Err(ApiError::Invalid(format!(
            "send at most {MAX_EVENTS} events a request"
        )));
    }
    let tz = p.tenant.tz();
    let mut rows = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let id = item
            .as_ref()
            .ok()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        match item.and_then(|v| validate(&v, tz).map(|(id, raw, ev)| row(&raw, &id, &ev))) {
            Ok(r) => rows.push(r),
            Err(e) => rejected.push(json!({"index": i, "id": id, "error": e})),
        }
    }
    let mut stored = 0usize;
    if !rows.is_empty() {
        let db = crate::db::open(env)?;
        let tenant = JsValue::from_str(&p.tenant.id);
        let mut stmts = Vec::new();
        for chunk in rows.chunks(PER_INSERT) {
            let payload = Value::Array(chunk.to_vec()).to_string();
            // A duplicate id inserts nothing, so its insert trigger adds no counter.
            stmts.push(
                db.prepare(
                    "INSERT INTO events (tenant_id, id, type, at, day, body, contrib) \
                     SELECT ?1, j.value->>'id', j.value->>'type', CAST(j.value->>'at' AS REAL), \
                            j.value->>'day', j.value->>'body', j.value->>'contrib' \
                     FROM json_each(?2) j WHERE true \
                     ON CONFLICT (tenant_id, id) DO NOTHING RETURNING 1 AS stored",
                )
                .bind(&[tenant.clone(), JsValue::from_str(&payload)])?,
            );
        }
        let results = db.batch(stmts).await?;
        // Each inserted row comes back (D1's `changes` also counts the triggers' rows).
        for r in &results {
            stored += r.results::<serde_json::Value>()?.len();
        }
    }
    let duplicates = rows.len().saturating_sub(stored);
    crate::log::event(
        "events_stored",
        &[
            ("tenant", &p.tenant.id),
            ("stored", &stored.to_string()),
            ("duplicates", &duplicates.to_string()),
        ],
    );
    http::json(
        200,
        &json!({"stored": stored, "duplicates": duplicates, "rejected": rejected}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kpi_core::period::TimeZone;

    /// Every type of event kpi-core knows, each carrying every field `RawEvent` knows (with
    /// values that suit all types at once) plus a few a CRM might send along.
    fn kitchen_sinks() -> Vec<Value> {
        kpi_core::event::EVENT_TYPES
            .iter()
            .map(|t| {
                json!({"id": format!("ev-{t}"), "type": t, "at": "2026-11-20T09:00:00+07:00",
                    "count": 2, "source": "zalo", "campaign": "tet", "channel": "web",
                    "agent": "minh", "deal": "D-1", "stage": "demo", "order": 2,
                    "previous_stage": "consult", "amount": 100000, "previous_amount": 90000,
                    "currency": "VND", "customer": "C-1", "mrr": 50000, "previous_mrr": 40000,
                    "pages": 3, "user": "lan", "kind": "call",
                    "first_contact_at": "2026-11-20T10:00:00+07:00",
                    "first_touch_at": "2026-11-01T09:00:00+07:00",
                    "previous_order_at": "2026-10-01T09:00:00+07:00",
                    "second_previous_order_at": "2026-09-01T09:00:00+07:00",
                    "landing": true, "upsell": true, "purpose": "retention",
                    "email": "lan@example.com", "phone": "0909 123 456", "note": {"x": 1}})
            })
            .collect()
    }

    #[test]
    fn a_kept_body_counts_exactly_as_the_event_sent() {
        let tz = TimeZone::DEFAULT;
        for v in kitchen_sinks() {
            let (id, raw, ev) = validate(&v, tz).unwrap_or_else(|e| panic!("{v}: {e}"));
            let body = kept(&raw);
            // Validating what is kept gives the very same contributions.
            let (id2, _, ev2) = validate(&body, tz).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(id, id2);
            assert_eq!(
                kpi_core::rollup::contrib_json(&ev.contributions()),
                kpi_core::rollup::contrib_json(&ev2.contributions()),
                "{body}"
            );
            for gone in ["email", "phone", "note", "customer", "deal"] {
                assert!(body.get(gone).is_none(), "{gone} kept in {body}");
            }
        }
    }

    #[test]
    fn fields_a_type_does_not_read_are_dropped() {
        let v = json!({"id": "l1", "type": "lead.created", "at": 1_790_000_000_000i64,
                       "source": "zalo", "user": "leak@example.com", "mrr": 5, "stage": "x"});
        let (_, raw, _) = validate(&v, TimeZone::DEFAULT).expect("valid");
        assert_eq!(
            kept(&raw),
            json!({"id": "l1", "type": "lead.created", "at": 1_790_000_000_000i64, "source": "zalo"})
        );
    }
}

//! `POST /v1/events`: CRM events as a JSON array or NDJSON, validated by `kpi_core::event`
//! (through `crate::events`), stored once per `(tenant, id)` (`db::events`).
//!
//! Idempotency without a read: one D1 batch inserts every valid event with `ON CONFLICT DO
//! NOTHING`, the insert trigger adding each inserted row's contribution; a replayed or
//! concurrent duplicate inserts nothing, so it adds nothing, and the rows the insert returns
//! tell stored from duplicate.
use kpi_core::Event;
use serde_json::{json, Value};
use worker::{Method, Response};

use crate::auth::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, fill_history, revise_history, Order};
use crate::http::{self, body_bytes, media_type};
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::secrets;

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/events"),
    endpoints: &[Endpoint {
        method: Method::Post,
        handler: Handler::Secret(|c, p| Box::pin(ingest(c, p))),
    }],
    cors: false,
    log: "/v1/events",
}];

/// Events per request.
const MAX_EVENTS: usize = 1000;
/// Events per insert statement (its one JSON parameter stays well under D1's 2 MB).
const PER_INSERT: usize = 250;

/// `POST /v1/events` (secret key): up to 1000 events; replies with how many were stored, how
/// many were duplicates (an id already stored), and which were rejected and why.
async fn ingest(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
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
    let items = events::parse_body(&bytes, ndjson)?;
    if items.len() > MAX_EVENTS {
        return Err(ApiError::Invalid(format!(
            "send at most {MAX_EVENTS} events a request"
        )));
    }
    let tz = p.tenant.tz();
    let tenant = p.tenant.id.as_str();
    let mut parsed = Vec::with_capacity(items.len());
    for item in items {
        let (id, event) = match item {
            Ok(text) => match events::parse(text) {
                Ok((eid, raw)) => (raw.id.clone(), Ok((eid, raw))),
                Err(e) => (http::item_id(text), Err(e)),
            },
            Err(e) => (None, Err(e)),
        };
        parsed.push((id, event));
    }
    // Orders of a named customer: the customer's key, and the previous orders the CRM did
    // not send.
    let db = db::open(&env)?;
    let n = parsed.len();
    let mut keys: Vec<Option<String>> = vec![None; n];
    let mut derived = vec![false; n];
    let mut orders = Vec::new();
    let mut master = None;
    for (i, (_, item)) in parsed.iter_mut().enumerate() {
        let Ok((_, raw)) = item else { continue };
        if raw.kind != "order.placed" {
            continue;
        }
        let (Some(customer), Some(Ok(at))) =
            (raw.customer.clone(), raw.at.as_ref().map(|a| a.to_ms()))
        else {
            continue;
        };
        // A customer id that is not one (empty, too long, control characters) names no one.
        if kpi_core::fact::check_text("customer", &customer).is_err() {
            continue;
        }
        if master.is_none() {
            master = Some(secrets::link_master(&env)?);
        }
        let k = secrets::customer_key(master.as_deref().unwrap_or_default(), tenant, &customer)?;
        keys[i] = Some(k.clone());
        derived[i] = raw.previous_order_at.is_none();
        orders.push(Order {
            key: k,
            at,
            raw,
            derive: derived[i],
        });
    }
    fill_history(&db, tenant, &mut orders).await?;
    drop(orders);
    let mut rows = Vec::with_capacity(parsed.len());
    let mut rejected = Vec::new();
    for (i, (id, item)) in parsed.into_iter().enumerate() {
        let checked = item.and_then(|(eid, raw)| {
            let ev = Event::from_wire(&raw, tz)?;
            Ok(events::row(&raw, &eid, &ev, keys[i].as_deref(), derived[i]))
        });
        match checked {
            Ok(r) => rows.push(r),
            Err(e) => {
                let (_, code, message) = e.parts();
                rejected.push(json!({"index": i, "id": id, "code": code, "error": message}))
            }
        }
    }
    let mut stored = 0usize;
    if !rows.is_empty() {
        let payloads: Vec<String> = rows
            .chunks(PER_INSERT)
            .map(|chunk| Value::Array(chunk.to_vec()).to_string())
            .collect();
        stored = db::events::insert(&db, tenant, &payloads).await?;
    }
    // An order stored now may come before orders stored earlier: theirs are revised.
    let mut touched: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
    touched.sort_unstable();
    touched.dedup();
    let revised = if stored > 0 {
        revise_history(&db, tenant, tz, &touched).await?
    } else {
        0
    };
    let duplicates = rows.len().saturating_sub(stored);
    crate::log::event(
        "events_stored",
        &[
            ("tenant", tenant),
            ("stored", &stored.to_string()),
            ("duplicates", &duplicates.to_string()),
            ("revised", &revised.to_string()),
        ],
    );
    http::json(
        200,
        &json!({"stored": stored, "duplicates": duplicates, "rejected": rejected}),
    )
}

//! Service-desk tickets: `POST /v1/tickets` (secret key) upserts tickets by `(tenant, id)`,
//! `GET /v1/tickets` (secret key) reads them in pages. The merge is `ticket_merge`'s.
//!
//! The merge needs the stored row, so each write is guarded by the revision it read: the
//! upsert changes the row only if its revision is unchanged, and the row's triggers retract
//! its old contribution and add the new one in the same statement (migrations 0005, 0007).
//! When a concurrent write got there first, the statement does nothing and the ticket is
//! read, merged and written again. Rollups thus always equal the sum of the rows' `contrib`.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use worker::{D1Database, D1PreparedStatement, Method, Response};

use crate::auth::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, body_bytes, media_type, now_ms, random_bytes};
use crate::paging::{self, Table};
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::tenant::TenantConfig;
use crate::ticket_merge::{merge, parse_body, parse_item, TicketIn};

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/tickets"),
    endpoints: &[
        Endpoint {
            method: Method::Get,
            handler: Handler::Secret(|c, p| Box::pin(paging::list(c, p, Table::Tickets))),
        },
        Endpoint {
            method: Method::Post,
            handler: Handler::Secret(|c, p| Box::pin(ingest(c, p))),
        },
    ],
    cors: false,
    log: "/v1/tickets",
}];

/// Tickets per D1 batch.
const PER_BATCH: usize = 100;
/// Read-merge-write attempts before a ticket under constant concurrent updates is given up.
const MAX_ROUNDS: usize = 10;
const BUSY: &str = "the ticket changed concurrently too often; send it again";

/// What happened to one ticket of a request.
enum Outcome {
    Created,
    Updated,
    Rejected(ApiError),
    /// Concurrent writes to the same ticket won every round.
    Busy,
}

/// Stores `items` (index, ticket) for `tenant`; returns each index's outcome.
async fn store_tickets(
    db: &D1Database,
    tenant: &TenantConfig,
    items: Vec<(usize, TicketIn)>,
) -> ApiResult<BTreeMap<usize, Outcome>> {
    let (tz, hours) = (tenant.tz(), tenant.hours());
    let targets = tenant.kpi_settings.service_targets();
    let tenant = tenant.id.as_str();
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
        let rows = db::tickets::read(db, tenant, &ids).await?;
        let now = now_ms();
        let mut retry = Vec::new();
        let mut writes: Vec<(usize, TicketIn, bool, D1PreparedStatement)> = Vec::new();
        for (i, t) in now_items {
            let old = rows.get(&t.id);
            let checked = merge(&t, old).and_then(|m| {
                let tk = m.validate(tz, hours.as_ref())?;
                Ok((m, tk.with_service_targets(targets)))
            });
            let (m, ticket) = match checked {
                Ok(v) => v,
                Err(e) => {
                    outcomes.insert(i, Outcome::Rejected(e.into()));
                    continue;
                }
            };
            let new_rev = b64url(&random_bytes::<12>()?);
            let contrib = kpi_core::rollup::contrib_json(&ticket.contributions());
            let stmt = db::tickets::write(
                db,
                tenant,
                &t.id,
                &m,
                &ticket.day().to_string(),
                &contrib,
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
            let results = db::batch(db, stmts).await?;
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
        retry.sort_unstable_by_key(|(i, _)| *i);
        pending = retry;
    }
    for (i, _) in pending {
        outcomes.insert(i, Outcome::Busy);
    }
    Ok(outcomes)
}

/// `POST /v1/tickets` (secret key): one ticket, or `{"tickets": [...]}` of up to 1000.
/// One ticket answers 201 (created) or 200 (updated), or the error of that ticket (422);
/// a batch answers 200 with a per-ticket report, one bad ticket not rejecting the others.
async fn ingest(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
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
        match parse_item(v) {
            Ok(t) => {
                ids.push(Some(t.id.clone()));
                items.push((i, t));
            }
            Err(e) if !batch => return Err(e),
            Err(e) => {
                ids.push(http::item_id(v));
                outcomes.insert(i, Outcome::Rejected(e));
            }
        }
    }
    let db = db::open(&env)?;
    outcomes.extend(store_tickets(&db, &p.tenant, items).await?);
    if !batch {
        let id = ids.first().cloned().flatten();
        return match outcomes.remove(&0) {
            Some(Outcome::Created) => http::json(201, &json!({"id": id, "created": true})),
            Some(Outcome::Updated) => http::json(200, &json!({"id": id, "created": false})),
            Some(Outcome::Rejected(e)) => Err(e),
            Some(Outcome::Busy) => Err(ApiError::Conflict(BUSY.into())),
            None => Err(ApiError::Internal("ticket without an outcome".into())),
        };
    }
    let (mut created, mut updated, mut rejected) = (0, 0, Vec::new());
    for (i, o) in outcomes {
        match o {
            Outcome::Created => created += 1,
            Outcome::Updated => updated += 1,
            Outcome::Rejected(e) => {
                let (_, code, message) = e.parts();
                rejected.push(json!({
                    "index": i, "id": ids.get(i).cloned().flatten(), "code": code,
                    "error": message
                }))
            }
            Outcome::Busy => rejected.push(json!({
                "index": i, "id": ids.get(i).cloned().flatten(), "code": "conflict",
                "error": BUSY
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

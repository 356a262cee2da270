//! `GET`, `PUT` and `DELETE /v1/opening-balances` (secret key): what a business already had
//! when it started sending events — customers, open tickets, MRR — as of a day, so that its
//! churn, backlog and MRR start from the truth rather than from zero. Stored as one raw row
//! whose counters its triggers keep (`db::openings`); validation is kpi-core's `opening`.
use kpi_core::opening::{Opening, RawOpening};
use serde_json::{json, Value};
use worker::{Method, Response};

use crate::auth::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, BODY_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/opening-balances"),
    endpoints: &[
        Endpoint {
            method: Method::Get,
            handler: Handler::Secret(|c, p| Box::pin(get(c, p))),
        },
        Endpoint {
            method: Method::Put,
            handler: Handler::Secret(|c, p| Box::pin(put(c, p))),
        },
        Endpoint {
            method: Method::Delete,
            handler: Handler::Secret(|c, p| Box::pin(delete(c, p))),
        },
    ],
    cors: false,
    log: "/v1/opening-balances",
}];

/// `GET /v1/opening-balances`: the balances set, or `null`.
async fn get(c: Call, p: Principal) -> ApiResult<Response> {
    let body = db::openings::get(&db::open(&c.env)?, &p.tenant.id).await?;
    let balances: Value = body
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or(Value::Null);
    http::json(200, &json!({ "opening_balances": balances }))
}

/// `PUT /v1/opening-balances`: sets (replaces) the balances.
async fn put(mut c: Call, p: Principal) -> ApiResult<Response> {
    let raw: RawOpening = json_body(&mut c.req, BODY_LIMIT).await?;
    let opening = Opening::from_wire(&raw)?;
    let day = opening.day()?.to_string();
    let body = serde_json::to_string(&raw).map_err(|e| ApiError::Internal(e.to_string()))?;
    let contrib = kpi_core::rollup::contrib_json(&opening.contributions());
    db::openings::put(&db::open(&c.env)?, &p.tenant.id, &day, &body, &contrib).await?;
    crate::log::event("opening_balances_set", &[("tenant", &p.tenant.id)]);
    http::json(200, &json!({ "opening_balances": raw }))
}

/// `DELETE /v1/opening-balances`: removes them.
async fn delete(c: Call, p: Principal) -> ApiResult<Response> {
    db::openings::delete(&db::open(&c.env)?, &p.tenant.id).await?;
    http::json(200, &json!({ "opening_balances": null }))
}

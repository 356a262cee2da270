//! `GET`, `PUT` and `DELETE /v1/opening-balances` (secret key): what a business already had
//! when it started sending events — customers, open tickets, MRR — as of a day, so that its
//! churn, backlog and MRR start from the truth rather than from zero. Stored as one raw row
//! whose counters its triggers keep (migration 0005); validation is kpi-core's `opening`.
use kpi_core::opening::{Opening, RawOpening};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, query_pairs, BODY_LIMIT};

#[derive(Deserialize)]
struct Row {
    body: String,
}

/// `GET /v1/opening-balances`: the balances set, or `null`.
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let row: Option<Row> = crate::db::open(env)?
        .prepare("SELECT body FROM openings WHERE tenant_id = ?1")
        .bind(&[JsValue::from_str(&p.tenant.id)])?
        .first(None)
        .await?;
    let balances: Value = row
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or(Value::Null);
    http::json(200, &json!({ "opening_balances": balances }))
}

/// `PUT /v1/opening-balances`: sets (replaces) the balances.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let raw: RawOpening = json_body(&mut req, BODY_LIMIT).await?;
    let opening = Opening::from_wire(&raw)?;
    let day = opening.day()?.to_string();
    let body = serde_json::to_string(&raw).map_err(|e| ApiError::Internal(e.to_string()))?;
    let contrib = kpi_core::rollup::contrib_json(&opening.contributions());
    crate::db::open(env)?
        .prepare(
            "INSERT INTO openings (tenant_id, day, body, contrib) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (tenant_id) DO UPDATE SET day = excluded.day, body = excluded.body, \
             contrib = excluded.contrib",
        )
        .bind(&[
            JsValue::from_str(&p.tenant.id),
            JsValue::from_str(&day),
            JsValue::from_str(&body),
            JsValue::from_str(&contrib),
        ])?
        .run()
        .await?;
    crate::log::event("opening_balances_set", &[("tenant", &p.tenant.id)]);
    http::json(200, &json!({ "opening_balances": raw }))
}

/// `DELETE /v1/opening-balances`: removes them.
pub async fn delete(req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    crate::db::open(env)?
        .prepare("DELETE FROM openings WHERE tenant_id = ?1")
        .bind(&[JsValue::from_str(&p.tenant.id)])?
        .run()
        .await?;
    http::json(200, &json!({ "opening_balances": null }))
}

//! `PUT /v1/targets` and `GET /v1/targets`: a tenant's KPI targets, which override the
//! catalog defaults in `GET /v1/kpis` (and so decide each KPI's status). Stored in D1 with
//! the tenant, served from the tenant's KV-cached configuration, which a write invalidates.
use std::collections::BTreeMap;

use kpi_core::kpi;
use kpi_core::target::Target;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, query_pairs, BODY_LIMIT};
use crate::tenants;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetIn {
    min: f64,
    goal: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsBody {
    targets: BTreeMap<String, TargetIn>,
}

/// Checks every id against the catalog and every bound for finiteness.
fn validate(body: TargetsBody) -> ApiResult<BTreeMap<String, Target>> {
    let mut out = BTreeMap::new();
    for (id, t) in body.targets {
        kpi::find(&id).map_err(|e| ApiError::Invalid(e.to_string()))?;
        if !t.min.is_finite() || !t.goal.is_finite() {
            return Err(ApiError::Invalid(format!(
                "targets.{id}: `min` and `goal` must be finite numbers"
            )));
        }
        out.insert(
            id,
            Target {
                min: t.min,
                goal: t.goal,
            },
        );
    }
    Ok(out)
}

/// `PUT /v1/targets` (secret key): replaces the tenant's targets with the ones sent.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let body: TargetsBody = json_body(&mut req, BODY_LIMIT).await?;
    let targets = validate(body)?;
    let stored = serde_json::to_string(&targets).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::db::open(env)?
        .prepare("UPDATE tenants SET targets = ?2 WHERE id = ?1")
        .bind(&[JsValue::from_str(&p.tenant.id), JsValue::from_str(&stored)])?
        .run()
        .await?;
    tenants::invalidate(env, &p.tenant.id).await?;
    http::json(200, &json!({"targets": targets}))
}

/// `GET /v1/targets` (secret key): the tenant's targets (KPIs not listed use the catalog's).
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    http::json(200, &json!({"targets": p.tenant.targets}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: serde_json::Value) -> TargetsBody {
        serde_json::from_value(v).expect("well-formed")
    }

    #[test]
    fn known_ids_pass_and_unknown_ids_are_invalid() {
        let ok = validate(body(json!({"targets": {"nps": {"min": 0, "goal": 60}}})));
        assert_eq!(ok.map(|t| t.len()).ok(), Some(1));
        let bad = validate(body(
            json!({"targets": {"no_such_kpi": {"min": 0, "goal": 1}}}),
        ));
        assert!(matches!(bad, Err(ApiError::Invalid(_))));
    }
}

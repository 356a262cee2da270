//! `PUT /v1/targets` and `GET /v1/targets`: a tenant's KPI targets, which override the
//! catalog defaults in `GET /v1/kpis` (and so decide each KPI's status). Stored in D1 with
//! the tenant, served from the tenant's KV-cached configuration, which a write invalidates.
use std::collections::BTreeMap;
use std::rc::Rc;

use kpi_core::kpi;
use kpi_core::target::{Target, TargetPeriod};
use serde::Deserialize;
use serde_json::json;
use worker::{Method, Response};

use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, BODY_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/targets"),
    endpoints: &[
        Endpoint {
            method: Method::Get,
            handler: Handler::Secret(|_, p| Box::pin(async move { get(p) })),
        },
        Endpoint {
            method: Method::Put,
            handler: Handler::Secret(|c, p| Box::pin(put(c, p))),
        },
    ],
    cors: false,
    log: "/v1/targets",
}];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetIn {
    min: f64,
    goal: f64,
    /// `day|week|month|quarter|half|year`: the length of period the bounds are meant for;
    /// left out, they apply to any period as is.
    #[serde(default)]
    period: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsBody {
    targets: BTreeMap<String, TargetIn>,
}

/// Checks every id against the catalog and every bound against
/// [`BOUND_MAGNITUDE`](kpi_core::target::BOUND_MAGNITUDE).
fn validate(body: TargetsBody) -> ApiResult<BTreeMap<String, Target>> {
    let mut out = BTreeMap::new();
    for (id, t) in body.targets {
        kpi::find(&id).map_err(|e| ApiError::Invalid(e.to_string()))?;
        if !Target::new(t.min, t.goal).bounds_valid() {
            // The range of BOUND_MAGNITUDE, written out (no float formatting in the worker).
            return Err(ApiError::Invalid(format!(
                "targets.{id}: `min` and `goal` must be finite numbers, 0 or between 1e-30 and \
                 1e30 in magnitude"
            )));
        }
        let period = match t.period.as_deref() {
            None => None,
            Some(p) => Some(TargetPeriod::parse(p).ok_or_else(|| {
                ApiError::Invalid(format!(
                    "targets.{id}.period: `{p}` is not one of day, week, month, quarter, half, year"
                ))
            })?),
        };
        out.insert(
            id,
            Target {
                min: t.min,
                goal: t.goal,
                period,
            },
        );
    }
    Ok(out)
}

/// `PUT /v1/targets` (secret key): replaces the tenant's targets with the ones sent.
async fn put(mut c: Call, p: Principal) -> ApiResult<Response> {
    let body: TargetsBody = json_body(&mut c.req, BODY_LIMIT).await?;
    let mut tenant = Rc::unwrap_or_clone(p.tenant);
    tenant.targets = validate(body)?;
    crate::tenant::save_targets(&crate::db::open(&c.env)?, &tenant).await?;
    auth::invalidate(&c.env, &tenant.id).await?;
    http::json(200, &json!({"targets": tenant.targets}))
}

/// `GET /v1/targets` (secret key): the tenant's targets (KPIs not listed use the catalog's).
fn get(p: Principal) -> ApiResult<Response> {
    http::json(200, &json!({"targets": p.tenant.targets}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kpi_core::target::BOUND_MAGNITUDE;

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
        // What the offline widget could not read back exactly is refused, with the range
        // BOUND_MAGNITUDE holds.
        assert_eq!(BOUND_MAGNITUDE, 1e-30..=1e30);
        for (min, goal) in [(1e-31, 1.0), (0.0, 2e30), (0.0, -1e31)] {
            let bad = validate(body(
                json!({"targets": {"nps": {"min": min, "goal": goal}}}),
            ));
            assert!(
                matches!(&bad, Err(ApiError::Invalid(m)) if m.contains("between 1e-30 and 1e30")),
                "{min} {goal}"
            );
        }
        let edge = validate(body(
            json!({"targets": {"nps": {"min": -1e30, "goal": 1e-30}}}),
        ));
        assert!(edge.is_ok());
    }

    #[test]
    fn a_target_states_its_period_or_applies_to_any() {
        let ok = validate(body(json!({"targets": {
            "churn_rate": {"min": 5, "goal": 3, "period": "month"},
            "nps": {"min": 0, "goal": 50}}})))
        .expect("valid");
        assert_eq!(ok["churn_rate"].period, Some(TargetPeriod::Month));
        assert_eq!(ok["nps"].period, None);
        let bad = validate(body(json!({"targets": {
            "churn_rate": {"min": 5, "goal": 3, "period": "fortnight"}}})));
        assert!(matches!(bad, Err(ApiError::Invalid(_))));
    }
}

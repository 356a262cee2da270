//! `GET` and `PATCH /v1/settings` (secret key): what a tenant may change about itself after
//! creation — name, locale, allowed origins, business hours and the webhook. The time zone is
//! fixed at creation: stored days are cut in it. Targets have their own route.
use std::rc::Rc;

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, Response};

use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, BODY_LIMIT};
use crate::kpi_settings::Alerts;
use crate::kpi_settings::KpiSettings;
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::secrets;
use crate::tenant::{parse_hours, valid_name, valid_origin, TenantConfig, WireHours};
use crate::webhooks;

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/settings"),
    endpoints: &[
        Endpoint {
            method: Method::Get,
            handler: Handler::Secret(|c, p| Box::pin(get(c, p))),
        },
        Endpoint {
            method: Method::Patch,
            handler: Handler::Secret(|c, p| Box::pin(patch(c, p))),
        },
    ],
    cors: false,
    log: "/v1/settings",
}];

/// A field that can be left out, set, or set to `null`.
#[derive(Default)]
enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookIn {
    url: Option<String>,
    #[serde(default)]
    rotate_secret: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    business_hours: Patch<WireHours>,
    #[serde(default)]
    webhook: Patch<WebhookIn>,
    #[serde(default)]
    kpis: Patch<KpiSettings>,
    #[serde(default)]
    alerts: Patch<Alerts>,
}

/// The settings as served: the configuration plus the webhook's secret and delivery counts.
async fn view(env: &Env, t: &TenantConfig) -> ApiResult<Value> {
    let webhook = match &t.webhook_url {
        Some(url) => json!({
            "url": url,
            "secret": secrets::webhook(env, &t.id, t.webhook_gen)?,
            "deliveries": webhooks::stats(env, &t.id).await?,
        }),
        None => Value::Null,
    };
    Ok(json!({"settings": {
        "id": t.id, "name": t.name, "timezone": t.timezone, "locale": t.locale,
        "allowed_origins": t.allowed_origins, "business_hours": t.business_hours,
        "business_hours_since": t.hours_since, "kpis": t.kpi_settings, "alerts": t.alerts,
        "webhook": webhook,
    }}))
}

/// `GET /v1/settings`.
async fn get(c: Call, p: Principal) -> ApiResult<Response> {
    http::json(200, &view(&c.env, &p.tenant).await?)
}

/// Applies a patch to a configuration, validating every field (the name by creation's
/// rules). `own` are the worker's own origins, which a webhook may not point at.
fn apply(
    env: &Env,
    mut t: TenantConfig,
    body: SettingsIn,
    own: &[webhooks::Origin],
    today: kpi_core::period::CivilDate,
) -> ApiResult<TenantConfig> {
    if let Some(name) = body.name {
        t.name = valid_name(&name)?;
    }
    if let Some(locale) = body.locale {
        if locale != "vi" && locale != "en" {
            return Err(ApiError::Invalid("`locale` must be `vi` or `en`.".into()));
        }
        t.locale = locale;
    }
    if let Some(origins) = body.allowed_origins {
        if origins.len() > 50 || !origins.iter().all(|o| valid_origin(o)) {
            return Err(ApiError::Invalid(
                "`allowed_origins` must be up to 50 origins like `https://crm.example.com`.".into(),
            ));
        }
        t.allowed_origins = origins;
    }
    match body.business_hours {
        Patch::Keep => {}
        Patch::Clear => {
            if t.business_hours.take().is_some() {
                t.hours_since = Some(today.to_string());
            }
        }
        Patch::Set(h) => {
            parse_hours(&h, t.tz())
                .map_err(|m| ApiError::Rejected("invalid_hours", format!("business_hours: {m}")))?;
            if t.business_hours.as_ref() != Some(&h) {
                t.hours_since = Some(today.to_string());
            }
            t.business_hours = Some(h);
        }
    }
    match body.alerts {
        Patch::Keep => {}
        Patch::Clear => t.alerts = None,
        Patch::Set(a) => {
            a.validate()?;
            t.alerts = Some(a);
        }
    }
    match body.kpis {
        Patch::Keep => {}
        Patch::Clear => t.kpi_settings = KpiSettings::default(),
        Patch::Set(k) => {
            k.validate()?;
            t.kpi_settings = k;
        }
    }
    match body.webhook {
        Patch::Keep => {}
        Patch::Clear => t.webhook_url = None,
        Patch::Set(w) => {
            t.webhook_url = match w.url {
                Some(url) => Some(webhooks::check_url(env, &url, own)?),
                None => None,
            };
            if w.rotate_secret {
                t.webhook_gen = t.webhook_gen.saturating_add(1);
            }
        }
    }
    Ok(t)
}

/// `PATCH /v1/settings`: changes the fields sent (`null` clears business hours or the
/// webhook) and answers the new settings.
async fn patch(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
    let body: SettingsIn = json_body(&mut req, BODY_LIMIT).await?;
    let own = webhooks::own_origins(env, req.url().ok().as_ref());
    let today = kpi_core::period::CivilDate::of_instant(crate::http::now_ms(), p.tenant.tz())?;
    let before = p.tenant.kpi_settings.service_targets();
    let alerts_before = p.tenant.alerts.clone();
    let t = apply(env, Rc::unwrap_or_clone(p.tenant), body, &own, today)?;
    let db = crate::db::open(env)?;
    crate::tenant::save_settings(&db, &t).await?;
    // Other KPIs or another period: the statuses seen so far say nothing of the new watch.
    if t.alerts != alerts_before {
        crate::db::alerts::forget(&db, &t.id).await?;
    }
    // New first-response targets: every stored ticket is judged again, so the service level
    // of every period counts against the targets in force now.
    if t.kpi_settings.service_targets() != before {
        let ms = t.kpi_settings.targets_ms_json();
        let n = crate::db::tickets::rejudge(&db, &t.id, &ms).await?;
        crate::log::event(
            "tickets_rejudged",
            &[("tenant", &t.id), ("rows", &n.to_string())],
        );
    }
    auth::invalidate(env, &t.id).await?;
    crate::log::event("settings_changed", &[("tenant", &t.id)]);
    http::json(200, &view(env, &t).await?)
}

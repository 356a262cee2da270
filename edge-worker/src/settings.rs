//! `GET` and `PATCH /v1/settings` (secret key): what a tenant may change about itself after
//! creation — name, locale, allowed origins, business hours and the webhook. The time zone is
//! fixed at creation: stored days are cut in it. Targets have their own route.
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, query_pairs, BODY_LIMIT};
use crate::tenants::{self, parse_hours, valid_name, valid_origin, TenantConfig, WireHours};
use crate::webhooks;

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
}

/// The settings as served: the configuration plus the webhook's secret and delivery counts.
async fn view(env: &Env, t: &TenantConfig) -> ApiResult<Value> {
    let webhook = match &t.webhook_url {
        Some(url) => json!({
            "url": url,
            "secret": webhooks::secret(&webhooks::master(env)?, &t.id, t.webhook_gen)?,
            "deliveries": webhooks::stats(env, &t.id).await?,
        }),
        None => Value::Null,
    };
    Ok(json!({"settings": {
        "id": t.id, "name": t.name, "timezone": t.timezone, "locale": t.locale,
        "allowed_origins": t.allowed_origins, "business_hours": t.business_hours,
        "webhook": webhook,
    }}))
}

/// `GET /v1/settings`.
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    http::json(200, &view(env, &p.tenant).await?)
}

/// Applies a patch to a configuration, validating every field (the name by creation's
/// rules). `own` are the worker's own origins, which a webhook may not point at.
fn apply(
    env: &Env,
    mut t: TenantConfig,
    body: SettingsIn,
    own: &[webhooks::Origin],
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
        Patch::Clear => t.business_hours = None,
        Patch::Set(h) => {
            parse_hours(&h, t.tz())
                .map_err(|m| ApiError::Invalid(format!("business_hours: {m}")))?;
            t.business_hours = Some(h);
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
pub async fn patch(mut req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let body: SettingsIn = json_body(&mut req, BODY_LIMIT).await?;
    let own = webhooks::own_origins(env, req.url().ok().as_ref());
    let t = apply(env, p.tenant, body, &own)?;
    let origins = serde_json::to_string(&t.allowed_origins).unwrap_or_else(|_| "[]".into());
    let hours = match &t.business_hours {
        Some(h) => JsValue::from_str(&serde_json::to_string(h).unwrap_or_default()),
        None => JsValue::NULL,
    };
    crate::db::open(env)?
        .prepare(
            "UPDATE tenants SET name = ?2, locale = ?3, allowed_origins = ?4, business_hours = ?5, \
             webhook_url = ?6, webhook_gen = ?7 WHERE id = ?1",
        )
        .bind(&[
            t.id.as_str().into(),
            t.name.as_str().into(),
            t.locale.as_str().into(),
            origins.as_str().into(),
            hours,
            t.webhook_url
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
            JsValue::from_f64(t.webhook_gen as f64),
        ])?
        .run()
        .await?;
    tenants::invalidate(env, &t.id).await?;
    crate::log::event("settings_changed", &[("tenant", &t.id)]);
    http::json(200, &view(env, &t).await?)
}

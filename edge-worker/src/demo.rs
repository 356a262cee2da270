//! `GET /demo`: a sample CRM page embedding the widget against the demo tenant. Enabled only
//! when the variable `DEMO_PAGE` is `on` (local runs: `.dev.vars`); the demo tenant's
//! publishable key (public by design) is registered with `PUT /admin/demo`.
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, html_escape, json_body, BODY_LIMIT};

#[derive(Serialize, Deserialize)]
struct DemoConfig {
    tenant: String,
    publishable_key: String,
}

fn enabled(env: &Env) -> bool {
    env.var("DEMO_PAGE")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

/// `PUT /admin/demo` (admin token): which tenant and key the demo page shows.
pub async fn register(mut req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(env, &req).await?;
    if !enabled(env) {
        return Err(ApiError::NotFound("The demo page is disabled."));
    }
    let cfg: DemoConfig = json_body(&mut req, BODY_LIMIT).await?;
    if !cfg.publishable_key.starts_with("pk_") {
        return Err(ApiError::Invalid(
            "`publishable_key` must be a pk_ key".into(),
        ));
    }
    env.kv("KV")?
        .put("demo", serde_json::to_string(&cfg).unwrap_or_default())?
        .execute()
        .await?;
    http::json(200, &serde_json::json!({"ok": true}))
}

/// `GET /demo`: the sample CRM page.
pub async fn page(env: &Env) -> ApiResult<Response> {
    if !enabled(env) {
        return Err(ApiError::NotFound("The demo page is disabled."));
    }
    let cfg: DemoConfig = env
        .kv("KV")?
        .get("demo")
        .json()
        .await
        .ok()
        .flatten()
        .ok_or(ApiError::NotFound(
            "No demo tenant is registered: run `cargo xtask run`.",
        ))?;
    let key = html_escape(&cfg.publishable_key);
    let tenant = html_escape(&cfg.tenant);
    let html = format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Demo CRM — {tenant}</title>\
<style>body{{margin:0;font-family:Georgia,serif;background:#eef0f3}}header{{background:#23395d;color:#fff;padding:12px 20px}}\
main{{display:grid;grid-template-columns:1fr 320px;gap:20px;padding:20px}}section{{background:#fff;padding:16px;border-radius:6px}}\
@media (max-width:720px){{main{{grid-template-columns:1fr}}}}</style>\
<script type=\"module\" src=\"/widget/kpi-widget.js\"></script></head><body>\
<header><strong>Demo CRM</strong> · {tenant}</header><main>\
<section><h2>Khách hàng</h2><p>Trang CRM mẫu. Bảng KPI bên dưới được nhúng bằng một thẻ duy nhất.</p>\
<kpi-widget id=\"main-widget\" endpoint=\"\" key=\"{key}\" metrics=\"nps\" period=\"quarter\" compare=\"previous\" lang=\"vi\"></kpi-widget></section>\
<aside><section><h3>Side panel</h3><kpi-widget id=\"side-widget\" endpoint=\"\" key=\"{key}\" metrics=\"nps\" period=\"month\" lang=\"en\"></kpi-widget></section></aside>\
</main></body></html>"
    );
    let mut resp = Response::from_html(html)?;
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

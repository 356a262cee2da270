//! The edge worker: a thin routing shell over `kpi-core` and D1/KV storage.
//!
//! *Architecture invariant*: handlers return `Result<Response, ApiError>` and the only place
//! an error becomes a response is [`fetch`]. No handler panics on outside data: a panic
//! resets the wasm instance.
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod auth;
mod data;
mod db;
mod demo;
mod error;
mod events;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod http;
mod keys;
mod kpis;
mod limits;
mod log;
mod memo;
mod openings;
mod page;
mod respondents;
mod rollups;
mod settings;
mod surveys;
mod targets;
mod tenants;
mod tickets;
mod token;
mod webhooks;

use error::{ApiError, ApiResult};

/// Routes whose answers a browser page on another origin may read.
fn cors_route(path: &str) -> bool {
    path == "/v1/kpis" || path == "/v1/kpis/catalog"
}

/// Public survey routes: the token is the credential, so the client address is limited.
fn survey_route(path: &str, method: &Method) -> bool {
    path.starts_with("/s/") || (path == "/v1/responses" && *method == Method::Post)
}

async fn route(req: Request, env: &Env, ctx: &Context) -> ApiResult<Response> {
    let path = req.path();
    let method = req.method();
    // workers-rs turns a method it does not know (QUERY, PROPFIND…) into GET; found by spec
    // fuzzing, which saw `QUERY /v1/kpis` answered as a read. Such methods get a 405.
    if req.inner().method() != method.as_ref() {
        return Err(match allowed_methods(&path) {
            Some(allow) => ApiError::MethodNotAllowed(allow),
            None => ApiError::NotFound("No such route."),
        });
    }
    if survey_route(&path, &method) {
        limits::survey_client(env, &req).await?;
    }
    match (path.as_str(), method) {
        ("/healthz", Method::Get) => http::json(
            200,
            &serde_json::json!({"ok": true, "version": env!("CARGO_PKG_VERSION"),
                // Linear memory of this isolate's wasm instance: `cargo xtask bench` watches
                // it stay flat under load (pages of 64 KiB; it never shrinks).
                "wasm_memory_bytes": wasm_memory_bytes()}),
        ),
        ("/openapi.json", Method::Get) => openapi(),
        ("/admin/tenants", Method::Post) => tenants::create(req, env).await,
        (p, Method::Post) if admin_keys_route(p) => keys::recover(req, env).await,
        ("/admin/demo", Method::Put) => demo::register(req, env).await,
        ("/demo", Method::Get) => demo::page(env).await,
        ("/v1/survey-links", Method::Post) => surveys::mint(req, env).await,
        ("/v1/survey-links/revoke", Method::Post) => surveys::revoke_links(req, env).await,
        ("/v1/keys", Method::Get) => keys::list(req, env).await,
        ("/v1/keys", Method::Post) => keys::mint(req, env).await,
        (p, Method::Delete) if p.starts_with("/v1/keys/") => keys::revoke(req, env).await,
        ("/v1/responses", Method::Post) => surveys::submit_json(req, env, ctx).await,
        ("/v1/responses", Method::Get) => data::list_responses(req, env).await,
        ("/v1/responses/import", Method::Post) => surveys::import(req, env).await,
        ("/v1/tickets", Method::Post) => tickets::ingest(req, env).await,
        ("/v1/tickets", Method::Get) => data::list_tickets(req, env).await,
        ("/v1/export.csv", Method::Get) => data::export(req, env).await,
        ("/v1/targets", Method::Get) => targets::get(req, env).await,
        ("/v1/targets", Method::Put) => targets::put(req, env).await,
        ("/v1/settings", Method::Get) => settings::get(req, env).await,
        ("/v1/settings", Method::Patch) => settings::patch(req, env).await,
        (p, Method::Delete) if p.starts_with("/v1/respondents/") => data::erase(req, env).await,
        ("/v1/events", Method::Post) => events::ingest(req, env).await,
        ("/v1/kpis", Method::Get) => kpis::get(req, env, ctx).await,
        ("/v1/kpis/catalog", Method::Get) => kpis::catalog(),
        ("/v1/rollups", Method::Get) => rollups::get(req, env).await,
        ("/v1/opening-balances", Method::Get) => openings::get(req, env).await,
        ("/v1/opening-balances", Method::Put) => openings::put(req, env).await,
        ("/v1/opening-balances", Method::Delete) => openings::delete(req, env).await,
        (p, Method::Options) if cors_route(p) => preflight(&req),
        (p, Method::Get) if p.starts_with("/s/") => page::show(req, env).await,
        (p, Method::Post) if p.starts_with("/s/") => page::submit(req, env, ctx).await,
        (p, _) => match allowed_methods(p) {
            Some(allow) => Err(ApiError::MethodNotAllowed(allow)),
            None => Err(ApiError::NotFound("No such route.")),
        },
    }
}

/// `/admin/tenants/{id}/keys`.
fn admin_keys_route(path: &str) -> bool {
    path.strip_prefix("/admin/tenants/")
        .and_then(|p| p.strip_suffix("/keys"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The methods a routed path answers, for the `Allow` header of a 405 (RFC 9110 requires
/// it); `None` for a path that is not routed (404).
fn allowed_methods(path: &str) -> Option<&'static str> {
    Some(match path {
        "/healthz" | "/openapi.json" | "/demo" | "/v1/export.csv" => "GET",
        "/v1/kpis" | "/v1/kpis/catalog" => "GET, OPTIONS",
        "/admin/tenants"
        | "/v1/survey-links"
        | "/v1/survey-links/revoke"
        | "/v1/responses/import"
        | "/v1/events" => "POST",
        "/admin/demo" => "PUT",
        "/v1/responses" | "/v1/tickets" | "/v1/keys" => "GET, POST",
        "/v1/targets" => "GET, PUT",
        "/v1/settings" => "GET, PATCH",
        "/v1/rollups" => "GET",
        "/v1/opening-balances" => "GET, PUT, DELETE",
        p if p.starts_with("/s/") => "GET, POST",
        p if admin_keys_route(p) => "POST",
        p if p.starts_with("/v1/respondents/") || p.starts_with("/v1/keys/") => "DELETE",
        _ => return None,
    })
}

/// The wasm linear memory of this instance, in bytes (0 when not built for wasm).
fn wasm_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    pages * 65536
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route, kept true by
/// `tests/tests/openapi.rs` against the running worker.
fn openapi() -> ApiResult<Response> {
    let mut resp = Response::from_bytes(include_bytes!("../api/openapi.json").to_vec())?;
    resp.headers_mut().set("content-type", "application/json")?;
    resp.headers_mut()
        .set("cache-control", "public, max-age=300")?;
    Ok(resp)
}

fn preflight(req: &Request) -> ApiResult<Response> {
    let mut resp = Response::empty()?.with_status(204);
    let h = resp.headers_mut();
    if let Ok(Some(origin)) = req.headers().get("origin") {
        h.set("access-control-allow-origin", &origin)?;
    }
    h.set("access-control-allow-methods", "GET, OPTIONS")?;
    h.set("access-control-allow-headers", "authorization")?;
    h.set("access-control-max-age", "600")?;
    h.set("vary", "Origin")?;
    Ok(resp)
}

/// The path as logs show it: tokens and respondent ids stay out of logs.
fn log_route(path: &str) -> &str {
    if path.starts_with("/s/") {
        "/s/:token"
    } else if path.starts_with("/v1/respondents/") {
        "/v1/respondents/:id"
    } else if path.len() > 64 {
        "(long path)"
    } else {
        path
    }
}

/// `REQUEST_LOG = "all"`: a line for every request; otherwise for failed ones (4xx, 5xx)
/// only. Cloudflare's analytics count requests, statuses and CPU without a log line each;
/// a line per answer would spend the free plan's daily log events and a console call on
/// every request. Read once per isolate.
fn log_every_request(env: &Env) -> bool {
    thread_local! {
        static ALL: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
    }
    ALL.with(|a| {
        *a.get_or_init(|| {
            env.var("REQUEST_LOG")
                .map(|v| v.to_string() == "all")
                .unwrap_or(false)
        })
    })
}

/// The worker's entry point.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = http::now_ms();
    let path = req.path();
    let method = req.method();
    let origin = if cors_route(&path) {
        req.headers().get("origin").ok().flatten()
    } else {
        None
    };
    let mut resp = match route(req, &env, &ctx).await {
        Ok(r) => r,
        Err(e) => e.to_response()?,
    };
    let d1 = resp.headers().get(http::D1_ROWS_HEADER).ok().flatten();
    if d1.is_some() {
        resp.headers_mut().delete(http::D1_ROWS_HEADER)?;
    }
    let status = resp.status_code();
    if status >= 400 || log_every_request(&env) {
        log::request(
            method.as_ref(),
            log_route(&path),
            status,
            http::now_ms() - started,
            d1.as_deref(),
        );
    }
    // The KPI routes check the origin themselves (a publishable key only answers an allowed
    // origin); echoing it lets the widget read errors such as "origin not allowed" too.
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.set("access-control-allow-origin", &origin)?;
        h.set("vary", "Origin")?;
    }
    Ok(resp)
}

/// The cron trigger (wrangler.toml `[triggers]`): retries webhook deliveries that are due.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match webhooks::retry_due(&env).await {
        Ok(n) if n > 0 => log::event("webhook_retries", &[("count", &n.to_string())]),
        Ok(_) => {}
        Err(e) => log::event("error", &[("code", "cron"), ("message", &e.detail())]),
    }
}

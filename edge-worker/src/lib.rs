//! The edge worker: a thin routing shell over `kpi-core` and D1/KV storage.
//!
//! *Architecture invariant*: handlers return `Result<Response, ApiError>` and the only place
//! an error becomes a response is [`fetch`]. No handler panics on outside data: a panic
//! resets the wasm instance.
use worker::{event, Context, Env, Method, Request, Response};

mod auth;
mod data;
mod demo;
mod error;
mod events;
mod http;
mod kpis;
mod log;
mod page;
mod store;
mod surveys;
mod targets;
mod tenants;
mod tickets;
mod token;

use error::{ApiError, ApiResult};

/// Routes whose answers a browser page on another origin may read.
fn cors_route(path: &str) -> bool {
    path == "/v1/kpis" || path == "/v1/kpis/catalog"
}

async fn route(req: Request, env: &Env) -> ApiResult<Response> {
    let path = req.path();
    let method = req.method();
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
        ("/admin/demo", Method::Put) => demo::register(req, env).await,
        ("/demo", Method::Get) => demo::page(env).await,
        ("/v1/survey-links", Method::Post) => surveys::mint(req, env).await,
        ("/v1/responses", Method::Post) => surveys::submit_json(req, env).await,
        ("/v1/responses", Method::Get) => data::list_responses(req, env).await,
        ("/v1/responses/import", Method::Post) => surveys::import(req, env).await,
        ("/v1/tickets", Method::Post) => tickets::ingest(req, env).await,
        ("/v1/tickets", Method::Get) => data::list_tickets(req, env).await,
        ("/v1/export.csv", Method::Get) => data::export(req, env).await,
        ("/v1/targets", Method::Get) => targets::get(req, env).await,
        ("/v1/targets", Method::Put) => targets::put(req, env).await,
        (p, Method::Delete) if p.starts_with("/v1/respondents/") => data::erase(req, env).await,
        ("/v1/events", Method::Post) => events::ingest(req, env).await,
        ("/v1/kpis", Method::Get) => kpis::get(req, env).await,
        ("/v1/kpis/catalog", Method::Get) => kpis::catalog(),
        (p, Method::Options) if cors_route(p) => preflight(&req),
        (p, Method::Get) if p.starts_with("/s/") => page::show(req, env).await,
        (p, Method::Post) if p.starts_with("/s/") => page::submit(req, env).await,
        (
            "/healthz"
            | "/openapi.json"
            | "/admin/tenants"
            | "/admin/demo"
            | "/demo"
            | "/v1/survey-links"
            | "/v1/responses"
            | "/v1/responses/import"
            | "/v1/tickets"
            | "/v1/events"
            | "/v1/export.csv"
            | "/v1/targets"
            | "/v1/kpis"
            | "/v1/kpis/catalog",
            _,
        ) => Err(ApiError::MethodNotAllowed),
        (p, _) if p.starts_with("/s/") || p.starts_with("/v1/respondents/") => {
            Err(ApiError::MethodNotAllowed)
        }
        _ => Err(ApiError::NotFound("No such route.")),
    }
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

/// The worker's entry point.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let path = req.path();
    let origin = req.headers().get("origin").ok().flatten();
    let mut resp = match route(req, &env).await {
        Ok(r) => r,
        Err(e) => e.to_response()?,
    };
    // The KPI routes check the origin themselves (a publishable key only answers an allowed
    // origin); echoing it lets the widget read errors such as "origin not allowed" too.
    if let (true, Some(origin)) = (cors_route(&path), origin) {
        let h = resp.headers_mut();
        h.set("access-control-allow-origin", &origin)?;
        h.set("vary", "Origin")?;
    }
    Ok(resp)
}

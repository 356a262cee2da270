//! The edge worker: a thin routing shell over `kpi-core` and D1/KV storage.
//!
//! *Architecture invariant*: handlers return `Result<Response, ApiError>` and the only place
//! an error becomes a response is [`fetch`]. No handler panics on outside data: a panic
//! resets the wasm instance.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

mod alerts;
mod answers;
mod auth;
mod db;
mod error;
mod events;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod http;
mod kpi_settings;
mod kv;
mod limits;
mod log;
mod memo;
mod paging;
mod params;
mod qr;
mod respondents;
mod route;
mod router;
mod routes;
mod secrets;
mod tenant;
mod ticket_merge;
mod token;
mod webhooks;

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

/// The worker's entry point: the route table (`router`) finds the route, checks the method
/// and the credential, runs the handler; an error becomes its response here and nowhere else.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = http::now_ms();
    let path = req.path();
    let method = req.method();
    let route = router::find(&path);
    let cors = route.is_some_and(|r| r.cors);
    let origin = if cors {
        req.headers().get("origin").ok().flatten()
    } else {
        None
    };
    let mut resp = match router::dispatch(route, req, env.clone(), ctx).await {
        Ok(r) => r,
        Err(e) => e.to_response()?,
    };
    let d1 = resp.headers().get(http::D1_ROWS_HEADER).ok().flatten();
    if d1.is_some() {
        resp.headers_mut().delete(http::D1_ROWS_HEADER)?;
    }
    let status = resp.status_code();
    if status >= 400 || log_every_request(&env) {
        // The path as logs show it: tokens and respondent ids stay out of logs.
        let name = match route {
            Some(r) => r.log,
            None if path.len() > 64 => "(long path)",
            None => path.as_str(),
        };
        log::request(
            method.as_ref(),
            name,
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

/// The cron trigger (wrangler.toml `[triggers]`): retries webhook deliveries that are due,
/// then announces the KPI status moves of the tenants whose turn it is (`alerts`).
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match webhooks::retry_due(&env).await {
        Ok(n) if n > 0 => log::event("webhook_retries", &[("count", &n.to_string())]),
        Ok(_) => {}
        Err(e) => log::event("error", &[("code", "cron"), ("message", &e.detail())]),
    }
    match alerts::run(&env).await {
        Ok(n) if n > 0 => log::event("kpi_alerts", &[("count", &n.to_string())]),
        Ok(_) => {}
        Err(e) => log::event("error", &[("code", "alerts"), ("message", &e.detail())]),
    }
}

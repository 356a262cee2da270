//! Rate limits, through Cloudflare's rate limiting bindings (counters kept at the edge, no
//! storage round trip): per client IP hash and per link on the public survey routes, per key
//! on the API — a publishable key per (key, address), counted only once its origin is allowed
//! — and per address on the admin routes. Owns the keys and the 429; the limits themselves
//! are in wrangler.toml.
//!
//! A missing binding or a limiter failure lets the request through (and logs it): a limiter
//! outage must not take the surveys down. `RATE_LIMIT = "off"` disables the checks, for load
//! tests from a single machine.
use sha2::{Digest, Sha256};
use worker::{Env, Request};

use crate::error::{ApiError, ApiResult};
use crate::http::hex;

/// The window every binding in wrangler.toml counts over, in seconds: the `Retry-After`.
const PERIOD_S: u32 = 60;

thread_local! {
    /// `RATE_LIMIT`, read once per isolate (a changed variable is a new deployment).
    static ENABLED: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
}

fn enabled(env: &Env) -> bool {
    ENABLED.with(|e| {
        *e.get_or_init(|| {
            env.var("RATE_LIMIT")
                .map(|v| v.to_string() != "off")
                .unwrap_or(true)
        })
    })
}

/// Counts one request under `key` (built only when limits are on) against `binding`.
async fn check(env: &Env, binding: &str, key: impl FnOnce() -> String) -> ApiResult<()> {
    if !enabled(env) {
        return Ok(());
    }
    let key = key();
    let limiter = match env.rate_limiter(binding) {
        Ok(l) => l,
        Err(_) => {
            crate::log::event("rate_limit_unbound", &[("binding", binding)]);
            return Ok(());
        }
    };
    match limiter.limit(key).await {
        Ok(outcome) if !outcome.success => {
            crate::log::event("rate_limited", &[("binding", binding)]);
            Err(ApiError::RateLimited(PERIOD_S))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            crate::log::event(
                "rate_limit_error",
                &[("binding", binding), ("message", &e.to_string())],
            );
            Ok(())
        }
    }
}

/// A client's address as a short hash: limits never need the address itself, and logs and
/// limiter keys should not hold it. Cloudflare sets `CF-Connecting-IP` and overwrites any
/// value a client sends.
pub fn client_hash(req: &Request) -> String {
    let ip = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_default();
    hex(&Sha256::digest(format!("kpi-ip-v1:{ip}").as_bytes())[..12])
}

/// Public survey routes, per client address (`GET`/`POST /s/…`, `POST /v1/responses`).
pub async fn survey_client(env: &Env, req: &Request) -> ApiResult<()> {
    check(env, "SURVEY_IP_LIMIT", || client_hash(req)).await
}

/// Answers to one link (the link id from a verified token).
pub async fn survey_link(env: &Env, link_id: &str) -> ApiResult<()> {
    check(env, "SURVEY_LINK_LIMIT", || format!("link:{link_id}")).await
}

/// The API, per secret key (its public lookup characters).
pub async fn api_key(env: &Env, lookup: &str) -> ApiResult<()> {
    check(env, "API_KEY_LIMIT", || format!("key:{lookup}")).await
}

/// A publishable key, per (key, client address), once the request's origin is allowed: the
/// key is public, so a script anywhere could otherwise spend the tenant's whole budget and
/// blank its widgets on every page.
pub async fn publishable_key(env: &Env, lookup: &str, req: &Request) -> ApiResult<()> {
    check(env, "API_KEY_LIMIT", || {
        format!("pk:{lookup}:{}", client_hash(req))
    })
    .await
}

/// The admin routes, per client address, counted before the token is compared: guessing
/// the admin token stops at the limit, right or wrong.
pub async fn admin_client(env: &Env, req: &Request) -> ApiResult<()> {
    check(env, "ADMIN_LIMIT", || client_hash(req)).await
}

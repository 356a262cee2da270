//! A tenant's own key management (secret key): `GET /v1/keys` lists its keys, `POST
//! /v1/keys` mints one (optionally expiring, optionally replacing another after a grace
//! period), `DELETE /v1/keys/{id}` revokes one at once. A key's id is its public lookup
//! part; the plaintext is shown once, at minting. Revoking or shortening a key deletes its
//! cached resolution, so the change holds from the next request (KV being eventually
//! consistent across Cloudflare locations, elsewhere within the cache's 60 s at most).
//!
//! The operator's way back for a tenant whose secret key leaked is `POST
//! /admin/tenants/{id}/keys` (`routes::tenants`).
//!
//! Owns the routes and the bookkeeping; key format and resolution are `auth`'s, the table
//! `db::keys`.
use kpi_core::period::format_rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Method, Response};

use crate::auth::{self, KeyKind, Principal};
use crate::db::{self, keys::KeyRow};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, now_ms, BODY_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/v1/keys"),
        endpoints: &[
            Endpoint {
                method: Method::Get,
                handler: Handler::Secret(|c, p| Box::pin(list(c, p))),
            },
            Endpoint {
                method: Method::Post,
                handler: Handler::Secret(|c, p| Box::pin(mint(c, p))),
            },
        ],
        cors: false,
        log: "/v1/keys",
    },
    Route {
        path: Path::Under("/v1/keys/", "id"),
        endpoints: &[Endpoint {
            method: Method::Delete,
            handler: Handler::Secret(|c, p| Box::pin(revoke(c, p))),
        }],
        cors: false,
        log: "/v1/keys/:id",
    },
];

/// Longest life of a minted key, and longest grace period of a rotation.
const MAX_EXPIRY_S: i64 = 400 * 24 * 3600;
const MAX_GRACE_S: i64 = 30 * 24 * 3600;

fn instant(ms: Option<f64>) -> Value {
    ms.map(|m| Value::from(format_rfc3339(m as i64)))
        .unwrap_or(Value::Null)
}

fn view(k: &KeyRow) -> Value {
    json!({"id": k.lookup, "kind": k.kind, "created_at": k.created_at,
           "expires_at": instant(k.expires_at)})
}

/// `GET /v1/keys` (secret key): the tenant's working keys, without their secrets.
async fn list(c: Call, p: Principal) -> ApiResult<Response> {
    let keys = db::keys::active(&db::open(&c.env)?, &p.tenant.id, now_ms() as f64).await?;
    http::json(
        200,
        &json!({"keys": keys.iter().map(view).collect::<Vec<_>>()}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    replaces: Option<String>,
    #[serde(default)]
    grace_period: Option<i64>,
}

/// `POST /v1/keys` (secret key): mints a key, shown once. With `replaces`, the key of that
/// id stops working `grace_period` seconds from now (0 by default: at once), so a rotation is
/// one call and the caller decides how long both keys overlap.
async fn mint(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let body: MintRequest = json_body(&mut req, BODY_LIMIT).await?;
    let kind = match body.kind.as_deref() {
        None => KeyKind::Secret,
        Some(k) => KeyKind::parse(k)
            .ok_or_else(|| ApiError::Invalid("`kind` must be `secret` or `publishable`".into()))?,
    };
    if body
        .expires_in
        .is_some_and(|s| !(1..=MAX_EXPIRY_S).contains(&s))
    {
        return Err(ApiError::Invalid(format!(
            "`expires_in` must be 1–{MAX_EXPIRY_S} seconds"
        )));
    }
    if body.grace_period.is_some() && body.replaces.is_none() {
        return Err(ApiError::Invalid(
            "`grace_period` goes with `replaces`, the key being rotated out".into(),
        ));
    }
    let grace = body.grace_period.unwrap_or(0);
    if !(0..=MAX_GRACE_S).contains(&grace) {
        return Err(ApiError::Invalid(format!(
            "`grace_period` must be 0–{MAX_GRACE_S} seconds"
        )));
    }
    let db = db::open(&env)?;
    let now = now_ms() as f64;
    let replaced = match &body.replaces {
        Some(id) => {
            let old = db::keys::active(&db, &p.tenant.id, now)
                .await?
                .into_iter()
                .find(|k| &k.lookup == id)
                .ok_or(ApiError::NotFound("No such key."))?;
            // A rotation swaps like for like: a publishable key is never replaced by a
            // secret one, which would then sit in a page's widget tag.
            if old.kind != kind.as_str() {
                return Err(ApiError::Invalid(format!(
                    "`replaces` names a {} key; mint a {} key to replace it",
                    old.kind, old.kind
                )));
            }
            Some(old)
        }
        None => None,
    };
    let key = auth::generate(kind)?;
    let created_at = format_rfc3339(now as i64);
    let expires_at = body.expires_in.map(|s| now + s as f64 * 1000.0);
    let mut stmts = vec![db::keys::insert(
        &db,
        &key.lookup,
        &key.hash,
        &p.tenant.id,
        kind.as_str(),
        &created_at,
        expires_at,
    )?];
    let retire_at = now + grace as f64 * 1000.0;
    if let Some(old) = &replaced {
        stmts.push(db::keys::expire_by(
            &db,
            &old.lookup,
            &p.tenant.id,
            retire_at,
        )?);
    }
    db.batch(stmts).await?;
    let mut reply = json!({"id": key.lookup, "kind": kind.as_str(), "key": key.plaintext,
                           "created_at": created_at, "expires_at": instant(expires_at)});
    if let Some(old) = &replaced {
        auth::forget_key(&env, &old.hash).await?;
        let until = old.expires_at.map_or(retire_at, |e| e.min(retire_at));
        reply["replaced"] = json!({"id": old.lookup, "expires_at": instant(Some(until))});
    }
    crate::log::event(
        "key_minted",
        &[
            ("tenant", &p.tenant.id),
            ("kind", kind.as_str()),
            ("id", &key.lookup),
        ],
    );
    http::json(201, &reply)
}

/// `DELETE /v1/keys/{id}` (secret key): revokes one of the tenant's keys at once. The last
/// working secret key cannot go (409): the tenant would be locked out for good.
async fn revoke(c: Call, p: Principal) -> ApiResult<Response> {
    let path = c.req.path();
    let id = path.strip_prefix("/v1/keys/").unwrap_or("");
    let db = db::open(&c.env)?;
    let now = now_ms() as f64;
    let keys = db::keys::active(&db, &p.tenant.id, now).await?;
    let key = keys
        .iter()
        .find(|k| k.lookup == id)
        .ok_or(ApiError::NotFound("No such key."))?;
    let secrets = keys.iter().filter(|k| k.kind == "secret").count();
    if key.kind == "secret" && secrets <= 1 {
        return Err(ApiError::Conflict(
            "This is the tenant's last secret key: mint another one first.".into(),
        ));
    }
    let changed = db::keys::revoke(&db, id, &p.tenant.id, now).await?;
    if changed == 0 {
        return Err(ApiError::Conflict(
            "The key changed meanwhile; list the keys and try again.".into(),
        ));
    }
    auth::forget_key(&c.env, &key.hash).await?;
    crate::log::event(
        "key_revoked",
        &[
            ("tenant", &p.tenant.id),
            ("kind", &key.kind),
            ("id", &key.lookup),
        ],
    );
    http::json(
        200,
        &json!({"revoked": {"id": key.lookup, "kind": key.kind,
                            "revoked_at": format_rfc3339(now as i64)}}),
    )
}

//! A tenant's own key management (secret key): `GET /v1/keys` lists its keys, `POST
//! /v1/keys` mints one (optionally expiring, optionally replacing another after a grace
//! period), `DELETE /v1/keys/{id}` revokes one at once. A key's id is its public lookup
//! part; the plaintext is shown once, at minting. Revoking or shortening a key deletes its
//! cached resolution, so the change holds from the next request (KV being eventually
//! consistent across Cloudflare locations, elsewhere within the cache's 60 s at most).
//!
//! The operator's way back for a tenant whose secret key leaked is `POST
//! /admin/tenants/{id}/keys` ([`recover`]).
//!
//! Owns the routes and the bookkeeping; key format and resolution are `auth`'s.
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, Request, Response};

use crate::auth::{self, KeyKind};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, now_ms, query_pairs, BODY_LIMIT};
use kpi_core::period::format_rfc3339;

/// Longest life of a minted key, and longest grace period of a rotation.
const MAX_EXPIRY_S: i64 = 400 * 24 * 3600;
const MAX_GRACE_S: i64 = 30 * 24 * 3600;

#[derive(Deserialize)]
struct KeyRow {
    lookup: String,
    kind: String,
    hash: String,
    created_at: String,
    expires_at: Option<f64>,
}

fn instant(ms: Option<f64>) -> Value {
    ms.map(|m| Value::from(format_rfc3339(m as i64)))
        .unwrap_or(Value::Null)
}

fn view(k: &KeyRow) -> Value {
    json!({"id": k.lookup, "kind": k.kind, "created_at": k.created_at,
           "expires_at": instant(k.expires_at)})
}

/// The tenant's keys that still work at `now` (not revoked, not expired).
async fn active(db: &D1Database, tenant: &str, now: f64) -> ApiResult<Vec<KeyRow>> {
    Ok(db
        .prepare(
            "SELECT lookup, kind, hash, created_at, expires_at FROM api_keys \
             WHERE tenant_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2) \
             ORDER BY created_at, lookup",
        )
        .bind(&[JsValue::from_str(tenant), JsValue::from_f64(now)])?
        .all()
        .await?
        .results()?)
}

/// The statement storing key `key` of `kind` for `tenant` (its hash, never the key).
pub fn insert(
    db: &D1Database,
    key: &auth::NewKey,
    tenant: &str,
    kind: KeyKind,
    created_at: &str,
    expires_at: Option<f64>,
) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO api_keys (lookup, tenant_id, kind, hash, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            key.lookup.as_str().into(),
            tenant.into(),
            kind.as_str().into(),
            key.hash.as_str().into(),
            created_at.into(),
            expires_at.map_or(JsValue::NULL, JsValue::from_f64),
        ])?)
}

/// Deletes the cached resolution of the key whose hash is `hash`.
async fn forget(env: &Env, hash: &str) -> ApiResult<()> {
    crate::memo::forget_key(hash);
    env.kv("KV")?.delete(&auth::cache_key(hash)).await?;
    Ok(())
}

/// `GET /v1/keys` (secret key): the tenant's working keys, without their secrets.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let keys = active(&crate::db::open(env)?, &p.tenant.id, now_ms() as f64).await?;
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
pub async fn mint(mut req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
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
    let db = crate::db::open(env)?;
    let now = now_ms() as f64;
    let replaced = match &body.replaces {
        Some(id) => {
            let old = active(&db, &p.tenant.id, now)
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
    let mut stmts = vec![insert(
        &db,
        &key,
        &p.tenant.id,
        kind,
        &created_at,
        expires_at,
    )?];
    let retire_at = now + grace as f64 * 1000.0;
    if let Some(old) = &replaced {
        // An earlier expiry stays: a rotation never lengthens a key's life.
        stmts.push(
            db.prepare(
                "UPDATE api_keys SET expires_at = min(coalesce(expires_at, ?3), ?3) \
                 WHERE lookup = ?1 AND tenant_id = ?2",
            )
            .bind(&[
                old.lookup.as_str().into(),
                p.tenant.id.as_str().into(),
                JsValue::from_f64(retire_at),
            ])?,
        );
    }
    db.batch(stmts).await?;
    let mut reply = json!({"id": key.lookup, "kind": kind.as_str(), "key": key.plaintext,
                           "created_at": created_at, "expires_at": instant(expires_at)});
    if let Some(old) = &replaced {
        forget(env, &old.hash).await?;
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
pub async fn revoke(req: Request, env: &Env) -> ApiResult<Response> {
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let path = req.path();
    let id = path.strip_prefix("/v1/keys/").unwrap_or("");
    let db = crate::db::open(env)?;
    let now = now_ms() as f64;
    let keys = active(&db, &p.tenant.id, now).await?;
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
    // The guard keeps two concurrent revocations from removing the last two secret keys.
    let changed = db
        .prepare(
            "UPDATE api_keys SET revoked_at = ?3 WHERE lookup = ?1 AND tenant_id = ?2 \
             AND revoked_at IS NULL AND (kind <> 'secret' OR (SELECT count(*) FROM api_keys \
             WHERE tenant_id = ?2 AND kind = 'secret' AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?3)) > 1)",
        )
        .bind(&[
            JsValue::from_str(id),
            JsValue::from_str(&p.tenant.id),
            JsValue::from_f64(now),
        ])?
        .run()
        .await?
        .meta()?
        .and_then(|m| m.changes)
        .unwrap_or(0);
    if changed == 0 {
        return Err(ApiError::Conflict(
            "The key changed meanwhile; list the keys and try again.".into(),
        ));
    }
    forget(env, &key.hash).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverRequest {
    #[serde(default)]
    revoke_others: bool,
}

/// `POST /admin/tenants/{id}/keys` (admin token): mints a secret key for a tenant, and with
/// `revoke_others` revokes every other key it has. The way back for a tenant whose secret
/// key leaked and was used to mint keys of its own or revoke the tenant's.
pub async fn recover(mut req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(env, &req).await?;
    let path = req.path();
    let tenant = path
        .strip_prefix("/admin/tenants/")
        .and_then(|p| p.strip_suffix("/keys"))
        .unwrap_or("")
        .to_string();
    let body: RecoverRequest = json_body(&mut req, BODY_LIMIT).await?;
    // 404 for a tenant that does not exist, before anything is written.
    crate::tenants::config(env, &tenant).await?;
    let db = crate::db::open(env)?;
    let now = now_ms() as f64;
    let key = auth::generate(KeyKind::Secret)?;
    let created_at = format_rfc3339(now as i64);
    let mut stmts = Vec::new();
    if body.revoke_others {
        stmts.push(
            db.prepare(
                "UPDATE api_keys SET revoked_at = ?2 WHERE tenant_id = ?1 AND revoked_at IS NULL",
            )
            .bind(&[JsValue::from_str(&tenant), JsValue::from_f64(now)])?,
        );
    }
    stmts.push(insert(
        &db,
        &key,
        &tenant,
        KeyKind::Secret,
        &created_at,
        None,
    )?);
    let results = db.batch(stmts).await?;
    let revoked = if body.revoke_others {
        crate::db::changes(&results, 0)
    } else {
        0
    };
    // Every cached resolution of the tenant's keys goes, with its configuration.
    crate::tenants::invalidate(env, &tenant).await?;
    crate::log::event(
        "keys_recovered",
        &[("tenant", &tenant), ("revoked", &revoked.to_string())],
    );
    http::json(
        201,
        &json!({"id": key.lookup, "kind": "secret", "key": key.plaintext,
                "created_at": created_at, "expires_at": null, "revoked": revoked}),
    )
}

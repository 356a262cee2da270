//! `api_keys`: one row per key, its SHA-256 hash and never the key; revoked and expired rows
//! stay for the record.
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// A key as stored.
#[derive(Deserialize)]
pub struct KeyRow {
    /// Its public id.
    pub lookup: String,
    /// `secret` or `publishable`.
    pub kind: String,
    /// Hex SHA-256 of the key.
    pub hash: String,
    /// RFC 3339.
    pub created_at: String,
    /// Unix ms.
    pub expires_at: Option<f64>,
}

/// What resolving a key reads.
#[derive(Deserialize)]
pub struct Resolution {
    /// Its tenant.
    pub tenant_id: String,
    /// `secret` or `publishable`.
    pub kind: String,
    /// Hex SHA-256 of the key.
    pub hash: String,
    /// Unix ms.
    pub expires_at: Option<f64>,
    /// Unix ms.
    pub revoked_at: Option<f64>,
}

/// The key whose public id is `lookup`.
pub async fn by_lookup(db: &D1Database, lookup: &str) -> ApiResult<Option<Resolution>> {
    Ok(stmt(
        db,
        "SELECT tenant_id, kind, hash, expires_at, revoked_at FROM api_keys WHERE lookup = ?1",
        &[&lookup],
    )?
    .first(None)
    .await?)
}

/// The tenant's keys that still work at `now` (not revoked, not expired).
pub async fn active(db: &D1Database, tenant: &str, now: f64) -> ApiResult<Vec<KeyRow>> {
    Ok(stmt(
        db,
        "SELECT lookup, kind, hash, created_at, expires_at FROM api_keys \
         WHERE tenant_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2) \
         ORDER BY created_at, lookup",
        &[&tenant, &now],
    )?
    .all()
    .await?
    .results()?)
}

/// The hashes of every key of the tenant, revoked or not: the names of their cache entries.
pub async fn hashes(db: &D1Database, tenant: &str) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct KeyHash {
        hash: String,
    }
    let rows: Vec<KeyHash> = stmt(
        db,
        "SELECT hash FROM api_keys WHERE tenant_id = ?1",
        &[&tenant],
    )?
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(|r| r.hash).collect())
}

/// The statement storing a key (its hash, never the key).
pub fn insert(
    db: &D1Database,
    lookup: &str,
    hash: &str,
    tenant: &str,
    kind: &str,
    created_at: &str,
    expires_at: Option<f64>,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO api_keys (lookup, tenant_id, kind, hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[&lookup, &tenant, &kind, &hash, &created_at, &expires_at],
    )
}

/// The statement ending key `lookup` at `at` at the latest: an earlier expiry stays, so a
/// rotation never lengthens a key's life.
pub fn expire_by(
    db: &D1Database,
    lookup: &str,
    tenant: &str,
    at: f64,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "UPDATE api_keys SET expires_at = min(coalesce(expires_at, ?3), ?3) \
         WHERE lookup = ?1 AND tenant_id = ?2",
        &[&lookup, &tenant, &at],
    )
}

/// Revokes key `lookup` at `now`, unless it is the tenant's last working secret key (the
/// guard keeps two concurrent revocations from removing the last two). Rows changed: 0 or 1.
pub async fn revoke(db: &D1Database, lookup: &str, tenant: &str, now: f64) -> ApiResult<usize> {
    Ok(stmt(
        db,
        "UPDATE api_keys SET revoked_at = ?3 WHERE lookup = ?1 AND tenant_id = ?2 \
         AND revoked_at IS NULL AND (kind <> 'secret' OR (SELECT count(*) FROM api_keys \
         WHERE tenant_id = ?2 AND kind = 'secret' AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > ?3)) > 1)",
        &[&lookup, &tenant, &now],
    )?
    .run()
    .await?
    .meta()?
    .and_then(|m| m.changes)
    .unwrap_or(0))
}

/// The statement revoking every working key of the tenant at `now`.
pub fn revoke_all(db: &D1Database, tenant: &str, now: f64) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "UPDATE api_keys SET revoked_at = ?2 WHERE tenant_id = ?1 AND revoked_at IS NULL",
        &[&tenant, &now],
    )
}

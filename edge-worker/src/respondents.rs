//! Respondents: the CRM's contact id stays in D1, for the tenant, and never travels in a
//! survey link. A link, a response row and a queued alert name the person by an opaque
//! reference, `HMAC(tenant key, id ‖ erasures)` (`secrets::reference_of`); the table
//! `respondents` (`db::respondents`) maps references back to ids for the tenant's reads,
//! exports and webhooks. Erasure deletes that mapping and remembers the person only as a
//! keyed hash with an erasure count, so links sent before it answer anonymously while links
//! minted afterwards get a fresh reference.
//!
//! Owns the references and erasure; not how answers are stored (`answers`).
use std::collections::BTreeMap;

use worker::{D1Database, Env};

use crate::db::respondents::{self as table, Mapping};
use crate::error::ApiResult;
use crate::http::now_ms;
use crate::secrets::{self, erased_hash, reference_of};

/// One respondent on its way into `respondents`.
struct Entry {
    id: String,
    hash: String,
    erasures: i64,
    reference: String,
}

async fn record(db: &D1Database, tenant: &str, entries: &[Entry]) -> ApiResult<()> {
    let mappings: Vec<Mapping> = entries
        .iter()
        .map(|e| Mapping {
            reference: &e.reference,
            id: &e.id,
            hash: &e.hash,
            erasures: e.erasures,
        })
        .collect();
    table::record(db, tenant, &mappings).await
}

async fn entries(env: &Env, db: &D1Database, tenant: &str, ids: &[&str]) -> ApiResult<Vec<Entry>> {
    let master = secrets::link_master(env)?;
    let hashes = ids
        .iter()
        .map(|id| erased_hash(&master, tenant, id))
        .collect::<ApiResult<Vec<_>>>()?;
    let hash_refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    let counts = table::erasures(db, tenant, &hash_refs).await?;
    ids.iter()
        .zip(hashes)
        .map(|(id, hash)| {
            let n = counts.get(&hash).copied().unwrap_or(0);
            Ok(Entry {
                id: (*id).to_string(),
                reference: reference_of(&master, tenant, id, n)?,
                erasures: n,
                hash,
            })
        })
        .collect()
}

/// The references of CRM ids `ids` of `tenant`, each recorded with its id for the tenant:
/// one read and one write for the lot (a mint, an import).
pub async fn references(
    env: &Env,
    db: &D1Database,
    tenant: &str,
    ids: &[&str],
) -> ApiResult<BTreeMap<String, String>> {
    let mut distinct: Vec<&str> = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let entries = entries(env, db, tenant, &distinct).await?;
    record(db, tenant, &entries).await?;
    Ok(crate::db::keyed(
        entries.into_iter().map(|e| (e.id, e.reference)),
    ))
}

/// The reference of the respondent a link signed before references existed names in clear.
/// Such a link was sent before any erasure this version recorded, so an erased respondent
/// answers through it anonymously (`None`).
pub async fn legacy(
    env: &Env,
    db: &D1Database,
    tenant: &str,
    id: &str,
) -> ApiResult<Option<String>> {
    let entries = entries(env, db, tenant, &[id]).await?;
    match entries.into_iter().next() {
        Some(e) if e.erasures == 0 => {
            record(db, tenant, std::slice::from_ref(&e)).await?;
            Ok(Some(e.reference))
        }
        _ => Ok(None),
    }
}

/// Erases respondent `id` of `tenant` (`db::respondents::erase`). Returns the responses
/// erased.
pub async fn erase(env: &Env, db: &D1Database, tenant: &str, id: &str) -> ApiResult<usize> {
    let hash = erased_hash(&secrets::link_master(env)?, tenant, id)?;
    table::erase(db, tenant, id, &hash, now_ms()).await
}

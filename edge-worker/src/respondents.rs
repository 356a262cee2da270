//! Respondents: the CRM's contact id stays in D1, for the tenant, and never travels in a
//! survey link. A link, a response row and a queued alert name the person by an opaque
//! reference, `HMAC(tenant key, id ‖ erasures)`; the table `respondents` maps references back
//! to ids for the tenant's reads, exports and webhooks. Erasure deletes that mapping and
//! remembers the person only as a keyed hash with an erasure count, so links sent before it
//! answer anonymously while links minted afterwards get a fresh reference.
//!
//! Owns the references, the mapping and erasure; not how answers are stored (`surveys`).
use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::error::{ApiError, ApiResult};
use crate::http::{b64url, now_ms};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 of `parts` (joined by NUL) under the key `HMAC(master, label ‖ tenant)`.
fn keyed(master: &[u8], label: &str, tenant: &str, parts: &[&[u8]]) -> ApiResult<[u8; 32]> {
    let mut k = HmacSha256::new_from_slice(master)
        .map_err(|_| ApiError::Internal("bad signing secret".into()))?;
    k.update(label.as_bytes());
    k.update(tenant.as_bytes());
    let key = k.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(&key)
        .map_err(|_| ApiError::Internal("bad respondent key".into()))?;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(&[0]);
        }
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The reference of respondent `id` of `tenant` after `erasures` erasures: 128 bits,
/// base64url. Deterministic, so every link minted for one person between two erasures
/// carries the same reference (one mapping row, however many links).
pub fn reference_of(master: &[u8], tenant: &str, id: &str, erasures: i64) -> ApiResult<String> {
    let n = erasures.to_string();
    let mac = keyed(
        master,
        "kpi-respondent-v1:",
        tenant,
        &[id.as_bytes(), n.as_bytes()],
    )?;
    Ok(b64url(&mac[..16]))
}

/// The keyed hash an erased respondent is remembered by: no id, and no way to test a guess
/// without the worker's secret.
pub fn erased_hash(master: &[u8], tenant: &str, id: &str) -> ApiResult<String> {
    Ok(b64url(&keyed(
        master,
        "kpi-erased-v1:",
        tenant,
        &[id.as_bytes()],
    )?))
}

/// How many times each of these hashes was erased (absent: never).
async fn erasures(
    db: &D1Database,
    tenant: &str,
    hashes: &[&str],
) -> ApiResult<BTreeMap<String, i64>> {
    #[derive(Deserialize)]
    struct Row {
        hash: String,
        erasures: f64,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT hash, erasures FROM erased_respondents \
             WHERE tenant_id = ?1 AND hash IN (SELECT value FROM json_each(?2))",
        )
        .bind(&[
            JsValue::from_str(tenant),
            JsValue::from_str(&json!(hashes).to_string()),
        ])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| (r.hash, r.erasures as i64))
        .collect())
}

/// One respondent on its way into `respondents`.
struct Entry {
    id: String,
    hash: String,
    erasures: i64,
    reference: String,
}

/// Records the mappings, unless the person was erased again since the counts were read (an
/// erasure racing a mint wins: that link answers anonymously).
async fn record(db: &D1Database, tenant: &str, entries: &[Entry]) -> ApiResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|e| json!({"ref": e.reference, "id": e.id, "hash": e.hash, "n": e.erasures}))
        .collect();
    db.prepare(
        "INSERT INTO respondents (tenant_id, ref, respondent) \
         SELECT ?1, j.value->>'ref', j.value->>'id' FROM json_each(?2) j \
         WHERE NOT EXISTS (SELECT 1 FROM erased_respondents e WHERE e.tenant_id = ?1 \
                           AND e.hash = j.value->>'hash' AND e.erasures > j.value->>'n') \
         ON CONFLICT (tenant_id, ref) DO NOTHING",
    )
    .bind(&[
        JsValue::from_str(tenant),
        JsValue::from_str(&json!(rows).to_string()),
    ])?
    .run()
    .await?;
    Ok(())
}

async fn entries(env: &Env, db: &D1Database, tenant: &str, ids: &[&str]) -> ApiResult<Vec<Entry>> {
    let master = crate::surveys::signing_secret(env)?;
    let hashes = ids
        .iter()
        .map(|id| erased_hash(&master, tenant, id))
        .collect::<ApiResult<Vec<_>>>()?;
    let hash_refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    let counts = erasures(db, tenant, &hash_refs).await?;
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
    Ok(entries.into_iter().map(|e| (e.id, e.reference)).collect())
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

/// The CRM id behind a reference, if the person is still known.
pub async fn resolve(db: &D1Database, tenant: &str, reference: &str) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        respondent: String,
    }
    let row: Option<Row> = db
        .prepare("SELECT respondent FROM respondents WHERE tenant_id = ?1 AND ref = ?2")
        .bind(&[JsValue::from_str(tenant), JsValue::from_str(reference)])?
        .first(None)
        .await?;
    Ok(row.map(|r| r.respondent))
}

/// For an answer's batch, after its alert is queued: the alert names the respondent, so it
/// goes if the respondent was erased between the lookup and the batch.
pub fn drop_alert_if_erased(
    db: &D1Database,
    message_id: &str,
    tenant: &str,
    reference: &str,
) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(
            "DELETE FROM webhook_outbox WHERE id = ?1 AND NOT EXISTS \
             (SELECT 1 FROM respondents WHERE tenant_id = ?2 AND ref = ?3)",
        )
        .bind(&[
            JsValue::from_str(message_id),
            JsValue::from_str(tenant),
            JsValue::from_str(reference),
        ])?)
}

/// Erases respondent `id` of `tenant` in one batch: their responses lose the reference and
/// the comment (the counts stay, anonymous), their queued alerts go, the mapping to the id
/// goes, and the erasure is counted under the keyed hash. Returns the responses erased.
pub async fn erase(env: &Env, db: &D1Database, tenant: &str, id: &str) -> ApiResult<usize> {
    let master = crate::surveys::signing_secret(env)?;
    let hash = erased_hash(&master, tenant, id)?;
    let (t, i) = (JsValue::from_str(tenant), JsValue::from_str(id));
    let results = db
        .batch(vec![
            // `respondent = ?2`: rows written before references existed, or by an older
            // version of the worker still running during a deploy, hold the id itself.
            db.prepare(
                "UPDATE responses SET respondent = NULL, comment = NULL WHERE tenant_id = ?1 \
                 AND (respondent = ?2 OR respondent IN \
                      (SELECT ref FROM respondents WHERE tenant_id = ?1 AND respondent = ?2))",
            )
            .bind(&[t.clone(), i.clone()])?,
            // Alerts waiting for the webhook carry the id and the comment too.
            db.prepare(
                "DELETE FROM webhook_outbox WHERE tenant_id = ?1 \
                 AND json_extract(payload, '$.data.respondent') = ?2",
            )
            .bind(&[t.clone(), i.clone()])?,
            db.prepare("DELETE FROM respondents WHERE tenant_id = ?1 AND respondent = ?2")
                .bind(&[t.clone(), i])?,
            db.prepare(
                "INSERT INTO erased_respondents (tenant_id, hash, erasures, erased_at) \
                 VALUES (?1, ?2, 1, ?3) ON CONFLICT (tenant_id, hash) \
                 DO UPDATE SET erasures = erasures + 1, erased_at = excluded.erased_at",
            )
            .bind(&[
                t,
                JsValue::from_str(&hash),
                JsValue::from_f64(now_ms() as f64),
            ])?,
        ])
        .await?;
    Ok(crate::db::changes(&results, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"test-master-link-signing-secret-0123456789";

    #[test]
    fn references_are_opaque_stable_and_change_with_each_erasure() {
        let a = reference_of(MASTER, "spa", "C-1042", 0).unwrap();
        assert_eq!(a, reference_of(MASTER, "spa", "C-1042", 0).unwrap());
        assert_eq!(a.len(), 22);
        assert!(!a.contains("1042"));
        assert_ne!(a, reference_of(MASTER, "spa", "C-1042", 1).unwrap());
        assert_ne!(a, reference_of(MASTER, "clinic", "C-1042", 0).unwrap());
        assert_ne!(a, reference_of(MASTER, "spa", "C-1043", 0).unwrap());
        // An id ending in a digit cannot pose as another id's later erasure count.
        assert_ne!(
            reference_of(MASTER, "spa", "C-1", 10).unwrap(),
            reference_of(MASTER, "spa", "C-11", 0).unwrap()
        );
    }

    #[test]
    fn erased_hashes_are_keyed_and_unlike_references() {
        let h = erased_hash(MASTER, "spa", "C-1042").unwrap();
        assert_ne!(
            h,
            erased_hash(b"another-master-secret-0123456789abcdef", "spa", "C-1042").unwrap()
        );
        assert_ne!(h, erased_hash(MASTER, "clinic", "C-1042").unwrap());
        assert_ne!(h[..22], reference_of(MASTER, "spa", "C-1042", 0).unwrap());
    }
}

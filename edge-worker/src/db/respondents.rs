//! `respondents` (a tenant's opaque reference → its CRM id) and `erased_respondents` (a
//! keyed hash per erased person and how many times they were erased). Erasing a person
//! also touches `responses` and `webhook_outbox`: that batch is here too, in one place.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// How many times each of these hashes was erased (absent: never).
pub async fn erasures(
    db: &D1Database,
    tenant: &str,
    hashes: &[&str],
) -> ApiResult<BTreeMap<String, i64>> {
    #[derive(Deserialize)]
    struct Row {
        hash: String,
        erasures: f64,
    }
    let rows: Vec<Row> = stmt(
        db,
        "SELECT hash, erasures FROM erased_respondents \
         WHERE tenant_id = ?1 AND hash IN (SELECT value FROM json_each(?2))",
        &[&tenant, &json!(hashes).to_string()],
    )?
    .all()
    .await?
    .results()?;
    Ok(crate::db::keyed(
        rows.into_iter().map(|r| (r.hash, r.erasures as i64)),
    ))
}

/// One mapping to record: reference, CRM id, the id's keyed hash and the erasure count the
/// reference was derived with.
pub struct Mapping<'a> {
    /// The opaque reference.
    pub reference: &'a str,
    /// The CRM id.
    pub id: &'a str,
    /// Its keyed hash.
    pub hash: &'a str,
    /// Erasures when the reference was derived.
    pub erasures: i64,
}

/// Records the mappings, unless the person was erased again since the counts were read (an
/// erasure racing a mint wins: that link answers anonymously).
pub async fn record(db: &D1Database, tenant: &str, mappings: &[Mapping<'_>]) -> ApiResult<()> {
    if mappings.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = mappings
        .iter()
        .map(|e| json!({"ref": e.reference, "id": e.id, "hash": e.hash, "n": e.erasures}))
        .collect();
    stmt(
        db,
        "INSERT INTO respondents (tenant_id, ref, respondent) \
         SELECT ?1, j.value->>'ref', j.value->>'id' FROM json_each(?2) j \
         WHERE NOT EXISTS (SELECT 1 FROM erased_respondents e WHERE e.tenant_id = ?1 \
                           AND e.hash = j.value->>'hash' AND e.erasures > j.value->>'n') \
         ON CONFLICT (tenant_id, ref) DO NOTHING",
        &[&tenant, &json!(rows).to_string()],
    )?
    .run()
    .await?;
    Ok(())
}

/// The CRM id behind a reference, if the person is still known.
pub async fn resolve(db: &D1Database, tenant: &str, reference: &str) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        respondent: String,
    }
    let row: Option<Row> = stmt(
        db,
        "SELECT respondent FROM respondents WHERE tenant_id = ?1 AND ref = ?2",
        &[&tenant, &reference],
    )?
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
    stmt(
        db,
        "DELETE FROM webhook_outbox WHERE id = ?1 AND NOT EXISTS \
         (SELECT 1 FROM respondents WHERE tenant_id = ?2 AND ref = ?3)",
        &[&message_id, &tenant, &reference],
    )
}

/// Erases respondent `id` in one batch: their responses lose the reference and the comment
/// (the counts stay, anonymous), their queued alerts go, the mapping goes, and the erasure
/// is counted under `hash`. Returns the responses erased.
pub async fn erase(
    db: &D1Database,
    tenant: &str,
    id: &str,
    hash: &str,
    now: i64,
) -> ApiResult<usize> {
    let results = super::batch(
        db,
        vec![
            // `respondent = ?2`: rows written before references existed, or by an older
            // version of the worker still running during a deploy, hold the id itself.
            stmt(
                db,
                "UPDATE responses SET respondent = NULL, comment = NULL WHERE tenant_id = ?1 \
                 AND (respondent = ?2 OR respondent IN \
                      (SELECT ref FROM respondents WHERE tenant_id = ?1 AND respondent = ?2))",
                &[&tenant, &id],
            )?,
            // Alerts waiting for the webhook carry the id and the comment too.
            stmt(
                db,
                "DELETE FROM webhook_outbox WHERE tenant_id = ?1 \
                 AND json_extract(payload, '$.data.respondent') = ?2",
                &[&tenant, &id],
            )?,
            stmt(
                db,
                "DELETE FROM respondents WHERE tenant_id = ?1 AND respondent = ?2",
                &[&tenant, &id],
            )?,
            stmt(
                db,
                "INSERT INTO erased_respondents (tenant_id, hash, erasures, erased_at) \
                 VALUES (?1, ?2, 1, ?3) ON CONFLICT (tenant_id, hash) \
                 DO UPDATE SET erasures = erasures + 1, erased_at = excluded.erased_at",
                &[&tenant, &hash, &now],
            )?,
        ],
    )
    .await?;
    Ok(super::changes(&results, 0))
}

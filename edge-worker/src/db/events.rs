//! `events`: one row per CRM event, by `(tenant, id)`, only the fields its type reads. Its
//! insert trigger adds the event's contribution to the rollup cells.
use worker::D1Database;

use super::stmt;
use crate::error::ApiResult;

/// Inserts the events of each payload (a JSON array of `{id, type, at, day, body, contrib}`)
/// in one batch, an id already stored inserting nothing (so its trigger adds nothing).
/// Returns how many rows were inserted.
pub async fn insert(db: &D1Database, tenant: &str, payloads: &[String]) -> ApiResult<usize> {
    let mut stmts = Vec::with_capacity(payloads.len());
    for payload in payloads {
        stmts.push(stmt(
            db,
            "INSERT INTO events (tenant_id, id, type, at, day, body, contrib) \
             SELECT ?1, j.value->>'id', j.value->>'type', CAST(j.value->>'at' AS REAL), \
                    j.value->>'day', j.value->>'body', j.value->>'contrib' \
             FROM json_each(?2) j WHERE true \
             ON CONFLICT (tenant_id, id) DO NOTHING RETURNING 1 AS stored",
            &[&tenant, payload],
        )?);
    }
    let results = db.batch(stmts).await?;
    // Each inserted row comes back (D1's `changes` also counts the triggers' rows).
    let mut stored = 0;
    for r in &results {
        stored += r.results::<serde_json::Value>()?.len();
    }
    Ok(stored)
}

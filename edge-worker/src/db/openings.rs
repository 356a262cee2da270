//! `openings`: at most one row per tenant, the opening balances as sent and their
//! contribution, which its triggers keep in the rollup cells.
use serde::Deserialize;
use worker::D1Database;

use super::stmt;
use crate::error::ApiResult;

/// The balances as sent (JSON), if set.
pub async fn get(db: &D1Database, tenant: &str) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        body: String,
    }
    let row: Option<Row> = stmt(
        db,
        "SELECT body FROM openings WHERE tenant_id = ?1",
        &[&tenant],
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.body))
}

/// Sets (replaces) the balances.
pub async fn put(
    db: &D1Database,
    tenant: &str,
    day: &str,
    body: &str,
    contrib: &str,
) -> ApiResult<()> {
    stmt(
        db,
        "INSERT INTO openings (tenant_id, day, body, contrib) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (tenant_id) DO UPDATE SET day = excluded.day, body = excluded.body, \
         contrib = excluded.contrib",
        &[&tenant, &day, &body, &contrib],
    )?
    .run()
    .await?;
    Ok(())
}

/// Removes them.
pub async fn delete(db: &D1Database, tenant: &str) -> ApiResult<()> {
    stmt(db, "DELETE FROM openings WHERE tenant_id = ?1", &[&tenant])?
        .run()
        .await?;
    Ok(())
}

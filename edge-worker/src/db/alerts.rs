//! `kpi_status`: the last status the alert cron saw of each watched KPI of a tenant; and the
//! tenants' turn (`tenants.alerts_checked_at`).
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// The last status seen of each watched KPI of the tenant: (KPI id, status).
pub async fn statuses(db: &D1Database, tenant: &str) -> ApiResult<Vec<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        kpi: String,
        status: String,
    }
    let rows: Vec<Row> = stmt(
        db,
        "SELECT kpi, status FROM kpi_status WHERE tenant_id = ?1",
        &[&tenant],
    )?
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(|r| (r.kpi, r.status)).collect())
}

/// Records `status` as the last seen of `kpi` (if it still was `before`, when given).
pub fn set(
    db: &D1Database,
    tenant: &str,
    kpi: &str,
    status: &str,
    before: Option<&str>,
) -> ApiResult<D1PreparedStatement> {
    match before {
        None => stmt(
            db,
            "INSERT INTO kpi_status (tenant_id, kpi, status) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tenant_id, kpi) DO NOTHING",
            &[&tenant, &kpi, &status],
        ),
        Some(b) => stmt(
            db,
            "UPDATE kpi_status SET status = ?3 WHERE tenant_id = ?1 AND kpi = ?2 AND status = ?4",
            &[&tenant, &kpi, &status, &b],
        ),
    }
}

/// Takes the turn of up to `limit` tenants with alerts on, checked longest ago, marking
/// them checked now. Returns their ids.
pub async fn claim_due(db: &D1Database, now: i64, limit: u32) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let rows: Vec<Row> = stmt(
        db,
        "UPDATE tenants SET alerts_checked_at = ?1 WHERE id IN (SELECT id FROM tenants \
         WHERE alerts IS NOT NULL AND webhook_url IS NOT NULL \
         ORDER BY coalesce(alerts_checked_at, 0) LIMIT ?2) RETURNING id",
        &[&now, &limit],
    )?
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Forgets the statuses seen of the tenant's KPIs (its watch changed).
pub async fn forget(db: &D1Database, tenant: &str) -> ApiResult<()> {
    stmt(
        db,
        "DELETE FROM kpi_status WHERE tenant_id = ?1",
        &[&tenant],
    )?
    .run()
    .await?;
    Ok(())
}

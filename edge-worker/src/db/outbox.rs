//! `webhook_outbox`: one row per webhook message, from the batch of the answer that raised it
//! until 30 days after it was delivered or given up.
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// A message whose retry is due, claimed by [`claim_due`].
#[derive(Deserialize)]
pub struct DueRow {
    /// `msg_…`.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The signed body.
    pub payload: String,
    /// Attempts so far.
    pub attempts: f64,
}

/// Delivery counts of a tenant.
#[derive(Deserialize, Default)]
pub struct Counts {
    /// Waiting for an attempt.
    pub pending: Option<f64>,
    /// Delivered.
    pub delivered: Option<f64>,
    /// Given up.
    pub failed: Option<f64>,
}

/// The statement queueing a message, leased until `lease_until` for its quick attempts. With
/// `while_status` (`(kpi, status)`), only while the tenant's `kpi_status` row still holds that
/// status: a KPI alert queued once per move, however many cron runs race.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    db: &D1Database,
    id: &str,
    tenant: &str,
    kind: &str,
    body: &str,
    now: f64,
    lease_until: f64,
    while_status: Option<(&str, &str)>,
) -> ApiResult<D1PreparedStatement> {
    let (kpi, status) = (while_status.map(|w| w.0), while_status.map(|w| w.1));
    stmt(
        db,
        "INSERT INTO webhook_outbox (id, tenant_id, type, payload, created_at, next_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ?7 IS NULL OR EXISTS (SELECT 1 FROM kpi_status \
         WHERE tenant_id = ?2 AND kpi = ?7 AND status = ?8)",
        &[
            &id,
            &tenant,
            &kind,
            &body,
            &now,
            &lease_until,
            &kpi,
            &status,
        ],
    )
}

/// Records a delivery.
pub async fn delivered(
    db: &D1Database,
    id: &str,
    attempts: i64,
    status: u16,
    now: f64,
) -> ApiResult<()> {
    stmt(
        db,
        "UPDATE webhook_outbox SET attempts = ?2, last_status = ?3, last_error = NULL, \
         delivered_at = ?4 WHERE id = ?1",
        &[&id, &attempts, &u32::from(status), &now],
    )?
    .run()
    .await?;
    Ok(())
}

/// Records a failed attempt: the next one at `next_at`, or none if `gave_up_at` is set.
pub async fn failed(
    db: &D1Database,
    id: &str,
    attempts: i64,
    status: Option<u16>,
    error: &str,
    next_at: f64,
    gave_up_at: Option<f64>,
) -> ApiResult<()> {
    stmt(
        db,
        "UPDATE webhook_outbox SET attempts = ?2, last_status = ?3, last_error = ?4, \
         next_at = ?5, failed_at = ?6 WHERE id = ?1",
        &[
            &id,
            &attempts,
            &status.map(u32::from),
            &error,
            &next_at,
            &gave_up_at,
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Claims up to `limit` messages due at `now` by leasing them until `lease_until` (a lease
/// keeps two cron runs off one message).
pub async fn claim_due(
    db: &D1Database,
    now: f64,
    lease_until: f64,
    limit: u32,
) -> ApiResult<Vec<DueRow>> {
    Ok(stmt(
        db,
        "UPDATE webhook_outbox SET next_at = ?1 WHERE id IN (SELECT id FROM webhook_outbox \
         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ?2 \
         ORDER BY next_at LIMIT ?3) RETURNING id, tenant_id, type, payload, attempts",
        &[&lease_until, &now, &limit],
    )?
    .all()
    .await?
    .results()?)
}

/// Deletes messages delivered or given up before `before`.
pub async fn prune(db: &D1Database, before: f64) -> ApiResult<()> {
    stmt(
        db,
        "DELETE FROM webhook_outbox WHERE delivered_at < ?1 OR failed_at < ?1",
        &[&before],
    )?
    .run()
    .await?;
    Ok(())
}

/// The tenant's delivery counts.
pub async fn counts(db: &D1Database, tenant: &str) -> ApiResult<Counts> {
    let c: Option<Counts> = stmt(
        db,
        "SELECT SUM(delivered_at IS NULL AND failed_at IS NULL) AS pending, \
         SUM(delivered_at IS NOT NULL) AS delivered, SUM(failed_at IS NOT NULL) AS failed \
         FROM webhook_outbox WHERE tenant_id = ?1",
        &[&tenant],
    )?
    .first(None)
    .await?;
    Ok(c.unwrap_or_default())
}

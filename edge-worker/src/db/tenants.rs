//! `tenants`: one row per tenant, its configuration (the source of truth of what KV and the
//! isolate's memory cache) and its link and webhook generations.
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// A tenant as stored: lists and maps as JSON text.
#[derive(Deserialize)]
pub struct TenantRow {
    /// Slug id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// IANA zone name.
    pub timezone: String,
    /// `vi` or `en`.
    pub locale: String,
    /// JSON array of origins.
    pub allowed_origins: String,
    /// JSON map of KPI id to target.
    pub targets: String,
    /// JSON opening hours, if kept.
    pub business_hours: Option<String>,
    /// Where alerts go.
    pub webhook_url: Option<String>,
    /// Webhook secret generation.
    pub webhook_gen: f64,
    /// Survey link generation.
    pub link_gen: f64,
    /// JSON KPI settings, if set.
    pub kpi_settings: Option<String>,
    /// Day from which the current business hours apply.
    pub hours_since: Option<String>,
    /// JSON alerts, if on.
    pub alerts: Option<String>,
}

/// Tenant `id`.
pub async fn get(db: &D1Database, id: &str) -> ApiResult<Option<TenantRow>> {
    Ok(stmt(
        db,
        "SELECT id, name, timezone, locale, allowed_origins, targets, business_hours, \
         webhook_url, webhook_gen, link_gen, kpi_settings, hours_since, alerts FROM tenants \
         WHERE id = ?1",
        &[&id],
    )?
    .first(None)
    .await?)
}

/// The statement creating a tenant (`origins` a JSON array).
pub fn insert(
    db: &D1Database,
    id: &str,
    name: &str,
    timezone: &str,
    locale: &str,
    origins: &str,
    created_at: &str,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO tenants (id, name, timezone, locale, allowed_origins, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[&id, &name, &timezone, &locale, &origins, &created_at],
    )
}

/// What `PATCH /v1/settings` changes, lists and maps as JSON text.
pub struct SettingsColumns<'a> {
    /// Display name.
    pub name: &'a str,
    /// `vi` or `en`.
    pub locale: &'a str,
    /// JSON array of origins.
    pub allowed_origins: &'a str,
    /// JSON opening hours.
    pub business_hours: Option<&'a str>,
    /// Where alerts go.
    pub webhook_url: Option<&'a str>,
    /// Webhook secret generation.
    pub webhook_gen: i64,
    /// JSON KPI settings.
    pub kpi_settings: Option<&'a str>,
    /// Day from which the current business hours apply.
    pub hours_since: Option<&'a str>,
    /// JSON alerts.
    pub alerts: Option<&'a str>,
}

/// Stores what `PATCH /v1/settings` may change.
pub async fn update_settings(db: &D1Database, id: &str, c: &SettingsColumns<'_>) -> ApiResult<()> {
    stmt(
        db,
        "UPDATE tenants SET name = ?2, locale = ?3, allowed_origins = ?4, business_hours = ?5, \
         webhook_url = ?6, webhook_gen = ?7, kpi_settings = ?8, hours_since = ?9, alerts = ?10 \
         WHERE id = ?1",
        &[
            &id,
            &c.name,
            &c.locale,
            &c.allowed_origins,
            &c.business_hours,
            &c.webhook_url,
            &c.webhook_gen,
            &c.kpi_settings,
            &c.hours_since,
            &c.alerts,
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Stores the tenant's targets (a JSON map).
pub async fn update_targets(db: &D1Database, id: &str, targets: &str) -> ApiResult<()> {
    stmt(
        db,
        "UPDATE tenants SET targets = ?2 WHERE id = ?1",
        &[&id, &targets],
    )?
    .run()
    .await?;
    Ok(())
}

/// Moves the tenant to its next survey link generation: every link minted before stops
/// working. Returns the new generation.
pub async fn next_link_generation(db: &D1Database, id: &str) -> ApiResult<Option<i64>> {
    #[derive(Deserialize)]
    struct Gen {
        link_gen: f64,
    }
    let row: Option<Gen> = stmt(
        db,
        "UPDATE tenants SET link_gen = link_gen + 1 WHERE id = ?1 RETURNING link_gen",
        &[&id],
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.link_gen as i64))
}

//! Alerts when a KPI changes status (`kpi.status_changed`): a tenant names the KPIs and the
//! period (`PATCH /v1/settings`, `alerts`); the cron computes them over the current period
//! and, when a KPI's status moves (on track → at risk → off track and back), queues one
//! signed message to the tenant's webhook, delivered like every other (outbox, retries).
//!
//! *Never twice for the same move*: the last status seen is a row of `kpi_status`, and the
//! message is queued in the same batch that moves it, only if the row still holds the status
//! the cron read; two cron runs racing over one tenant queue it once. A KPI whose status is
//! unknown (no data yet in a new period) keeps its last status; the first status seen is
//! recorded, not announced.
//!
//! *Bounded*: each run checks the few tenants checked longest ago (their KPIs cost a report
//! each), so a run stays within a cron invocation's CPU.
use kpi_core::kpi::{Lang, ReportOptions};
use kpi_core::period::{format_rfc3339, CivilDate, Period};
use kpi_core::report::KpiReport;
use serde_json::json;
use worker::Env;

use crate::db;
use crate::error::ApiResult;
use crate::http::now_ms;
use crate::kpi_settings::Alerts;
use crate::params;
use crate::tenant::{self, TenantConfig};
use crate::webhooks::{self, Message};

/// Tenants checked per cron run.
const PER_RUN: u32 = 3;

/// The message announcing a move of `r` from `from`.
fn message(
    t: &TenantConfig,
    r: &KpiReport,
    from: &str,
    to: &str,
    period: Period,
) -> ApiResult<Message> {
    let last = period.to.add_days(-1)?;
    let body = json!({
        "type": "kpi.status_changed",
        "timestamp": format_rfc3339(now_ms()),
        "data": {
            "tenant": t.id,
            "kpi": r.id,
            "label": r.label,
            "from": from,
            "to": to,
            "value": r.measure.value,
            "n": r.measure.n,
            "target": r.target.map(|t| json!({"min": t.min, "goal": t.goal})),
            "period": {"kind": period.kind.as_str(), "from": period.from.to_string(),
                       "to": last.to_string()},
        }
    });
    Message::new(&t.id, "kpi.status_changed", body.to_string())
}

/// Checks one tenant's KPIs; returns the messages queued.
async fn check(env: &Env, t: &TenantConfig, alerts: &Alerts) -> ApiResult<Vec<Message>> {
    let db = db::open(env)?;
    let today = CivilDate::of_instant(now_ms(), t.tz())?;
    let period = Period::containing(alerts.period_kind()?, today)?;
    let defs = params::kpis(&alerts.kpis.join(","))?;
    let opts = ReportOptions {
        lang: Lang::parse(&t.locale).unwrap_or_default(),
        period: Some(period),
        business_hours: t.business_hours.is_some(),
        ..Default::default()
    };
    let (reports, _) = params::reports(&db, t, today, period, false, &defs, &opts).await?;
    let seen = db::alerts::statuses(&db, &t.id).await?;
    let mut out = Vec::new();
    for r in &reports {
        let Some(status) = r.status.map(|s| s.as_str()) else {
            continue;
        };
        let before = seen
            .iter()
            .find(|(k, _)| *k == r.id)
            .map(|(_, s)| s.as_str());
        match before {
            Some(b) if b == status => {}
            Some(b) => {
                let m = message(t, r, b, status, period)?;
                let stmts = vec![
                    m.outbox_statement(&db, Some((&r.id, b)))?,
                    db::alerts::set(&db, &t.id, &r.id, status, Some(b))?,
                ];
                let results = db::batch(&db, stmts).await?;
                if db::changes(&results, 0) > 0 {
                    out.push(m);
                }
            }
            None => {
                db::alerts::set(&db, &t.id, &r.id, status, None)?
                    .run()
                    .await?;
            }
        }
    }
    Ok(out)
}

/// The cron's work: the tenants checked longest ago, their moves announced. Returns the
/// messages sent.
pub async fn run(env: &Env) -> ApiResult<usize> {
    let db = db::open(env)?;
    let due = db::alerts::claim_due(&db, now_ms(), PER_RUN).await?;
    let mut sent = 0;
    for id in due {
        let t = match tenant::config(env, &id).await {
            Ok(t) => t,
            Err(e) => {
                crate::log::event("error", &[("code", "alerts"), ("message", &e.detail())]);
                continue;
            }
        };
        let (Some(alerts), Some(_)) = (&t.alerts, &t.webhook_url) else {
            continue;
        };
        match check(env, &t, alerts).await {
            Ok(messages) => {
                for m in messages {
                    sent += 1;
                    webhooks::deliver_now(env.clone(), m).await;
                }
            }
            Err(e) => crate::log::event("error", &[("code", "alerts"), ("message", &e.detail())]),
        }
    }
    Ok(sent)
}

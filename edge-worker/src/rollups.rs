//! `GET /v1/rollups` (secret key): the tenant's per-day rollups over a span of days, as
//! kpi-core's [`DayRollups`], for a CRM backend to inline into a page that renders the widget
//! offline (`mount(el, { data })`). Owns the span and the read; the format is kpi-core's.
use kpi_core::days::{self, DayRollups};
use kpi_core::kpi;
use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::Family;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, now_ms, query, query_pairs};
use crate::{kpis, store};

/// `GET /v1/rollups?from&to&metrics`: days `from`..=`to` (default: the previous quarter's
/// first day to today, enough for any day, week, month or quarter up to today and the period
/// before it), only the families `metrics` read (default: every family).
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let mut pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let tz = p.tenant.tz();
    let today = CivilDate::of_instant(now_ms(), tz)?;
    let span = if query(&pairs, "from").is_some() || query(&pairs, "to").is_some() {
        // The same validation (dates, order, length) as a `period=range` KPI request.
        pairs.retain(|(k, _)| k != "period");
        pairs.push(("period".into(), "range".into()));
        kpis::requested_period(&pairs, today)?
    } else {
        let from = Period::containing(PeriodKind::Quarter, today)?
            .previous()?
            .from;
        Period::range(from, today.add_days(1)?)?
    };
    let families: Vec<Family> = match query(&pairs, "metrics") {
        Some(m) => {
            let mut out = Vec::new();
            for id in m.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let def = kpi::find(id).map_err(|e| ApiError::Invalid(e.to_string()))?;
                for f in kpi::families(def.id)
                    .iter()
                    .chain(kpi::stock_families(def.id))
                {
                    if !out.contains(f) {
                        out.push(*f);
                    }
                }
            }
            out
        }
        None => Family::ALL.to_vec(),
    };
    let (from, to) = (span.from.to_string(), span.to.to_string());
    let db = env.d1("DB")?;
    let day_rollups = store::day_rollups(&db, &p.tenant.id, &from, &to, &families).await?;
    let stocks: Vec<Family> = days::stock_families()
        .into_iter()
        .filter(|f| families.contains(f))
        .collect();
    let opening = if stocks.is_empty() {
        Default::default()
    } else {
        let before = store::day_rollups(&db, &p.tenant.id, "0000-00-00", &from, &stocks).await?;
        days::merged(&before, "0000-00-00", &from)
    };
    let targets = p.tenant.targets.clone();
    http::json(
        200,
        &DayRollups {
            tz: tz.name.to_string(),
            from,
            to: span.last_day().to_string(),
            opening,
            days: day_rollups,
            targets,
        },
    )
}

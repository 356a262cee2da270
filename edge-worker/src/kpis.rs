//! `GET /v1/kpis` and `GET /v1/kpis/catalog`: KPIs of a period computed by kpi-core from the
//! stored per-day rollups (never from raw rows), with the previous period and a series.
use std::collections::BTreeMap;

use kpi_core::kpi::{self, KpiDef, KpiReport, Lang, ReportOptions};
use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::rollup::Dim;
use kpi_core::target::Target;
use kpi_core::{Family, Rollup};
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, now_ms, query, query_pairs};
use crate::store;

const MAX_RANGE_DAYS: i64 = 366 * 3;

fn merged(days: &BTreeMap<String, Rollup>, from: &str, to: &str) -> Rollup {
    let mut r = Rollup::new();
    for (_, day) in days.range::<str, _>((
        std::ops::Bound::Included(from),
        std::ops::Bound::Excluded(to),
    )) {
        r.merge(day);
    }
    r
}

/// The period a request asks for, in the tenant's zone.
pub fn requested_period(pairs: &[(String, String)], today: CivilDate) -> ApiResult<Period> {
    let kind_s = query(pairs, "period").unwrap_or("month");
    let kind = PeriodKind::parse(kind_s)
        .ok_or_else(|| ApiError::Invalid(format!("unknown period `{kind_s}`")))?;
    let bad = |what: &str| ApiError::Invalid(format!("`{what}` is not a valid date"));
    let period = match kind {
        PeriodKind::Range => {
            let from = query(pairs, "from")
                .ok_or_else(|| ApiError::Invalid("`from` is required for a range".into()))?;
            let to = query(pairs, "to")
                .ok_or_else(|| ApiError::Invalid("`to` is required for a range".into()))?;
            let from = CivilDate::parse(from).map_err(|_| bad("from"))?;
            // `to` is the last day, inclusive, as people write ranges.
            let to = CivilDate::parse(to)
                .map_err(|_| bad("to"))?
                .add_days(1)
                .map_err(|_| bad("to"))?;
            if to <= from {
                return Err(ApiError::Invalid("`to` is before `from`".into()));
            }
            Period::range(from, to)?
        }
        kind => match query(pairs, "at") {
            Some(at) => Period::parse_at(kind, at).map_err(|_| bad("at"))?,
            None => Period::containing(kind, today)?,
        },
    };
    if period.len_days() > MAX_RANGE_DAYS {
        return Err(ApiError::Invalid(format!(
            "periods are limited to {MAX_RANGE_DAYS} days"
        )));
    }
    Ok(period)
}

/// `GET /v1/kpis` (publishable key from an allowed origin, or secret key).
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let (p, _) = auth::require_reader(env, &req, &pairs).await?;
    let tz = p.tenant.tz();
    let today = CivilDate::of_instant(now_ms(), tz)?;
    let period = requested_period(&pairs, today)?;
    let lang = match query(&pairs, "lang") {
        Some(l) => {
            Lang::parse(l).ok_or_else(|| ApiError::Invalid("`lang` must be `vi` or `en`".into()))?
        }
        None => Lang::parse(&p.tenant.locale).unwrap_or_default(),
    };
    let segment = match query(&pairs, "segment") {
        Some(s) => Some(
            Dim::parse(s)
                .filter(|d| *d != Dim::All)
                .ok_or_else(|| ApiError::Invalid(format!("unknown segment `{s}`")))?,
        ),
        None => None,
    };
    let compare = match query(&pairs, "compare") {
        None | Some("none") => false,
        Some("previous") => true,
        Some(other) => return Err(ApiError::Invalid(format!("unknown compare `{other}`"))),
    };
    let metrics = query(&pairs, "metrics").unwrap_or("nps");
    let mut defs = Vec::new();
    for id in metrics.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        defs.push(kpi::find(id).map_err(|e| ApiError::Invalid(e.to_string()))?);
    }
    if defs.is_empty() || defs.len() > 60 {
        return Err(ApiError::Invalid("`metrics` must list 1–60 KPI ids".into()));
    }
    // Durations in business time when the tenant keeps opening hours, unless asked otherwise.
    let business_hours = match query(&pairs, "hours") {
        None => p.tenant.business_hours.is_some(),
        Some("business") => true,
        Some("calendar") => false,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "`hours` must be `business` or `calendar`, not `{other}`"
            )))
        }
    };
    let targets = p.tenant.targets.clone();
    let opts = ReportOptions {
        lang,
        segment,
        period: Some(period),
        business_hours,
        ..Default::default()
    };
    let db = env.d1("DB")?;
    let kpis = reports(&db, &p.tenant.id, period, compare, &defs, opts, &targets).await?;
    http::json(
        200,
        &json!({
            "tenant": p.tenant.id,
            "period": {"kind": period.kind.as_str(), "from": period.from.to_string(),
                       "to": period.to.add_days(-1)?.to_string(), "tz": tz.name,
                       "hours": if business_hours { "business" } else { "calendar" }},
            "kpis": kpis,
        }),
    )
}

/// The reports of `defs` over `period` (and the previous period when `compare`), read from
/// the per-day rollups only; a tenant target overrides the catalog default of its KPI.
pub async fn reports(
    db: &D1Database,
    tenant: &str,
    period: Period,
    compare: bool,
    defs: &[&'static KpiDef],
    opts: ReportOptions,
    targets: &BTreeMap<String, Target>,
) -> ApiResult<Vec<KpiReport>> {
    let previous = if compare {
        Some(period.previous()?)
    } else {
        None
    };
    let read_from = previous.map(|p| p.from).unwrap_or(period.from).to_string();
    let mut families: Vec<Family> = Vec::new();
    let mut stock_families: Vec<Family> = Vec::new();
    for d in defs {
        for f in kpi::families(d.id) {
            if !families.contains(f) {
                families.push(*f);
            }
        }
        for f in kpi::stock_families(d.id) {
            if !stock_families.contains(f) {
                stock_families.push(*f);
            }
        }
    }
    let to = period.to.to_string();
    let days = store::day_rollups(db, tenant, &read_from, &to, &families).await?;
    let cur = merged(&days, &period.from.to_string(), &to);
    let prev = previous.map(|pp| merged(&days, &pp.from.to_string(), &pp.to.to_string()));
    let series: Vec<(String, Rollup)> = period
        .series()
        .iter()
        .map(|sp| {
            (
                sp.from.to_string(),
                merged(&days, &sp.from.to_string(), &sp.to.to_string()),
            )
        })
        .collect();
    // Stocks (backlog, MRR, customers…) are the sum of every day up to the period's end.
    let to_date = if stock_families.is_empty() {
        None
    } else {
        let all = store::day_rollups(db, tenant, "0000-00-00", &to, &stock_families).await?;
        Some(all.values().fold(Rollup::new(), |mut acc, r| {
            acc.merge(r);
            acc
        }))
    };
    let inputs = kpi::Inputs {
        period: &cur,
        previous: prev.as_ref(),
        series: &series,
        to_date: to_date.as_ref(),
    };
    let kpis: Vec<_> = defs
        .iter()
        .map(|d| {
            let opts = ReportOptions {
                target: targets.get(d.id).copied().or(opts.target),
                ..opts
            };
            kpi::report_with(d, &inputs, &opts)
        })
        .collect();
    Ok(kpis)
}

/// `GET /v1/kpis/catalog`: every KPI id with labels, unit, direction and default target.
pub fn catalog() -> ApiResult<Response> {
    let items: Vec<_> = kpi::CATALOG
        .iter()
        .map(|d| {
            json!({"id": d.id, "label": {"en": d.label_en, "vi": d.label_vi}, "unit": d.unit,
                   "direction": d.direction, "default_target": d.default_target, "source": d.source})
        })
        .collect();
    http::json(200, &json!({"kpis": items}))
}

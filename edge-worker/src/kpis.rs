//! `GET /v1/kpis` and `GET /v1/kpis/catalog`: KPIs of a period computed by kpi-core from the
//! stored counters (never from raw rows), with the previous period and a series, in one
//! D1 batch and one pass of kpi-core's report assembly.
use kpi_core::json::Out;
use kpi_core::kpi::{self, Kpi, Lang, ReportOptions};
use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::report::{self, write_reports, KpiReport};
use kpi_core::rollup::Dim;
use serde_json::json;
use worker::{Context, D1Database, Env, Request, Response};

use crate::auth;
use crate::db::cells::{self, Need, ReadStats};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, now_ms, query, query_pairs};
use crate::tenants::TenantConfig;

const MAX_RANGE_DAYS: i64 = 366 * 3;

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

/// What storage reads for `defs`, broken down by `segment`: each KPI's declared families in
/// the totals and in the segment, its declared breakdowns, its stocks.
pub fn need_of(defs: &[&Kpi], segment: Option<Dim>) -> Need {
    let mut need = Need::default();
    for d in defs {
        for f in kpi::families(d) {
            need.add(f, Dim::All);
            if let Some(s) = segment {
                need.add(f, s);
            }
        }
        for (f, dim) in d.breakdowns {
            need.add(*f, *dim);
        }
        for f in d.stocks {
            if !need.stocks.contains(f) {
                need.stocks.push(*f);
            }
        }
    }
    need
}

/// The reports of `defs` over `period` (and the previous period when `compare`): one read of
/// the counters they declare, one pass of kpi-core's assembly. A tenant target overrides
/// the catalog default of its KPI.
pub async fn reports(
    db: &D1Database,
    tenant: &TenantConfig,
    today: CivilDate,
    period: Period,
    compare: bool,
    defs: &[&'static Kpi],
    opts: &ReportOptions,
) -> ApiResult<(Vec<KpiReport>, ReadStats)> {
    let need = need_of(defs, opts.segment);
    let (span, stats) = cells::span(db, &tenant.id, today, period, compare, &need).await?;
    let kpis = report::reports(&span, period, compare, defs, opts, &tenant.targets);
    Ok((kpis, stats))
}

/// `GET /v1/kpis` (publishable key from an allowed origin, or secret key).
pub async fn get(req: Request, env: &Env, ctx: &Context) -> ApiResult<Response> {
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
    let opts = ReportOptions {
        lang,
        segment,
        period: Some(period),
        business_hours,
        ..Default::default()
    };
    let db = crate::db::open(env)?;
    let (kpis, stats) = reports(&db, &p.tenant, today, period, compare, &defs, &opts).await?;
    if !stats.stale.is_empty() {
        let (env, tenant, stale) = (env.clone(), p.tenant.id.clone(), stats.stale.clone());
        ctx.wait_until(async move {
            let rebuilt = match crate::db::open(&env) {
                Ok(db) => cells::rebuild_months(&db, &tenant, &stale).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = rebuilt {
                crate::log::event(
                    "error",
                    &[("code", "month_rebuild"), ("message", &e.parts().2)],
                );
            }
        });
    }
    // kpi-core's writer: the same text the offline widget writes for the same reports.
    let mut o = Out::new();
    o.open();
    o.key("tenant");
    o.str(&p.tenant.id);
    o.key("period");
    o.open();
    for (k, v) in [
        ("kind", period.kind.as_str()),
        ("from", &period.from.to_string()),
        ("to", &period.to.add_days(-1)?.to_string()),
        ("tz", tz.name),
        (
            "hours",
            if business_hours {
                "business"
            } else {
                "calendar"
            },
        ),
    ] {
        o.key(k);
        o.str(v);
    }
    o.close();
    o.key("kpis");
    write_reports(&mut o, &kpis);
    o.close();
    let mut resp = http::json_text(200, o.finish())?;
    http::set_d1_rows(&mut resp, stats.rows_read, 0)?;
    Ok(resp)
}

/// `GET /v1/kpis/catalog`: every KPI id with labels, unit, direction and default target.
pub fn catalog() -> ApiResult<Response> {
    let items: Vec<_> = kpi::catalog()
        .map(|d| {
            json!({"id": d.id, "label": {"en": d.label_en, "vi": d.label_vi}, "unit": d.unit,
                   "direction": d.direction, "default_target": d.default_target, "source": d.source,
                   "needs": d.needs})
        })
        .collect();
    http::json(200, &json!({"kpis": items}))
}

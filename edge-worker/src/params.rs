//! The parameters the KPI routes share (`/v1/kpis`, `/v1/rollups`, `/v1/export.csv`): the
//! period asked for, the KPIs named by `metrics`, and the read-and-assemble step that turns
//! them into reports.
use kpi_core::kpi::{self, Kpi, ReportOptions};
use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::report::{self, KpiReport};
use kpi_core::rollup::Dim;
use worker::D1Database;

use crate::db::cells::{self, Need, ReadStats};
use crate::error::{ApiError, ApiResult};
use crate::http::query;
use crate::tenant::TenantConfig;

const MAX_RANGE_DAYS: i64 = 366 * 3;

/// The period a request asks for, in the tenant's zone.
pub fn period(pairs: &[(String, String)], today: CivilDate) -> ApiResult<Period> {
    let kind_s = query(pairs, "period").unwrap_or("month");
    let kind = PeriodKind::parse(kind_s)
        .ok_or_else(|| ApiError::Invalid(format!("unknown period `{kind_s}`")))?;
    let bad = |what: &str| ApiError::Invalid(format!("`{what}` is not a valid date"));
    let period = match kind {
        PeriodKind::Range => return range(pairs, today),
        kind => match query(pairs, "at") {
            Some(at) => Period::parse_at(kind, at).map_err(|_| bad("at"))?,
            None => Period::containing(kind, today)?,
        },
    };
    bounded(period)
}

/// The range `from`..=`to` a request asks for (both required), whatever its `period` says.
pub fn range(pairs: &[(String, String)], _today: CivilDate) -> ApiResult<Period> {
    let bad = |what: &str| ApiError::Invalid(format!("`{what}` is not a valid date"));
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
    bounded(Period::range(from, to)?)
}

fn bounded(period: Period) -> ApiResult<Period> {
    if period.len_days() > MAX_RANGE_DAYS {
        return Err(ApiError::Invalid(format!(
            "periods are limited to {MAX_RANGE_DAYS} days"
        )));
    }
    Ok(period)
}

/// The KPIs `metrics` names (comma-separated ids), in order: `unknown_kpi` for an id the
/// catalog does not have.
pub fn kpis(metrics: &str) -> ApiResult<Vec<&'static Kpi>> {
    metrics
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|id| kpi::find(id).map_err(|e| ApiError::Rejected("unknown_kpi", e.to_string())))
        .collect()
}

/// What storage reads for `defs`, broken down by `segment`: each KPI's declared families in
/// the totals and in the segment, its declared breakdowns, its stocks; with `fallback`, also
/// what its formula reads for days folded before its exact counts ([`kpi::Fallback`]).
pub fn need_of(defs: &[&Kpi], segment: Option<Dim>, fallback: bool) -> Need {
    let mut need = Need::default();
    for d in defs {
        for f in kpi::families_with(d, fallback) {
            need.add(f, Dim::All);
            if let Some(s) = segment {
                need.add(f, s);
            }
        }
        let fb = d.fallback.filter(|_| fallback);
        for (f, dim) in d
            .breakdowns
            .iter()
            .chain(fb.iter().flat_map(|f| f.breakdowns))
        {
            need.add(*f, *dim);
        }
        for f in d.stocks {
            if !need.stocks.contains(f) {
                need.stocks.push(*f);
            }
        }
        if d.trailing_year {
            for f in d.reads {
                if !need.trailing.contains(f) {
                    need.trailing.push(*f);
                }
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
    let mut opts = *opts;
    tenant.kpi_settings.apply(&mut opts);
    let opts = &opts;
    let need = need_of(defs, opts.segment, false);
    let (mut span, mut stats) = cells::span(db, &tenant.id, today, period, compare, &need).await?;
    if defs
        .iter()
        .filter_map(|d| d.fallback)
        .any(|f| f.needed(span.read()))
    {
        // Days folded before a formula's exact counts: read again with what it falls back
        // to. A tenant whose every day has them never pays this second read.
        let need = need_of(defs, opts.segment, true);
        let (again, more) = cells::span(db, &tenant.id, today, period, compare, &need).await?;
        span = again;
        stats.absorb(more);
    }
    let kpis = report::reports(&span, period, compare, defs, opts, &tenant.targets);
    Ok((kpis, stats))
}

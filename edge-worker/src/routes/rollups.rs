//! `GET /v1/rollups` (secret key): the tenant's per-day rollups over a span of days, as
//! kpi-core's [`DayRollups`], for a CRM backend to inline into a page that renders the widget
//! offline (`mount(el, { data })`). Owns the span and the read; the format is kpi-core's.
use kpi_core::days::DayRollups;
use kpi_core::kpi::{self, Kpi};
use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::rollup::Dim;
use worker::{Method, Response};

use crate::auth::Principal;
use crate::db::cells::{self, Need};
use crate::error::ApiResult;
use crate::http::{self, now_ms, query};
use crate::params;
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/rollups"),
    endpoints: &[Endpoint {
        method: Method::Get,
        handler: Handler::Secret(|c, p| Box::pin(get(c, p))),
    }],
    cors: false,
    log: "/v1/rollups",
}];

/// `GET /v1/rollups?from&to&metrics`: days `from`..=`to` (default: the previous quarter's
/// first day to today, enough for any day, week, month or quarter up to today and the period
/// before it), only the families `metrics` read (default: every KPI's), every dimension.
async fn get(mut c: Call, p: Principal) -> ApiResult<Response> {
    let pairs = c.query();
    let env = &c.env;
    let tz = p.tenant.tz();
    let today = CivilDate::of_instant(now_ms(), tz)?;
    let span = if query(&pairs, "from").is_some() || query(&pairs, "to").is_some() {
        // The same validation (dates, order, length) as a `period=range` KPI request.
        params::range(&pairs, today)?
    } else {
        let from = Period::containing(PeriodKind::Quarter, today)?
            .previous()?
            .from;
        Period::range(from, today.add_days(1)?)?
    };
    let defs: Vec<&Kpi> = match query(&pairs, "metrics") {
        Some(m) => params::kpis(m)?,
        None => kpi::catalog().collect(),
    };
    // Every dimension of what the KPIs read: the page may ask the widget for any segment.
    let mut need = Need::default();
    for (f, _) in params::need_of(&defs, None, true).pairs {
        for dim in Dim::ALL {
            need.add(f, dim);
        }
    }
    need.stocks = params::need_of(&defs, None, true).stocks;
    let db = crate::db::open(env)?;
    let (days, opening, stats) = cells::days(&db, &p.tenant.id, span.from, span.to, &need).await?;
    let mut resp = http::json(
        200,
        &DayRollups {
            tz: tz.name.to_string(),
            from: span.from.to_string(),
            to: span.last_day().to_string(),
            opening,
            days,
            targets: p.tenant.targets.clone(),
        },
    )?;
    http::set_d1_rows(&mut resp, stats.rows_read, 0)?;
    Ok(resp)
}

//! `GET /v1/kpis` and `GET /v1/kpis/catalog`: KPIs of a period computed by kpi-core from the
//! stored counters (never from raw rows), with the previous period and a series, in one
//! D1 batch and one pass of kpi-core's report assembly.
use kpi_core::json::Out;
use kpi_core::kpi::{self, Lang, ReportOptions};
use kpi_core::period::CivilDate;
use kpi_core::report::write_reports;
use kpi_core::rollup::Dim;
use serde_json::json;
use worker::{Method, Response};

use crate::auth::Principal;
use crate::db::{self, cells};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, now_ms, query};
use crate::params;
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file: both readable from a page on another origin (the widget).
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/v1/kpis"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Reader(|c, p| Box::pin(get(c, p))),
        }],
        cors: true,
        log: "/v1/kpis",
    },
    Route {
        path: Path::Exact("/v1/kpis/catalog"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Public(|_: Call| Box::pin(async { catalog() })),
        }],
        cors: true,
        log: "/v1/kpis/catalog",
    },
];

/// `GET /v1/kpis` (publishable key from an allowed origin, or secret key).
async fn get(mut c: Call, p: Principal) -> ApiResult<Response> {
    let pairs = c.query();
    let Call { env, ctx, .. } = c;
    let env = &env;
    let tz = p.tenant.tz();
    let today = CivilDate::of_instant(now_ms(), tz)?;
    let period = params::period(&pairs, today)?;
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
    let scorecard = match query(&pairs, "scorecard") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "`scorecard` must be `true` or `false`, not `{other}`"
            )))
        }
    };
    let compare = match query(&pairs, "compare") {
        None | Some("none") => false,
        Some("previous") => true,
        Some(other) => return Err(ApiError::Invalid(format!("unknown compare `{other}`"))),
    };
    let defs = params::kpis(query(&pairs, "metrics").unwrap_or("nps"))?;
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
    let db = db::open(env)?;
    let (kpis, stats) =
        params::reports(&db, &p.tenant, today, period, compare, &defs, &opts).await?;
    if stats.to_rebuild() {
        let (env, tenant, stale) = (env.clone(), p.tenant.id.clone(), stats.clone());
        ctx.wait_until(async move {
            let rebuilt = match db::open(&env) {
                Ok(db) => cells::rebuild(&db, &tenant, &stale).await,
                Err(e) => Err(e),
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
    if business_hours {
        if let Some(since) = &p.tenant.hours_since {
            // Tickets stored before this day were measured by the hours in force then.
            o.key("hours_since");
            o.str(since);
        }
    }
    o.close();
    o.key("kpis");
    write_reports(&mut o, &kpis);
    if scorecard {
        o.key("scorecard");
        write_scorecard(
            &mut o,
            &kpi_core::report::scorecard(&kpis, &p.tenant.kpi_settings.scorecard_weights),
        );
    }
    o.close();
    let mut resp = http::json_text(200, o.finish())?;
    http::set_d1_rows(&mut resp, stats.rows_read, 0)?;
    Ok(resp)
}

thread_local! {
    /// The catalog's JSON, written once an isolate: it is the build's, the same for every
    /// request, and writing it (54 KPIs, both languages) is most of the route's work.
    static CATALOG: Result<String, String> = catalog_json();
}

/// `GET /v1/kpis/catalog`: every KPI id with labels, unit, direction, default target (with the
/// period it is meant for) and the rule mapping a target to periods of other lengths.
fn catalog() -> ApiResult<Response> {
    let text = CATALOG.with(Clone::clone).map_err(ApiError::Internal)?;
    http::json_text(200, text)
}

/// The catalog as JSON text, for [`CATALOG`].
fn catalog_json() -> Result<String, String> {
    let items: Vec<_> = kpi::catalog()
        .map(|d| {
            json!({"id": d.id, "label": {"en": d.label_en, "vi": d.label_vi}, "unit": d.unit,
                   "direction": d.direction, "default_target": d.default_target,
                   "target_rule": {"scaling": d.target_scaling, "rule": d.target_scaling.rule()},
                   "source": d.source,
                   "needs": d.needs})
        })
        .collect();
    serde_json::to_string(&json!({"kpis": items})).map_err(|e| e.to_string())
}

/// The weighted scorecard (seed 002, step 12: expected against actual) as JSON: its score,
/// the weighted mean achievement, and one line per KPI.
fn write_scorecard(o: &mut Out, card: &kpi_core::target::Scorecard) {
    o.open();
    o.key("score");
    o.opt_num(card.score);
    o.key("lines");
    o.open_array();
    for l in &card.lines {
        o.open();
        o.key("kpi");
        o.str(&l.kpi);
        for (k, v) in [
            ("value", l.value),
            ("previous", l.previous),
            ("change", l.change),
            ("achievement", l.achievement),
        ] {
            o.key(k);
            o.opt_num(v);
        }
        o.key("status");
        match l.status {
            Some(s) => o.str(s.as_str()),
            None => o.null(),
        }
        o.key("weight");
        o.num(l.weight);
        o.close();
    }
    o.close_array();
    o.close();
}

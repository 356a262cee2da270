//! `GET /v1/export.csv?kind=responses|tickets|kpis&from&to` (secret key): a tenant's rows or
//! KPIs as CSV, for a spreadsheet or a BI tool. CSV cells a spreadsheet would run as a
//! formula are defused.
use kpi_core::kpi::{self, Lang, ReportOptions};
use kpi_core::period::CivilDate;
use serde_json::Value;
use worker::{Env, Method, Response};

use crate::auth::Principal;
use crate::db;
use crate::db::start;
use crate::error::{ApiError, ApiResult};
use crate::http::{now_ms, query};
use crate::paging::{fetch, filter, Table};
use crate::params;
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::tenant::TenantConfig;

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Exact("/v1/export.csv"),
    endpoints: &[Endpoint {
        method: Method::Get,
        handler: Handler::Secret(|c, p| Box::pin(export(c, p))),
    }],
    cors: false,
    log: "/v1/export.csv",
}];

/// Rows per query of an export: 40 pages reach the cap within D1's per-request query budget.
const EXPORT_PAGE: usize = 2500;
/// Most rows one export returns; beyond it the caller narrows `from`/`to`.
pub const EXPORT_CAP: usize = 100_000;

/// A CSV cell: empty for null, JSON text for arrays and objects. Text that a spreadsheet
/// would run as a formula — starting with `=`, `+`, `-`, `@`, tab or CR (OWASP's CSV
/// injection rule) — gets a leading `'`, which Excel and Sheets show as text; numbers stay
/// numbers (an NPS of -12.5 is a number, not a formula).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A CSV document under construction (RFC 4180: CRLF line ends; a field is quoted, with
/// quotes doubled, when it holds a comma, a quote, CR or LF). Hand-written rather than the
/// `csv` crate, which added 19 KB gzip (28 KB raw) to the worker for these dozen lines.
struct Csv(String);

impl Csv {
    fn new() -> Csv {
        Csv(String::new())
    }

    fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            let f = f.as_ref();
            if f.contains([',', '"', '\r', '\n']) {
                self.0.push('"');
                self.0.push_str(&f.replace('"', "\"\""));
                self.0.push('"');
            } else {
                self.0.push_str(f);
            }
        }
        self.0.push_str("\r\n");
    }
}

fn csv_reply(w: Csv, filename: &str) -> ApiResult<Response> {
    let mut resp = Response::from_bytes(w.0.into_bytes())?;
    let h = resp.headers_mut();
    h.set("content-type", "text/csv; charset=utf-8")?;
    h.set(
        "content-disposition",
        &format!("attachment; filename=\"{filename}\""),
    )?;
    h.set("cache-control", "no-store")?;
    Ok(resp)
}

/// `GET /v1/export.csv?kind=responses|tickets|kpis&from&to` (secret key).
async fn export(mut c: Call, p: Principal) -> ApiResult<Response> {
    let pairs = c.query();
    let env = &c.env;
    match query(&pairs, "kind") {
        Some("responses") => export_rows(env, &p.tenant.id, &pairs, Table::Responses).await,
        Some("tickets") => export_rows(env, &p.tenant.id, &pairs, Table::Tickets).await,
        Some("kpis") => export_kpis(env, &p.tenant, &pairs).await,
        _ => Err(ApiError::Invalid(
            "`kind` must be `responses`, `tickets` or `kpis`".into(),
        )),
    }
}

async fn export_rows(
    env: &Env,
    tenant: &str,
    pairs: &[(String, String)],
    table: Table,
) -> ApiResult<Response> {
    let f = filter(pairs, table)?;
    let db = db::open(env)?;
    // Counting at most cap + 1 rows refuses an oversized export before building it.
    let count = match table {
        Table::Responses => db::responses::count(&db, tenant, &f, EXPORT_CAP + 1).await?,
        Table::Tickets => db::tickets::count(&db, tenant, &f, EXPORT_CAP + 1).await?,
    };
    if count > EXPORT_CAP {
        return Err(ApiError::ExportTooLarge(EXPORT_CAP));
    }
    let columns = table.columns();
    let mut w = Csv::new();
    w.row(columns);
    let mut after = start();
    let mut written = 0;
    while written < EXPORT_CAP {
        let rows = fetch(&db, tenant, table, &f, &after, EXPORT_PAGE).await?;
        let full = rows.len() == EXPORT_PAGE;
        for (key, v) in rows {
            w.row(columns.iter().map(|c| cell(&v[*c])));
            written += 1;
            after = key;
        }
        if !full {
            break;
        }
    }
    csv_reply(w, &format!("{tenant}-{}.csv", table.name()))
}

async fn export_kpis(
    env: &Env,
    cfg: &TenantConfig,
    pairs: &[(String, String)],
) -> ApiResult<Response> {
    let tenant = cfg.id.as_str();
    let today = CivilDate::of_instant(now_ms(), cfg.tz())?;
    // `from`/`to` without `period` mean a range, as the row exports read them.
    let period = if query(pairs, "period").is_none() && query(pairs, "from").is_some() {
        params::range(pairs, today)?
    } else {
        params::period(pairs, today)?
    };
    let lang = Lang::parse(&cfg.locale).unwrap_or_default();
    let opts = ReportOptions {
        lang,
        period: Some(period),
        ..Default::default()
    };
    let defs: Vec<_> = kpi::catalog().collect();
    let db = db::open(env)?;
    let (reports, _) = params::reports(&db, cfg, today, period, false, &defs, &opts).await?;
    let from = period.from.to_string();
    let to = period.to.add_days(-1)?.to_string();
    let mut w = Csv::new();
    w.row([
        "id",
        "label",
        "unit",
        "direction",
        "value",
        "n",
        "currency",
        "target_min",
        "target_goal",
        "status",
        "from",
        "to",
    ]);
    for r in &reports {
        let v = serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?;
        w.row([
            cell(&v["id"]),
            cell(&v["label"]),
            cell(&v["unit"]),
            cell(&v["direction"]),
            cell(&v["value"]),
            cell(&v["n"]),
            cell(&v["currency"]),
            cell(&v["target"]["min"]),
            cell(&v["target"]["goal"]),
            cell(&v["status"]),
            from.clone(),
            to.clone(),
        ]);
    }
    csv_reply(w, &format!("{tenant}-kpis-{from}-{to}.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut w = Csv::new();
        w.row([
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\r",
            "plain",
            "",
            "Dịch vụ",
        ]);
        w.row(["x"]);
        assert_eq!(
            w.0,
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"cr\r\",plain,,Dịch vụ\r\nx\r\n"
        );
    }

    #[test]
    fn cells() {
        assert_eq!(cell(&Value::Null), "");
        assert_eq!(cell(&json!(["x", "y"])), "[\"x\",\"y\"]");
        assert_eq!(cell(&json!(true)), "true");
        assert_eq!(cell(&json!(-3)), "-3");
        assert_eq!(cell(&json!(-12.5)), "-12.5");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_text() {
        for (given, exported) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+1", "'+1"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("a=1", "a=1"),
            ("2026-03-01", "2026-03-01"),
            ("", ""),
        ] {
            assert_eq!(cell(&json!(given)), exported, "{given:?}");
        }
    }
}

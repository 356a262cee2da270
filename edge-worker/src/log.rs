//! Structured logs: one JSON object per line on the worker's console (Workers Logs and
//! `wrangler tail` index the fields). Never logs keys, tokens, comments or respondent ids.
use kpi_core::json::Out;

/// Logs an event with string fields.
pub fn event(name: &str, fields: &[(&str, &str)]) {
    let mut o = Out::new();
    o.open();
    o.key("event");
    o.str(name);
    for (k, v) in fields {
        o.key(k);
        o.str(v);
    }
    o.close();
    worker::console_log!("{}", o.finish());
}

/// Logs one answered request: method, route (never a token), status, wall time, and the rows
/// D1 reported as read and written where the route counts them (`d1`: `read,written`).
pub fn request(method: &str, route: &str, status: u16, ms: i64, d1: Option<&str>) {
    let mut o = Out::new();
    o.open();
    o.key("event");
    o.str("request");
    o.key("method");
    o.str(method);
    o.key("route");
    o.str(route);
    o.key("status");
    o.int(status.into());
    o.key("ms");
    o.int(ms.max(0) as u64);
    let rows = d1.and_then(|v| v.split_once(','));
    if let Some((read, written)) = rows {
        for (k, v) in [("d1_rows_read", read), ("d1_rows_written", written)] {
            if let Ok(n) = v.parse::<u64>() {
                o.key(k);
                o.int(n);
            }
        }
    }
    o.close();
    worker::console_log!("{}", o.finish());
}

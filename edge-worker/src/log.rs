//! Structured logs: one JSON object per line on the worker's console (Workers Logs and
//! `wrangler tail` index the fields). Never logs keys, tokens, comments or respondent ids.
use serde_json::{Map, Value};

/// Logs an event with string fields.
pub fn event(name: &str, fields: &[(&str, &str)]) {
    let mut m = Map::new();
    m.insert("event".into(), Value::from(name));
    for (k, v) in fields {
        m.insert((*k).into(), Value::from(*v));
    }
    worker::console_log!("{}", Value::Object(m));
}

/// Logs one answered request: method, route (never a token), status, wall time, and the rows
/// D1 reported as read where the route counts them.
pub fn request(method: &str, route: &str, status: u16, ms: i64, rows_read: Option<u64>) {
    let mut line = serde_json::json!({"event": "request", "method": method, "route": route,
                                      "status": status, "ms": ms});
    if let (Some(rows), Some(o)) = (rows_read, line.as_object_mut()) {
        o.insert("d1_rows_read".into(), rows.into());
    }
    worker::console_log!("{}", line);
}

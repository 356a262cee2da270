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

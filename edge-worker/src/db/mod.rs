//! The data layer: the SQL of each table, bound and read with types. Routes call these and
//! never write SQL of their own.
pub mod cells;

use wasm_bindgen::JsCast;
use worker::{D1Database, D1Result, Env};

use crate::error::{ApiError, ApiResult};

/// The `DB` binding. `Env::d1` checks the binding's constructor name, two string copies out
/// of the runtime on every call; wrangler.toml declares `DB` as D1, so a lookup suffices.
pub fn open(env: &Env) -> ApiResult<D1Database> {
    let v = js_sys::Reflect::get(env, &wasm_bindgen::JsValue::from_str("DB"))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::Internal("the DB binding is missing".into()))?;
    Ok(v.unchecked_into())
}

/// Rows statement `at` of a batch changed (0 when it is missing or D1 gave no metadata).
/// D1 counts the rows the statement's triggers wrote too: use it as "changed something or
/// not", and `RETURNING` to count a table's rows.
pub fn changes(results: &[D1Result], at: usize) -> usize {
    results
        .get(at)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

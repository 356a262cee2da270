//! The data layer: the SQL of each table, one file per table, bound with [`Arg`] and read
//! into typed rows. Routes call these and never write SQL of their own; the rollup cells'
//! SQL is built in one place, [`cells`].
pub mod alerts;
pub mod cells;
pub mod events;
pub mod keys;
pub mod lines_cache;
pub mod openings;
pub mod outbox;
pub mod respondents;
pub mod responses;
pub mod tenants;
pub mod tickets;

use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, Env};

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

/// One statement's result in a batch, read from its JS object: workers-rs's `D1Result`
/// would walk the whole `meta` (and every row) through serde_wasm_bindgen for the one or two
/// numbers a route reads.
pub struct Done(JsValue);

impl Done {
    /// Member `k` of a JS object (undefined when it has none).
    fn field(o: &JsValue, k: &str) -> JsValue {
        js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A number of the result's `meta` (0 when D1 gave none).
    fn meta(&self, k: &str) -> f64 {
        Done::field(&Done::field(&self.0, "meta"), k)
            .as_f64()
            .unwrap_or(0.0)
    }

    /// The statement's first row, when it returned one.
    fn first_row(&self) -> Option<JsValue> {
        js_sys::Reflect::get_u32(&Done::field(&self.0, "results"), 0)
            .ok()
            .filter(JsValue::is_object)
    }

    /// Column `col` of the statement's first row, when it is a number.
    pub fn first_number(&self, col: &str) -> Option<f64> {
        Done::field(&self.first_row()?, col).as_f64()
    }
}

/// Rows statement `at` of a batch changed (0 when it is missing or D1 gave no metadata).
/// D1 counts the rows the statement's triggers wrote too: use it as "changed something or
/// not", and `RETURNING` to count a table's rows.
pub fn changes(results: &[Done], at: usize) -> usize {
    results.get(at).map_or(0, |r| r.meta("changes") as usize)
}

/// A value a statement binds to one of its `?n`: text, a number (D1 numbers are doubles;
/// every integer bound stays below 2^53), or NULL for `None`.
pub trait Arg {
    /// The value as D1 receives it.
    fn js(&self) -> JsValue;
}

impl Arg for str {
    fn js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl Arg for String {
    fn js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl Arg for f64 {
    fn js(&self) -> JsValue {
        JsValue::from_f64(*self)
    }
}

impl Arg for i64 {
    fn js(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl Arg for u32 {
    fn js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

impl Arg for usize {
    fn js(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    fn js(&self) -> JsValue {
        (**self).js()
    }
}

impl<T: Arg> Arg for Option<T> {
    fn js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, Arg::js)
    }
}

/// `sql` with `args` bound to `?1`, `?2`… in order.
pub fn stmt(db: &D1Database, sql: &str, args: &[&dyn Arg]) -> ApiResult<D1PreparedStatement> {
    let values: Vec<JsValue> = args.iter().map(|a| a.js()).collect();
    Ok(db.prepare(sql).bind(&values)?)
}

/// `db.batch(stmts)`, once more when the database answered that it was busy: a batch is one
/// transaction, so a busy answer stored none of it and the second try cannot count twice.
/// An answer is not lost to a moment of contention (seen under workerd's local D1 when an
/// alert's delivery writes the outbox beside it).
pub async fn batch(db: &D1Database, stmts: Vec<D1PreparedStatement>) -> ApiResult<Vec<Done>> {
    let run = |stmts: &[D1PreparedStatement]| {
        let list: js_sys::Array = stmts.iter().map(|s| JsValue::from(s.inner())).collect();
        let sys: &worker::worker_sys::D1Database = db.as_ref().unchecked_ref();
        let promise = sys.batch(list);
        async move {
            let results = js_sys::futures::JsFuture::from(promise?).await?;
            let results: js_sys::Array = results.dyn_into()?;
            Ok::<_, JsValue>(results.iter().map(Done).collect::<Vec<_>>())
        }
    };
    match run(&stmts).await {
        Err(e) if error_text(&e).contains("SQLITE_BUSY") => {
            Ok(run(&stmts).await.map_err(worker::Error::from)?)
        }
        r => Ok(r.map_err(worker::Error::from)?),
    }
}

/// The message of a JS error and of its cause: D1 may put SQLite's code in either.
fn error_text(e: &JsValue) -> String {
    let Some(err) = e.dyn_ref::<js_sys::Error>() else {
        return e.as_string().unwrap_or_default();
    };
    let cause = err
        .cause()
        .dyn_ref::<js_sys::Error>()
        .map(|c| String::from(c.message()))
        .unwrap_or_default();
    format!("{} {cause}", String::from(err.message()))
}

/// Rows a batch wrote, every statement and its triggers together (D1's `rows_written`).
pub fn rows_written(results: &[Done]) -> u64 {
    results.iter().map(|r| r.meta("rows_written") as u64).sum()
}

/// Rows by key, the last of equal keys kept. Inserted one by one: `collect` into a
/// `BTreeMap` sorts the pairs first, with a stable sort the worker would carry (about 3 KB
/// of wasm) for each pair type.
pub fn keyed<K: Ord, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> std::collections::BTreeMap<K, V> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.insert(k, v);
    }
    map
}

/// A `SELECT count(*) AS n` row.
#[derive(serde::Deserialize)]
pub struct Count {
    /// The count.
    pub n: f64,
}

/// Which rows a request selects.
pub struct Filter {
    /// First day, inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Responses of this survey only.
    pub survey: Option<String>,
}

/// A row's position in key order: `(day, id)`.
pub type Key = (String, String);

/// The key before every row.
pub fn start() -> Key {
    (String::new(), String::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn keyed_is_collect_without_the_sort() {
        let pairs = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)];
        let want: std::collections::BTreeMap<&str, i32> = pairs.into_iter().collect();
        assert_eq!(super::keyed(pairs), want);
        assert_eq!(super::keyed(pairs).get("b"), Some(&3));
    }
}

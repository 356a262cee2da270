//! Rollup storage in D1: one row per counter `(tenant, day, family, dim, segment, key)`.
//!
//! *Invariant*: rollups always equal a recomputation from the raw rows. Every raw row keeps
//! in `contrib` the exact counters it added; a write retracts the old row's contribution and
//! adds the new one with SQL that reads the row inside the same D1 batch (one transaction),
//! so concurrent answers to one link can never count twice.
use std::collections::BTreeMap;

use kpi_core::rollup::Dim;
use kpi_core::{Cell, CellKey, Family, Rollup};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::error::ApiResult;

/// Rows a statement of a batch changed (0 when it is missing or D1 gave no metadata).
pub fn changes(results: &[D1Result], at: usize) -> usize {
    results
        .get(at)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// Encodes contributions as the JSON stored in a raw row's `contrib` column (kpi-core owns
/// the format: `[[family, dim, segment, key, n, sum], …]`).
pub fn encode_contrib(cells: &[(CellKey, Cell)]) -> String {
    kpi_core::rollup::contrib_json(cells)
}

/// SQL that applies (`sign` = 1) or retracts (`sign` = -1) the contribution stored in the
/// raw row(s) selected by `row_filter` of `table`, on that row's own day. `row_filter` binds
/// `?1` = tenant and `?2` = the row key.
pub fn apply_stored(
    db: &D1Database,
    table: &str,
    key_col: &str,
    sign: i32,
    tenant: &str,
    key: &str,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "INSERT INTO rollup_cells (tenant_id, day, family, dim, segment, key, n, sum) \
         SELECT r.tenant_id, r.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3, \
                {sign} * (j.value->>4), {sign} * (j.value->>5) \
         FROM {table} r, json_each(r.contrib) j WHERE r.tenant_id = ?1 AND r.{key_col} = ?2 \
         ON CONFLICT (tenant_id, day, family, dim, segment, key) \
         DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum"
    );
    Ok(db
        .prepare(sql)
        .bind(&[JsValue::from_str(tenant), JsValue::from_str(key)])?)
}

/// Like [`apply_stored`], but only for the row whose `guard_col` equals `guard`: a write
/// guarded by a per-write random revision retracts or adds exactly the row version it read
/// or wrote, and nothing when a concurrent write got there first.
#[allow(clippy::too_many_arguments)]
pub fn apply_stored_guarded(
    db: &D1Database,
    table: &str,
    key_col: &str,
    guard_col: &str,
    sign: i32,
    tenant: &str,
    key: &str,
    guard: &str,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "INSERT INTO rollup_cells (tenant_id, day, family, dim, segment, key, n, sum) \
         SELECT r.tenant_id, r.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3, \
                {sign} * (j.value->>4), {sign} * (j.value->>5) \
         FROM {table} r, json_each(r.contrib) j \
         WHERE r.tenant_id = ?1 AND r.{key_col} = ?2 AND r.{guard_col} = ?3 \
         ON CONFLICT (tenant_id, day, family, dim, segment, key) \
         DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum"
    );
    Ok(db.prepare(sql).bind(&[
        JsValue::from_str(tenant),
        JsValue::from_str(key),
        JsValue::from_str(guard),
    ])?)
}

/// SQL adding the contributions of every row of `table` whose `batch_col` is `batch`, summed
/// per counter: the rows one request inserted (rows it did not insert keep another token).
pub fn apply_batch(
    db: &D1Database,
    table: &str,
    batch_col: &str,
    tenant: &str,
    batch: &str,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "INSERT INTO rollup_cells (tenant_id, day, family, dim, segment, key, n, sum) \
         SELECT r.tenant_id, r.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3, \
                sum(j.value->>4), sum(j.value->>5) \
         FROM {table} r, json_each(r.contrib) j \
         WHERE r.{batch_col} = ?2 AND r.tenant_id = ?1 \
         GROUP BY r.tenant_id, r.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3 \
         ON CONFLICT (tenant_id, day, family, dim, segment, key) \
         DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum"
    );
    Ok(db
        .prepare(sql)
        .bind(&[JsValue::from_str(tenant), JsValue::from_str(batch)])?)
}

/// SQL adding `cells` to day `day` directly (facts without a raw row, such as links issued).
pub fn add_cells(
    db: &D1Database,
    tenant: &str,
    day: &str,
    cells: &[(CellKey, Cell)],
) -> ApiResult<D1PreparedStatement> {
    let sql = "INSERT INTO rollup_cells (tenant_id, day, family, dim, segment, key, n, sum) \
         SELECT ?1, ?2, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5 \
         FROM json_each(?3) j WHERE true \
         ON CONFLICT (tenant_id, day, family, dim, segment, key) \
         DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum";
    Ok(db.prepare(sql).bind(&[
        JsValue::from_str(tenant),
        JsValue::from_str(day),
        JsValue::from_str(&encode_contrib(cells)),
    ])?)
}

#[derive(Deserialize)]
struct CellRow {
    day: String,
    family: String,
    dim: String,
    segment: String,
    key: f64,
    n: f64,
    sum: f64,
}

/// Reads the per-day rollups of `families` for days in `[from, to)` (`YYYY-MM-DD`).
/// The cost depends on days × counters, never on the number of raw rows.
pub async fn day_rollups(
    db: &D1Database,
    tenant: &str,
    from: &str,
    to: &str,
    families: &[Family],
) -> ApiResult<BTreeMap<String, Rollup>> {
    let fam_list: Vec<String> = families
        .iter()
        .map(|f| format!("'{}'", f.as_str()))
        .collect();
    let sql = format!(
        "SELECT day, family, dim, segment, key, n, sum FROM rollup_cells \
         WHERE tenant_id = ?1 AND day >= ?2 AND day < ?3 AND family IN ({}) AND (n != 0 OR sum != 0)",
        fam_list.join(",")
    );
    let rows: Vec<CellRow> = db
        .prepare(sql)
        .bind(&[
            JsValue::from_str(tenant),
            JsValue::from_str(from),
            JsValue::from_str(to),
        ])?
        .all()
        .await?
        .results()?;
    let mut out: BTreeMap<String, Rollup> = BTreeMap::new();
    for r in rows {
        let (Some(family), Some(dim)) = (Family::parse(&r.family), Dim::parse(&r.dim)) else {
            continue;
        };
        let key = CellKey {
            family,
            dim,
            segment: r.segment,
            key: r.key as i64,
        };
        out.entry(r.day).or_default().add(
            key,
            Cell {
                n: r.n as i64,
                sum: r.sum as i64,
            },
        );
    }
    Ok(out)
}

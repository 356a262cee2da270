//! The rollup counters in D1 (migration 0005): day counters (`cells`), closed months summed
//! (`cells_month`, rebuilt when `months_stale` says a day of them changed), and the stocks'
//! running balances (`balances`). Triggers on the raw tables keep all three; this module
//! only reads them, rebuilds stale months and adds counters that have no raw row (links
//! issued). Owns the SQL of the counters; the arithmetic is kpi-core's.
//!
//! A report's read is one D1 batch: the families and dimensions its KPIs declare, one seek
//! per (family, dimension) on the primary key; whole closed months from `cells_month`, other
//! days from `cells`; stocks from `balances` minus the days after the period. Its cost
//! depends on the period and the KPIs asked for, not on the tenant's age.
use std::borrow::Cow;
use std::collections::BTreeMap;

use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::report::{Bucket, Span};
use kpi_core::rollup::{Acc, Cell, CellKey, Dim, Family, Rollup, Segments, Slot};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::error::{ApiError, ApiResult};

/// What a read needs: (family, dimension) pairs, and which families are stocks.
#[derive(Debug, Clone, Default)]
pub struct Need {
    /// Every (family, dimension) read; `Dim::All` of each family at least.
    pub pairs: Vec<(Family, Dim)>,
    /// The families read as stocks.
    pub stocks: Vec<Family>,
}

fn id_list(ids: impl IntoIterator<Item = u8>) -> String {
    let mut ids: Vec<u8> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

impl Need {
    /// Adds a pair once.
    pub fn add(&mut self, family: Family, dim: Dim) {
        if !self.pairs.contains(&(family, dim)) {
            self.pairs.push((family, dim));
        }
    }

    /// Families grouped by the set of dimensions read for them, as SQL id lists: one
    /// statement per group reads exactly the pairs, with one seek per pair.
    fn groups(&self, only: Option<&[Family]>) -> Vec<(String, String)> {
        let mut by_dims: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut families: Vec<Family> = self.pairs.iter().map(|(f, _)| *f).collect();
        families.sort_unstable();
        families.dedup();
        for f in families {
            if only.is_some_and(|o| !o.contains(&f)) {
                continue;
            }
            let mut dims: Vec<u8> = self
                .pairs
                .iter()
                .filter(|(g, _)| *g == f)
                .map(|(_, d)| d.id())
                .collect();
            dims.sort_unstable();
            match by_dims.iter_mut().find(|(d, _)| *d == dims) {
                Some((_, fams)) => fams.push(f.id()),
                None => by_dims.push((dims, vec![f.id()])),
            }
        }
        by_dims
            .into_iter()
            .map(|(dims, fams)| (id_list(fams), id_list(dims)))
            .collect()
    }

    fn families_sql(&self) -> String {
        id_list(self.pairs.iter().map(|(f, _)| f.id()))
    }
}

/// What a read cost and found.
#[derive(Debug, Clone, Default)]
pub struct ReadStats {
    /// Rows D1 reports as read, over every statement.
    pub rows_read: u64,
    /// Closed months read from days because a day of them changed: (family, `YYYY-MM`),
    /// to rebuild once the response is out.
    pub stale: Vec<(Family, String)>,
}

/// A row as the reads' `json_group_array` writes it: family, dim, day (or month), segment,
/// key, n, sum.
#[derive(Deserialize)]
struct Row<'a>(
    u8,
    u8,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    i64,
    i64,
);

#[derive(Deserialize)]
struct Json {
    j: Option<String>,
}

/// Parts of a span of days by where they are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `cells`, days `[from, to)`.
    Days(CivilDate, CivilDate),
    /// `cells_month`, the whole months `[from, to)` (first days of months).
    Months(CivilDate, CivilDate),
}

fn month_start(d: CivilDate) -> ApiResult<CivilDate> {
    Ok(Period::containing(PeriodKind::Month, d)?.from)
}

fn month_str(d: CivilDate) -> String {
    d.to_string()[..7].to_string()
}

/// Splits buckets (contiguous, in day order) into whole months closed before `open_from`
/// that lie inside one bucket (read as months) and the other days; adjacent parts of one
/// kind are joined. A month cut by a bucket boundary (a month's daily series) is read as
/// days, so each row still lands in its own bucket.
fn sources(buckets: &[Period], open_from: CivilDate) -> ApiResult<Vec<Source>> {
    let mut out: Vec<Source> = Vec::new();
    let mut push = |s: Source| match (out.last_mut(), s) {
        (Some(Source::Days(_, end)), Source::Days(f, t)) if *end == f => *end = t,
        (Some(Source::Months(_, end)), Source::Months(f, t)) if *end == f => *end = t,
        _ => out.push(s),
    };
    for b in buckets {
        let (from, to) = (b.from, b.to);
        let mut cur = from;
        while cur < to {
            let month = Period::containing(PeriodKind::Month, cur)?;
            if cur == month.from && month.to <= to && month.to <= open_from {
                push(Source::Months(cur, month.to));
                cur = month.to;
            } else {
                let end = if month.to < to { month.to } else { to };
                push(Source::Days(cur, end));
                cur = end;
            }
        }
    }
    Ok(out)
}

fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// A statement reading `table`'s counters of `families` × `dims` with `extra` conditions, as
/// one JSON array.
fn select(
    db: &D1Database,
    table: &str,
    date_col: &str,
    families: &str,
    dims: &str,
    extra: &str,
    binds: &[JsValue],
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT json_group_array(json_array(family, dim, {date_col}, segment, key, n, sum)) AS j \
         FROM {table} WHERE tenant_id = ?1 AND family IN ({families}) AND dim IN ({dims}) \
         {extra} AND (n != 0 OR sum != 0)"
    );
    Ok(db.prepare(sql).bind(binds)?)
}

/// The balances of stock families `stocks` × `dims`; backlog keys (resolution days) before
/// `from` are left out: those tickets are open at no end on or after `from`.
fn balances(
    db: &D1Database,
    tenant: &str,
    stocks: &str,
    dims: &str,
    from: CivilDate,
) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(format!(
            "SELECT json_group_array(json_array(family, dim, '', segment, key, n, sum)) AS j \
             FROM balances WHERE tenant_id = ?1 AND family IN ({stocks}) AND dim IN ({dims}) \
             AND (family != {tou} OR key >= ?2) AND (n != 0 OR sum != 0)",
            tou = Family::TicketOpenUntil.id()
        ))
        .bind(&[
            js(tenant),
            JsValue::from_f64(from.days_since_epoch() as f64),
        ])?)
}

fn rows_read(r: &D1Result) -> u64 {
    r.meta()
        .ok()
        .flatten()
        .and_then(|m| m.rows_read)
        .unwrap_or(0) as u64
}

fn json_of(r: &D1Result) -> ApiResult<String> {
    let rows: Vec<Json> = r.results()?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|j| j.j)
        .unwrap_or_else(|| "[]".into()))
}

/// Calls `each` with every row of one statement's JSON.
fn each_row(json: &str, mut each: impl FnMut(Row)) -> ApiResult<()> {
    let rows: Vec<Row> = serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("reading counters: {e}")))?;
    for r in rows {
        each(r);
    }
    Ok(())
}

/// Where the rows of one statement go.
enum Dest {
    /// Into the bucket holding the row's day (or month's first day).
    Buckets { months: bool },
    /// Subtracted from the closing stocks (days after the period).
    After,
    /// Added to the closing stocks (balances).
    Balance,
}

struct Builder {
    segs: Segments,
    bounds: Vec<(String, String)>,
    buckets: Vec<Acc>,
    closing: Acc,
}

impl Builder {
    fn slot(&mut self, family: u8, dim: u8, seg: &str) -> Option<Slot> {
        let family = Family::from_id(family)?;
        let dim = Dim::from_id(dim)?;
        Some(Slot::new(family, dim, self.segs.intern(seg)))
    }

    fn bucket_of(&self, day: &str) -> Option<usize> {
        let i = self
            .bounds
            .partition_point(|(from, _)| from.as_str() <= day);
        let (from, to) = self.bounds.get(i.checked_sub(1)?)?;
        (from.as_str() <= day && day < to.as_str()).then(|| i - 1)
    }

    fn add(&mut self, into: &Dest, r: Row, skip: &dyn Fn(u8, &str) -> bool) {
        let Row(family, dim, date, seg, key, n, sum) = r;
        let cell = Cell { n, sum };
        let Some(slot) = self.slot(family, dim, &seg) else {
            return;
        };
        match into {
            Dest::Buckets { months } => {
                if *months && skip(family, &date) {
                    return;
                }
                let day = if *months {
                    Cow::Owned(format!("{date}-01"))
                } else {
                    date
                };
                if let Some(b) = self.bucket_of(&day) {
                    self.buckets[b].add(slot, key, cell);
                }
            }
            Dest::After => self.closing.add(slot, key, cell.negate()),
            Dest::Balance => self.closing.add(slot, key, cell),
        }
    }
}

/// Reads the span a report over `period` (and its previous period when `compare`) needs:
/// [`kpi_core::report::buckets`] filled from day and month counters, and the stocks at the
/// period's end. `today` (tenant-local) decides which months are closed.
pub async fn span(
    db: &D1Database,
    tenant: &str,
    today: CivilDate,
    period: Period,
    compare: bool,
    need: &Need,
) -> ApiResult<(Span, ReadStats)> {
    let buckets = kpi_core::report::buckets(period, compare);
    let open_from = month_start(today)?;
    let fams = need.families_sql();
    let groups = need.groups(None);
    let t = js(tenant);
    let mut stmts = Vec::new();
    let mut dest = Vec::new();
    let mut months_read: Vec<(CivilDate, CivilDate)> = Vec::new();
    let Some(first) = buckets.first() else {
        return Ok((Span::default(), ReadStats::default()));
    };
    for s in sources(&buckets, open_from)? {
        for (fams, dims) in &groups {
            match s {
                Source::Days(f, to) => {
                    stmts.push(select(
                        db,
                        "cells",
                        "day",
                        fams,
                        dims,
                        "AND day >= ?2 AND day < ?3",
                        &[t.clone(), js(&f.to_string()), js(&to.to_string())],
                    )?);
                    dest.push(Dest::Buckets { months: false });
                }
                Source::Months(f, to) => {
                    stmts.push(select(
                        db,
                        "cells_month",
                        "month",
                        fams,
                        dims,
                        "AND month >= ?2 AND month < ?3",
                        &[t.clone(), js(&month_str(f)), js(&month_str(to))],
                    )?);
                    dest.push(Dest::Buckets { months: true });
                }
            }
        }
        if let Source::Months(f, to) = s {
            months_read.push((f, to));
        }
    }
    for (stocks, dims) in need.groups(Some(&need.stocks)) {
        // Backlog keys are resolution days: a ticket resolved before the earliest boundary
        // is open at none of the report's ends, and is left out of the read.
        stmts.push(balances(db, tenant, &stocks, &dims, first.from)?);
        dest.push(Dest::Balance);
        stmts.push(select(
            db,
            "cells",
            "day",
            &stocks,
            &dims,
            "AND day >= ?2",
            &[t.clone(), js(&period.to.to_string())],
        )?);
        dest.push(Dest::After);
    }
    let stale_at = stmts.len();
    if let (Some(f), Some(l)) = (months_read.first(), months_read.last()) {
        stmts.push(
            db.prepare(format!(
                "SELECT json_group_array(json_array(family, month)) AS j FROM months_stale \
                 WHERE tenant_id = ?1 AND family IN ({fams}) AND month >= ?2 AND month < ?3"
            ))
            .bind(&[t.clone(), js(&month_str(f.0)), js(&month_str(l.1))])?,
        );
    }
    let results = db.batch(stmts).await?;
    let mut stats = ReadStats {
        rows_read: results.iter().map(rows_read).sum(),
        stale: Vec::new(),
    };
    if let Some(r) = results.get(stale_at) {
        let marks: Vec<(u8, String)> = serde_json::from_str(&json_of(r)?)
            .map_err(|e| ApiError::Internal(format!("reading stale months: {e}")))?;
        for (f, m) in marks {
            if let Some(f) = Family::from_id(f) {
                stats.stale.push((f, m));
            }
        }
    }
    let stale = stats.stale.clone();
    let skip = move |family: u8, month: &str| {
        stale
            .iter()
            .any(|(f, m)| f.id() == family && m.as_str() == month)
    };
    let mut b = Builder {
        segs: Segments::new(),
        bounds: buckets
            .iter()
            .map(|p| (p.from.to_string(), p.to.to_string()))
            .collect(),
        buckets: buckets.iter().map(|_| Acc::new()).collect(),
        closing: Acc::new(),
    };
    for (r, into) in results.iter().zip(&dest) {
        let json = json_of(r)?;
        each_row(&json, |row| b.add(into, row, &skip))?;
    }
    // Stale months: their days instead, read now; the months are rebuilt after the reply.
    if !stats.stale.is_empty() {
        let mut stmts = Vec::new();
        for (family, month) in &stats.stale {
            let from = CivilDate::parse(&format!("{month}-01"))?;
            let to = Period::containing(PeriodKind::Month, from)?.to;
            for (fams, dims) in need.groups(Some(&[*family])) {
                stmts.push(select(
                    db,
                    "cells",
                    "day",
                    &fams,
                    &dims,
                    "AND day >= ?2 AND day < ?3",
                    &[t.clone(), js(&from.to_string()), js(&to.to_string())],
                )?);
            }
        }
        let results = db.batch(stmts).await?;
        stats.rows_read += results.iter().map(rows_read).sum::<u64>();
        for r in &results {
            let json = json_of(r)?;
            each_row(&json, |row| {
                b.add(&Dest::Buckets { months: false }, row, &|_, _| false)
            })?;
        }
    }
    let span = Span {
        segs: b.segs,
        buckets: buckets
            .iter()
            .zip(b.buckets)
            .map(|(p, acc)| Bucket {
                from: p.from,
                to: p.to,
                cells: acc.finish(),
            })
            .collect(),
        closing: b.closing.finish(),
    };
    Ok((span, stats))
}

/// Rebuilds the snapshots of stale closed months from their days, each in one transaction
/// with clearing its mark (a write after it marks the month stale again).
pub async fn rebuild_months(
    db: &D1Database,
    tenant: &str,
    stale: &[(Family, String)],
) -> ApiResult<()> {
    let mut stmts = Vec::new();
    for (family, month) in stale {
        let from = CivilDate::parse(&format!("{month}-01"))?;
        let to = Period::containing(PeriodKind::Month, from)?.to;
        let key = [js(tenant), JsValue::from_f64(family.id() as f64), js(month)];
        let args = [
            key[0].clone(),
            key[1].clone(),
            key[2].clone(),
            js(&from.to_string()),
            js(&to.to_string()),
        ];
        stmts.push(
            db.prepare(
                "DELETE FROM cells_month WHERE tenant_id = ?1 AND family = ?2 AND month = ?3",
            )
            .bind(&key)?,
        );
        stmts.push(
            db.prepare(
                "INSERT INTO cells_month (tenant_id, family, dim, month, segment, key, n, sum) \
                 SELECT tenant_id, family, dim, ?3, segment, key, sum(n), sum(sum) FROM cells \
                 WHERE tenant_id = ?1 AND family = ?2 AND dim IN (0, 1, 2, 3, 4, 5, 6) \
                 AND day >= ?4 AND day < ?5 GROUP BY dim, segment, key \
                 HAVING sum(n) != 0 OR sum(sum) != 0",
            )
            .bind(&args)?,
        );
        stmts.push(
            db.prepare(
                "DELETE FROM months_stale WHERE tenant_id = ?1 AND family = ?2 AND month = ?3",
            )
            .bind(&key)?,
        );
    }
    if !stmts.is_empty() {
        db.batch(stmts).await?;
    }
    Ok(())
}

/// The day counters of `families` (every dimension) for days `[from, to)`, one rollup a day,
/// and the stocks before `from` (balances minus the days from `from` on): what
/// `GET /v1/rollups` serves.
pub async fn days(
    db: &D1Database,
    tenant: &str,
    from: CivilDate,
    to: CivilDate,
    need: &Need,
) -> ApiResult<(BTreeMap<String, Rollup>, Rollup, ReadStats)> {
    let t = js(tenant);
    let mut stmts = Vec::new();
    let mut dest = Vec::new();
    for (fams, dims) in need.groups(None) {
        stmts.push(select(
            db,
            "cells",
            "day",
            &fams,
            &dims,
            "AND day >= ?2 AND day < ?3",
            &[t.clone(), js(&from.to_string()), js(&to.to_string())],
        )?);
        dest.push(0);
    }
    for (stocks, dims) in need.groups(Some(&need.stocks)) {
        stmts.push(balances(db, tenant, &stocks, &dims, from)?);
        dest.push(1);
        stmts.push(select(
            db,
            "cells",
            "day",
            &stocks,
            &dims,
            "AND day >= ?2",
            &[t.clone(), js(&from.to_string())],
        )?);
        dest.push(2);
    }
    let results = db.batch(stmts).await?;
    let stats = ReadStats {
        rows_read: results.iter().map(rows_read).sum(),
        stale: Vec::new(),
    };
    let mut by_day: BTreeMap<String, Rollup> = BTreeMap::new();
    let mut opening = Rollup::new();
    for (r, &i) in results.iter().zip(&dest) {
        let json = json_of(r)?;
        each_row(&json, |Row(family, dim, day, seg, key, n, sum)| {
            let (Some(family), Some(dim)) = (Family::from_id(family), Dim::from_id(dim)) else {
                return;
            };
            let k = CellKey::new(family, dim, &seg, key);
            match i {
                0 => by_day
                    .entry(day.into_owned())
                    .or_default()
                    .add(k, Cell { n, sum }),
                1 => opening.add(k, Cell { n, sum }),
                _ => opening.add(k, Cell { n, sum }.negate()),
            }
        })?;
    }
    Ok((by_day, opening, stats))
}

/// The statement adding `cells` on `day` directly: counters with no raw row (links issued).
pub fn add(
    db: &D1Database,
    tenant: &str,
    day: &str,
    cells: &[(CellKey, Cell)],
) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum) \
             SELECT ?1, j.value->>0, j.value->>1, ?2, j.value->>2, j.value->>3, j.value->>4, \
                    j.value->>5 FROM json_each(?3) j WHERE true \
             ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum",
        )
        .bind(&[
            js(tenant),
            js(day),
            js(&kpi_core::rollup::contrib_json(cells)),
        ])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> CivilDate {
        CivilDate::parse(s).unwrap()
    }

    fn p(kind: PeriodKind, at: &str) -> Period {
        Period::parse_at(kind, at).unwrap()
    }

    #[test]
    fn closed_months_inside_one_bucket_are_read_as_months_and_the_rest_as_days() {
        let open = d("2026-11-01");
        // A year with the previous year: closed months as months, the open one as days.
        let year = kpi_core::report::buckets(p(PeriodKind::Year, "2026"), true);
        assert_eq!(
            sources(&year, open).unwrap(),
            vec![
                Source::Months(d("2025-01-01"), d("2026-11-01")),
                Source::Days(d("2026-11-01"), d("2027-01-01")),
            ]
        );
        // A closed month with its previous month: the previous as a month, the daily
        // series as days.
        let march = kpi_core::report::buckets(p(PeriodKind::Month, "2026-03"), true);
        assert_eq!(
            sources(&march, open).unwrap(),
            vec![
                Source::Months(d("2026-02-01"), d("2026-03-01")),
                Source::Days(d("2026-03-01"), d("2026-04-01")),
            ]
        );
        let range = [Period::range(d("2026-09-15"), d("2026-11-01")).unwrap()];
        assert_eq!(
            sources(&range, open).unwrap(),
            vec![
                Source::Days(d("2026-09-15"), d("2026-10-01")),
                Source::Months(d("2026-10-01"), d("2026-11-01")),
            ]
        );
    }
}

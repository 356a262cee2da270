//! Rebuilding what a read found stale or missing, in one D1 batch after the reply: closed
//! months' and years' snapshots with their lines (migration 0015), and the open month's
//! prefix and day lines (migrations 0017, 0018); every rebuild moves the tenant's snapshot
//! generation, so no isolate keeps using lines read before it ([`super::lines_cache`]).
use kpi_core::period::CivilDate;
use kpi_core::rollup::Family;
use worker::D1Database;

use super::text::{by_sums, line_sql, Sums};
use super::{by_period, id_list, month_days, month_start, month_str, ReadStats};
use crate::db::{stmt, Arg};
use crate::error::ApiResult;

/// A year's months, `[YYYY-01, YYYY-13)`, for `YYYY`.
fn year_months(year: &str) -> ApiResult<(String, String)> {
    Ok((format!("{year}-01"), format!("{year}-13")))
}

/// Every dimension's id, as an SQL list: what a snapshot or a prefix sums.
const ALL_DIMS: &str = "0, 1, 2, 3, 4, 5, 6";

/// Rebuilds the snapshots a read found stale, and their lines, in one transaction that also
/// moves the tenant's snapshot generation: each stale month from its days, then each stale
/// year from its month snapshots, then the open month's prefixes the read found unbuilt,
/// summed and day by day. A month's mark is cleared with its rebuild (a write after it marks
/// it again); a year's only when none of its months is still marked, so a year summed from a
/// stale month is never used. A prefix is summed from the cells as they are in this
/// transaction; a later write to one of its days deletes its `month_prefixes` row (migration
/// 0017).
pub async fn rebuild(db: &D1Database, tenant: &str, stats: &ReadStats) -> ApiResult<()> {
    let levels = [
        Level {
            span_of: month_days,
            table: "cells_month",
            lines: "lines_month",
            col: "month",
            source: "cells",
            source_col: "day",
            marks: "months_stale",
            stale: &stats.stale,
            guard: "",
        },
        Level {
            span_of: year_months,
            table: "cells_year",
            lines: "lines_year",
            col: "year",
            source: "cells_month",
            source_col: "month",
            marks: "years_stale",
            stale: &stats.stale_years,
            guard: "AND NOT EXISTS (SELECT 1 FROM months_stale m WHERE m.tenant_id = ?1 \
                    AND m.family = years_stale.family AND m.month >= ?3 AND m.month < ?4)",
        },
    ];
    let mut stmts = Vec::new();
    for l in levels {
        let Level {
            table, lines, col, ..
        } = l;
        for (at, families) in by_period(l.stale) {
            let ids: Vec<u8> = families.iter().map(|f| f.id()).collect();
            let fams = id_list(ids.iter().copied());
            let (from, to) = (l.span_of)(at)?;
            let args: [&dyn Arg; 4] = [&tenant, &at, &from, &to];
            for t in [table, lines] {
                let clear = format!(
                    "DELETE FROM {t} WHERE tenant_id = ?1 AND {col} = ?2 AND family IN ({fams})"
                );
                stmts.push(stmt(db, &clear, &args[..2])?);
            }
            let sum = format!(
                "INSERT INTO {table} (tenant_id, family, dim, {col}, segment, key, n, sum) \
                 SELECT tenant_id, family, dim, ?2, segment, key, sum(n), sum(sum) FROM {} \
                 WHERE tenant_id = ?1 AND family IN ({fams}) AND dim IN ({ALL_DIMS}) \
                 AND {1} >= ?3 AND {1} < ?4 GROUP BY family, dim, segment, key \
                 HAVING sum(n) != 0 OR sum(sum) != 0",
                l.source, l.source_col
            );
            stmts.push(stmt(db, &sum, &args)?);
            // The snapshot's lines, as a report's read of its cells would build them.
            for (fams, sums) in by_sums(&ids, Sums::SketchTotals) {
                let text = format!(
                    "INSERT INTO {lines} (tenant_id, family, dim, {col}, segment, line) \
                     SELECT tenant_id, family, dim, {col}, segment, {} FROM {table} \
                     WHERE tenant_id = ?1 AND {col} = ?2 AND family IN ({fams}) \
                     AND (n != 0 OR sum != 0) GROUP BY family, dim, segment",
                    line_sql(col, sums)
                );
                stmts.push(stmt(db, &text, &args[..2])?);
            }
            let unmark = format!(
                "DELETE FROM {} WHERE tenant_id = ?1 AND {col} = ?2 AND family IN ({fams}) {}",
                l.marks, l.guard
            );
            // D1 refuses parameters a statement does not use.
            let used = if l.guard.is_empty() { 2 } else { 4 };
            stmts.push(stmt(db, &unmark, &args[..used])?);
        }
    }
    for (upto, families) in by_period(&stats.prefixes) {
        let ids: Vec<u8> = families.iter().map(|f| f.id()).collect();
        let fams = id_list(ids.iter().copied());
        let day = CivilDate::parse(upto)?;
        let (from, month) = (month_start(day)?.to_string(), month_str(day));
        let args: [&dyn Arg; 4] = [&tenant, &month, &from, &upto];
        // Each day's lines (migration 0018), as a read of that day's cells would build them:
        // from the family's last build on (its `month_prefixes` row still standing in this
        // month, so no day before it has changed since), else from the month's first day.
        let kept = |t: &str| {
            format!(
                "coalesce((SELECT p.upto FROM month_prefixes p WHERE p.tenant_id = ?1 \
                 AND p.family = {t}.family AND p.upto >= ?2 AND p.upto <= ?3), ?2)"
            )
        };
        let days: [&dyn Arg; 3] = [&tenant, &from, &upto];
        let clear = format!(
            "DELETE FROM lines_days WHERE tenant_id = ?1 AND family IN ({fams}) \
             AND (day < ?2 OR day >= {})",
            kept("lines_days")
        );
        stmts.push(stmt(db, &clear, &days)?);
        for (fams, sums) in by_sums(&ids, Sums::SketchTotals) {
            let text = format!(
                "INSERT INTO lines_days (tenant_id, family, dim, day, segment, line) \
                 SELECT tenant_id, family, dim, day, segment, {} FROM cells \
                 WHERE tenant_id = ?1 AND family IN ({fams}) AND dim IN ({ALL_DIMS}) \
                 AND day >= ?2 AND day >= {} AND day < ?3 AND (n != 0 OR sum != 0) \
                 GROUP BY family, dim, day, segment",
                line_sql("day", sums),
                kept("cells")
            );
            stmts.push(stmt(db, &text, &days)?);
        }
        for t in ["lines_prefix", "month_prefixes"] {
            let clear = format!("DELETE FROM {t} WHERE tenant_id = ?1 AND family IN ({fams})");
            stmts.push(stmt(db, &clear, &args[..1])?);
        }
        for (fams, sums) in by_sums(&ids, Sums::SketchTotals) {
            let text = format!(
                "INSERT INTO lines_prefix (tenant_id, family, dim, segment, line) \
                 SELECT ?1, family, dim, segment, {} FROM (SELECT family, dim, segment, key, \
                 sum(n) AS n, sum(sum) AS sum FROM cells WHERE tenant_id = ?1 \
                 AND family IN ({fams}) AND dim IN ({ALL_DIMS}) AND day >= ?3 \
                 AND day < ?4 GROUP BY family, dim, segment, key \
                 HAVING sum(n) != 0 OR sum(sum) != 0) GROUP BY family, dim, segment",
                line_sql("?2", sums)
            );
            stmts.push(stmt(db, &text, &args)?);
        }
        let built: Vec<String> = ids.iter().map(|id| format!("(?1, {id}, ?2)")).collect();
        let built = format!(
            "INSERT INTO month_prefixes (tenant_id, family, upto) VALUES {}",
            built.join(", ")
        );
        stmts.push(stmt(db, &built, &[&tenant, &upto])?);
    }
    if !stmts.is_empty() {
        // A new generation: copies of lines read before it are no longer used
        // (`lines_cache`).
        stmts.push(stmt(
            db,
            "INSERT INTO snapshot_gens (tenant_id, gen) VALUES (?1, 1) \
             ON CONFLICT (tenant_id) DO UPDATE SET gen = gen + 1",
            &[&tenant],
        )?);
        db.batch(stmts).await?;
    }
    Ok(())
}

/// One level of snapshots [`rebuild`] rebuilds.
struct Level<'a> {
    /// The snapshot's span in its source's dates.
    span_of: fn(&str) -> ApiResult<(String, String)>,
    /// The snapshot table, its lines (migration 0015) and their period column.
    table: &'static str,
    lines: &'static str,
    col: &'static str,
    /// The table it sums, and that table's date column.
    source: &'static str,
    source_col: &'static str,
    /// The marks, the stale periods found by the read, and what must hold to clear a mark.
    marks: &'static str,
    stale: &'a [(Family, String)],
    guard: &'static str,
}

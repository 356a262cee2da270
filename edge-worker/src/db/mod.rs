//! The data layer: the SQL of each table, bound and read with types. Routes call these and
//! never write SQL of their own.
pub mod cells;

use worker::D1Result;

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

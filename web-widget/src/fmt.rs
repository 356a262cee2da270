//! What a tile prints: figures in a KPI's unit (the value, interval ends, p90) and signed
//! changes. Numbers, groupings and units come from `kpi_core::format`; this module only picks
//! among them (the same choice as `kpi_core::format::value`).
use kpi_core::format;
use kpi_core::kpi::{Lang, Unit};

use crate::api::Kpi;

pub use format::number;

/// `v` in the unit of `k` (`70,5%`, `42,0`, `4 phút 30 giây`, `120.000 ₫`).
pub fn in_unit(v: f64, k: &Kpi, lang: Lang) -> String {
    match k.unit {
        Unit::Percent => format::percent(v, lang),
        Unit::Money => format::money(v, k.currency.unwrap_or_default(), lang),
        Unit::Duration => format::duration(v, lang),
        Unit::Count => number(v, 0, lang),
        Unit::Ratio => number(v, 2, lang),
        Unit::Score => number(v, 1, lang),
    }
}

/// A KPI's value as its tile shows it, or `—` without a value.
pub fn value(k: &Kpi, lang: Lang) -> String {
    match k.value {
        Some(v) => in_unit(v, k, lang),
        None => String::from("—"),
    }
}

/// A change against the previous period, always signed: `+4,5`, `−1 min 5 s`, `+2,0 điểm %`,
/// `±0`.
pub fn delta(d: f64, k: &Kpi, lang: Lang) -> String {
    let mut s = String::from(if d < 0.0 {
        "−"
    } else if d > 0.0 {
        "+"
    } else {
        "±"
    });
    match k.unit {
        // A change of a percentage is in points, not a percentage of a percentage.
        Unit::Percent => {
            s.push_str(&number(d.abs(), 1, lang));
            s.push_str(match lang {
                Lang::Vi => " điểm %",
                Lang::En => " pp",
            });
        }
        _ => s.push_str(&in_unit(d.abs(), k, lang)),
    }
    s
}

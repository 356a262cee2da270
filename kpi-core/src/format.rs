//! Vietnamese and English presentation of KPI values: numbers (`1.234,5` / `1,234.5`),
//! percents, money with its currency (`120.000 ₫`), durations (`4 phút 30 giây` /
//! `4 min 30 s`). Owns text only; values come rounded from [`crate::kpi`].
use alloc::string::String;
use core::fmt::Write;

use crate::kpi::meta::{Lang, Unit};
use crate::money::Currency;
use crate::report::KpiReport;

fn separators(lang: Lang) -> (char, char) {
    match lang {
        Lang::Vi => ('.', ','),
        Lang::En => (',', '.'),
    }
}

/// A number with `decimals` decimals and the language's grouping: `1.234,5` (vi),
/// `1,234.5` (en). Not-a-number and infinities print as `—`.
pub fn number(v: f64, decimals: u8, lang: Lang) -> String {
    if !v.is_finite() {
        return String::from("—");
    }
    let decimals = decimals.min(6);
    let scale = crate::stats::pow10(decimals as i32);
    let scaled = libm::round(libm::fabs(v) * scale);
    let (group, point) = separators(lang);
    let mut out = String::new();
    if v < 0.0 && scaled > 0.0 {
        out.push('-');
    }
    // Beyond 2^63 the digits are not meaningful anyway: saturate.
    let scaled = if scaled >= 9.2e18 {
        u64::MAX / 2
    } else {
        scaled as u64
    };
    let int = scaled / (scale as u64).max(1);
    let frac = scaled % (scale as u64).max(1);
    let digits = {
        let mut d = String::new();
        let _ = write!(d, "{int}");
        d
    };
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if decimals > 0 {
        out.push(point);
        let _ = write!(out, "{:0width$}", frac, width = decimals as usize);
    }
    out
}

/// A percentage with one decimal: `70,5%` (vi), `70.5%` (en).
pub fn percent(v: f64, lang: Lang) -> String {
    let mut s = number(v, 1, lang);
    s.push('%');
    s
}

/// An amount in major units with its currency's decimals: `120.000 ₫` (vi), `120,000 ₫`
/// (en); `$1,234.50` in English for currencies written before the amount.
pub fn money(major: f64, currency: Currency, lang: Lang) -> String {
    let n = number(major, currency.exponent(), lang);
    let sym = currency.symbol();
    match (lang, sym) {
        (Lang::En, "$" | "€" | "£" | "¥") => {
            let (sign, digits) = match n.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", n.as_str()),
            };
            let mut s = String::from(sign);
            s.push_str(sym);
            s.push_str(digits);
            s
        }
        _ => {
            let mut s = n;
            s.push(' ');
            s.push_str(sym);
            s
        }
    }
}

/// A duration given in seconds, in its two largest units: `4 phút 30 giây` / `4 min 30 s`,
/// `1 giờ 5 phút` / `1 h 5 min`, `2 ngày 3 giờ` / `2 d 3 h`.
pub fn duration(seconds: f64, lang: Lang) -> String {
    if !seconds.is_finite() {
        return String::from("—");
    }
    let total = libm::round(seconds.max(0.0)).min(9.0e15) as u64;
    let names: [&str; 4] = match lang {
        Lang::Vi => ["ngày", "giờ", "phút", "giây"],
        Lang::En => ["d", "h", "min", "s"],
    };
    let parts = [
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    ];
    let first = parts.iter().position(|&p| p > 0).unwrap_or(3);
    let mut s = String::new();
    let _ = write!(s, "{} {}", parts[first], names[first]);
    if first < 3 && parts[first + 1] > 0 {
        let _ = write!(s, " {} {}", parts[first + 1], names[first + 1]);
    }
    s
}

/// A report's value as a tile shows it, or `—` without a value.
pub fn value(report: &KpiReport, lang: Lang) -> String {
    let Some(v) = report.measure.value else {
        return String::from("—");
    };
    match report.unit {
        Unit::Percent => percent(v, lang),
        Unit::Money => money(v, report.measure.currency.unwrap_or_default(), lang),
        Unit::Duration => duration(v, lang),
        Unit::Count => number(v, 0, lang),
        Unit::Ratio => number(v, 2, lang),
        Unit::Score => number(v, 1, lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_by_language() {
        assert_eq!(number(1234.5, 1, Lang::Vi), "1.234,5");
        assert_eq!(number(1234.5, 1, Lang::En), "1,234.5");
        assert_eq!(number(1_234_567.0, 0, Lang::En), "1,234,567");
        assert_eq!(number(-0.04, 1, Lang::En), "0.0");
        assert_eq!(number(-12.0, 0, Lang::Vi), "-12");
        assert_eq!(number(f64::NAN, 1, Lang::Vi), "—");
        assert_eq!(number(999.96, 1, Lang::En), "1,000.0");
    }

    #[test]
    fn percents_and_money() {
        assert_eq!(percent(70.0, Lang::Vi), "70,0%");
        assert_eq!(percent(32.0, Lang::En), "32.0%");
        assert_eq!(money(120_000.0, Currency::VND, Lang::Vi), "120.000 ₫");
        assert_eq!(money(120_000.0, Currency::VND, Lang::En), "120,000 ₫");
        assert_eq!(money(1234.5, Currency::USD, Lang::En), "$1,234.50");
        assert_eq!(money(1234.5, Currency::USD, Lang::Vi), "1.234,50 $");
        assert_eq!(money(-5.0, Currency::USD, Lang::En), "-$5.00");
    }

    #[test]
    fn durations_in_two_units() {
        assert_eq!(duration(270.0, Lang::Vi), "4 phút 30 giây");
        assert_eq!(duration(270.0, Lang::En), "4 min 30 s");
        assert_eq!(duration(3900.0, Lang::En), "1 h 5 min");
        assert_eq!(duration(3600.0, Lang::Vi), "1 giờ");
        assert_eq!(
            duration(2.0 * 86_400.0 + 3.0 * 3600.0, Lang::Vi),
            "2 ngày 3 giờ"
        );
        assert_eq!(duration(0.0, Lang::En), "0 s");
        assert_eq!(duration(-3.0, Lang::En), "0 s");
    }
}

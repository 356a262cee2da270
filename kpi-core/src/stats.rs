//! Sampling statistics: intervals and margins for KPIs computed from samples.
//! `libm` keeps the float maths identical on native and wasm targets.

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Default minimum sample below which a KPI is flagged `insufficient_sample`.
pub const DEFAULT_MIN_SAMPLE: u64 = 30;

/// Wilson score interval for `successes` of `n`, in percent; `None` when `n` is 0.
pub fn wilson_percent(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let p = successes.min(n) as f64 / n_f;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = Z95 * libm::sqrt(p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)) / denom;
    Some((
        clamp_pct((centre - half) * 100.0),
        clamp_pct((centre + half) * 100.0),
    ))
}

fn clamp_pct(v: f64) -> f64 {
    v.clamp(0.0, 100.0)
}

/// NPS 95 % margin of error in NPS points: with p promoters and d detractors as shares,
/// var = (p + d − (p − d)²) ÷ n and MoE = 1.96 · √var · 100. `None` when `n` is 0.
pub fn nps_margin(promoters: u64, detractors: u64, n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let p = promoters as f64 / n_f;
    let d = detractors as f64 / n_f;
    let var = (p + d - (p - d) * (p - d)) / n_f;
    Some(1.96 * libm::sqrt(var.max(0.0)) * 100.0)
}

/// Rounds to `digits` decimals for presentation (half away from zero).
pub fn round_to(v: f64, digits: i32) -> f64 {
    let f = libm::pow(10.0, digits as f64);
    libm::round(v * f) / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_is_none_without_data_and_brackets_the_share() {
        assert_eq!(wilson_percent(0, 0), None);
        let (lo, hi) = wilson_percent(35, 50).unwrap();
        assert!(lo < 70.0 && 70.0 < hi);
        assert!(
            (lo - 56.2).abs() < 0.1 && (hi - 80.9).abs() < 0.1,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson_percent(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0);
    }

    #[test]
    fn nps_margin_matches_the_catalog_formula() {
        // 180 promoters, 92 passives, 46 detractors of 318.
        let m = nps_margin(180, 46, 318).unwrap();
        let (p, d) = (180.0 / 318.0, 46.0 / 318.0);
        let expect = 1.96 * ((p + d - (p - d) * (p - d)) / 318.0f64).sqrt() * 100.0;
        assert!((m - expect).abs() < 1e-9);
        assert_eq!(nps_margin(0, 0, 0), None);
        // All passives: no variance.
        assert_eq!(nps_margin(0, 0, 20), Some(0.0));
    }
}

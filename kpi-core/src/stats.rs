//! Sampling statistics: intervals and margins for KPIs computed from samples (Wilson for
//! proportions, the catalog's NPS margin and the adjusted-Wald NPS interval, means).
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

/// Adjusted-Wald 95 % interval for NPS (Sauro & Lewis): add 3/4 of a promoter and 3/4 of a
/// detractor (3 responses in all) before the Wald interval of the difference of two shares.
/// Better coverage than the plain margin at small n. In NPS points, clipped to −100..100;
/// `None` when `n` is 0.
pub fn nps_adjusted_wald(promoters: u64, detractors: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n_adj = n as f64 + 3.0;
    let p = (promoters as f64 + 0.75) / n_adj;
    let d = (detractors as f64 + 0.75) / n_adj;
    let nps = p - d;
    let var = (p + d - nps * nps) / n_adj;
    let half = Z95 * libm::sqrt(var.max(0.0));
    Some((
        ((nps - half) * 100.0).max(-100.0),
        ((nps + half) * 100.0).min(100.0),
    ))
}

/// Normal 95 % interval of a mean from its count, sum and sum of squares; `None` below 2.
pub fn mean_interval(n: u64, sum: f64, sum_sq: f64) -> Option<(f64, f64)> {
    if n < 2 {
        return None;
    }
    let n_f = n as f64;
    let mean = sum / n_f;
    let var = ((sum_sq - sum * mean) / (n_f - 1.0)).max(0.0);
    let half = Z95 * libm::sqrt(var / n_f);
    Some((mean - half, mean + half))
}

/// Rounds to `digits` decimals for presentation (half away from zero).
pub fn round_to(v: f64, digits: i32) -> f64 {
    let f = pow10(digits);
    libm::round(v * f) / f
}

/// 10^`n` for the few exponents reports use (decimals, currency minor units: |n| ≤ 9),
/// exactly.
pub fn pow10(n: i32) -> f64 {
    const P: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    let p = P.get(n.unsigned_abs() as usize).copied().unwrap_or(1e9);
    if n >= 0 {
        p
    } else {
        1.0 / p
    }
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
    fn adjusted_wald_is_wider_at_small_n_and_clipped() {
        let (lo, hi) = nps_adjusted_wald(1, 0, 1).unwrap();
        assert!(lo > -100.0 && hi <= 100.0 && lo < hi);
        let (lo, hi) = nps_adjusted_wald(180, 46, 318).unwrap();
        assert!(lo < 42.1 && 42.1 < hi, "{lo} {hi}");
        assert_eq!(nps_adjusted_wald(0, 0, 0), None);
        let (lo, hi) = mean_interval(4, 10.0, 30.0).unwrap();
        assert!(lo < 2.5 && 2.5 < hi);
        assert_eq!(mean_interval(1, 3.0, 9.0), None);
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

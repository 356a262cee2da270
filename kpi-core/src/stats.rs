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
    let (_, var) = nps_share_var(promoters as f64, detractors as f64, n as f64);
    Some(1.96 * libm::sqrt(var) * 100.0)
}

/// NPS as a share (−1..1) of `p` promoters and `d` detractors among `n`, and its variance
/// (p + d − (p − d)²) ÷ n with p and d as shares, never negative.
fn nps_share_var(p: f64, d: f64, n: f64) -> (f64, f64) {
    let (p, d) = (p / n, d / n);
    let nps = p - d;
    (nps, ((p + d - nps * nps) / n).max(0.0))
}

/// Adjusted-Wald 95 % interval for NPS (Sauro & Lewis): add 3/4 of a promoter and 3/4 of a
/// detractor (3 responses in all) before the Wald interval of the difference of two shares.
/// Better coverage than the plain margin at small n. In NPS points, clipped to −100..100;
/// `None` when `n` is 0.
pub fn nps_adjusted_wald(promoters: u64, detractors: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (nps, var) = nps_share_var(
        promoters as f64 + 0.75,
        detractors as f64 + 0.75,
        n as f64 + 3.0,
    );
    let half = Z95 * libm::sqrt(var);
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

/// The two-proportion z statistic of `x1` of `n1` against `x2` of `n2`, with the pooled
/// share's standard error; `None` when a sample is empty or the pooled share is 0 or 1
/// (no variance: both shares equal).
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1.min(n1) + x2.min(n2)) as f64 / (n1f + n2f);
    let se = libm::sqrt(pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f));
    (se > 0.0).then(|| (x1.min(n1) as f64 / n1f - x2.min(n2) as f64 / n2f) / se)
}

/// The z statistic of the difference of two NPS (shares, −1..1), each with the catalog's
/// variance (p + d − (p − d)²) ÷ n, the two samples independent; `None` when a sample is
/// empty or neither has variance.
pub fn nps_difference_z(a: (u64, u64, u64), b: (u64, u64, u64)) -> Option<f64> {
    let part = |(p, d, n): (u64, u64, u64)| nps_share_var(p as f64, d as f64, n as f64);
    if a.2 == 0 || b.2 == 0 {
        return None;
    }
    let ((s1, v1), (s2, v2)) = (part(a), part(b));
    let se = libm::sqrt(v1 + v2);
    (se > 0.0).then(|| (s1 - s2) / se)
}

/// Welch's t statistic and its Welch–Satterthwaite degrees of freedom for two means, each
/// from (n, mean, sample variance); `None` below two observations in either or without
/// variance in both.
pub fn welch_t(a: (u64, f64, f64), b: (u64, f64, f64)) -> Option<(f64, f64)> {
    if a.0 < 2 || b.0 < 2 {
        return None;
    }
    let (q1, q2) = (a.2.max(0.0) / a.0 as f64, b.2.max(0.0) / b.0 as f64);
    let se2 = q1 + q2;
    if se2 <= 0.0 {
        return None;
    }
    let df = se2 * se2 / (q1 * q1 / (a.0 as f64 - 1.0) + q2 * q2 / (b.0 as f64 - 1.0));
    Some(((a.1 - b.1) / libm::sqrt(se2), df))
}

/// The two-sided 95 % critical value of Student's t with `df` degrees of freedom, taken at
/// the whole degrees below `df` (conservative): tabulated for 1 to 4, the Cornish–Fisher
/// expansion (Abramowitz & Stegun 26.7.5) from 5 on, within 3·10⁻⁴ of the exact value there.
pub fn t_critical_95(df: f64) -> f64 {
    let k = libm::floor(df).max(1.0);
    if k < 2.0 {
        return 12.706_204_736_174_7;
    }
    if k < 3.0 {
        return 4.302_652_729_749_464;
    }
    if k < 4.0 {
        return 3.182_446_305_284_263;
    }
    if k < 5.0 {
        return 2.776_445_105_197_799;
    }
    let z = Z95;
    let (z2, z3) = (z * z, z * z * z);
    let (z5, z7, z9) = (z3 * z2, z3 * z2 * z2, z3 * z3 * z3);
    z + (z3 + z) / (4.0 * k)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * k * k)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * k * k * k)
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z)
            / (92160.0 * k * k * k * k)
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

    // Reference values of the change tests, computed independently with Python's `math`
    // alone (the formulas written out, and Student's t tail by Simpson integration of its
    // density, 200 000 steps).

    #[test]
    fn two_proportion_z_matches_the_reference() {
        // pooled 125/200: z = 0.15 / √(0.625 · 0.375 · (1/100 + 1/100)) = 2.1908902300
        let z = two_proportion_z(70, 100, 55, 100).unwrap();
        assert!((z - 2.190_890_230_020_663).abs() < 1e-9, "{z}");
        assert!(z > Z95);
        // 35/50 against 30/50: z = 1.0482848367, not significant.
        let z = two_proportion_z(35, 50, 30, 50).unwrap();
        assert!((z - 1.048_284_836_721_918).abs() < 1e-9, "{z}");
        assert_eq!(two_proportion_z(0, 0, 1, 2), None);
        assert_eq!(two_proportion_z(10, 10, 5, 5), None);
    }

    #[test]
    fn nps_difference_z_matches_the_reference() {
        // 180 P, 46 D of 318 against 150 P, 60 D of 300: z = 1.9928878819.
        let z = nps_difference_z((180, 46, 318), (150, 60, 300)).unwrap();
        assert!((z - 1.992_887_881_915_037).abs() < 1e-9, "{z}");
        // 20 P, 5 D of 40 against 18 P, 6 D of 40: z = 0.4756813896.
        let z = nps_difference_z((20, 5, 40), (18, 6, 40)).unwrap();
        assert!((z - 0.475_681_389_600_559).abs() < 1e-9, "{z}");
        assert_eq!(nps_difference_z((0, 0, 0), (1, 0, 1)), None);
    }

    #[test]
    fn welch_t_and_its_critical_value_match_the_reference() {
        // Effort scores: 12×7, 10×6, 5×5, 3×4 (mean 6.0333, variance 0.99885) against
        // 6×7, 8×6, 8×5, 6×4, 2×3 (mean 5.3333, variance 1.47126): t = 2.4394958629 on
        // 55.9533803400 degrees, two-sided p = 0.0179.
        let (t, df) = welch_t(
            (30, 6.033_333_333_333_333, 0.998_850_574_712_643_7),
            (30, 5.333_333_333_333_333, 1.471_264_367_816_092_6),
        )
        .unwrap();
        assert!((t - 2.439_495_862_908_273).abs() < 1e-9, "{t}");
        assert!((df - 55.953_380_340_003_85).abs() < 1e-6, "{df}");
        assert!(t > t_critical_95(df));
        // Five answers each, 4.6 (var 0.3) against 3.2 (var 0.7): t = 3.1304951685 on
        // 6.8965517241 degrees; p = 0.0203 at 6 whole degrees: significant.
        let (t, df) = welch_t((5, 4.6, 0.3), (5, 3.2, 0.7)).unwrap();
        assert!((t - 3.130_495_168_499_705).abs() < 1e-9, "{t}");
        assert!((df - 6.896_551_724_137_933).abs() < 1e-9, "{df}");
        assert!(t > t_critical_95(df));
        // 30 at 6.0 (var 1.0) against 25 at 5.6 (var 1.5): t = 1.3093073414 on 46.26
        // degrees, p = 0.197: not significant.
        let (t, df) = welch_t((30, 6.0, 1.0), (25, 5.6, 1.5)).unwrap();
        assert!((t - 1.309_307_341_415_955_5).abs() < 1e-9, "{t}");
        assert!((df - 46.258_392_675_483_2).abs() < 1e-6, "{df}");
        assert!(t < t_critical_95(df));
        assert_eq!(welch_t((1, 5.0, 0.0), (5, 3.2, 0.7)), None);
        // Critical values of t (0.975 quantile) found by bisection on the integrated tail:
        // 3 → 3.1824463053, 5 → 2.5705818356, 10 → 2.2281388520, 30 → 2.0422724563.
        for (df, want) in [
            (1.0, 12.706_204_736_174_7),
            (3.0, 3.182_446_305_283_713_5),
            (5.0, 2.570_581_835_636_166_3),
            (10.0, 2.228_138_851_986_323_7),
            (30.0, 2.042_272_456_301_212_5),
        ] {
            assert!((t_critical_95(df) - want).abs() < 3e-4, "{df}");
        }
    }
}

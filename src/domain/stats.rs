//! The statistics a step's analysis judges by: bounds on a 5xx share that
//! hold for small counts, and on the difference between two sides' shares.
//!
//! Errors are counts out of requests, so they are judged as proportions.
//! At 1% of 800 requests a minute the new side sees 8 requests: "0 errors
//! this minute" says little, and a bound says how little. Two methods,
//! both known to keep close to their stated confidence down to a handful
//! of requests (Newcombe 1998, "Interval estimation for the difference
//! between independent proportions", Statistics in Medicine 17:873-890):
//! - one side's share: the Wilson score interval;
//! - new's share minus old's: Newcombe's hybrid score interval (his
//!   method 10), built from each side's Wilson interval.
//!
//! Bounds are one-sided at the plan's confidence: "at 95% confidence new's
//! share is below 1%" is the upper bound of a 90% two-sided interval.

use statrs::distribution::{ContinuousCDF, Normal};

/// The z of a one-sided bound at `confidence` (0.95 gives 1.645).
pub fn z(confidence: f64) -> f64 {
    // The standard normal always exists; its quantile is defined in (0, 1).
    let confidence = confidence.clamp(0.5, 0.999_999);
    match Normal::new(0.0, 1.0) {
        Ok(normal) => normal.inverse_cdf(confidence),
        Err(_) => 1.645,
    }
}

/// The Wilson score bounds of a share `k` out of `n` at `z`: (lower,
/// upper). No requests bound nothing: (0, 1).
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At 0 or n the bound on that side is the share itself, exactly.
    let lower = if k == 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let upper = if k == n { 1.0 } else { (centre + half).min(1.0) };
    (lower, upper)
}

/// Newcombe's hybrid score bounds of `k1/n1 - k2/n2` at `z`: (lower,
/// upper). Either side without requests bounds nothing: (-1, 1).
pub fn newcombe(k1: u64, n1: u64, k2: u64, n2: u64, z: f64) -> (f64, f64) {
    if n1 == 0 || n2 == 0 {
        return (-1.0, 1.0);
    }
    let (p1, p2) = (k1.min(n1) as f64 / n1 as f64, k2.min(n2) as f64 / n2 as f64);
    let (l1, u1) = wilson(k1, n1, z);
    let (l2, u2) = wilson(k2, n2, z);
    let d = p1 - p2;
    let lower = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let upper = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    (lower.max(-1.0), upper.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed independently with statsmodels 0.15.0 (scipy
    /// 1.17.1): `proportion_confint(k, n, alpha=2*(1-c), method="wilson")`,
    /// `confint_proportions_2indep(k1, n1, k2, n2, method="newcomb",
    /// compare="diff", alpha=2*(1-c))` and `scipy.stats.norm.ppf(c)`: a
    /// one-sided bound at confidence c is a bound of the two-sided
    /// interval at alpha = 2(1-c).
    const TOLERANCE: f64 = 1e-9;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < TOLERANCE
    }

    #[test]
    fn z_is_the_normal_quantile() {
        assert!((z(0.95) - 1.6448536269514722).abs() < 1e-7, "{}", z(0.95));
        assert!((z(0.99) - 2.3263478740408408).abs() < 1e-7, "{}", z(0.99));
        assert!((z(0.90) - 1.2815515655446004).abs() < 1e-7, "{}", z(0.90));
    }

    #[test]
    fn wilson_bounds_match_statsmodels_down_to_a_handful_of_requests() {
        let z95 = 1.6448536269514722;
        let z99 = 2.3263478740408408;
        for (k, n, z, lower, upper) in [
            (0, 8, z95, 0.0, 0.25272359742376327),
            (1, 8, z95, 0.028399323737810206, 0.41114337433001225),
            (3, 120, z95, 0.010034434555316291, 0.060912184554456766),
            (12, 1000, z99, 0.0062173853845305365, 0.023036191775204613),
            (50, 50, z95, 0.9486668142137298, 1.0),
            (7, 2400, z95, 0.0015821983707979112, 0.005370606769893512),
        ] {
            let (l, u) = wilson(k, n, z);
            assert!(close(l, lower) && close(u, upper), "{k}/{n}: ({l}, {u}) against ({lower}, {upper})");
        }
        assert_eq!(wilson(0, 0, z95), (0.0, 1.0), "no requests: no bound");
    }

    #[test]
    fn newcombe_bounds_match_statsmodels() {
        let z95 = 1.6448536269514722;
        let z99 = 2.3263478740408408;
        for (k1, n1, k2, n2, z, lower, upper) in [
            (3, 120, 10, 9000, z95, 0.00890471152260935, 0.059803852128550335),
            (0, 8, 2, 800, z95, -0.007526025186973579, 0.25022913057400387),
            (25, 800, 8, 3200, z95, 0.019892638379358916, 0.040604400766553105),
            (5, 1000, 30, 10000, z99, -0.0015244980563173605, 0.010547437071901276),
            (0, 50, 0, 5000, z95, -0.0005408160505539933, 0.051333185786270115),
        ] {
            let (l, u) = newcombe(k1, n1, k2, n2, z);
            assert!(close(l, lower) && close(u, upper), "{k1}/{n1} - {k2}/{n2}: ({l}, {u}) against ({lower}, {upper})");
        }
        assert_eq!(newcombe(0, 0, 3, 100, z95), (-1.0, 1.0));
    }
}

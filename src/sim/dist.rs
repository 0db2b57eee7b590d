//! Duration distributions: latencies, service times, think times.
//!
//! Every sampler draws from a [`RngStream`] and converts to integer nanoseconds at once, so
//! no float time enters the engine. The float math goes through `libm` (a pure-Rust port of
//! musl's libm), not the platform's, so a draw is the same on every machine: rand_distr's
//! samplers call std's `ln`/`exp`, whose last bits may differ between platforms.

use super::rng::RngStream;
use super::time::SimDuration;
use serde::Serialize;

/// The 99th percentile of the standard normal distribution.
pub const Z_P99: f64 = 2.326_347_874_040_840_8;

/// A distribution over non-negative durations, parameters in nanoseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Dist {
    Constant(u64),
    /// Uniform over [lo, hi] inclusive.
    Uniform {
        lo: u64,
        hi: u64,
    },
    /// Normal, truncated at zero by rejection.
    Normal {
        mean: f64,
        std_dev: f64,
    },
    /// Log-normal: `exp(mu + sigma * Z)`, with `mu = ln(median)`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Pareto (type I): `scale / U^(1/shape)`; heavy-tailed for small shapes.
    Pareto {
        scale: f64,
        shape: f64,
    },
}

impl Dist {
    pub fn constant(d: SimDuration) -> Dist {
        Dist::Constant(d.0)
    }

    /// The log-normal with the given median and 99th percentile (`p99 >= median > 0`).
    pub fn lognormal_from_median_p99(median: SimDuration, p99: SimDuration) -> Dist {
        assert!(median.0 > 0 && p99 >= median, "log-normal needs 0 < median <= p99");
        let mu = libm::log(median.0 as f64);
        let sigma = libm::log(p99.0 as f64 / median.0 as f64) / Z_P99;
        Dist::LogNormal { mu, sigma }
    }

    /// Draws one duration.
    pub fn sample(&self, rng: &mut RngStream) -> SimDuration {
        let ns = match *self {
            Dist::Constant(ns) => return SimDuration(ns),
            Dist::Uniform { lo, hi } => return SimDuration(rng.between(lo, hi)),
            Dist::Normal { mean, std_dev } => {
                let mut x = -1.0;
                for _ in 0..64 {
                    x = mean + std_dev * standard_normal(rng);
                    if x >= 0.0 {
                        break;
                    }
                }
                x.max(0.0)
            }
            Dist::LogNormal { mu, sigma } => super::fastexp::exp(mu + sigma * standard_normal(rng)),
            Dist::Exponential { mean } => mean * super::ziggurat::standard_exponential(rng),
            Dist::Pareto { scale, shape } => scale / libm::pow(rng.unit_open0(), 1.0 / shape),
        };
        SimDuration(to_nanos(ns))
    }

    /// The mean in nanoseconds, where it exists (Pareto with shape <= 1 has none).
    pub fn mean_ns(&self) -> Option<f64> {
        Some(match *self {
            Dist::Constant(ns) => ns as f64,
            Dist::Uniform { lo, hi } => (lo as f64 + hi as f64) / 2.0,
            Dist::Normal { mean, .. } => mean,
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Exponential { mean } => mean,
            Dist::Pareto { scale, shape } => {
                if shape <= 1.0 {
                    return None;
                }
                shape * scale / (shape - 1.0)
            }
        })
    }
}

/// Rounds a float duration to whole nanoseconds, saturating (never panics on huge tails).
#[inline]
fn to_nanos(ns: f64) -> u64 {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= 9.0e15 {
        ns as u64 // already whole (above 2^53), saturating at u64::MAX
    } else {
        // Round half away from zero, as `f64::round`, without a library call: below 2^53
        // both the truncation and the difference are exact. Signed conversions are single
        // instructions on x86-64; unsigned ones are not.
        let whole = ns as i64;
        (whole + i64::from(ns - whole as f64 >= 0.5)) as u64 // branch-free: the fraction is random
    }
}

/// A standard normal draw (ziggurat; see [`super::ziggurat`]).
#[inline]
pub fn standard_normal(rng: &mut RngStream) -> f64 {
    super::ziggurat::standard_normal(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(d: &Dist, n: usize) -> Vec<u64> {
        let mut rng = RngStream::new(11, "dist-test");
        let mut v: Vec<u64> = (0..n).map(|_| d.sample(&mut rng).0).collect();
        v.sort_unstable();
        v
    }

    fn mean(v: &[u64]) -> f64 {
        v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
    }

    fn quantile(v: &[u64], q: f64) -> f64 {
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64
    }

    fn close(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= rel * expected
    }

    #[test]
    fn constant_and_uniform() {
        assert!(samples(&Dist::Constant(5), 10).iter().all(|&x| x == 5));
        let v = samples(&Dist::Uniform { lo: 100, hi: 200 }, 100_000);
        assert_eq!((v[0], v[v.len() - 1]), (100, 200));
        assert!(close(mean(&v), 150.0, 0.01));
    }

    #[test]
    fn exponential_mean_and_median() {
        let v = samples(&Dist::Exponential { mean: 1_000_000.0 }, 200_000);
        assert!(close(mean(&v), 1e6, 0.02), "mean {}", mean(&v));
        assert!(close(quantile(&v, 0.5), 1e6 * std::f64::consts::LN_2, 0.02));
    }

    #[test]
    fn lognormal_hits_median_and_p99() {
        let d = Dist::lognormal_from_median_p99(SimDuration::from_millis(1), SimDuration::from_millis(5));
        let v = samples(&d, 200_000);
        assert!(close(quantile(&v, 0.5), 1e6, 0.02), "median {}", quantile(&v, 0.5));
        assert!(close(quantile(&v, 0.99), 5e6, 0.05), "p99 {}", quantile(&v, 0.99));
    }

    #[test]
    fn normal_is_truncated_at_zero() {
        let v = samples(&Dist::Normal { mean: 10_000.0, std_dev: 2_000.0 }, 100_000);
        assert!(close(mean(&v), 10_000.0, 0.01));
        assert!(close(quantile(&v, 0.5), 10_000.0, 0.01));
        let w = samples(&Dist::Normal { mean: 0.0, std_dev: 1_000.0 }, 10_000);
        assert!(w.iter().all(|&x| x < 10_000));
        // Half-normal: mean = sigma * sqrt(2/pi).
        assert!(close(mean(&w), 1_000.0 * (2.0 / std::f64::consts::PI).sqrt(), 0.05));
    }

    #[test]
    fn pareto_mean_and_minimum() {
        let d = Dist::Pareto { scale: 1_000.0, shape: 3.0 };
        let v = samples(&d, 200_000);
        assert!(v[0] >= 1_000);
        assert!(close(mean(&v), 1_500.0, 0.02), "mean {}", mean(&v));
        // P(X > x) = (scale/x)^shape: the median is scale * 2^(1/shape).
        assert!(close(quantile(&v, 0.5), 1_000.0 * 2f64.powf(1.0 / 3.0), 0.02));
        assert_eq!(d.mean_ns(), Some(1_500.0));
        assert_eq!(Dist::Pareto { scale: 1.0, shape: 1.0 }.mean_ns(), None);
    }
}

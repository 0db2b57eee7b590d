//! Ziggurat samplers for the standard normal and the unit exponential (Marsaglia & Tsang,
//! "The Ziggurat Method for Generating Random Variables", 2000, with Doornik's 2005 fix:
//! the layer index and the uniform come from different bits of the draw).
//!
//! Why our own and not `rand_distr`'s: its tables and wedge tests call std's `exp`/`ln`,
//! whose last bits may differ between platforms' math libraries. Here the tables are built
//! once with `libm` (pure Rust, identical everywhere) and every test uses `libm`, so a draw
//! is the same on every machine. About 99% of draws cost one 64-bit draw, a table lookup
//! and a multiply — no logarithm, no cosine — which matters: link latencies and service
//! times are drawn for every message.

use super::rng::RngStream;
use std::sync::OnceLock;

/// Layers per table.
const LAYERS: usize = 256;

/// A ziggurat table: `x[0]` is the base strip's virtual width (`v / f(r)`), `x[1] = r` the
/// start of the tail, `x[LAYERS] = 0`; `f[i] = pdf(x[i])` (unnormalised).
struct Table {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

impl Table {
    /// `r`: where the tail starts; `v`: the area of each layer; `pdf` decreasing on [0, ∞)
    /// with inverse `inv`.
    fn build(r: f64, v: f64, pdf: fn(f64) -> f64, inv: fn(f64) -> f64) -> Table {
        let mut x = [0.0; LAYERS + 1];
        x[0] = v / pdf(r);
        x[1] = r;
        for i in 2..LAYERS {
            x[i] = inv(v / x[i - 1] + pdf(x[i - 1]));
        }
        x[LAYERS] = 0.0;
        let mut f = [0.0; LAYERS + 1];
        for i in 0..=LAYERS {
            f[i] = pdf(x[i]);
        }
        Table { x, f }
    }
}

const NORM_R: f64 = 3.654_152_885_361_009;
const NORM_V: f64 = 0.004_928_673_233_99;
const EXP_R: f64 = 7.697_117_470_131_05;
const EXP_V: f64 = 0.003_949_659_822_581_557;

fn norm_pdf(x: f64) -> f64 {
    libm::exp(-x * x / 2.0)
}
fn norm_inv(y: f64) -> f64 {
    libm::sqrt(-2.0 * libm::log(y))
}
fn exp_pdf(x: f64) -> f64 {
    libm::exp(-x)
}
fn exp_inv(y: f64) -> f64 {
    -libm::log(y)
}

fn normal_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| Table::build(NORM_R, NORM_V, norm_pdf, norm_inv))
}

fn exp_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| Table::build(EXP_R, EXP_V, exp_pdf, exp_inv))
}

/// The top 53 bits of `bits` as a float in [0, 1).
#[inline]
fn unit_from(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw.
#[inline]
pub fn standard_normal(rng: &mut RngStream) -> f64 {
    let t = normal_table();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        // Symmetric: u in [-1, 1).
        let u = 2.0 * unit_from(bits) - 1.0;
        let x = u * t.x[i];
        if x.abs() < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // The tail beyond r (Marsaglia 1964).
            loop {
                let a = -libm::log(rng.unit_open0()) / NORM_R;
                let b = -libm::log(rng.unit_open0());
                if 2.0 * b >= a * a {
                    return if u < 0.0 { -(NORM_R + a) } else { NORM_R + a };
                }
            }
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.unit() < norm_pdf(x) {
            return x;
        }
    }
}

/// An exponential draw with mean 1.
#[inline]
pub fn standard_exponential(rng: &mut RngStream) -> f64 {
    let t = exp_table();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        let x = unit_from(bits) * t.x[i];
        if x < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // Memoryless tail: r plus a fresh exponential.
            return EXP_R - libm::log(rng.unit_open0());
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.unit() < exp_pdf(x) {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kolmogorov–Smirnov distance between a sample and a CDF.
    fn ks(mut v: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let mut d: f64 = 0.0;
        for (k, &x) in v.iter().enumerate() {
            let c = cdf(x);
            d = d.max((c - k as f64 / n).abs()).max(((k + 1) as f64 / n - c).abs());
        }
        d
    }

    #[test]
    fn tables_close_at_zero_and_keep_equal_areas() {
        for (t, v) in [(normal_table(), NORM_V), (exp_table(), EXP_V)] {
            // The recursion lands on the top of the density (f = 1): the last layer, up to
            // f = 1, has the same area as every other (r and v are a consistent pair).
            let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
            assert!((top - v).abs() < 1e-6 * v, "top layer area {top} vs {v}");
            assert!(t.x.windows(2).skip(1).all(|w| w[0] > w[1]), "layers narrow upwards");
        }
        let t = normal_table();
        assert_eq!(t.x[1], NORM_R);
        // Each layer's rectangle has the same area v.
        for i in 1..LAYERS - 1 {
            let area = t.x[i] * (t.f[i + 1] - t.f[i]);
            assert!((area - NORM_V).abs() < 1e-9, "layer {i}: {area}");
        }
    }

    #[test]
    fn normal_matches_its_cdf() {
        let mut rng = RngStream::new(5, "zig-normal");
        let v: Vec<f64> = (0..400_000).map(|_| standard_normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01, "mean {mean} var {var}");
        // The tail beyond r is reached (P = 2.6e-4) on both sides.
        assert!(v.iter().any(|&x| x > NORM_R) && v.iter().any(|&x| x < -NORM_R));
        let d = ks(v, |x| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2));
        // The 1% critical value for n = 400k is 1.63/sqrt(n) = 0.0026.
        assert!(d < 0.0026, "KS distance {d}");
    }

    #[test]
    fn exponential_matches_its_cdf() {
        let mut rng = RngStream::new(6, "zig-exp");
        let v: Vec<f64> = (0..400_000).map(|_| standard_exponential(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!(v.iter().all(|&x| x >= 0.0));
        assert!(v.iter().any(|&x| x > EXP_R), "the tail is reached (P = 4.5e-4)");
        let d = ks(v, |x| 1.0 - libm::exp(-x));
        assert!(d < 0.0026, "KS distance {d}");
    }

    #[test]
    fn the_same_stream_gives_the_same_draws() {
        let draw = |seed| {
            let mut rng = RngStream::new(seed, "zig");
            (0..1000)
                .map(|_| standard_normal(&mut rng).to_bits() ^ standard_exponential(&mut rng).to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}

//! `exp` for the samplers: table-driven, branch-light, and portable.
//!
//! A log-normal latency is drawn for every message, and `libm::exp` (fdlibm's algorithm)
//! was the single largest cost of a Raft run. This is Tang's table method (ACM TOMS 15,
//! 1989): `exp(x) = 2^m · 2^(j/256) · exp(r)`, with `x = (256 m + j) · ln2/256 + r`,
//! `|r| ≤ ln2/512`, the 256 powers `2^(j/256)` computed once with `libm` (2 KiB: it shares
//! the cache with the whole simulation; 1,024 entries and a degree-4 polynomial were no
//! faster) and `exp(r)` by its degree-5 Taylor polynomial, evaluated in Estrin's order to
//! keep the chain of dependent operations short: a latency draw's result is needed at once.
//! Only IEEE additions and multiplications run per call (Rust never fuses them), so a
//! result is the same on every machine; it agrees with `libm::exp` within a few units in
//! the last place (tested), far below the nanosecond rounding of a
//! drawn duration.

use std::sync::OnceLock;

const N: f64 = 256.0;
const SIZE: usize = N as usize;
/// ln 2 / 256 in two parts: the high part has 32 significant bits, so `k · HI` is exact
/// for every `|k| < 2^21`.
/// (fdlibm's `ln2_hi` and `ln2_lo`, by their bits.)
const LN2_HI_N: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / N;
const LN2_LO_N: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / N;
const INV_LN2_N: f64 = N / std::f64::consts::LN_2;
/// Adding and subtracting 1.5 · 2^52 rounds to the nearest integer (ties to even).
const SHIFT: f64 = 6_755_399_441_055_744.0;

fn table() -> &'static [f64; SIZE] {
    static T: OnceLock<[f64; SIZE]> = OnceLock::new();
    T.get_or_init(|| std::array::from_fn(|j| libm::exp2(j as f64 / N)))
}

/// e^x. Outside |x| < 700 (where the result over- or underflows towards the subnormals)
/// it defers to `libm::exp`.
#[inline]
pub fn exp(x: f64) -> f64 {
    // Written as a negated test so that NaN also takes the exact path.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(x.abs() < 700.0) {
        return libm::exp(x);
    }
    let kf = (x * INV_LN2_N + SHIFT) - SHIFT;
    let k = kf as i64;
    let r = (x - kf * LN2_HI_N) - kf * LN2_LO_N;
    // Estrin's scheme: a shorter chain of dependent operations than Horner's.
    let r2 = r * r;
    let p = (1.0 + r) + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0)));
    let (m, j) = (k >> 8, (k & (SIZE as i64 - 1)) as usize);
    let scale = f64::from_bits(((m + 1023) as u64) << 52);
    table()[j] * p * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngStream;

    #[test]
    fn agrees_with_libm_within_a_few_ulps() {
        let mut rng = RngStream::new(3, "fastexp");
        let mut worst: f64 = 0.0;
        for i in 0..1_000_000 {
            // Mostly the latency range (ln of 1 us .. 10 s in ns), plus the whole domain.
            let x = if i % 2 == 0 { 5.0 + 20.0 * rng.unit() } else { -699.0 + 1398.0 * rng.unit() };
            let (a, b) = (exp(x), libm::exp(x));
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
    }

    #[test]
    fn edges_defer_to_libm() {
        for x in [700.0, 709.5, -745.0, 800.0, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(exp(x).to_bits(), libm::exp(x).to_bits(), "exp({x})");
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert!((exp(1.0) - std::f64::consts::E).abs() < 4.0 * f64::EPSILON);
    }
}

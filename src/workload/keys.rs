//! Key distributions: uniform and Zipf.
//!
//! Zipf(n, s) gives key `k` (0-based rank) probability proportional to `1 / (k + 1)^s`. It
//! is sampled by inverting a precomputed cumulative table, exact and portable (the table is
//! built with `libm::pow`). A guide table (Chen and Asau's) gives, for each of `4n` equal
//! slices of [0, 1), the first key the slice can map to, so the inversion is a short scan
//! instead of a binary search, with the same result. Known limit: the tables hold `5n`
//! numbers, so `n` is capped at 10 million by validation.

use crate::sim::RngStream;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum KeyDist {
    Uniform { n: u64 },
    Zipf { n: u64, s: f64, cdf: Arc<Vec<f64>>, guide: Arc<Vec<u32>> },
}

/// Guide-table slices per key.
const GUIDE_PER_KEY: usize = 4;

impl KeyDist {
    pub fn zipf(n: u64, s: f64) -> KeyDist {
        assert!(n > 0 && s >= 0.0, "zipf needs n > 0 and s >= 0");
        let mut cdf = Vec::with_capacity(n as usize);
        let mut total = 0.0;
        for k in 1..=n {
            total += 1.0 / libm::pow(k as f64, s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        let slices = GUIDE_PER_KEY * cdf.len();
        let guide = (0..slices)
            .map(|b| {
                let u = b as f64 / slices as f64;
                cdf.partition_point(|&c| c <= u) as u32
            })
            .collect();
        KeyDist::Zipf { n, s, cdf: Arc::new(cdf), guide: Arc::new(guide) }
    }

    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        match self {
            KeyDist::Uniform { n } => rng.below(*n),
            KeyDist::Zipf { cdf, n, guide, .. } => {
                let u = rng.unit();
                // The first key whose cumulative probability exceeds `u`: from the guide's
                // start for u's slice (stepping back first, should rounding have put u in
                // the next slice), forwards.
                let slice = ((u * guide.len() as f64) as usize).min(guide.len() - 1);
                let mut k = guide[slice] as usize;
                while k > 0 && cdf[k - 1] > u {
                    k -= 1;
                }
                while k < cdf.len() && cdf[k] <= u {
                    k += 1;
                }
                (k as u64).min(n - 1)
            }
        }
    }

    pub fn key_count(&self) -> u64 {
        match self {
            KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } => *n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_frequencies_follow_the_law() {
        let d = KeyDist::zipf(100, 1.0);
        let mut rng = RngStream::new(5, "keys");
        let mut counts = [0u64; 100];
        let draws = 400_000;
        for _ in 0..draws {
            counts[d.sample(&mut rng) as usize] += 1;
        }
        let h: f64 = (1..=100).map(|k| 1.0 / k as f64).sum();
        for (k, &c) in counts.iter().enumerate().take(5) {
            let expected = draws as f64 / ((k + 1) as f64 * h);
            assert!((c as f64 - expected).abs() < 0.03 * expected, "key {k}: {c} vs {expected}");
        }
        // Rank 1 is drawn twice as often as rank 2 when s = 1.
        let ratio = counts[0] as f64 / counts[1] as f64;
        assert!((ratio - 2.0).abs() < 0.05, "ratio {ratio}");
    }

    #[test]
    fn uniform_covers_the_range() {
        let d = KeyDist::Uniform { n: 10 };
        let mut rng = RngStream::new(5, "keys");
        let mut seen = [false; 10];
        for _ in 0..1000 {
            seen[d.sample(&mut rng) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn the_guide_table_inverts_exactly_as_a_binary_search() {
        for (n, s) in [(1, 1.0), (2, 0.0), (1000, 1.0), (777, 0.6), (50, 3.0)] {
            let d = KeyDist::zipf(n, s);
            let KeyDist::Zipf { cdf, .. } = &d else { unreachable!() };
            let mut rng = RngStream::new(9, "guide");
            let mut probe = rng.clone();
            for _ in 0..100_000 {
                let u = probe.unit();
                let expected = (cdf.partition_point(|&c| c <= u) as u64).min(n - 1);
                assert_eq!(d.sample(&mut rng), expected, "n {n}, s {s}, u {u}");
            }
        }
    }
}

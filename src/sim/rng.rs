//! Seeded random streams.
//!
//! One `u64` seed feeds the whole run. Each consumer (the network, the faults, the workload,
//! each node) owns its own [`RngStream`], derived from the seed and a fixed label: the seed
//! is the ChaCha key, the label's 64-bit FNV-1a hash is the ChaCha stream number. Streams
//! are therefore independent of each other and of the order in which they are created:
//! adding a node or a stream leaves every other stream's draws unchanged.
//!
//! The generator is pinned (`rand_chacha::ChaCha8Rng`, a stable, portable algorithm); never
//! rand's thread-local, standard or small generators, whose algorithms may change between
//! releases (clippy.toml bans them).
//! Floats are made from integers by a fixed rule (the top 53 bits), so a draw is the same
//! on every platform.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A deterministic random stream owned by one consumer.
#[derive(Clone, Debug)]
pub struct RngStream {
    rng: ChaCha8Rng,
}

/// FNV-1a, 64-bit: a fixed, documented hash for labels (not for hash maps).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Expands a `u64` seed into a 256-bit ChaCha key with SplitMix64 (fixed, portable).
fn key_from_seed(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    key
}

impl RngStream {
    /// The stream for `label` under `seed`. The same pair always gives the same draws.
    pub fn new(seed: u64, label: &str) -> Self {
        let mut rng = ChaCha8Rng::from_seed(key_from_seed(seed));
        rng.set_stream(fnv1a64(label.as_bytes()));
        RngStream { rng }
    }

    /// Another stream under the same seed with a different label.
    pub fn derive(&self, label: &str) -> Self {
        let mut rng = self.rng.clone();
        rng.set_stream(fnv1a64(label.as_bytes()));
        rng.set_word_pos(0);
        RngStream { rng }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform float in [0, 1) with 53 bits of precision.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in (0, 1]: safe to take the logarithm of.
    #[inline]
    pub fn unit_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). `n` must be > 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(n) needs a non-empty range");
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform integer in [lo, hi], inclusive.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "between(lo, hi) needs lo <= hi");
        if hi - lo == u64::MAX {
            return self.next_u64();
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` (0 never, 1 always).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        debug_assert!((0.0..=1.0).contains(&p), "a probability lies in [0, 1]");
        p > 0.0 && self.unit() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64, label: &str, n: usize) -> Vec<u64> {
        let mut r = RngStream::new(seed, label);
        (0..n).map(|_| r.next_u64()).collect()
    }

    #[test]
    fn same_seed_and_label_same_draws() {
        assert_eq!(draws(7, "network", 100), draws(7, "network", 100));
    }

    #[test]
    fn labels_and_seeds_separate_streams() {
        assert_ne!(draws(7, "network", 10), draws(7, "faults", 10));
        assert_ne!(draws(7, "network", 10), draws(8, "network", 10));
    }

    #[test]
    fn adding_a_stream_leaves_another_unchanged() {
        // Interleave draws from a new stream between draws of an old one: the old one's
        // sequence is the same as when it was alone.
        let alone = draws(42, "node/0", 50);
        let mut old = RngStream::new(42, "node/0");
        let mut new = RngStream::new(42, "node/1");
        let mut mixed = Vec::new();
        for _ in 0..50 {
            mixed.push(old.next_u64());
            new.next_u64();
            new.next_u64();
        }
        assert_eq!(alone, mixed);
    }

    #[test]
    fn a_derived_stream_is_the_stream_of_its_label() {
        let mut used = RngStream::new(5, "network");
        used.next_u64();
        let mut derived = used.derive("network/faults");
        let mut direct = RngStream::new(5, "network/faults");
        assert_eq!(
            (0..10).map(|_| derived.next_u64()).collect::<Vec<_>>(),
            (0..10).map(|_| direct.next_u64()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = RngStream::new(1, "t");
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "bucket count {c} far from 10,000");
        }
    }

    #[test]
    fn unit_stays_in_range() {
        let mut r = RngStream::new(3, "u");
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            let v = r.unit_open0();
            assert!(v > 0.0 && v <= 1.0);
        }
    }
}

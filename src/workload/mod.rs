//! The workload: clients, arrival processes, key distributions, read/write mixes,
//! per-attempt timeouts and retry policies.
//!
//! A [`client::Driver`] is the protocol-independent half of a client process: it decides
//! when operations start, which key and kind, when an attempt has timed out and whether to
//! retry, and it writes every logical operation into the history. A protocol's client
//! process wraps a driver and does the protocol-specific sending.

pub mod client;
pub mod idmap;
pub mod keys;

pub use client::{ClientTimer, Driver, Request};
pub use keys::KeyDist;

use crate::sim::{Dist, RngStream, SimDuration};

/// When operations start.
#[derive(Clone, Debug)]
pub enum Arrival {
    /// Open loop: a Poisson process at this rate per client (operations per second).
    Open { rate_per_s: f64 },
    /// Closed loop: one operation at a time, then a think time, then the next.
    Closed { think: Dist },
}

/// How long to wait before attempt `n + 1` after attempt `n` failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Retry {
    None,
    Fixed { delay: SimDuration, max_attempts: u32 },
    Exponential { base: SimDuration, cap: SimDuration, max_attempts: u32, jitter: Jitter },
}

/// Jitter on exponential backoff (as in the AWS architecture blog's "Exponential Backoff
/// and Jitter"): none, full (uniform in [0, b]) or equal (b/2 + uniform in [0, b/2]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    Full,
    Equal,
}

impl Retry {
    pub fn max_attempts(&self) -> u32 {
        match self {
            Retry::None => 1,
            Retry::Fixed { max_attempts, .. } | Retry::Exponential { max_attempts, .. } => *max_attempts,
        }
    }

    /// The backoff before the next attempt, after `attempts` attempts so far.
    pub fn backoff(&self, attempts: u32, rng: &mut RngStream) -> SimDuration {
        match *self {
            Retry::None => SimDuration::ZERO,
            Retry::Fixed { delay, .. } => delay,
            Retry::Exponential { base, cap, jitter, .. } => {
                let shift = attempts.saturating_sub(1).min(62);
                let b = base.0.saturating_mul(1u64 << shift).min(cap.0);
                SimDuration(match jitter {
                    Jitter::None => b,
                    Jitter::Full => rng.between(0, b),
                    Jitter::Equal => b / 2 + rng.between(0, b - b / 2),
                })
            }
        }
    }
}

/// What every client of a run does.
#[derive(Clone, Debug)]
pub struct WorkloadSpec {
    pub arrival: Arrival,
    pub keys: KeyDist,
    pub write_ratio: f64,
    pub timeout: SimDuration,
    pub retry: Retry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_up_to_the_cap() {
        let exp = |jitter| Retry::Exponential {
            base: SimDuration::from_millis(10),
            cap: SimDuration::from_millis(50),
            max_attempts: 5,
            jitter,
        };
        let r = exp(Jitter::None);
        let mut rng = RngStream::new(1, "r");
        let b: Vec<u64> = (1..=4).map(|a| r.backoff(a, &mut rng).0 / 1_000_000).collect();
        assert_eq!(b, vec![10, 20, 40, 50]);
        let full = exp(Jitter::Full);
        assert!((0..100).all(|_| full.backoff(3, &mut rng) <= SimDuration::from_millis(40)));
        let equal = exp(Jitter::Equal);
        assert!((0..100).all(|_| equal.backoff(3, &mut rng) >= SimDuration::from_millis(20)));
    }
}

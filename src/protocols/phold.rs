//! PHOLD (Fujimoto 1990): the standard synthetic benchmark for an event kernel.
//!
//! `lps` logical processes (LPs) start with `events_per_lp` events each. Handling an event
//! at LP `i` schedules exactly one new event, `lookahead + Exp(mean)` later, at a uniformly
//! drawn LP (any of the `lps`, `i` included) with probability `remote`, else at `i` itself.
//! The population therefore stays `lps * events_per_lp` for the whole run: the run measures
//! the kernel's cost per event at a fixed queue size.
//!
//! Guarantees: runs on the bare kernel ([`crate::sim::Engine`]) with one random stream
//! (label `"phold"`); the draws for one handled event are, in this order, the remote coin,
//! the target LP (only if the coin said remote) and the exponential delay, so
//! [`PholdModel`] can drive another queue (the benchmark's bare heap) through exactly the
//! same events. Times are integer nanoseconds; `lookahead_s` and `mean_s` are converted once.
//! Nothing here reads the wall clock.

use crate::sim::{Engine, EventTag, Handler, Limits, RngStream, Scheduler, SimDuration, SimError, SimTime};

/// The run's parameters. Durations are in seconds, converted to nanoseconds at once.
#[derive(Clone, Debug, PartialEq)]
pub struct PholdParams {
    /// Number of logical processes (N).
    pub lps: u32,
    /// Initial events per LP (E); the population stays N·E.
    pub events_per_lp: u32,
    /// Probability that a new event targets a uniformly drawn LP instead of its own.
    pub remote: f64,
    /// Minimum delay of every new event, in seconds.
    pub lookahead_s: f64,
    /// Mean of the exponential delay added to the lookahead, in seconds.
    pub mean_s: f64,
    /// Events to handle; the run stops after exactly this many.
    pub events: u64,
    pub seed: u64,
}

impl Default for PholdParams {
    fn default() -> Self {
        PholdParams {
            lps: 1000,
            events_per_lp: 10,
            remote: 0.9,
            lookahead_s: 0.1,
            mean_s: 1.0,
            events: 10_000_000,
            seed: 1,
        }
    }
}

/// What a run produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PholdResult {
    /// Events handled (equals `PholdParams::events`).
    pub events: u64,
    /// The engine's rolling digest over `(time, seq, kind, lp)` of every handled event.
    pub digest: u64,
    /// Simulated time of the last handled event.
    pub end_time: SimTime,
    /// Handled events whose new event went to a different LP.
    pub remote_events: u64,
    /// Events still queued at the end (N·E).
    pub population: usize,
}

/// The PHOLD draws, apart from any queue: shared by the kernel handler and the benchmark.
#[derive(Clone, Debug)]
pub struct PholdModel {
    rng: RngStream,
    lps: u32,
    remote: f64,
    lookahead_ns: u64,
    mean_ns: f64,
}

/// The longest lookahead or mean accepted, in seconds (about 11.6 days), so that no delay
/// (at most about 37 means) comes near `u64` nanoseconds.
const MAX_SECS: f64 = 1e6;

/// Converts a number of seconds in `[0, MAX_SECS]` to nanoseconds (rounded).
fn secs_to_nanos(name: &str, secs: f64) -> Result<u64, SimError> {
    if !(0.0..=MAX_SECS).contains(&secs) {
        return Err(SimError::Model(format!(
            "phold: '{name}' is {secs}; give a number of seconds between 0 and {MAX_SECS}"
        )));
    }
    Ok(libm::round(secs * 1e9) as u64)
}

impl PholdModel {
    /// Validates `p` and builds the model with its random stream.
    pub fn new(p: &PholdParams) -> Result<Self, SimError> {
        if p.lps == 0 || p.events_per_lp == 0 {
            return Err(SimError::Model(
                "phold: 'lps' and 'events_per_lp' must be positive; the model needs events to run".into(),
            ));
        }
        if u64::from(p.lps) * u64::from(p.events_per_lp) > u64::from(u32::MAX) {
            return Err(SimError::Model(format!(
                "phold: population {} x {} exceeds 2^32 - 1 pending events; lower 'lps' or 'events_per_lp'",
                p.lps, p.events_per_lp
            )));
        }
        if !(0.0..=1.0).contains(&p.remote) {
            return Err(SimError::Model(format!(
                "phold: 'remote' is {}; a probability lies in [0, 1]",
                p.remote
            )));
        }
        let lookahead_ns = secs_to_nanos("lookahead_s", p.lookahead_s)?;
        let mean_ns = secs_to_nanos("mean_s", p.mean_s)?;
        if mean_ns == 0 {
            return Err(SimError::Model("phold: 'mean_s' rounds to 0 ns; give at least 1e-9".into()));
        }
        Ok(PholdModel {
            rng: RngStream::new(p.seed, "phold"),
            lps: p.lps,
            remote: p.remote,
            lookahead_ns,
            mean_ns: mean_ns as f64,
        })
    }

    pub fn lps(&self) -> u32 {
        self.lps
    }

    /// One delay: `lookahead + Exp(mean)`, in nanoseconds. The exponential is drawn by
    /// inversion with `libm` (portable), as [`crate::sim::Dist::Exponential`] does, and
    /// rounded half up: `u` lies in (0, 1], so the draw is finite and non-negative.
    #[inline]
    pub fn delay_ns(&mut self) -> u64 {
        let exp_ns = -self.mean_ns * libm::log(self.rng.unit_open0());
        self.lookahead_ns + (exp_ns + 0.5) as u64
    }

    /// The new event caused by handling one at `lp`: `(target lp, delay in ns)`.
    #[inline]
    pub fn next(&mut self, lp: u32) -> (u32, u64) {
        debug_assert!(lp < self.lps, "events target existing LPs");
        let target =
            if self.rng.chance(self.remote) { self.rng.below(u64::from(self.lps)) as u32 } else { lp };
        (target, self.delay_ns())
    }
}

/// The PHOLD state as a kernel [`Handler`]; the event is the target LP's index.
struct Phold {
    model: PholdModel,
    remote_events: u64,
}

impl Handler for Phold {
    type Event = u32;

    #[inline]
    fn handle(&mut self, sched: &mut Scheduler<u32>, lp: u32) -> Result<(), SimError> {
        let (target, delay_ns) = self.model.next(lp);
        self.remote_events += u64::from(target != lp);
        sched.schedule_in(SimDuration(delay_ns), target);
        Ok(())
    }

    #[inline]
    fn tag(&self, lp: &u32) -> EventTag {
        EventTag { kind: 0, node: *lp }
    }
}

/// Runs PHOLD on the kernel for exactly `p.events` events.
pub fn run_phold(p: &PholdParams) -> Result<PholdResult, SimError> {
    let mut model = PholdModel::new(p)?;
    let population = p.lps as usize * p.events_per_lp as usize;
    let limits = Limits { max_events: p.events, max_time: SimTime::MAX, max_queue: population };
    let mut engine: Engine<u32> = Engine::new(limits);
    for lp in 0..p.lps {
        for _ in 0..p.events_per_lp {
            let at = SimTime(model.delay_ns());
            engine.schedule_at(at, lp);
        }
    }
    let mut phold = Phold { model, remote_events: 0 };
    let stats = engine.run(&mut phold, SimTime::MAX, p.events)?;
    let pending = engine.scheduler().pending();
    assert_eq!(stats.events, p.events, "phold never drains: every event makes one more");
    assert_eq!(pending, population, "every handled event schedules exactly one new event");
    Ok(PholdResult {
        events: stats.events,
        digest: stats.digest,
        end_time: stats.end_time,
        remote_events: phold.remote_events,
        population: pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> PholdParams {
        PholdParams { lps: 100, events_per_lp: 10, events: 100_000, seed, ..PholdParams::default() }
    }

    #[test]
    fn population_stays_constant() {
        let p = small(1);
        let r = run_phold(&p).unwrap();
        assert_eq!(r.events, 100_000);
        assert_eq!(r.population, 1_000);
        // Each LP handles about `events / lps` events at a mean spacing of
        // (lookahead + mean) / events_per_lp = 0.11 s: about 110 s in all.
        let expected_s = 100_000.0 / 1_000.0 * 1.1;
        let end_s = r.end_time.as_secs_f64();
        assert!((end_s - expected_s).abs() < 0.05 * expected_s, "end time {end_s}s");
    }

    #[test]
    fn remote_fraction_matches_the_parameter() {
        // Each event is remote (targets another LP) with probability q = p (1 - 1/N),
        // independently: the count is Binomial(n, q), std error sqrt(q (1 - q) / n).
        // n = 100,000, q = 0.891: std error ~ 0.00099; 5 std errors ~ 0.005.
        for (lps, remote) in [(100, 0.9), (2, 0.5), (10, 0.0), (10, 1.0)] {
            let p = PholdParams { lps, remote, ..small(3) };
            let r = run_phold(&p).unwrap();
            let n = r.events as f64;
            let q = remote * (1.0 - 1.0 / f64::from(lps));
            let observed = r.remote_events as f64 / n;
            let tolerance = 5.0 * (q * (1.0 - q) / n).sqrt();
            assert!(
                (observed - q).abs() <= tolerance,
                "lps {lps} remote {remote}: fraction {observed}, expected {q} +- {tolerance}"
            );
        }
    }

    #[test]
    fn same_seed_same_digest_other_seed_other_digest() {
        let a = run_phold(&small(7)).unwrap();
        let b = run_phold(&small(7)).unwrap();
        let c = run_phold(&small(8)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.digest, c.digest);
    }

    #[test]
    fn bad_parameters_are_errors() {
        for p in [
            PholdParams { lps: 0, ..small(1) },
            PholdParams { remote: 1.5, ..small(1) },
            PholdParams { mean_s: f64::NAN, ..small(1) },
            PholdParams { lookahead_s: -1.0, ..small(1) },
            PholdParams { lookahead_s: 1e7, ..small(1) },
            PholdParams { mean_s: 0.0, ..small(1) },
        ] {
            let err = run_phold(&p).unwrap_err();
            assert!(err.to_string().starts_with("model error: phold: "), "{err}");
        }
    }

    #[test]
    fn the_model_drives_another_queue_through_the_same_events() {
        // The benchmark's premise: a bare heap fed by `PholdModel` handles the same events.
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let p = small(11);
        let mut model = PholdModel::new(&p).unwrap();
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        for lp in 0..p.lps {
            for _ in 0..p.events_per_lp {
                heap.push(Reverse((model.delay_ns(), seq, lp)));
                seq += 1;
            }
        }
        let (mut now, mut remote) = (0, 0);
        for _ in 0..p.events {
            let Reverse((time, _, lp)) = heap.pop().unwrap();
            let (target, delay) = model.next(lp);
            remote += u64::from(target != lp);
            heap.push(Reverse((time + delay, seq, target)));
            seq += 1;
            now = time;
        }
        let r = run_phold(&p).unwrap();
        assert_eq!((r.end_time.0, r.remote_events), (now, remote));
    }

    #[test]
    fn digest_is_pinned() {
        let r = run_phold(&small(1)).unwrap();
        insta::assert_snapshot!(format!(
            "events {} digest {:#018x} end_time {} remote_events {} population {}",
            r.events, r.digest, r.end_time.0, r.remote_events, r.population
        ));
    }
}

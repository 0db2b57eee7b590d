//! The random nemesis: faults drawn from rates, turned into ordinary timed actions before
//! the run starts (so they are logged, undone and replayed like any other fault).
//!
//! - Crashes: each target node alternates up and down times, drawn from its own stream
//!   `nemesis/crash/<node>`: up ~ lifetime(MTBF), down ~ Exponential(MTTR). Lifetimes are
//!   exponential (memoryless) or Weibull with a given shape, scaled so the mean is the MTBF
//!   (scale = MTBF / Γ(1 + 1/shape)). Over a long run a node is down a fraction
//!   MTTR / (MTBF + MTTR) of the time.
//! - Partitions: gaps ~ Exponential(every); each isolates a random minority of the pool for
//!   its duration.
//! - Clock steps: gaps ~ Exponential(every); each steps a random live node's clock by a
//!   uniform amount in [-max_step, +max_step].
//!
//! With `quiet_after` (the liveness phase), nothing is drawn at or after it, and every crash
//! and partition drawn before it is undone by then at the latest.

use super::resolve::{id_of, Swarm};
use crate::scenario::raw::RawLifetime;
use crate::sim::{Dist, RngStream, SimDuration, SimTime};
use crate::systems::RawScenario;
use crate::world::fault::{FaultAction, FaultKind, Target};
use crate::world::network::NodeInfo;

/// A lifetime draw with the given mean.
fn lifetime(kind: RawLifetime, mean: SimDuration, rng: &mut RngStream) -> SimDuration {
    let mean = mean.0 as f64;
    match kind {
        RawLifetime::Exponential => Dist::Exponential { mean }.sample(rng),
        RawLifetime::Weibull(shape) => {
            let scale = mean / libm::tgamma(1.0 + 1.0 / shape);
            let x = scale * libm::pow(-libm::log(rng.unit_open0()), 1.0 / shape);
            SimDuration(x.round().clamp(0.0, 1e18) as u64)
        }
    }
}

/// The nemesis's actions for this seed, in no particular order (the queue orders them).
pub fn plan(raw: &RawScenario, infos: &[NodeInfo], seed: u64, swarm: &mut Swarm) -> Vec<FaultAction> {
    let n = &raw.nemesis;
    // The nemesis stops at quiet_after: no fault starts then or later, none outlasts it.
    let end = SimTime::ZERO + raw.quiet_after.map_or(raw.duration.0, |q| q.0.min(raw.duration.0));
    let quiet = |t: SimTime, d: SimDuration| if raw.quiet_after.is_some() { d.min(end.since(t)) } else { d };
    let mut plan = Vec::new();
    let pool: Vec<String> = match &n.targets {
        Some(t) => t.clone(),
        None => raw.topology.nodes.iter().map(|n| n.name.clone()).collect(),
    };
    if let Some(c) = &n.crashes {
        let mtbf = swarm.dur("nemesis.crashes.mtbf", &c.mtbf);
        let mttr = swarm.dur("nemesis.crashes.mttr", &c.mttr);
        for name in &pool {
            let mut rng = RngStream::new(seed, &format!("nemesis/crash/{name}"));
            let mut t = SimTime::ZERO + lifetime(c.distribution, mtbf, &mut rng);
            while t < end {
                let down = Dist::Exponential { mean: mttr.0 as f64 }.sample(&mut rng).max(SimDuration(1));
                let kind = FaultKind::Crash(Target::Node(id_of(infos, name)));
                plan.push(FaultAction { at: t, duration: Some(quiet(t, down).max(SimDuration(1))), kind });
                t = t + down + lifetime(c.distribution, mtbf, &mut rng);
            }
        }
    }
    if let Some(p) = &n.partitions {
        let every = swarm.dur("nemesis.partitions.every", &p.every);
        let length = swarm.dur("nemesis.partitions.duration", &p.duration).max(SimDuration(1));
        let mut rng = RngStream::new(seed, "nemesis/partition");
        let mut t = SimTime::ZERO + Dist::Exponential { mean: every.0 as f64 }.sample(&mut rng);
        while t < end {
            plan.push(FaultAction {
                at: t,
                duration: Some(quiet(t, length).max(SimDuration(1))),
                kind: FaultKind::Isolate(Target::RandomMinority),
            });
            t = t + length + Dist::Exponential { mean: every.0 as f64 }.sample(&mut rng);
        }
    }
    if let Some(s) = &n.clock_steps {
        let every = swarm.dur("nemesis.clock_steps.every", &s.every);
        let mut rng = RngStream::new(seed, "nemesis/clock");
        let mut t = SimTime::ZERO + Dist::Exponential { mean: every.0 as f64 }.sample(&mut rng);
        while t < end {
            let max = s.max_step.0 .0 as i64;
            let by_ns = rng.between(0, 2 * max as u64) as i64 - max;
            plan.push(FaultAction {
                at: t,
                duration: None,
                kind: FaultKind::ClockStep { target: Target::RandomNode, by_ns },
            });
            t += Dist::Exponential { mean: every.0 as f64 }.sample(&mut rng).max(SimDuration(1));
        }
    }
    plan
}

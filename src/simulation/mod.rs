//! One run: scenario → world → engine → history → result.
//!
//! `resolve` turns a validated raw scenario into runtime objects (node list, network, fault
//! plan, workload); `run` assembles the world for the scenario's system, runs the engine to
//! the scenario's duration, and summarises. A panic inside a model is caught and returned as
//! [`RunError::Panic`] with the seed that reproduces it.

mod nemesis;
pub mod resolve;

use crate::check::durability::Durability;
use crate::check::expect::{evaluate, sometimes_reached, Facts, PropertyResult, Verdict};
use crate::history::{FaultRecord, History, OpKind};
use crate::metrics::{self, Metrics, MetricsConfig};
use crate::process::Process;
use crate::scenario::SystemSection;
use crate::sim::engine::first_divergence;
use crate::sim::{Engine, EventRecord, Limits, RngStream, SimError, SimTime, StopReason};
use crate::systems::{Judgement, Parts, RawScenario, Scenario, Setup, System, SystemReport, Visitor};
use crate::world::network::{NetStats, NodeInfo};
use crate::world::{Event, World};
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// How a run failed to produce a result.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("run failed (seed {seed}): {source}")]
    Sim { seed: u64, source: SimError },
    #[error("a model panicked (seed {seed}): {message}")]
    Panic { seed: u64, message: String },
}

/// Options of one run beyond the scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Records every event (for divergence reports).
    pub record_trace: bool,
}

/// Operation counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpsSummary {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub incomplete: u64,
    pub reads: u64,
    pub writes: u64,
    pub attempts: u64,
}

/// One node's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeSummary {
    pub name: String,
    pub zone: String,
    pub up_at_end: bool,
    pub crashes: u64,
    pub restarts: u64,
    pub messages_handled: u64,
    pub max_queue_depth: u64,
    /// Busy worker time / (workers × duration); absent without a service model.
    pub utilisation: Option<f64>,
    pub disk: crate::process::disk::DiskStats,
    pub pauses: u64,
    /// Local clock minus true time at the end of the run, in milliseconds.
    pub clock_offset_ms_at_end: f64,
}

/// What one run produced: plain data, byte-stable when serialised.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// The version of this report's schema.
    pub report_version: u32,
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub duration_s: f64,
    pub events: u64,
    /// The rolling digest of (time, seq, kind, node) over every event, hex.
    pub digest: String,
    pub stop: StopReason,
    pub ops: OpsSummary,
    /// The scenario's expectations, evaluated.
    pub expectations: Vec<Verdict>,
    /// The model's named properties, as its checkers judged them.
    pub properties: Vec<PropertyResult>,
    pub metrics: Metrics,
    /// The system's own figures (e.g. `raft`: election downtime per incident), under the
    /// key the system chooses; its sections and terminal lines are not serialised.
    #[serde(flatten)]
    pub system: SystemReport,
    pub durability: Durability,
    pub messages: NetStats,
    pub nodes: Vec<NodeSummary>,
    pub faults: Vec<FaultRecord>,
    /// The values this seed drew for the scenario's ranged (swarm) knobs, by field path.
    pub drawn: BTreeMap<String, String>,
    /// The "sometimes" events this run reached (the system's and the world's), in the
    /// order the scenario's system lists them.
    #[serde(skip)]
    pub reached: Vec<&'static str>,
    #[serde(skip)]
    pub history: History,
    #[serde(skip)]
    pub trace: Option<Vec<EventRecord>>,
}

/// The schema version of [`RunResult`] as serialised.
pub const REPORT_VERSION: u32 = 1;

impl RunResult {
    /// Whether every expectation holds (informational verdicts, `Sometimes`, aside).
    pub fn passed(&self) -> bool {
        !self.expectations.iter().any(Verdict::fails)
    }
}

/// Runs `scenario` once; a panic in a model becomes [`RunError::Panic`].
pub fn run(scenario: &Scenario, opts: RunOptions) -> Result<RunResult, RunError> {
    let seed = opts.seed.unwrap_or(scenario.raw.seed);
    guarded(seed, || run_inner(scenario, seed, opts))
}

/// Runs `f`, turning a simulation error or a panic into a [`RunError`] that names `seed`.
pub fn guarded<T>(seed: u64, f: impl FnOnce() -> Result<T, SimError>) -> Result<T, RunError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(|source| RunError::Sim { seed, source }),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(RunError::Panic { seed, message })
        }
    }
}

/// The result of a determinism self-check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeterminismCheck {
    Same {
        digest: String,
        events: u64,
    },
    /// The first event (index, time, seq, kind, node) at which the two runs differ.
    Diverged {
        first: Option<EventRecord>,
        second: Option<EventRecord>,
    },
}

/// Runs twice with traces and compares them event by event.
pub fn check_determinism(scenario: &Scenario, seed: Option<u64>) -> Result<DeterminismCheck, RunError> {
    let opts = RunOptions { seed, record_trace: true };
    let a = run(scenario, opts)?;
    let b = run(scenario, opts)?;
    let (ta, tb) = (a.trace.unwrap_or_default(), b.trace.unwrap_or_default());
    Ok(match first_divergence(&ta, &tb) {
        None if a.digest == b.digest => DeterminismCheck::Same { digest: a.digest, events: a.events },
        None => DeterminismCheck::Diverged { first: ta.last().copied(), second: tb.last().copied() },
        Some((first, second)) => DeterminismCheck::Diverged { first, second },
    })
}

fn run_inner(scenario: &Scenario, seed: u64, opts: RunOptions) -> Result<RunResult, SimError> {
    scenario.raw.system.visit(RunSystem { scenario, seed, opts })
}

/// One run of the scenario's system, whichever it is.
struct RunSystem<'a> {
    scenario: &'a Scenario,
    seed: u64,
    opts: RunOptions,
}

impl Visitor for RunSystem<'_> {
    type Output = Result<RunResult, SimError>;

    fn visit<S: System>(self, config: &S::Config) -> Self::Output {
        let RunSystem { scenario, seed, opts } = self;
        let raw = &scenario.raw;
        let mut swarm = resolve::Swarm::new(seed);
        let infos = resolve::node_infos(raw);
        let setup = Setup {
            nodes: &infos,
            first_client: u32::try_from(raw.topology.nodes.len()).expect("fewer than 2^32 nodes"),
            workload: std::sync::Arc::new(resolve::workload(&raw.workload)),
        };
        let parts = S::build(config, &setup);
        let (world, stats) = run_world(raw, &infos, (seed, opts), &mut swarm, parts)?;
        let judgement = S::judge(config, &world, &setup);
        let liveness =
            |history: &History, quiet, deadline| S::liveness_note(config, history, quiet, deadline);
        Ok(summarise(scenario, seed, world, stats, (judgement, &liveness), swarm.drawn))
    }
}

/// The engine's counters and, when asked for, its event trace.
pub(crate) type EngineOutput = (crate::sim::RunStats, Option<Vec<EventRecord>>);

/// Assembles a world of `P` from the scenario and the system's parts, and runs it to the
/// scenario's duration.
pub(crate) fn run_world<P: Process>(
    raw: &RawScenario,
    infos: &[NodeInfo],
    (seed, opts): (u64, RunOptions),
    swarm: &mut resolve::Swarm,
    parts: Parts<P>,
) -> Result<(World<P>, EngineOutput), SimError> {
    let Parts { spawner, monitor } = parts;
    let net = resolve::network(raw, infos, seed);
    let nodes = resolve::nodes::<P>(raw, infos, seed, swarm);
    let plan = resolve::faults(raw, infos, seed, swarm);
    let faults_rng = RngStream::new(seed, "faults");
    let mut world = World::new(nodes, net, spawner, plan, faults_rng, raw.limits.max_in_flight)
        .with_fault_pool(resolve::fault_pool(raw, infos));
    if let Some(m) = monitor {
        world = world.with_monitor(m);
    }
    let limits =
        Limits { max_events: raw.limits.max_events, max_time: SimTime::MAX, max_queue: raw.limits.max_queue };
    let mut engine: Engine<Event<P::Msg>> = Engine::new(limits);
    if opts.record_trace {
        engine.record_trace();
    }
    world.start(engine.scheduler())?;
    let horizon = SimTime::ZERO + raw.duration.0;
    let stats = engine.run(&mut world, horizon, u64::MAX)?;
    world.finish(engine.scheduler());
    Ok((world, (stats, engine.take_trace())))
}

/// What the system can say about a service still down at a deadline (see
/// `System::liveness_note`).
type LivenessNote<'a> = &'a dyn Fn(&History, SimTime, SimTime) -> Option<String>;

fn summarise<P: Process>(
    scenario: &Scenario,
    seed: u64,
    world: World<P>,
    (stats, trace): EngineOutput,
    (judgement, liveness): (Judgement, LivenessNote),
    drawn: BTreeMap<String, String>,
) -> RunResult {
    let Judgement { durability, properties, reached: system_reached, report } = judgement;
    let raw = &scenario.raw;
    let history = world.history;
    let (ok, failed, timed_out, incomplete) = history.outcome_counts();
    let ops = OpsSummary {
        total: history.ops.len() as u64,
        ok,
        failed,
        timed_out,
        incomplete,
        reads: history.ops.iter().filter(|o| o.kind == OpKind::Read).count() as u64,
        writes: history.ops.iter().filter(|o| o.kind == OpKind::Write).count() as u64,
        attempts: history.ops.iter().map(|o| u64::from(o.attempts)).sum(),
    };
    let duration_ns = raw.duration.0 .0 as f64;
    let end = SimTime::ZERO + raw.duration.0;
    let nodes = world
        .nodes
        .iter()
        .map(|n| {
            let info = world.net.topology.info(n.id);
            NodeSummary {
                name: info.name.clone(),
                zone: info.zone.clone(),
                up_at_end: n.is_up(),
                crashes: n.stats.crashes,
                restarts: n.stats.restarts,
                messages_handled: n.stats.messages_handled,
                max_queue_depth: n.stats.max_queue_depth,
                utilisation: n
                    .service
                    .as_ref()
                    .map(|s| round6(n.stats.busy_ns as f64 / (f64::from(s.workers) * duration_ns))),
                disk: n.disk.stats(),
                pauses: n.stats.pauses,
                clock_offset_ms_at_end: round6((n.clock.local(end).0 as f64 - end.0 as f64) / 1e6),
            }
        })
        .collect();
    let metrics_config = MetricsConfig {
        window: raw.metrics.window.0,
        slo: raw.metrics.slo.0,
        recovery_windows: raw.metrics.recovery_windows as usize,
    };
    let metrics = metrics::compute(
        &metrics::Inputs {
            history: &history,
            faults: &history.faults,
            duration: raw.duration.0,
            lost_acks: &durability.lost_acks,
            messages_sent: world.net.stats.sent + world.net.stats.duplicated,
        },
        &metrics_config,
    );
    let note = |quiet, deadline| liveness(&history, quiet, deadline);
    let facts = Facts {
        history: &history,
        metrics: &metrics,
        lost_writes: durability.lost_acknowledged_writes,
        wrong_reads: durability.wrong_reads,
        properties: &properties,
        reached: &system_reached,
        quiet_after: raw.quiet_after,
        metrics_config: &raw.metrics,
        liveness_note: &note,
    };
    let expectations = evaluate(&raw.expect, &facts);
    let reached =
        (raw.system.sometimes().into_iter()).filter(|name| sometimes_reached(name, &facts)).collect();
    RunResult {
        report_version: REPORT_VERSION,
        scenario: raw.name.clone(),
        description: raw.description.clone(),
        seed,
        duration_s: raw.duration.0.as_secs_f64(),
        events: stats.events,
        digest: format!("{:016x}", stats.digest),
        stop: stats.stop,
        expectations,
        properties,
        metrics,
        system: report,
        ops,
        durability,
        messages: world.net.stats.clone(),
        nodes,
        faults: history.faults.clone(),
        drawn,
        reached,
        history,
        trace,
    }
}

/// Fixed precision for floats in reports (byte-stable output).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_model_is_a_failed_run_that_names_its_seed() {
        let err = guarded::<()>(42, || panic!("model bug")).unwrap_err();
        assert!(matches!(&err, RunError::Panic { seed: 42, message } if message == "model bug"));
        assert!(err.to_string().contains("seed 42"));
        let limit = SimError::Limit { limit: "max_events", value: 2, max: 1 };
        let err = guarded::<()>(7, || Err(limit.clone())).unwrap_err();
        assert!(matches!(err, RunError::Sim { seed: 7, .. }));
        assert!(err.to_string().contains("max_events"));
    }
}

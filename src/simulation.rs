//! One run: scenario → world → engine → history → result.
//!
//! `resolve` turns a validated raw scenario into runtime objects (node list, network, fault
//! plan, workload); `run` assembles the world for the scenario's system, runs the engine to
//! the scenario's duration, and summarises. A panic inside a model is caught and returned as
//! [`RunError::Panic`] with the seed that reproduces it.

use crate::process::{NodeId, Process};
use crate::protocols::kv::{self, KvClient, KvNode, KvServer, KvServerConfig};
use crate::scenario::raw::*;
use crate::scenario::Scenario;
use crate::sim::engine::first_divergence;
use crate::sim::history::{ClientId, FaultRecord, History, OpKind, Outcome};
use crate::sim::{Dist, Engine, EventRecord, Limits, RngStream, SimDuration, SimError, SimTime, StopReason};
use crate::workload::{Arrival, Driver, Jitter, KeyDist, Retry, WorkloadSpec};
use crate::world::clock::Clock;
use crate::world::fault::{FaultAction, FaultKind, Target};
use crate::world::network::{Link, NetStats, NetworkBuilder, NodeInfo};
use crate::world::node::{Node, Service};
use crate::world::{Event, Spawner, World};
use serde::Serialize;
use std::sync::Arc;
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

/// Operations completed in one window of time, by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start_s: u64,
    pub ok: u64,
    pub failed: u64,
    pub timed_out: u64,
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
    pub disk_writes: u64,
    pub fsyncs: u64,
}

/// Acknowledged writes checked against the system's state after the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durability {
    pub acknowledged_writes: u64,
    pub lost_acknowledged_writes: u64,
    /// Up to five lost writes, as (key, value), for a first look.
    pub lost_examples: Vec<(u64, u64)>,
}

/// What one run produced: plain data, byte-stable when serialised.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub events: u64,
    /// The rolling digest of (time, seq, kind, node) over every event, hex.
    pub digest: String,
    pub stop: StopReason,
    pub ops: OpsSummary,
    pub windows: Vec<Window>,
    pub durability: Durability,
    pub messages: NetStats,
    pub nodes: Vec<NodeSummary>,
    pub faults: Vec<FaultRecord>,
    #[serde(skip)]
    pub history: History,
    #[serde(skip)]
    pub trace: Option<Vec<EventRecord>>,
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
    let opts = RunOptions {
        seed,
        record_trace: true,
    };
    let a = run(scenario, opts)?;
    let b = run(scenario, opts)?;
    let (ta, tb) = (a.trace.unwrap_or_default(), b.trace.unwrap_or_default());
    Ok(match first_divergence(&ta, &tb) {
        None if a.digest == b.digest => DeterminismCheck::Same {
            digest: a.digest,
            events: a.events,
        },
        None => DeterminismCheck::Diverged {
            first: ta.last().copied(),
            second: tb.last().copied(),
        },
        Some((first, second)) => DeterminismCheck::Diverged { first, second },
    })
}

fn resolve_dist(d: &RawDist) -> Dist {
    match d {
        RawDist::Constant(x) => Dist::constant(x.0),
        RawDist::Uniform { lo, hi } => Dist::Uniform {
            lo: lo.0 .0,
            hi: hi.0 .0,
        },
        RawDist::Normal { mean, std_dev } => Dist::Normal {
            mean: mean.0 .0 as f64,
            std_dev: std_dev.0 .0 as f64,
        },
        RawDist::LogNormal { median, p99 } => Dist::lognormal_from_median_p99(median.0, p99.0),
        RawDist::Exponential { mean } => Dist::Exponential {
            mean: mean.0 .0 as f64,
        },
        RawDist::Pareto { scale, shape } => Dist::Pareto {
            scale: scale.0 .0 as f64,
            shape: shape.0,
        },
    }
}

fn resolve_link(l: &RawLink) -> Link {
    Link {
        latency: resolve_dist(&l.latency),
        loss: l.loss.0,
        duplicate: l.duplicate.0,
        fifo: l.fifo,
        bandwidth_bps: l.bandwidth_bps,
    }
}

fn override_link(base: &RawLink, o: &RawLinkOverride) -> Link {
    resolve_link(&RawLink {
        latency: o.latency.clone().unwrap_or_else(|| base.latency.clone()),
        loss: o.loss.unwrap_or(base.loss),
        duplicate: o.duplicate.unwrap_or(base.duplicate),
        fifo: o.fifo.unwrap_or(base.fifo),
        bandwidth_bps: o.bandwidth_bps.or(base.bandwidth_bps),
    })
}

/// Node names in id order: the topology's nodes, then the workload's clients.
pub fn node_infos(raw: &RawScenario) -> Vec<NodeInfo> {
    let mut infos: Vec<NodeInfo> = raw
        .topology
        .nodes
        .iter()
        .map(|n| NodeInfo {
            name: n.name.clone(),
            zone: n.zone.clone(),
            region: n.region.clone(),
        })
        .collect();
    for i in 0..raw.workload.clients {
        infos.push(NodeInfo {
            name: format!("client-{i}"),
            zone: raw.workload.zone.clone(),
            region: raw.workload.region.clone(),
        });
    }
    infos
}

fn build_network(raw: &RawScenario, infos: &[NodeInfo], seed: u64) -> crate::world::network::Network {
    let t = &raw.topology;
    let mut b = NetworkBuilder::new(resolve_link(&t.link));
    let ids: Vec<NodeId> = infos.iter().map(|i| b.node(i.clone())).collect();
    let id = |name: &str| {
        ids[infos
            .iter()
            .position(|i| i.name == name)
            .expect("validated node name")]
    };
    for o in &t.links {
        let (a, z) = (id(&o.between.0), id(&o.between.1));
        b.pair(a, z, override_link(&t.link, o));
        if !o.one_way {
            b.pair(z, a, override_link(&t.link, o));
        }
    }
    for o in &t.zones {
        b.zones(&o.between.0, &o.between.1, override_link(&t.link, o));
    }
    for o in &t.regions {
        b.regions(&o.between.0, &o.between.1, override_link(&t.link, o));
    }
    b.build(RngStream::new(seed, "network"))
}

fn resolve_workload(w: &RawWorkload) -> WorkloadSpec {
    let arrival = match &w.arrival {
        RawArrival::Poisson { rate_per_s } => Arrival::Open {
            rate_per_s: rate_per_s.0 / f64::from(w.clients),
        },
        RawArrival::Closed { think } => Arrival::Closed {
            think: resolve_dist(think),
        },
    };
    let keys = match w.keys {
        RawKeys::Uniform { n } => KeyDist::Uniform { n },
        RawKeys::Zipf { n, s } => KeyDist::zipf(n, s),
    };
    let retry = match &w.retry {
        RawRetry::None => Retry::None,
        RawRetry::Fixed { delay, max_attempts } => Retry::Fixed {
            delay: delay.0,
            max_attempts: *max_attempts,
        },
        RawRetry::Exponential {
            base,
            cap,
            max_attempts,
            jitter,
        } => Retry::Exponential {
            base: base.0,
            cap: cap.0,
            max_attempts: *max_attempts,
            jitter: match jitter {
                RawJitter::None => Jitter::None,
                RawJitter::Full => Jitter::Full,
                RawJitter::Equal => Jitter::Equal,
            },
        },
    };
    WorkloadSpec {
        arrival,
        keys,
        write_ratio: w.write_ratio.0,
        timeout: w.timeout.0,
        retry,
    }
}

fn resolve_faults(raw: &RawScenario, infos: &[NodeInfo]) -> Vec<FaultAction> {
    let id = |name: &str| {
        NodeId(
            infos
                .iter()
                .position(|i| i.name == name)
                .expect("validated node name") as u32,
        )
    };
    let target = |t: &RawTarget| match t {
        RawTarget::Node(n) => Target::Node(id(n)),
        RawTarget::Nodes(ns) => Target::Nodes(ns.iter().map(|n| id(n)).collect()),
        RawTarget::Zone(z) => Target::Zone(z.clone()),
        RawTarget::Crashed => Target::Crashed,
        RawTarget::Role(r) => Target::Role(r.clone()),
        RawTarget::RandomNode => Target::RandomNode,
    };
    raw.faults
        .iter()
        .map(|f| FaultAction {
            at: SimTime::ZERO + f.at.0,
            duration: f.for_.map(|d| d.0),
            kind: match &f.action {
                RawAction::Crash(t) => FaultKind::Crash(target(t)),
                RawAction::Restart(t) => FaultKind::Restart(target(t)),
                RawAction::Partition { groups, one_way } => FaultKind::Partition {
                    groups: groups.iter().map(|g| g.iter().map(|n| id(n)).collect()).collect(),
                    one_way: *one_way,
                },
                RawAction::Heal => FaultKind::Heal,
            },
        })
        .collect()
}

/// Builds the nodes of a world, with services from the topology (clients have none).
fn build_nodes<P: Process>(raw: &RawScenario, infos: &[NodeInfo], seed: u64) -> Vec<Node<P>> {
    infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let service = raw
                .topology
                .nodes
                .get(i)
                .and_then(|n| n.service.as_ref())
                .map(|s| Service {
                    workers: s.workers,
                    queue: s.queue,
                    time: resolve_dist(&s.time),
                });
            Node::new(NodeId(i as u32), &info.name, seed, service, Clock::default())
        })
        .collect()
}

fn run_inner(scenario: &Scenario, seed: u64, opts: RunOptions) -> Result<RunResult, SimError> {
    let raw = &scenario.raw;
    match &raw.system {
        RawSystem::KeyValue {
            server,
            fsync_before_ack,
        } => {
            let infos = node_infos(raw);
            let server = NodeId(
                infos
                    .iter()
                    .position(|i| &i.name == server)
                    .expect("validated server") as u32,
            );
            let config = KvServerConfig {
                fsync_before_ack: *fsync_before_ack,
            };
            let spec = Arc::new(resolve_workload(&raw.workload));
            let first_client = raw.topology.nodes.len() as u32;
            let spawner: Spawner<KvNode> = Box::new(move |id, disk| {
                if id == server {
                    KvNode::Server(KvServer::recover(config, disk))
                } else if id.0 >= first_client {
                    let driver = Driver::new(ClientId(id.0 - first_client), spec.clone());
                    KvNode::Client(KvClient { driver, server })
                } else {
                    KvNode::Idle
                }
            });
            let (world, stats) = run_world(raw, &infos, seed, opts, spawner, KvNode::finish)?;
            let server_node = &world.nodes[server.index()];
            let truth = kv::authoritative_writes(&server_node.disk, server_node.is_up());
            let durability = durability(&world.history, |k, v| truth.contains(&(k, v)));
            Ok(summarise(scenario, seed, world, stats, durability))
        }
    }
}

type Finish<P> = fn(&mut P, &mut crate::process::Context<'_, P>);

/// The engine's counters and, when asked for, its event trace.
type EngineOutput = (crate::sim::RunStats, Option<Vec<EventRecord>>);

/// Assembles a world of `P` and runs it to the scenario's duration.
fn run_world<P: Process>(
    raw: &RawScenario,
    infos: &[NodeInfo],
    seed: u64,
    opts: RunOptions,
    spawner: Spawner<P>,
    finish: Finish<P>,
) -> Result<(World<P>, EngineOutput), SimError> {
    let net = build_network(raw, infos, seed);
    let nodes = build_nodes::<P>(raw, infos, seed);
    let plan = resolve_faults(raw, infos);
    let mut world = World::new(
        nodes,
        net,
        spawner,
        plan,
        RngStream::new(seed, "faults"),
        raw.limits.max_in_flight,
    );
    let limits = Limits {
        max_events: raw.limits.max_events,
        max_time: SimTime::MAX,
        max_queue: raw.limits.max_queue,
    };
    let mut engine: Engine<Event<P::Msg>> = Engine::new(limits);
    if opts.record_trace {
        engine.record_trace();
    }
    world.start(engine.scheduler())?;
    let horizon = SimTime::ZERO + raw.duration.0;
    let stats = engine.run(&mut world, horizon, u64::MAX)?;
    world.finish(engine.scheduler(), finish);
    Ok((world, (stats, engine.take_trace())))
}

fn durability(history: &History, present: impl Fn(u64, u64) -> bool) -> Durability {
    let mut d = Durability::default();
    for op in history
        .ops
        .iter()
        .filter(|o| o.kind == OpKind::Write && o.outcome == Outcome::Ok)
    {
        d.acknowledged_writes += 1;
        let value = op.value.expect("an acknowledged write has its value");
        if !present(op.key, value) {
            d.lost_acknowledged_writes += 1;
            if d.lost_examples.len() < 5 {
                d.lost_examples.push((op.key, value));
            }
        }
    }
    d
}

fn windows(history: &History, duration: SimDuration) -> Vec<Window> {
    let n = duration.0.div_ceil(1_000_000_000).max(1) as usize;
    let mut w: Vec<Window> = (0..n)
        .map(|i| Window {
            start_s: i as u64,
            ..Window::default()
        })
        .collect();
    for op in &history.ops {
        let i = ((op.complete.0 / 1_000_000_000) as usize).min(n - 1);
        match op.outcome {
            Outcome::Ok => w[i].ok += 1,
            Outcome::Failed => w[i].failed += 1,
            Outcome::TimedOut => w[i].timed_out += 1,
            Outcome::Incomplete => {}
        }
    }
    w
}

fn summarise<P: Process>(
    scenario: &Scenario,
    seed: u64,
    world: World<P>,
    (stats, trace): EngineOutput,
    durability: Durability,
) -> RunResult {
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
                disk_writes: n.disk.stats().writes,
                fsyncs: n.disk.stats().fsyncs,
            }
        })
        .collect();
    RunResult {
        scenario: raw.name.clone(),
        seed,
        duration_s: raw.duration.0.as_secs_f64(),
        events: stats.events,
        digest: format!("{:016x}", stats.digest),
        stop: stats.stop,
        windows: windows(&history, raw.duration.0),
        ops,
        durability,
        messages: world.net.stats.clone(),
        nodes,
        faults: history.faults.clone(),
        history,
        trace,
    }
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

/// Fixed precision for floats in reports (byte-stable output).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

//! Resolving a validated raw scenario into runtime objects: nodes, network, fault plan
//! (the scenario's own plus the nemesis's), workload, and the values swarm knobs drew.
//!
//! Every random choice made here draws from its own stream, labelled by what it is for
//! (`swarm/<field path>`, `nemesis/crash/<node>`, `nemesis/partition`, `nemesis/clock`), so a
//! new knob or a new nemesis never shifts another draw. Infallible: validation has run.

use crate::process::clock::Clock;
use crate::process::disk::{DiskConfig, DiskFault};
use crate::process::{NodeId, Process};
use crate::scenario::raw::*;
use crate::sim::{Dist, RngStream, SimDuration, SimTime};
use crate::systems::RawScenario;
use crate::workload::{Arrival, Jitter, KeyDist, Retry, WorkloadSpec};
use crate::world::fault::{partition_pairs, FaultAction, FaultKind, Target};
use crate::world::network::{Link, Network, NetworkBuilder, NodeInfo};
use crate::world::node::{ClockSync, Node, Service};
use std::collections::BTreeMap;

/// Draws swarm knobs (ranges) per seed and records what was drawn.
pub struct Swarm {
    seed: u64,
    pub drawn: BTreeMap<String, String>,
}

impl Swarm {
    pub fn new(seed: u64) -> Self {
        Swarm { seed, drawn: BTreeMap::new() }
    }

    fn stream(&self, path: &str) -> RngStream {
        RngStream::new(self.seed, &format!("swarm/{path}"))
    }

    pub fn f64(&mut self, path: &str, knob: &Knob<f64>) -> f64 {
        match *knob {
            Knob::Fixed(x) => x,
            Knob::Range(lo, hi) => {
                let x = lo + (hi - lo) * self.stream(path).unit();
                self.drawn.insert(path.to_string(), format!("{x:.6}"));
                x
            }
        }
    }

    pub fn prob(&mut self, path: &str, knob: &Knob<Prob>) -> f64 {
        let k = match *knob {
            Knob::Fixed(p) => Knob::Fixed(p.0),
            Knob::Range(lo, hi) => Knob::Range(lo.0, hi.0),
        };
        self.f64(path, &k)
    }

    pub fn dur(&mut self, path: &str, knob: &Knob<Dur>) -> SimDuration {
        match *knob {
            Knob::Fixed(d) => d.0,
            Knob::Range(lo, hi) => {
                let d = SimDuration(self.stream(path).between(lo.0 .0, hi.0 .0));
                self.drawn.insert(path.to_string(), d.to_string());
                d
            }
        }
    }

    pub fn signed(&mut self, path: &str, knob: &Knob<SignedDur>) -> i64 {
        match *knob {
            Knob::Fixed(d) => d.0,
            Knob::Range(lo, hi) => {
                let span = (hi.0 - lo.0) as u64;
                let x = lo.0 + self.stream(path).between(0, span) as i64;
                self.drawn.insert(path.to_string(), format!("{x}ns"));
                x
            }
        }
    }
}

pub fn dist(d: &RawDist) -> Dist {
    match d {
        RawDist::Constant(x) => Dist::constant(x.0),
        RawDist::Uniform { lo, hi } => Dist::Uniform { lo: lo.0 .0, hi: hi.0 .0 },
        RawDist::Normal { mean, std_dev } => {
            Dist::Normal { mean: mean.0 .0 as f64, std_dev: std_dev.0 .0 as f64 }
        }
        RawDist::LogNormal { median, p99 } => Dist::lognormal_from_median_p99(median.0, p99.0),
        RawDist::Exponential { mean } => Dist::Exponential { mean: mean.0 .0 as f64 },
        RawDist::Pareto { scale, shape } => Dist::Pareto { scale: scale.0 .0 as f64, shape: shape.0 },
    }
}

fn link(l: &RawLink) -> Link {
    Link {
        latency: dist(&l.latency),
        loss: l.loss.0,
        duplicate: l.duplicate.0,
        fifo: l.fifo,
        bandwidth_bps: l.bandwidth_bps,
        corrupt: l.corrupt.0,
    }
}

fn override_link(base: &RawLink, o: &RawLinkOverride) -> Link {
    link(&RawLink {
        latency: o.latency.clone().unwrap_or_else(|| base.latency.clone()),
        loss: o.loss.unwrap_or(base.loss),
        duplicate: o.duplicate.unwrap_or(base.duplicate),
        fifo: o.fifo.unwrap_or(base.fifo),
        bandwidth_bps: o.bandwidth_bps.or(base.bandwidth_bps),
        corrupt: o.corrupt.unwrap_or(base.corrupt),
    })
}

/// Node names in id order: the topology's nodes, then the workload's clients.
pub fn node_infos(raw: &RawScenario) -> Vec<NodeInfo> {
    let mut infos: Vec<NodeInfo> = raw
        .topology
        .nodes
        .iter()
        .map(|n| NodeInfo { name: n.name.clone(), zone: n.zone.clone(), region: n.region.clone() })
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

/// The id of a validated node name.
pub fn id_of(infos: &[NodeInfo], name: &str) -> NodeId {
    NodeId(infos.iter().position(|i| i.name == name).expect("validated node name") as u32)
}

pub fn network(raw: &RawScenario, infos: &[NodeInfo], seed: u64) -> Network {
    let t = &raw.topology;
    let mut b = NetworkBuilder::new(link(&t.link));
    for info in infos {
        b.node(info.clone());
    }
    for o in &t.links {
        let (a, z) = (id_of(infos, &o.between.0), id_of(infos, &o.between.1));
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

pub fn workload(w: &RawWorkload) -> WorkloadSpec {
    let arrival = match &w.arrival {
        RawArrival::Poisson { rate_per_s } => {
            Arrival::Open { rate_per_s: rate_per_s.0 / f64::from(w.clients) }
        }
        RawArrival::Closed { think } => Arrival::Closed { think: dist(think) },
    };
    let keys = match w.keys {
        RawKeys::Uniform { n } => KeyDist::Uniform { n },
        RawKeys::Zipf { n, s } => KeyDist::zipf(n, s),
    };
    let retry = match &w.retry {
        RawRetry::None => Retry::None,
        RawRetry::Fixed { delay, max_attempts } => {
            Retry::Fixed { delay: delay.0, max_attempts: *max_attempts }
        }
        RawRetry::Exponential { base, cap, max_attempts, jitter } => Retry::Exponential {
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
    WorkloadSpec { arrival, keys, write_ratio: w.write_ratio.0, timeout: w.timeout.0, retry }
}

fn target(infos: &[NodeInfo], t: &RawTarget) -> Target {
    match t {
        RawTarget::Node(n) => Target::Node(id_of(infos, n)),
        RawTarget::Nodes(ns) => Target::Nodes(ns.iter().map(|n| id_of(infos, n)).collect()),
        RawTarget::Zone(z) => Target::Zone(z.clone()),
        RawTarget::Region(r) => Target::Region(r.clone()),
        RawTarget::Crashed => Target::Crashed,
        RawTarget::Role(r) => Target::Role(r.clone()),
        RawTarget::RandomNode => Target::RandomNode,
        RawTarget::RandomMinority => Target::RandomMinority,
        RawTarget::RandomMajority => Target::RandomMajority,
        RawTarget::RandomNodes(k) => Target::RandomNodes(*k),
        RawTarget::All => Target::All,
        RawTarget::OneWithRole(r) => Target::OneWithRole(r.clone()),
        RawTarget::MinorityWithRole(r) => Target::MinorityWithRole(r.clone()),
    }
}

fn groups(infos: &[NodeInfo], g: &[Vec<String>]) -> Vec<Vec<NodeId>> {
    g.iter().map(|g| g.iter().map(|n| id_of(infos, n)).collect()).collect()
}

fn action(infos: &[NodeInfo], swarm: &mut Swarm, path: &str, a: &RawAction) -> FaultKind {
    let pairs = |g: &[Vec<String>]| partition_pairs(&groups(infos, g), false);
    let outage = |t: Target, mode: RawOutage| match mode {
        RawOutage::Crash => FaultKind::Crash(t),
        RawOutage::Isolate => FaultKind::Isolate(t),
    };
    match a {
        RawAction::Crash(t) => FaultKind::Crash(target(infos, t)),
        RawAction::Restart(t) => FaultKind::Restart(target(infos, t)),
        RawAction::Partition { groups: g, one_way } => {
            FaultKind::Partition { groups: groups(infos, g), one_way: *one_way }
        }
        RawAction::Heal => FaultKind::Heal,
        RawAction::Cut { target: a, from: b, one_way } => {
            FaultKind::Cut { target: target(infos, a), from: target(infos, b), one_way: *one_way }
        }
        RawAction::Isolate(t) => FaultKind::Isolate(target(infos, t)),
        RawAction::ClockStep { target: t, by } => {
            FaultKind::ClockStep { target: target(infos, t), by_ns: by.0 }
        }
        RawAction::ClockDrift { target: t, ppm } => {
            FaultKind::ClockDrift { target: target(infos, t), ppb: ppm_to_ppb(*ppm) }
        }
        RawAction::DiskFault { target: t, kind } => FaultKind::Disk {
            target: target(infos, t),
            fault: match kind {
                RawDiskFault::IoError => DiskFault::IoError,
                RawDiskFault::Full => DiskFault::Full,
            },
        },
        RawAction::Slow { target: t, factor, latency } => FaultKind::Slow {
            target: target(infos, t),
            factor: *factor,
            latency: latency.map_or(SimDuration::ZERO, |d| d.0),
        },
        RawAction::Pause { target: t } => FaultKind::Pause(target(infos, t)),
        RawAction::Corrupt { probability, groups: g } => FaultKind::Corrupt {
            probability: swarm.prob(&format!("{path}.probability"), probability),
            pairs: g.as_deref().map(pairs),
        },
        RawAction::Flaky { groups: g, p_enter, p_exit, loss } => FaultKind::Flaky {
            pairs: pairs(g),
            p_enter: swarm.prob(&format!("{path}.p_enter"), p_enter),
            p_exit: swarm.prob(&format!("{path}.p_exit"), p_exit),
            loss: swarm.prob(&format!("{path}.loss"), loss),
        },
        RawAction::Clog { groups: g } => FaultKind::Clog { pairs: pairs(g) },
        RawAction::ZoneOutage { zone, mode } => outage(Target::Zone(zone.clone()), *mode),
        RawAction::RegionOutage { region, mode } => outage(Target::Region(region.clone()), *mode),
    }
}

pub fn ppm_to_ppb(ppm: f64) -> i64 {
    (ppm * 1000.0).round() as i64
}

/// The scenario's fault plan followed by the nemesis's.
pub fn faults(raw: &RawScenario, infos: &[NodeInfo], seed: u64, swarm: &mut Swarm) -> Vec<FaultAction> {
    let mut plan: Vec<FaultAction> = raw
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| FaultAction {
            at: SimTime::ZERO + f.at.0,
            duration: f.for_.map(|d| d.0),
            kind: action(infos, swarm, &format!("faults[{i}].do"), &f.action),
        })
        .collect();
    plan.extend(super::nemesis::plan(raw, infos, seed, swarm));
    plan
}

/// The nodes random targets and the nemesis draw from: the nemesis's `targets`, else
/// every topology node (never clients).
pub fn fault_pool(raw: &RawScenario, infos: &[NodeInfo]) -> Vec<NodeId> {
    match &raw.nemesis.targets {
        Some(names) => names.iter().map(|n| id_of(infos, n)).collect(),
        None => (0..raw.topology.nodes.len() as u32).map(NodeId).collect(),
    }
}

fn disk_config(d: Option<&RawDisk>, path: &str, swarm: &mut Swarm) -> DiskConfig {
    let Some(d) = d else { return DiskConfig::default() };
    let lat = |x: &Option<RawDist>| x.as_ref().map_or(Dist::Constant(0), dist);
    DiskConfig {
        write: lat(&d.write),
        fsync: lat(&d.fsync),
        read: lat(&d.read),
        torn_write: swarm.prob(&format!("{path}.torn_write"), &d.torn_write),
        write_corruption: swarm.prob(&format!("{path}.write_corruption"), &d.write_corruption),
        misdirected_write: swarm.prob(&format!("{path}.misdirected_write"), &d.misdirected_write),
        read_corruption: swarm.prob(&format!("{path}.read_corruption"), &d.read_corruption),
    }
}

fn clock(c: Option<&RawClock>, path: &str, swarm: &mut Swarm) -> (Clock, Option<ClockSync>) {
    let Some(c) = c else {
        return (Clock::default(), None);
    };
    let drift = swarm.f64(&format!("{path}.drift_ppm"), &c.drift_ppm);
    let offset = swarm.signed(&format!("{path}.offset"), &c.offset);
    let sync = c.sync.as_ref().map(|s| ClockSync { interval: s.interval.0, max_error: s.max_error.0 });
    (Clock::new(offset, ppm_to_ppb(drift)), sync)
}

/// The nodes of a world: services, disks and clocks from the topology (a node's own
/// setting, else the topology's default); clients have no service.
pub fn nodes<P: Process>(
    raw: &RawScenario,
    infos: &[NodeInfo],
    seed: u64,
    swarm: &mut Swarm,
) -> Vec<Node<P>> {
    let t = &raw.topology;
    infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let own = t.nodes.get(i);
            let service = own.and_then(|n| n.service.as_ref()).map(|s| Service {
                workers: s.workers,
                queue: s.queue,
                time: dist(&s.time),
            });
            // A node's own setting gets its own swarm draws; a shared default draws per node.
            let (disk_raw, disk_path) = match own.and_then(|n| n.disk.as_ref()) {
                Some(d) => (Some(d), format!("topology.nodes[{i}].disk")),
                None => (t.disk.as_ref(), format!("topology.disk@{}", info.name)),
            };
            let (clock_raw, clock_path) = match own.and_then(|n| n.clock.as_ref()) {
                Some(c) => (Some(c), format!("topology.nodes[{i}].clock")),
                None => (t.clock.as_ref(), format!("topology.clock@{}", info.name)),
            };
            let disk = disk_config(disk_raw, &disk_path, swarm);
            let (clk, sync) = clock(clock_raw, &clock_path, swarm);
            Node::new(NodeId(i as u32), &info.name, seed, service, clk)
                .with_disk(disk, seed, &info.name)
                .with_sync(sync)
        })
        .collect()
}

//! `Failover`: a primary and its backups, a heartbeat failure detector, promotion, and
//! fencing by epochs — the smallest system that shows what a failover costs (detection
//! time is the RTO) and why a deposed primary must be fenced. The processes are in
//! [`node`]; this file is the system: config, validation, roles, properties, monitor and
//! judge. It is also the worked example of docs/extending.md.
//!
//! Properties:
//! - `single_primary` (always): no replica answers, as primary, an operation it sequenced
//!   after another replica had taken a newer epoch (no split brain) — checked online after
//!   every callback of a replica. (An operation sequenced before the promotion and answered
//!   after it is fine: the new primary had it.)
//! - `linearizable` (always): the clients' history, against a register per key.
//! - `FailedOver`, `SteppedDown` (sometimes): a backup was promoted; a deposed primary
//!   stepped down.
//!
//! Ground truth for durability: the store of the replica with the highest epoch (its log
//! as it would read it now), which every acknowledged write must be in.

pub mod node;

use super::{Judgement, Parts, PropertyDecl, PropertyKind, RoleDecl, Setup, System, SystemReport};
use crate::check::durability::{durability, key_checks};
use crate::check::expect::PropertyResult;
use crate::history::{History, Violation};
use crate::metrics::table::{secs, Align, Block, Section, Table};
use crate::process::NodeId;
use crate::scenario::raw::Dur;
use crate::sim::{SimDuration, SimTime};
use crate::world::{Monitor, Spawner, World};
use node::{FailoverNode, FoClient, Replica};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Observed when a replica promotes itself (value: its new epoch).
pub const PROMOTED: &str = "promoted";
/// Observed when a primary steps down (value: the epoch it adopted).
pub const STEPPED_DOWN: &str = "stepped_down";
/// Observed when a deposed primary is refused with a newer epoch (value: that epoch).
pub const FENCED: &str = "fenced";
/// Observed when a backup that was not in sync promotes itself after a long silence
/// (value: its epoch before): it may lack acknowledged writes.
pub const UNCLEAN: &str = "unclean_promotion";

/// The scenario's `system: Failover(...)` section.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverSection {
    /// The replicas in rank order: the first starts as the primary, the next takes over
    /// first.
    pub replicas: Vec<String>,
    /// How often the primary beats.
    pub heartbeat: Dur,
    /// How long a backup waits without a beat before it promotes itself (the next backups
    /// wait two heartbeats longer per rank). Also how long the primary waits for a backup's
    /// acknowledgement before it drops the backup from the in-sync set.
    pub timeout: Dur,
    /// Deliberately broken variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<FailoverBug>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum FailoverBug {
    /// No fencing of any kind: epochs are never compared and the pause detector is off,
    /// so a deposed primary goes on serving and replicas apply whatever they are sent
    /// (split brain).
    NoFencing,
}

/// The resolved knobs the replicas share.
#[derive(Clone, Debug)]
pub struct FailoverParams {
    pub replicas: Vec<NodeId>,
    pub heartbeat: SimDuration,
    pub timeout: SimDuration,
    pub no_fencing: bool,
}

impl FailoverParams {
    fn rank(&self, me: NodeId) -> u64 {
        self.replicas.iter().position(|&r| r == me).expect("a replica is in the list") as u64
    }

    /// How much longer than `timeout` a backup of this rank waits before promoting.
    pub fn stagger(&self, me: NodeId) -> SimDuration {
        SimDuration(self.heartbeat.0.saturating_mul(2).saturating_mul(self.rank(me).saturating_sub(1)))
    }

    /// The next epoch above `epoch` that is this replica's own (`≡ rank mod n`).
    pub fn next_epoch(&self, epoch: u64, me: NodeId) -> u64 {
        let n = self.replicas.len() as u64;
        let next = (epoch / n + 1) * n + self.rank(me);
        assert!(next > epoch && next % n == self.rank(me), "a promotion takes a newer epoch of its own");
        next
    }
}

/// The failover system.
pub struct Failover;

impl System for Failover {
    const NAME: &'static str = "Failover";
    const PROPERTIES: &'static [PropertyDecl] = &[
        PropertyDecl {
            name: "single_primary",
            kind: PropertyKind::Always,
            meaning:
                "no replica answers as primary an operation it sequenced after another took a newer epoch",
        },
        super::LINEARIZABLE,
        PropertyDecl {
            name: "FailedOver",
            kind: PropertyKind::Sometimes,
            meaning: "a backup promoted itself",
        },
        PropertyDecl {
            name: "SteppedDown",
            kind: PropertyKind::Sometimes,
            meaning: "a deposed primary stepped down (fenced by a newer epoch, or by its own pause detector)",
        },
    ];
    const ROLES: &'static [RoleDecl] = &[
        RoleDecl { name: "primary", meaning: "the replica that serves clients" },
        RoleDecl { name: "backup", meaning: "a replica that follows the primary" },
        RoleDecl { name: "replica", meaning: "any replica" },
        RoleDecl { name: "client", meaning: "a workload client" },
    ];

    type Config = FailoverSection;
    type Node = FailoverNode;

    fn validate(c: &FailoverSection, nodes: &BTreeSet<String>) -> Result<(), (String, String)> {
        if c.replicas.len() < 2 {
            return Err((
                "replicas".into(),
                "a failover needs a primary and at least one backup: name two replicas or more".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, r) in c.replicas.iter().enumerate() {
            if !nodes.contains(r) {
                return Err((
                    format!("replicas[{i}]"),
                    format!("'{r}' is not a node of the topology; add it to topology.nodes"),
                ));
            }
            if !seen.insert(r) {
                return Err((format!("replicas[{i}]"), format!("'{r}' is listed twice")));
            }
        }
        if c.heartbeat.0 == SimDuration::ZERO || c.timeout <= c.heartbeat {
            return Err((
                "timeout".into(),
                format!(
                    "the timeout {} must be longer than the heartbeat {} (a few heartbeats is usual)",
                    c.timeout, c.heartbeat
                ),
            ));
        }
        Ok(())
    }

    fn build(c: &FailoverSection, setup: &Setup) -> Parts<FailoverNode> {
        let params = Arc::new(params(c, setup));
        let clients = setup.clients();
        let spawner: Spawner<FailoverNode> = Box::new(move |id, disk| {
            if params.replicas.contains(&id) {
                FailoverNode::Replica(Box::new(Replica::recover(params.clone(), id, disk)))
            } else if let Some(driver) = clients.driver(id) {
                FailoverNode::Client(FoClient::new(driver, params.replicas.clone()))
            } else {
                FailoverNode::Idle
            }
        });
        Parts { spawner, monitor: Some(monitor()) }
    }

    fn judge(c: &FailoverSection, world: &World<FailoverNode>, setup: &Setup) -> Judgement {
        let replicas = params(c, setup).replicas;
        let truth = authoritative(world, &replicas);
        let mut durability = durability(&world.history, |k, v| truth.contains(&(k, v)));
        let (wrong_reads, linearizable) = key_checks(&world.history);
        durability.wrong_reads = wrong_reads;
        let single = single_primary(&world.history);
        let h = &world.history;
        let promotions: Vec<_> = h.observations.iter().filter(|o| o.name == PROMOTED).collect();
        let mut reached = Vec::new();
        if promotions.len() > 1 {
            reached.push("FailedOver");
        }
        if h.observations.iter().any(|o| o.name == STEPPED_DOWN) {
            reached.push("SteppedDown");
        }
        Judgement { durability, properties: vec![single, linearizable], reached, report: report(world) }
    }

    fn liveness_note(_: &FailoverSection, h: &History, quiet: SimTime, deadline: SimTime) -> Option<String> {
        let last = h.observations.iter().rev().find(|o| o.name == PROMOTED && o.time <= deadline);
        Some(match last {
            Some(o) if o.time >= quiet => {
                format!("last promotion at {} s (epoch {})", o.time.as_secs_f64(), o.value)
            }
            _ => format!("no promotion since quiet_after ({} s)", quiet.as_secs_f64()),
        })
    }
}

fn params(c: &FailoverSection, setup: &Setup) -> FailoverParams {
    FailoverParams {
        replicas: c.replicas.iter().map(|r| setup.id_of(r)).collect(),
        heartbeat: c.heartbeat.0,
        timeout: c.timeout.0,
        no_fencing: c.bugs.contains(&FailoverBug::NoFencing),
    }
}

/// Every write in the log of the replica with the highest epoch: as it reads it now if it
/// is up, else its log's durable content.
fn authoritative(world: &World<FailoverNode>, replicas: &[NodeId]) -> BTreeSet<(u64, u64)> {
    let state = |id: NodeId| {
        let node = &world.nodes[id.index()];
        let epoch_bytes = node.disk.read_durable(node::EPOCH);
        let durable_epoch =
            epoch_bytes.get(..8).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        match node.process.as_ref().and_then(FailoverNode::replica) {
            Some(r) => (r.epoch(), node::records(node.disk.contents(node::LOG))),
            None => (durable_epoch, node::records(node.disk.read_durable(node::LOG))),
        }
    };
    let best = replicas.iter().map(|&id| state(id)).max_by_key(|(epoch, _)| *epoch);
    best.map(|(_, log)| log.into_iter().map(|w| (w.key, w.value)).collect()).unwrap_or_default()
}

/// The `single_primary` property from the monitor's violations.
fn single_primary(h: &History) -> PropertyResult {
    let v: Vec<&Violation> = h.violations.iter().filter(|v| v.property == "single_primary").collect();
    let detail = match v.first() {
        Some(f) => format!("{} at {} on node {} ({} recorded)", f.detail, f.time, f.node, v.len()),
        None => "no violation".to_string(),
    };
    PropertyResult { name: "single_primary".to_string(), holds: Some(v.is_empty()), detail }
}

/// Checks, after every callback of a replica, that what it answered as primary was not
/// sequenced after another replica took a newer epoch. Promotions are learnt from the
/// replicas themselves: the first time one is seen leading an epoch, and when.
fn monitor() -> Monitor<FailoverNode> {
    let mut promoted: BTreeMap<u64, SimTime> = BTreeMap::new();
    let mut answered: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut reported = 0usize;
    Box::new(move |time, node, p: &FailoverNode, out: &mut Vec<Violation>| {
        let Some(r) = p.replica() else { return };
        if r.role() == node::Role::Primary {
            promoted.entry(r.epoch()).or_insert(time);
        }
        let (sequenced, epoch, count) = r.last_answer();
        if answered.insert(node, count).unwrap_or(0) == count {
            return;
        }
        let newer = promoted.range(epoch + 1..).map(|(&e, &at)| (e, at)).find(|&(_, at)| at < sequenced);
        if let Some((newer, at)) = newer {
            if reported < 10 {
                reported += 1;
                let detail = format!(
                    "a primary of epoch {epoch} answered an operation sequenced at {sequenced}, after epoch {newer} began at {at}"
                );
                out.push(Violation { time, node: node.0, property: "single_primary", detail });
            }
        }
    })
}

/// The failover figures: promotions, and per incident the time to the next promotion.
#[derive(Clone, Debug, Serialize)]
pub struct FailoverReport {
    pub promotions: Vec<Promotion>,
    /// Primaries that stepped down, and how many of them were refused with a newer epoch.
    pub stepped_down: u64,
    pub fenced: u64,
    /// Promotions of a backup that was not in sync (after a long silence): they may lose
    /// acknowledged writes.
    pub unclean: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Promotion {
    pub node: String,
    pub epoch: u64,
    pub at_s: f64,
}

fn report(world: &World<FailoverNode>) -> SystemReport {
    let h = &world.history;
    let promotions: Vec<Promotion> = (h.observations.iter().filter(|o| o.name == PROMOTED))
        .map(|o| Promotion {
            node: world.node_name(NodeId(o.node)).to_string(),
            epoch: o.value as u64,
            at_s: o.time.as_secs_f64(),
        })
        .collect();
    let fenced = h.observations.iter().filter(|o| o.name == FENCED).count() as u64;
    let stepped_down = h.observations.iter().filter(|o| o.name == STEPPED_DOWN).count() as u64;
    let unclean = h.observations.iter().filter(|o| o.name == UNCLEAN).count() as u64;
    let mut t =
        Table::new(&[("replica", Align::Left), ("epoch", Align::Right), ("promoted at (s)", Align::Right)]);
    for p in &promotions {
        t.row(vec![p.node.clone(), p.epoch.to_string(), secs(p.at_s)]);
    }
    let mut f = Table::figures();
    f.figure("promotions", promotions.len().to_string());
    f.figure("primaries stepped down", stepped_down.to_string());
    f.figure("refused with a newer epoch (fenced)", fenced.to_string());
    f.figure("unclean promotions (a backup not in sync)", unclean.to_string());
    let mut terminal = vec![(
        "failover",
        format!(
            "{} promotions ({unclean} unclean), {stepped_down} primaries stepped down, {fenced} fenced",
            promotions.len()
        ),
    )];
    for p in promotions.iter().skip(1).take(12) {
        terminal.push(("promotion", format!("{} took epoch {} at {:.3} s", p.node, p.epoch, p.at_s)));
    }
    SystemReport {
        figures: Some(("failover", Arc::new(FailoverReport { promotions, stepped_down, fenced, unclean }))),
        sections: vec![Section { title: "Failover", blocks: vec![Block::Table(f), Block::Table(t)] }],
        terminal,
    }
}

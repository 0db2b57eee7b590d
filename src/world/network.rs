//! The network: topology, links, partitions and message accounting.
//!
//! The topology is a petgraph directed graph whose nodes carry names, zones and regions and
//! whose edges are per-pair link overrides. Every ordered pair of nodes resolves, once at
//! build time, to a link profile: the pair's own edge if there is one, else the zone-pair
//! matrix entry, else the region-pair entry, else the default link.
//!
//! A message crossing a link may be lost, duplicated (one extra copy), delayed by a latency
//! draw (so variance reorders messages), serialized behind earlier messages on a link with
//! finite bandwidth, and held back to keep FIFO order on a FIFO link. Partitions block
//! ordered pairs; a message is dropped if its pair is blocked when it is sent or when it
//! arrives. Messages to oneself are delivered at once and never lost.
//!
//! Accounting, asserted at the end of every run:
//! `sent + duplicated = delivered + dropped (all reasons) + in_flight + queued`.

use crate::process::NodeId;
use crate::sim::{Dist, RngStream, SimDuration, SimTime};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A node's place in the topology.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub name: String,
    pub zone: String,
    pub region: String,
}

/// How one directed link behaves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    pub latency: Dist,
    pub loss: f64,
    pub duplicate: f64,
    pub fifo: bool,
    /// Bits per second; `None` is unlimited.
    pub bandwidth_bps: Option<u64>,
    /// Probability that a message's content is corrupted in flight.
    pub corrupt: f64,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            latency: Dist::Constant(0),
            loss: 0.0,
            duplicate: 0.0,
            fifo: false,
            bandwidth_bps: None,
            corrupt: 0.0,
        }
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Lost on the link.
    Loss,
    /// The pair was partitioned at send or at arrival.
    Partition,
    /// The destination was down when the message arrived.
    NodeDown,
    /// The destination had restarted since the message was sent (an old connection).
    StaleIncarnation,
    /// The sender crashed before the message left (it was still being worked on).
    SenderCrashed,
    /// The destination's bounded request queue was full.
    QueueFull,
    /// Queued at the destination when it crashed.
    Crash,
}

/// Message counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetStats {
    pub sent: u64,
    pub duplicated: u64,
    pub delivered: u64,
    pub dropped: BTreeMap<DropReason, u64>,
    pub in_flight: u64,
    pub queued: u64,
    /// Copies delivered with corrupted content.
    pub corrupted: u64,
}

impl NetStats {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    pub fn drop(&mut self, reason: DropReason) {
        *self.dropped.entry(reason).or_insert(0) += 1;
    }

    /// Whether every message is accounted for.
    pub fn balanced(&self) -> bool {
        self.sent + self.duplicated == self.delivered + self.dropped_total() + self.in_flight + self.queued
    }
}

/// The resolved topology.
#[derive(Clone, Debug)]
pub struct Topology {
    pub graph: DiGraph<NodeInfo, usize>,
}

impl Topology {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn info(&self, id: NodeId) -> &NodeInfo {
        &self.graph[NodeIndex::new(id.index())]
    }

    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.graph.node_indices().find(|&i| self.graph[i].name == name).map(|i| NodeId(i.index() as u32))
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.node_indices().map(|i| NodeId(i.index() as u32))
    }
}

/// Builds a network from nodes, link profiles and the rules that pick a profile per pair.
pub struct NetworkBuilder {
    graph: DiGraph<NodeInfo, usize>,
    profiles: Vec<Link>,
    zone_pairs: BTreeMap<(String, String), usize>,
    region_pairs: BTreeMap<(String, String), usize>,
}

impl NetworkBuilder {
    /// Starts with `default` as profile 0.
    pub fn new(default: Link) -> Self {
        NetworkBuilder {
            graph: DiGraph::new(),
            profiles: vec![default],
            zone_pairs: BTreeMap::new(),
            region_pairs: BTreeMap::new(),
        }
    }

    pub fn node(&mut self, info: NodeInfo) -> NodeId {
        NodeId(self.graph.add_node(info).index() as u32)
    }

    fn profile(&mut self, link: Link) -> usize {
        self.profiles.push(link);
        self.profiles.len() - 1
    }

    /// A link for one ordered pair (call twice for both directions).
    pub fn pair(&mut self, src: NodeId, dst: NodeId, link: Link) {
        let p = self.profile(link);
        self.graph.update_edge(NodeIndex::new(src.index()), NodeIndex::new(dst.index()), p);
    }

    /// A link for every pair from zone `a` to zone `b` and back.
    pub fn zones(&mut self, a: &str, b: &str, link: Link) {
        let p = self.profile(link);
        self.zone_pairs.insert((a.to_string(), b.to_string()), p);
        self.zone_pairs.insert((b.to_string(), a.to_string()), p);
    }

    /// A link for every pair from region `a` to region `b` and back.
    pub fn regions(&mut self, a: &str, b: &str, link: Link) {
        let p = self.profile(link);
        self.region_pairs.insert((a.to_string(), b.to_string()), p);
        self.region_pairs.insert((b.to_string(), a.to_string()), p);
    }

    pub fn build(self, rng: RngStream) -> Network {
        let n = self.graph.node_count();
        let mut pair_profile = vec![0u32; n * n];
        for s in self.graph.node_indices() {
            for d in self.graph.node_indices() {
                let (si, di) = (&self.graph[s], &self.graph[d]);
                let p = self
                    .graph
                    .find_edge(s, d)
                    .map(|e| self.graph[e])
                    .or_else(|| self.zone_pairs.get(&(si.zone.clone(), di.zone.clone())).copied())
                    .or_else(|| self.region_pairs.get(&(si.region.clone(), di.region.clone())).copied())
                    .unwrap_or(0);
                pair_profile[s.index() * n + d.index()] = p as u32;
            }
        }
        assert!(
            pair_profile.iter().all(|&p| (p as usize) < self.profiles.len()),
            "every pair resolves to a link profile"
        );
        Network {
            topology: Topology { graph: self.graph },
            profiles: self.profiles,
            pair_profile,
            blocked: vec![0; n * n],
            fifo_last: vec![SimTime::ZERO; n * n],
            link_free: vec![SimTime::ZERO; n * n],
            rule_rng: rng.derive("network/faults"),
            rng,
            rules: BTreeMap::new(),
            next_rule: 0,
            bad: BTreeSet::new(),
            stats: NetStats::default(),
        }
    }
}

/// Where one copy of a sent message arrives, and whether it arrives corrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copy {
    pub at: SimTime,
    pub corrupt: bool,
}

/// Where the copies of one sent message arrive (one, or two when duplicated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrivals {
    pub first: Copy,
    pub duplicate: Option<Copy>,
}

/// A time-limited network rule installed by a fault (removed by its undo).
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Corrupt messages on these ordered pairs (all pairs if `None`).
    Corrupt { probability: f64, pairs: Option<BTreeSet<(NodeId, NodeId)>> },
    /// Gilbert–Elliott: a pair in the good state turns bad with `p_enter` per message, a bad
    /// one turns good with `p_exit`; in the bad state a message is lost with `loss`.
    Flaky { pairs: BTreeSet<(NodeId, NodeId)>, p_enter: f64, p_exit: f64, loss: f64 },
    /// Hold messages on these pairs until `until`, then release them together.
    Clog { pairs: BTreeSet<(NodeId, NodeId)>, until: SimTime },
}

/// The simulated network.
#[derive(Clone, Debug)]
pub struct Network {
    pub topology: Topology,
    profiles: Vec<Link>,
    pair_profile: Vec<u32>,
    blocked: Vec<u32>,
    fifo_last: Vec<SimTime>,
    link_free: Vec<SimTime>,
    rng: RngStream,
    /// Draws of fault rules (corruption, bursty loss): their own stream, so installing a
    /// rule never shifts the link draws.
    rule_rng: RngStream,
    rules: BTreeMap<u32, Rule>,
    next_rule: u32,
    /// Pairs in the Gilbert–Elliott bad state.
    bad: BTreeSet<(NodeId, NodeId)>,
    pub stats: NetStats,
}

impl Network {
    #[inline]
    fn pair(&self, src: NodeId, dst: NodeId) -> usize {
        src.index() * self.topology.len() + dst.index()
    }

    pub fn link(&self, src: NodeId, dst: NodeId) -> &Link {
        &self.profiles[self.pair_profile[self.pair(src, dst)] as usize]
    }

    pub fn is_blocked(&self, src: NodeId, dst: NodeId) -> bool {
        src != dst && self.blocked[self.pair(src, dst)] > 0
    }

    /// Cuts (`cut`) or restores `src → dst`. Cuts nest: a pair cut by two partitions stays
    /// cut until both are lifted.
    pub fn block(&mut self, src: NodeId, dst: NodeId, cut: bool) {
        let i = self.pair(src, dst);
        if cut {
            self.blocked[i] += 1;
        } else {
            // Paired with the cut: a heal lifts every cut and drops the undos that would
            // lift them again, so a restore always finds its cut in place.
            assert!(self.blocked[i] > 0, "a restore lifts a cut in place");
            self.blocked[i] = self.blocked[i].saturating_sub(1);
        }
    }

    /// Lifts every partition.
    pub fn heal_all(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = 0);
    }

    /// Installs a rule; returns its id for removal.
    pub fn add_rule(&mut self, rule: Rule) -> u32 {
        let id = self.next_rule;
        self.next_rule += 1;
        self.rules.insert(id, rule);
        id
    }

    pub fn remove_rule(&mut self, id: u32) {
        let rule = self.rules.remove(&id);
        assert!(rule.is_some(), "a rule is removed once, by the undo of the fault that added it");
        if let Some(Rule::Flaky { pairs, .. }) = rule {
            for p in pairs {
                self.bad.remove(&p);
            }
        }
    }

    /// Corrupts a message's content in place, from the network's stream.
    pub fn corrupt<M: crate::process::Message>(&mut self, msg: &mut M) {
        msg.corrupt(&mut self.rule_rng);
        self.stats.corrupted += 1;
    }

    /// Sends one message that leaves `src` at `depart`. Counts it as sent; returns its
    /// arrivals (counted in flight) or the reason it was dropped at once (counted).
    pub fn send(
        &mut self,
        depart: SimTime,
        src: NodeId,
        dst: NodeId,
        size: u32,
    ) -> Result<Arrivals, DropReason> {
        debug_assert!(
            self.stats.balanced(),
            "every message is accounted for before a send: {:?}",
            self.stats
        );
        self.stats.sent += 1;
        if src == dst {
            self.stats.in_flight += 1;
            return Ok(Arrivals { first: Copy { at: depart, corrupt: false }, duplicate: None });
        }
        if self.is_blocked(src, dst) {
            self.stats.drop(DropReason::Partition);
            return Err(DropReason::Partition);
        }
        let first = self.transmit(depart, src, dst, size);
        let duplicate = if self.rng.chance(self.link(src, dst).duplicate) {
            self.stats.duplicated += 1;
            self.transmit(depart, src, dst, size).ok()
        } else {
            None
        };
        let sent = match (first, duplicate) {
            (Ok(first), duplicate) => Ok(Arrivals { first, duplicate }),
            (Err(_), Some(dup)) => Ok(Arrivals { first: dup, duplicate: None }),
            (Err(reason), None) => Err(reason),
        };
        debug_assert!(self.stats.balanced(), "every copy is in flight or dropped: {:?}", self.stats);
        sent
    }

    /// One copy across the link: loss, bursty loss, bandwidth, latency, FIFO, clogs,
    /// corruption. Counts its own fate.
    fn transmit(&mut self, depart: SimTime, src: NodeId, dst: NodeId, size: u32) -> Result<Copy, DropReason> {
        let pair = self.pair(src, dst);
        let link = &self.profiles[self.pair_profile[pair] as usize];
        let (loss, fifo, bandwidth, corrupt) = (link.loss, link.fifo, link.bandwidth_bps, link.corrupt);
        let latency = link.latency.sample(&mut self.rng);
        if self.rng.chance(loss) || (!self.rules.is_empty() && self.flaky_loss(src, dst)) {
            self.stats.drop(DropReason::Loss);
            return Err(DropReason::Loss);
        }
        let mut leave = depart;
        if let Some(bps) = bandwidth {
            let start = leave.max(self.link_free[pair]);
            let tx_ns = (u128::from(size) * 8 * 1_000_000_000).div_ceil(u128::from(bps.max(1)));
            leave = start + SimDuration(u64::try_from(tx_ns).unwrap_or(u64::MAX / 4));
            self.link_free[pair] = leave;
        }
        let mut arrive = leave + latency;
        let mut corrupted = self.rng.chance(corrupt);
        if !self.rules.is_empty() {
            let (held, bad) = self.rule_effects(src, dst);
            arrive = arrive.max(held);
            corrupted |= bad;
        }
        if fifo {
            arrive = arrive.max(self.fifo_last[pair]);
            self.fifo_last[pair] = arrive;
        }
        debug_assert!(arrive >= depart, "a copy arrives no earlier than it departs");
        self.stats.in_flight += 1;
        Ok(Copy { at: arrive, corrupt: corrupted })
    }

    /// Steps the Gilbert–Elliott state of every flaky rule on the pair; whether it loses
    /// this message.
    fn flaky_loss(&mut self, src: NodeId, dst: NodeId) -> bool {
        let mut lost = false;
        let flaky: Vec<(f64, f64, f64)> = self
            .rules
            .values()
            .filter_map(|r| match r {
                Rule::Flaky { pairs, p_enter, p_exit, loss } if pairs.contains(&(src, dst)) => {
                    Some((*p_enter, *p_exit, *loss))
                }
                _ => None,
            })
            .collect();
        for (p_enter, p_exit, loss) in flaky {
            let bad = self.bad.contains(&(src, dst));
            let now_bad = if bad { !self.rule_rng.chance(p_exit) } else { self.rule_rng.chance(p_enter) };
            if now_bad {
                self.bad.insert((src, dst));
                lost |= self.rule_rng.chance(loss);
            } else {
                self.bad.remove(&(src, dst));
            }
        }
        lost
    }

    /// The latest clog release on the pair and whether a corruption rule hits this copy.
    fn rule_effects(&mut self, src: NodeId, dst: NodeId) -> (SimTime, bool) {
        let mut held = SimTime::ZERO;
        let mut corrupt_p = Vec::new();
        for rule in self.rules.values() {
            match rule {
                Rule::Clog { pairs, until } if pairs.contains(&(src, dst)) => held = held.max(*until),
                Rule::Corrupt { probability, pairs }
                    if pairs.as_ref().is_none_or(|p| p.contains(&(src, dst))) =>
                {
                    corrupt_p.push(*probability)
                }
                _ => {}
            }
        }
        let mut bad = false;
        for p in corrupt_p {
            bad |= self.rule_rng.chance(p);
        }
        (held, bad)
    }
}

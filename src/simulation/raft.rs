//! Assembling and judging a Raft run: servers and clients, the online safety monitor,
//! durability against the committed log, linearizability, and election downtime.

use super::{
    durability, key_checks, resolve, run_world, EngineOutput, RunOptions, SystemOutcome, SystemParts,
};
use crate::check::expect::PropertyResult;
use crate::check::raft::{RaftMonitor, PROPERTIES};
use crate::history::{History, OpKind, Outcome};
use crate::process::NodeId;
use crate::protocols::raft::{
    storage, Bugs, Command, Entry, RaftClient, RaftConfig, RaftNode, RaftServer, ReadMode,
};
use crate::scenario::raw::{RawRaftBug, RawReadMode, RawScenario, RawSystem};
use crate::sim::{SimError, SimTime};
use crate::workload::Driver;
use crate::world::{Spawner, World};
use serde::Serialize;
use std::sync::Arc;

/// Leader-election downtime after one incident.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Election {
    pub fault: String,
    pub start_s: f64,
    /// Whether the incident took out (crashed, cut off, paused…) the leader of the time.
    pub hit_leader: bool,
    /// From the incident to the next leader elected in a later term (None: none was).
    pub downtime_s: Option<f64>,
    /// From the incident to the first acknowledgement of a write invoked after it (an
    /// acknowledgement already in flight at the incident does not count).
    pub first_commit_s: Option<f64>,
}

/// Raft's own figures of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RaftReport {
    pub leaders_elected: u64,
    pub highest_term: u64,
    pub elections: Vec<Election>,
}

fn config(raw: &RawScenario, servers: Vec<NodeId>) -> RaftConfig {
    let RawSystem::Raft {
        election_timeout,
        heartbeat,
        max_batch,
        max_inflight,
        pre_vote,
        check_quorum,
        reads,
        lease,
        bugs,
        ..
    } = &raw.system
    else {
        unreachable!("raft::run runs Raft scenarios")
    };
    RaftConfig {
        servers,
        election_timeout: (election_timeout.0 .0, election_timeout.1 .0),
        heartbeat: heartbeat.0,
        max_batch: *max_batch,
        max_inflight: *max_inflight as u64,
        pre_vote: *pre_vote,
        check_quorum: *check_quorum,
        read_mode: match reads {
            RawReadMode::ReadIndex => ReadMode::ReadIndex,
            RawReadMode::Lease => ReadMode::Lease,
        },
        lease: lease.map_or(election_timeout.0 .0, |d| d.0),
        bugs: Bugs {
            vote_without_term_check: bugs.contains(&RawRaftBug::VoteWithoutTermCheck),
            commit_old_terms_by_count: bugs.contains(&RawRaftBug::CommitOldTermsByCount),
            ack_before_fsync: bugs.contains(&RawRaftBug::AckBeforeFsync),
        },
    }
}

/// The server names of a Raft scenario (default: every topology node).
pub fn server_names(raw: &RawScenario) -> Vec<String> {
    match &raw.system {
        RawSystem::Raft { servers: Some(s), .. } => s.clone(),
        _ => raw.topology.nodes.iter().map(|n| n.name.clone()).collect(),
    }
}

pub fn run(
    raw: &RawScenario,
    seed: u64,
    opts: RunOptions,
    mut swarm: resolve::Swarm,
) -> Result<(World<RaftNode>, EngineOutput, SystemOutcome), SimError> {
    let infos = resolve::node_infos(raw);
    let servers: Vec<NodeId> = server_names(raw).iter().map(|n| resolve::id_of(&infos, n)).collect();
    let config = Arc::new(config(raw, servers.clone()));
    let spec = Arc::new(resolve::workload(&raw.workload));
    let first_client = raw.topology.nodes.len() as u32;
    let spawner: Spawner<RaftNode> = Box::new(move |id, disk| {
        if config.servers.contains(&id) {
            RaftNode::Server(Box::new(RaftServer::recover(config.clone(), id, disk)))
        } else if id.0 >= first_client {
            let driver = Driver::new(crate::history::ClientId(id.0 - first_client), spec.clone());
            RaftNode::Client(RaftClient::new(driver, config.servers.clone()))
        } else {
            RaftNode::Idle
        }
    });
    let parts = SystemParts { spawner, finish: RaftNode::finish, monitor: Some(RaftMonitor::boxed()) };
    let (world, stats) = run_world(raw, &infos, (seed, opts), &mut swarm, parts)?;
    let committed = committed_writes(&world, &servers);
    let mut durability = durability(&world.history, |k, v| committed.binary_search(&(k, v)).is_ok());
    let (wrong_reads, linearizable) = key_checks(&world.history);
    durability.wrong_reads = wrong_reads;
    let mut properties = properties(&world.history);
    properties.push(linearizable);
    let report = report(&world);
    Ok((world, stats, SystemOutcome { durability, properties, raft: Some(report), drawn: swarm.drawn }))
}

/// Every write in the most up-to-date log (highest last term, then longest), over every
/// server, live (its log in memory) or down (its log on disk), as sorted (key, value)
/// pairs. By Leader Completeness that log holds every committed entry, even where no live
/// server knows yet that it is committed (commit indexes are volatile), so an acknowledged
/// write missing from it is lost.
fn committed_writes(world: &World<RaftNode>, servers: &[NodeId]) -> Vec<(u64, u64)> {
    // Live servers' logs are borrowed; only a down server's is read back from its disk.
    let live = |id: NodeId| world.nodes[id.index()].process.as_ref().and_then(RaftNode::server);
    let recovered: Vec<Option<Vec<Entry>>> = (servers.iter())
        .map(|&id| live(id).is_none().then(|| storage::recover(&world.nodes[id.index()].disk).2))
        .collect();
    let logs = (servers.iter().zip(&recovered))
        .map(|(&id, rec)| rec.as_deref().or_else(|| live(id).map(RaftServer::log)).unwrap_or_default());
    let best = logs.max_by_key(|l| (l.last().map_or(0, |e| e.term), l.len()));
    let Some(log) = best else { return Vec::new() };
    let mut writes: Vec<(u64, u64)> = log
        .iter()
        .filter_map(|e| match e.cmd {
            Command::Op { kind: OpKind::Write, key, value, .. } => Some((key, value)),
            _ => None,
        })
        .collect();
    writes.sort_unstable();
    writes
}

/// Raft's safety properties from the monitor's violations.
fn properties(history: &History) -> Vec<PropertyResult> {
    PROPERTIES
        .iter()
        .map(|&name| {
            let v: Vec<_> = history.violations.iter().filter(|v| v.property == name).collect();
            let detail = match v.first() {
                Some(first) => format!(
                    "{} at {} on node {} ({} recorded)",
                    first.detail,
                    first.time,
                    first.node,
                    v.len()
                ),
                None => "no violation".to_string(),
            };
            PropertyResult { name: name.to_string(), holds: Some(v.is_empty()), detail }
        })
        .collect()
}

fn report(world: &World<RaftNode>) -> RaftReport {
    let h = &world.history;
    let leaders: Vec<(SimTime, u32, u64)> = h
        .observations
        .iter()
        .filter(|o| o.name == "leader")
        .map(|o| (o.time, o.node, o.value as u64))
        .collect();
    let elections = h
        .faults
        .iter()
        .filter(|f| crate::metrics::recovery::is_incident(&f.kind))
        .map(|f| {
            let before = leaders.iter().filter(|l| l.0 < f.start).max_by_key(|l| (l.2, l.0));
            let (term, leader) = before.map_or((0, None), |l| (l.2, Some(l.1)));
            let leader_name = leader.map(|id| world.node_name(NodeId(id)).to_string());
            // Faults that can take a leader out of service; clock, disk and link faults
            // are incidents too, but not ones that remove a node.
            let removes = ["crash", "isolate", "partition", "one_way_partition", "cut", "pause", "slow"];
            let hit_leader =
                removes.contains(&f.kind.as_str()) && leader_name.is_some_and(|n| f.targets.contains(&n));
            let next = leaders.iter().find(|l| l.0 >= f.start && l.2 > term);
            let first_commit = h
                .ops
                .iter()
                .filter(|o| o.kind == OpKind::Write && o.outcome == Outcome::Ok && o.invoke >= f.start)
                .map(|o| o.complete)
                .min();
            Election {
                fault: f.kind.clone(),
                start_s: f.start.as_secs_f64(),
                hit_leader,
                downtime_s: next.map(|l| l.0.since(f.start).as_secs_f64()),
                first_commit_s: first_commit.map(|t| t.since(f.start).as_secs_f64()),
            }
        })
        .collect();
    RaftReport {
        leaders_elected: leaders.len() as u64,
        highest_term: leaders.iter().map(|l| l.2).max().unwrap_or(0),
        elections,
    }
}

//! Raft's judge: durability against the committed log, its safety properties from the
//! monitor's violations, linearizability, the "sometimes" events and the report section
//! (election downtime per incident).

use super::monitor::SAFETY;
use super::{storage, Command, Entry, RaftNode, RaftServer, LEADER, TERM};
use crate::check::durability::{durability, key_checks};
use crate::check::expect::PropertyResult;
use crate::history::{History, OpKind, Outcome};
use crate::metrics::table::{secs, yes_no, Align, Block, Section, Table};
use crate::process::NodeId;
use crate::sim::SimTime;
use crate::systems::{Judgement, SystemReport};
use crate::world::World;
use serde::Serialize;
use std::collections::BTreeSet;
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

/// Everything Raft judges at the end of a run.
pub(super) fn judge(world: &World<RaftNode>, servers: &[NodeId]) -> Judgement {
    let committed = committed_writes(world, servers);
    let mut durability = durability(&world.history, |k, v| committed.binary_search(&(k, v)).is_ok());
    let (wrong_reads, linearizable) = key_checks(&world.history);
    durability.wrong_reads = wrong_reads;
    let mut properties = properties(&world.history);
    properties.push(linearizable);
    let report = report(world);
    Judgement { durability, properties, reached: reached(&world.history), report: system_report(report) }
}

/// The Raft "sometimes" events this run reached, in declared order.
fn reached(h: &History) -> Vec<&'static str> {
    let observed = |what: &'static str| h.observations.iter().filter(move |o| o.name == what);
    let led: BTreeSet<i64> = observed(LEADER).map(|o| o.value).collect();
    let events = [
        ("LeaderElected", observed(LEADER).next().is_some()),
        ("LeaderChanged", observed(LEADER).nth(1).is_some()),
        ("SplitVote", observed(TERM).any(|o| o.value > 0 && !led.contains(&o.value))),
        ("TermAboveOne", observed(TERM).chain(observed(LEADER)).any(|o| o.value > 1)),
    ];
    events.into_iter().filter(|(_, hit)| *hit).map(|(name, _)| name).collect()
}

/// When the last leader was elected, for a service still down at `deadline`.
pub(super) fn liveness_note(h: &History, quiet: SimTime, deadline: SimTime) -> String {
    let leaders: Vec<_> = h.observations.iter().filter(|o| o.name == LEADER).collect();
    match leaders.iter().rev().find(|o| o.time <= deadline) {
        Some(o) if o.time >= quiet => {
            format!("last leader elected at {} s (term {})", o.time.as_secs_f64(), o.value)
        }
        _ => format!("no leader elected since quiet_after ({} s)", quiet.as_secs_f64()),
    }
}

/// Raft's figures as the report shows them: the JSON's `raft` field, a section of the
/// pages, and the terminal's lines.
fn system_report(raft: RaftReport) -> SystemReport {
    let mut f = Table::figures();
    f.figure("leaders elected", raft.leaders_elected.to_string());
    f.figure("highest term", raft.highest_term.to_string());
    let mut t = Table::new(&[
        ("incident", Align::Left),
        ("start (s)", Align::Right),
        ("hit the leader", Align::Left),
        ("election downtime (s)", Align::Right),
        ("first commit after (s)", Align::Right),
    ]);
    let opt = |x: Option<f64>| x.map_or("-".to_string(), secs);
    for e in &raft.elections {
        t.row(vec![
            e.fault.clone(),
            secs(e.start_s),
            yes_no(e.hit_leader),
            opt(e.downtime_s),
            opt(e.first_commit_s),
        ]);
    }
    let mut terminal = vec![(
        "raft",
        format!("{} leaders elected, highest term {}", raft.leaders_elected, raft.highest_term),
    )];
    const SHOWN: usize = 12;
    for e in raft.elections.iter().filter(|e| e.hit_leader).take(SHOWN) {
        let down =
            e.downtime_s.map_or("no new leader".to_string(), |d| format!("new leader after {:.3} s", d));
        let commit =
            e.first_commit_s.map_or("no commit".to_string(), |c| format!("first commit after {:.3} s", c));
        terminal
            .push(("election", format!("{} at {} s hit the leader: {down}, {commit}", e.fault, e.start_s)));
    }
    SystemReport {
        figures: Some(("raft", Arc::new(raft))),
        sections: vec![Section { title: "Raft", blocks: vec![Block::Table(f), Block::Table(t)] }],
        terminal,
    }
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
    SAFETY
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
        .filter(|o| o.name == LEADER)
        .map(|o| (o.time, o.node, o.value as u64))
        .collect();
    let elections = h
        .faults
        .iter()
        .filter(|f| f.kind.is_incident())
        .map(|f| {
            let before = leaders.iter().filter(|l| l.0 < f.start).max_by_key(|l| (l.2, l.0));
            let (term, leader) = before.map_or((0, None), |l| (l.2, Some(l.1)));
            let leader_name = leader.map(|id| world.node_name(NodeId(id)).to_string());
            // Faults that can take a leader out of service; clock, disk and link faults
            // are incidents too, but not ones that remove a node.
            let hit_leader = f.kind.removes_nodes() && leader_name.is_some_and(|n| f.targets.contains(&n));
            let next = leaders.iter().find(|l| l.0 >= f.start && l.2 > term);
            let first_commit = h
                .ops
                .iter()
                .filter(|o| o.kind == OpKind::Write && o.outcome == Outcome::Ok && o.invoke >= f.start)
                .map(|o| o.complete)
                .min();
            Election {
                fault: f.kind.to_string(),
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

//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", and
//! Ongaro's dissertation), as a sans-IO process, with a replicated key-value register
//! machine on top and the workload's clients in front.
//!
//! Modelled: leader election with randomized timeouts; optional pre-vote (§9.6) and
//! check-quorum; log replication with the AppendEntries consistency check, conflict
//! truncation and batched entries; the commit rule (a leader counts replicas only for
//! entries of its own term, Figure 8); a no-op entry at the start of every term;
//! persistence of currentTerm, votedFor and the log, fsynced before answering; recovery
//! from disk; client redirects; at-most-once writes (a session table of applied request
//! ids, §6.3); linearizable reads by ReadIndex (§6.4) or by leader lease (§6.4.1, unsafe
//! when clocks drift past their bound). Not modelled: membership changes, snapshots.
//!
//! Words: an entry is *committed* in Raft's sense (replicated on a majority in a way that
//! survives); *applied* when the state machine has executed it.
//!
//! Broken variants (`bugs`) exist so the checkers can be seen to catch them.
//!
//! The system ([`Raft`]): its section in [`config`], the online safety monitor in
//! [`monitor`], the end-of-run judge (durability, properties, election downtime) in `judge`.

mod client;
pub mod config;
mod judge;
pub mod monitor;
mod server;
pub mod storage;

pub use client::RaftClient;
pub use judge::{Election, RaftReport};
pub use server::{RaftServer, Role};

use crate::history::History;
use crate::sim::SimTime;
use crate::systems::{Judgement, Parts, PropertyDecl, PropertyKind, RoleDecl, Setup, System};
use crate::world::{Spawner, World};
use config::RaftSection;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::history::OpKind;
use crate::process::{flip_bit_u64, Context, Cx, Message, NodeId, Process, TimerId};
use crate::sim::{RngStream, SimDuration};
use crate::workload::{ClientTimer, Request};

/// How reads are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Confirm leadership with a heartbeat round, wait until applied ≥ commit index.
    ReadIndex,
    /// Serve from the leader's state while its lease (measured on its own clock) holds.
    Lease,
}

/// Deliberately broken variants, for showing that the checkers catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Grant votes without checking the candidate's term or an earlier vote in the term.
    pub vote_without_term_check: bool,
    /// Commit entries of earlier terms by counting replicas (Figure 8).
    pub commit_old_terms_by_count: bool,
    /// Answer (votes, appends, clients) before fsyncing the state the answer depends on.
    pub ack_before_fsync: bool,
}

/// Knobs of a Raft cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftConfig {
    pub servers: Vec<NodeId>,
    pub election_timeout: (SimDuration, SimDuration),
    pub heartbeat: SimDuration,
    pub max_batch: usize,
    /// The most entries sent to one follower and not yet acknowledged: a follower past it
    /// (down, or far behind) gets heartbeats and read rounds but no new entries.
    pub max_inflight: u64,
    pub pre_vote: bool,
    pub check_quorum: bool,
    pub read_mode: ReadMode,
    /// The lease length for lease reads (from the start of a confirmed heartbeat round).
    pub lease: SimDuration,
    pub bugs: Bugs,
}

impl RaftConfig {
    pub fn majority(&self) -> usize {
        self.servers.len() / 2 + 1
    }
}

/// A state-machine command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// The entry every new leader appends to commit its term.
    Noop,
    Op {
        client: u32,
        id: u64,
        kind: OpKind,
        key: u64,
        value: u64,
    },
}

/// A log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub term: u64,
    pub cmd: Command,
}

/// Why a server refused a client request (it was not applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not the leader; perhaps this one is.
    NotLeader(Option<NodeId>),
}

/// Raft's messages, and the clients'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftMsg {
    RequestVote { term: u64, last_index: u64, last_term: u64, pre_vote: bool },
    Vote { term: u64, granted: bool, pre_vote: bool },
    Append { term: u64, prev_index: u64, prev_term: u64, entries: Vec<Entry>, commit: u64, round: u64 },
    AppendReply { term: u64, success: bool, match_index: u64, hint: u64, round: u64 },
    Request(Request),
    Reply { id: u64, result: Result<Option<u64>, Refusal> },
}

impl Message for RaftMsg {
    fn wire_size(&self) -> u32 {
        match self {
            RaftMsg::Append { entries, .. } => 64 + 40 * entries.len() as u32,
            _ => 48,
        }
    }

    /// Flips one bit of a term, index, key or value. Raft carries no checksums here, so a
    /// corrupted message is acted upon as received.
    fn corrupt(&mut self, rng: &mut RngStream) {
        match self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::Vote { term, .. }
            | RaftMsg::AppendReply { term, .. } => *term = flip_bit_u64(*term, rng),
            RaftMsg::Append { commit, .. } => *commit = flip_bit_u64(*commit, rng),
            RaftMsg::Request(req) => req.key = flip_bit_u64(req.key, rng),
            RaftMsg::Reply { id, .. } => *id = flip_bit_u64(*id, rng),
        }
    }
}

/// Timers of a Raft run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftTimer {
    Election,
    Heartbeat,
    /// The ack-before-fsync variant's background sync.
    Sync,
    Client(ClientTimer),
}

/// The context a Raft server or client runs in: any [`Context`] in Raft's message and
/// timer types (the node's own, or a scope of a host that embeds Raft).
pub trait RaftCx: Context<Msg = RaftMsg, Timer = RaftTimer> {}

impl<C: Context<Msg = RaftMsg, Timer = RaftTimer>> RaftCx for C {}

/// A node of a Raft run (static dispatch).
#[derive(Clone, Debug)]
pub enum RaftNode {
    Server(Box<RaftServer>),
    Client(RaftClient),
    Idle,
}

impl Process for RaftNode {
    type Msg = RaftMsg;
    type Timer = RaftTimer;

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        match self {
            RaftNode::Server(s) => s.on_start(cx),
            RaftNode::Client(c) => c.on_start(cx),
            RaftNode::Idle => {}
        }
    }

    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: RaftMsg) {
        match self {
            RaftNode::Server(s) => s.on_message(cx, src, msg),
            RaftNode::Client(c) => c.on_message(cx, src, msg),
            RaftNode::Idle => {}
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, _id: TimerId, timer: RaftTimer) {
        match self {
            RaftNode::Server(s) => s.on_timer(cx, timer),
            RaftNode::Client(c) => c.on_timer(cx, timer),
            RaftNode::Idle => {}
        }
    }

    fn has_role(&self, role: &str) -> bool {
        match self {
            RaftNode::Server(s) => s.role_name() == role || role == "server",
            RaftNode::Client(_) => role == "client",
            RaftNode::Idle => false,
        }
    }

    /// Clients record their unfinished operations.
    fn record_unfinished(&mut self, cx: &mut impl Cx<Self>) {
        if let RaftNode::Client(c) = self {
            c.driver.finish(&mut cx.scope(|m| m, RaftTimer::Client));
        }
    }
}

impl RaftNode {
    pub fn server(&self) -> Option<&RaftServer> {
        match self {
            RaftNode::Server(s) => Some(s),
            _ => None,
        }
    }
}

/// Observed when a server becomes leader (value: its term).
pub const LEADER: &str = "leader";
/// Observed when a server's term changes (value: the new term).
pub const TERM: &str = "term";
/// Observed when a leader steps down for lack of a quorum (check-quorum; value: its term).
pub const STEP_DOWN_NO_QUORUM: &str = "step_down_no_quorum";

/// The Raft system.
pub struct Raft;

impl Raft {
    fn servers(section: &RaftSection, setup: &Setup) -> Vec<NodeId> {
        section.server_names(&setup.topology_names()).iter().map(|n| setup.id_of(n)).collect()
    }
}

const fn always(name: &'static str, meaning: &'static str) -> PropertyDecl {
    PropertyDecl { name, kind: PropertyKind::Always, meaning }
}

const fn sometimes(name: &'static str, meaning: &'static str) -> PropertyDecl {
    PropertyDecl { name, kind: PropertyKind::Sometimes, meaning }
}

impl System for Raft {
    const NAME: &'static str = "Raft";
    const PROPERTIES: &'static [PropertyDecl] = &[
        always("election_safety", "at most one leader per term"),
        always("leader_append_only", "a leader never overwrites or deletes entries in its log"),
        always("log_matching", "two logs with an entry of the same index and term are identical up to it"),
        always("leader_completeness", "a leader's log holds every entry committed in an earlier term"),
        always("state_machine_safety", "no two servers apply different entries at one index"),
        crate::systems::LINEARIZABLE,
        sometimes("LeaderElected", "a Raft leader was elected"),
        sometimes("LeaderChanged", "a second leader was elected (any term)"),
        sometimes(
            "SplitVote",
            "an election term ended without a leader (a split vote, or a candidate cut off)",
        ),
        sometimes("TermAboveOne", "the highest term reached is above 1"),
    ];
    const ROLES: &'static [RoleDecl] = &[
        RoleDecl { name: "leader", meaning: "the server that leads its term" },
        RoleDecl { name: "follower", meaning: "a server following a leader (or waiting for one)" },
        RoleDecl { name: "candidate", meaning: "a server standing for election (pre-vote included)" },
        RoleDecl { name: "server", meaning: "any Raft server" },
        RoleDecl { name: "client", meaning: "a workload client" },
    ];

    type Config = RaftSection;
    type Node = RaftNode;

    fn validate(section: &RaftSection, nodes: &BTreeSet<String>) -> Result<(), (String, String)> {
        section.validate(nodes)
    }

    fn build(section: &RaftSection, setup: &Setup) -> Parts<RaftNode> {
        let config = Arc::new(section.config(Self::servers(section, setup)));
        let clients = setup.clients();
        let spawner: Spawner<RaftNode> = Box::new(move |id, disk| {
            if config.servers.contains(&id) {
                RaftNode::Server(Box::new(RaftServer::recover(config.clone(), id, disk)))
            } else if let Some(driver) = clients.driver(id) {
                RaftNode::Client(RaftClient::new(driver, config.servers.clone()))
            } else {
                RaftNode::Idle
            }
        });
        Parts { spawner, monitor: Some(monitor::RaftMonitor::boxed()) }
    }

    fn judge(section: &RaftSection, world: &World<RaftNode>, setup: &Setup) -> Judgement {
        judge::judge(world, &Self::servers(section, setup))
    }

    fn liveness_note(
        _: &RaftSection,
        history: &History,
        quiet: SimTime,
        deadline: SimTime,
    ) -> Option<String> {
        Some(judge::liveness_note(history, quiet, deadline))
    }
}

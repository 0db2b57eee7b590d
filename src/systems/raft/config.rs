//! The scenario's `system: Raft(...)` section, its validation, and the cluster's knobs.

use super::{Bugs, RaftConfig, ReadMode};
use crate::process::NodeId;
use crate::scenario::raw::Dur;
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A Raft cluster with a replicated key-value store.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RaftSection {
    /// The nodes that run Raft (default: every topology node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
    /// Each election timeout is drawn uniformly from [lo, hi].
    pub election_timeout: (Dur, Dur),
    pub heartbeat: Dur,
    /// Most entries in one AppendEntries.
    #[serde(default = "default_batch")]
    pub max_batch: usize,
    /// Most entries sent to one follower and not yet acknowledged (flow control).
    #[serde(default = "default_inflight")]
    pub max_inflight: usize,
    #[serde(default)]
    pub pre_vote: bool,
    #[serde(default)]
    pub check_quorum: bool,
    #[serde(default)]
    pub reads: RawReadMode,
    /// Lease length for lease reads (default: the election timeout's lower bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Dur>,
    /// Deliberately broken variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<RawRaftBug>,
}

fn default_batch() -> usize {
    64
}

fn default_inflight() -> usize {
    1024
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawReadMode {
    #[default]
    ReadIndex,
    Lease,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawRaftBug {
    /// Votes granted without checking the term or an earlier vote in it.
    VoteWithoutTermCheck,
    /// Entries of earlier terms committed by counting replicas (the paper's Figure 8).
    CommitOldTermsByCount,
    /// Answers sent before the state they depend on is fsynced.
    AckBeforeFsync,
}

type Check = Result<(), (String, String)>;

fn fail(path: impl Into<String>, message: impl Into<String>) -> Check {
    Err((path.into(), message.into()))
}

impl RaftSection {
    /// The server names (default: every topology node, in order).
    pub fn server_names(&self, topology: &[String]) -> Vec<String> {
        self.servers.clone().unwrap_or_else(|| topology.to_vec())
    }

    /// The cluster's knobs, with its servers resolved.
    pub fn config(&self, servers: Vec<NodeId>) -> RaftConfig {
        let (lo, hi) = self.election_timeout;
        RaftConfig {
            servers,
            election_timeout: (lo.0, hi.0),
            heartbeat: self.heartbeat.0,
            max_batch: self.max_batch,
            max_inflight: self.max_inflight as u64,
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            read_mode: match self.reads {
                RawReadMode::ReadIndex => ReadMode::ReadIndex,
                RawReadMode::Lease => ReadMode::Lease,
            },
            lease: self.lease.map_or(lo.0, |d| d.0),
            bugs: Bugs {
                vote_without_term_check: self.bugs.contains(&RawRaftBug::VoteWithoutTermCheck),
                commit_old_terms_by_count: self.bugs.contains(&RawRaftBug::CommitOldTermsByCount),
                ack_before_fsync: self.bugs.contains(&RawRaftBug::AckBeforeFsync),
            },
        }
    }

    /// Cross-field checks; paths are inside the section.
    pub fn validate(&self, names: &BTreeSet<String>) -> Check {
        if let Some(servers) = &self.servers {
            if servers.is_empty() {
                fail(
                    "servers",
                    "a Raft cluster needs at least one server; leave 'servers' out for every node",
                )?;
            }
            let mut seen = BTreeSet::new();
            for (i, s) in servers.iter().enumerate() {
                if !names.contains(s) {
                    fail(
                        format!("servers[{i}]"),
                        format!("'{s}' is not a node of the topology; add it to topology.nodes"),
                    )?;
                }
                if !seen.insert(s) {
                    fail(format!("servers[{i}]"), format!("'{s}' is listed twice"))?;
                }
            }
        }
        let (lo, hi) = self.election_timeout;
        if lo.0 == SimDuration::ZERO || lo > hi {
            fail(
                "election_timeout",
                format!("({lo}, {hi}) must be a range with 0 < lo <= hi; write e.g. (\"150ms\", \"300ms\")"),
            )?;
        }
        let heartbeat = self.heartbeat;
        if heartbeat.0 == SimDuration::ZERO || heartbeat.0 >= lo.0 {
            fail(
                "heartbeat",
                format!("the heartbeat {heartbeat} must be above zero and below the election timeout's lower bound {lo}"),
            )?;
        }
        let (max_batch, max_inflight) = (self.max_batch, self.max_inflight);
        if max_batch == 0 {
            fail("max_batch", "max_batch must be at least 1")?;
        }
        if max_inflight < max_batch {
            fail(
                "max_inflight",
                format!("max_inflight ({max_inflight}) must be at least max_batch ({max_batch}), so that a follower can take one full append; raise max_inflight or lower max_batch"),
            )?;
        }
        Ok(())
    }
}

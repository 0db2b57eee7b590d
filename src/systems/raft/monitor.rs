//! Raft's safety properties, checked online (after every callback of a server).
//!
//! - Election Safety: at most one leader per term.
//! - Leader Append-Only: a leader never overwrites or deletes entries in its log.
//! - Log Matching: two logs with an entry of the same index and term are identical up to it.
//! - Leader Completeness: a leader's log holds every entry committed in an earlier term.
//!   (Not every entry committed so far: the leader of an old term, elected while a newer
//!   leader already commits, need not hold the newer term's commits. An entry's commit
//!   term is taken as the term of the first server seen committing it: never below the
//!   true one, so the check may miss a violation in that window, never invent one.)
//! - State Machine Safety: no two servers commit (and so apply) different entries at one index.
//!
//! Logs are compared through the servers' prefix digests (`RaftServer::chain`: entry `i`'s
//! digest covers entries `1..=i`), so each check is O(1) per new entry. A digest collision
//! could hide a violation (probability about 2^-64 per comparison), never invent one.

use super::{RaftNode, RaftServer, Role};
use crate::history::Violation;
use crate::process::NodeId;
use crate::sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// The names of the safety properties, as scenarios' `Property(..)` expectations spell them.
pub const SAFETY: [&str; 5] =
    ["election_safety", "leader_append_only", "log_matching", "leader_completeness", "state_machine_safety"];

/// At most this many violations are recorded per property (the first is what matters).
const MAX_PER_PROPERTY: usize = 10;

/// What the checks read of a server: role, term, log length, last digest, commit index.
type Glance = (Role, u64, usize, u64, u64);

#[derive(Default)]
pub struct RaftMonitor {
    leaders: BTreeMap<u64, u32>,
    /// Per node while it leads: (term, log length, digest at that length).
    leading: Vec<Option<(u64, usize, u64)>>,
    /// By index − 1: the first (term, digest) seen for it. Other terms at the same index
    /// (entries overwritten after a leader change; rare) go to `seen_more`.
    seen: Vec<(u64, u64)>,
    seen_more: BTreeMap<u64, Vec<(u64, u64)>>,
    /// Per node: how much of its log was checked, and the digest at that length.
    checked: Vec<(usize, u64)>,
    /// Per node: (role, term, log length, last digest, commit) when last observed. Every
    /// check is a function of these (and of what other nodes did, which their own
    /// observations check), so an unchanged node is not checked again.
    last_seen: Vec<Option<Glance>>,
    /// Committed entries as known so far: (term, digest, commit term) by index − 1.
    committed: Vec<(u64, u64, u64)>,
    became_leader: BTreeSet<(u32, u64)>,
    counts: BTreeMap<&'static str, usize>,
}

impl RaftMonitor {
    /// A monitor for `World::with_monitor`.
    pub fn boxed() -> crate::world::Monitor<RaftNode> {
        let mut m = RaftMonitor::default();
        Box::new(move |time, node, p: &RaftNode, out| {
            if let Some(s) = p.server() {
                m.observe(time, node, s, out);
            }
        })
    }

    fn report(
        &mut self,
        out: &mut Vec<Violation>,
        (time, node): (SimTime, u32),
        property: &'static str,
        detail: String,
    ) {
        let n = self.counts.entry(property).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_PROPERTY {
            out.push(Violation { time, node, property, detail });
        }
    }

    pub fn observe(&mut self, time: SimTime, node: NodeId, s: &RaftServer, out: &mut Vec<Violation>) {
        let at = (time, node.0);
        if self.checked.len() <= node.index() {
            // Per-node state in vectors indexed by node: this runs after every callback.
            self.checked.resize(node.index() + 1, (0, 0));
            self.leading.resize(node.index() + 1, None);
            self.last_seen.resize(node.index() + 1, None);
        }
        let chain = s.chain();
        let seen =
            Some((s.role(), s.term(), chain.len(), chain.last().copied().unwrap_or(0), s.commit_index()));
        if self.last_seen[node.index()] == seen {
            return;
        }
        self.last_seen[node.index()] = seen;
        // The checks made once per leadership (a node leading a term): not on every
        // callback of a leader, which is most callbacks.
        let new_leader =
            s.role() == Role::Leader && self.leading[node.index()].is_none_or(|(term, ..)| term != s.term());
        if new_leader {
            self.election_safety(at, s, out);
        }
        self.append_only(at, s, out);
        self.log_matching(at, s, out);
        self.commitment(at, s, out, new_leader);
    }

    /// At a node's first observation as the leader of its term.
    fn election_safety(&mut self, at: (SimTime, u32), s: &RaftServer, out: &mut Vec<Violation>) {
        let first = *self.leaders.entry(s.term()).or_insert(at.1);
        if first != at.1 {
            let detail = format!("nodes {first} and {} both lead term {}", at.1, s.term());
            self.report(out, at, "election_safety", detail);
        }
    }

    fn append_only(&mut self, at: (SimTime, u32), s: &RaftServer, out: &mut Vec<Violation>) {
        let node = at.1;
        if s.role() != Role::Leader {
            self.leading[node as usize] = None;
            return;
        }
        let chain = s.chain();
        if let Some((term, len, digest)) = self.leading[node as usize] {
            let intact = term != s.term() || len == 0 || (chain.len() >= len && chain[len - 1] == digest);
            if !intact {
                let detail = format!("leader of term {term} changed its log below index {len}");
                self.report(out, at, "leader_append_only", detail);
            }
        }
        self.leading[node as usize] = Some((s.term(), chain.len(), chain.last().copied().unwrap_or(0)));
    }

    fn log_matching(&mut self, at: (SimTime, u32), s: &RaftServer, out: &mut Vec<Violation>) {
        let (log, chain) = (s.log(), s.chain());
        let (mut from, digest) = self.checked[at.1 as usize];
        if from > chain.len() || (from > 0 && chain[from - 1] != digest) {
            from = 0; // the log was cut and rewritten: check it again
        }
        for i in from..log.len() {
            let (index, term, d) = (i as u64 + 1, log[i].term, chain[i]);
            if i == self.seen.len() {
                self.seen.push((term, d));
                continue;
            }
            let first = self.seen[i];
            let found = if first.0 == term {
                Some(first)
            } else {
                let more = self.seen_more.entry(index).or_default();
                let found = more.iter().copied().find(|&(t, _)| t == term);
                if found.is_none() {
                    more.push((term, d));
                }
                found
            };
            match found {
                Some((_, other)) if other != d => {
                    let detail = format!(
                        "two logs hold an entry of term {term} at index {index} with different prefixes"
                    );
                    self.report(out, at, "log_matching", detail);
                }
                Some(_) | None => {}
            }
        }
        self.checked[at.1 as usize] = (log.len(), chain.last().copied().unwrap_or(0));
    }

    fn commitment(&mut self, at: (SimTime, u32), s: &RaftServer, out: &mut Vec<Violation>, new_leader: bool) {
        let (log, chain) = (s.log(), s.chain());
        let commit = (s.commit_index() as usize).min(log.len());
        let known = commit.min(self.committed.len());
        if known > 0 && chain[known - 1] != self.committed[known - 1].1 {
            let index = (0..known).find(|&i| chain[i] != self.committed[i].1).unwrap_or(known - 1);
            let detail = format!(
                "index {} committed here as an entry of term {}, elsewhere as a different entry of term {}",
                index + 1,
                log[index].term,
                self.committed[index].0
            );
            self.report(out, at, "state_machine_safety", detail);
        }
        if known == self.committed.len() {
            for i in known..commit {
                self.committed.push((log[i].term, chain[i], s.term()));
            }
        }
        if new_leader && self.became_leader.insert((at.1, s.term())) {
            // Through the last entry committed in an earlier term (log matching covers the
            // entries before it).
            let c = self.committed.iter().rposition(|e| e.2 < s.term()).map_or(0, |i| i + 1);
            let complete = c == 0 || (chain.len() >= c && chain[c - 1] == self.committed[c - 1].1);
            if !complete {
                let detail = format!("leader of term {} lacks committed entries up to index {c}", s.term());
                self.report(out, at, "leader_completeness", detail);
            }
        }
    }
}

//! A Raft server: election, replication, commitment, application, reads.

use super::storage::{self, LOG, META};
use super::{Command, Entry, RaftConfig, RaftCx, RaftMsg, RaftTimer, ReadMode, Refusal};
use crate::history::OpKind;
use crate::process::disk::Disk;
use crate::process::{NodeId, TimerId};
use crate::sim::{SimDuration, SimTime};
use crate::workload::idmap::IdMap;
use crate::workload::Request;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// How often the ack-before-fsync variant syncs in the background ("fsync every second").
const LAZY_SYNC: SimDuration = SimDuration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// The round of a read that waits for the next ReadIndex round to start.
const NEXT_ROUND: u64 = u64::MAX;

/// A read waiting for its ReadIndex round and for application to catch up.
#[derive(Clone, Copy, Debug)]
struct PendingRead {
    client: NodeId,
    id: u64,
    key: u64,
    read_index: u64,
    round: u64,
}

/// What a leader tracks of one peer.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    next: u64,
    matched: u64,
    /// The highest heartbeat round the peer acknowledged.
    acked_round: u64,
    /// Local time of the peer's last reply (check-quorum).
    last_ack: SimTime,
    /// The peer's log position is unknown (from the start of a term, and after a rejected
    /// append): it gets one append at a time, no optimistic pipelining, until one succeeds
    /// (etcd's "probe").
    probing: bool,
    /// A probe is in flight (cleared every heartbeat, in case it was lost).
    probe_in_flight: bool,
    /// Local time of the last append sent to the peer.
    last_sent: Option<SimTime>,
}

/// Leader-only state, rebuilt at every election.
#[derive(Clone, Debug, Default)]
struct LeaderState {
    /// Indexed like `RaftConfig::servers` (the leader's own slot unused).
    progress: Vec<Progress>,
    /// Heartbeat rounds, and when (local time) each unconfirmed round began, oldest first.
    round: u64,
    round_started: VecDeque<(u64, SimTime)>,
    /// The last round started on behalf of reads: while it is unconfirmed, new reads wait
    /// for the next one (etcd's batching of ReadIndex requests).
    read_round: u64,
    /// Log index → (client node, request id) awaiting application.
    writes: IdMap<(NodeId, u64)>,
    reads: Vec<PendingRead>,
    lease_until: SimTime,
    /// `confirmed_round`'s answer while it holds (`None`: to be recomputed).
    confirmed: Option<u64>,
    /// What `serve_reads` last acted on (see there).
    served: Option<Served>,
    heartbeat_timer: Option<TimerId>,
}

/// What a callback must not undo, taken before it runs (see `RaftServer::check_step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Watermarks {
    term: u64,
    voted_for: Option<u32>,
    commit: u64,
    applied: u64,
    leading: bool,
    log_len: u64,
    /// The ghost digest of the whole log (`chain`'s last, 0 for an empty log).
    log_digest: u64,
}

/// Everything `serve_reads` depends on: the confirmed round, the leader's own round, the
/// applied and commit indexes, and the number of reads waiting (between two calls reads
/// are only added, so an unchanged count means none was).
type Served = (u64, u64, u64, u64, usize);

/// One Raft server.
#[derive(Clone, Debug)]
pub struct RaftServer {
    config: Arc<RaftConfig>,
    id: NodeId,
    term: u64,
    voted_for: Option<u32>,
    log: Vec<Entry>,
    /// Ghost state for the checkers: `chain[i]` digests `log[..=i]`.
    chain: Vec<u64>,
    role: Role,
    leader: Option<NodeId>,
    commit: u64,
    applied: u64,
    kv: KvMap,
    applied_ids: Sessions,
    votes: BTreeSet<NodeId>,
    election_timer: Option<TimerId>,
    /// Local time a current leader was last heard from.
    heard_leader: Option<SimTime>,
    lead: LeaderState,
}

/// The replicated key-value map: a vector for small keys (the workloads' key spaces), a
/// B-tree for the rest (a corrupted key can be any `u64`). Applied on every server for
/// every write, so a lookup must be cheap.
#[derive(Clone, Debug, Default)]
struct KvMap {
    dense: Vec<Option<u64>>,
    sparse: BTreeMap<u64, u64>,
}

/// Keys below this live in the vector.
const DENSE_KEYS: u64 = 1 << 16;

impl KvMap {
    fn get(&self, key: u64) -> Option<u64> {
        if key < DENSE_KEYS {
            self.dense.get(key as usize).copied().flatten()
        } else {
            self.sparse.get(&key).copied()
        }
    }

    fn insert(&mut self, key: u64, value: u64) {
        if key < DENSE_KEYS {
            let k = key as usize;
            if self.dense.len() <= k {
                self.dense.resize(k + 1, None);
            }
            self.dense[k] = Some(value);
        } else {
            self.sparse.insert(key, value);
        }
    }
}

/// The request ids applied per client (at-most-once sessions): a sorted list per client
/// node. A client's ids grow, so nearly every insertion is a push at the end.
#[derive(Clone, Debug, Default)]
struct Sessions {
    by_client: Vec<Vec<u64>>,
}

impl Sessions {
    fn contains(&self, client: u32, id: u64) -> bool {
        let Some(ids) = self.by_client.get(client as usize) else {
            return false;
        };
        // A new request's id is above every applied one: answer that without a search.
        ids.last().is_some_and(|&last| last >= id) && ids.binary_search(&id).is_ok()
    }

    /// Records `id` for `client`; false if it was already there.
    fn insert(&mut self, client: u32, id: u64) -> bool {
        let c = client as usize;
        if self.by_client.len() <= c {
            self.by_client.resize_with(c + 1, Vec::new);
        }
        let ids = &mut self.by_client[c];
        if ids.last().is_none_or(|&last| last < id) {
            ids.push(id);
            return true;
        }
        match ids.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                ids.insert(at, id);
                true
            }
        }
    }
}

fn chain_step(prev: u64, e: &Entry) -> u64 {
    let word = match e.cmd {
        Command::Noop => 0,
        Command::Op { client, id, key, value, .. } => {
            u64::from(client).rotate_left(48) ^ id.rotate_left(17) ^ key.rotate_left(5) ^ value
        }
    };
    let mut h = prev ^ 0x9e37_79b9_7f4a_7c15;
    for w in [e.term, word] {
        h = (h ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
    }
    h
}

impl RaftServer {
    /// Builds a server from its node's disk (empty at first boot).
    pub fn recover(config: Arc<RaftConfig>, id: NodeId, disk: &Disk) -> Self {
        let (term, voted_for, log) = storage::recover(disk);
        let mut s = RaftServer {
            config,
            id,
            term,
            voted_for,
            log: Vec::new(),
            chain: Vec::new(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            kv: KvMap::default(),
            applied_ids: Sessions::default(),
            votes: BTreeSet::new(),
            election_timer: None,
            heard_leader: None,
            lead: LeaderState::default(),
        };
        for e in log {
            s.push_entry(e);
        }
        s
    }

    // ---- read access for checkers and metrics ----
    pub fn term(&self) -> u64 {
        self.term
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn role_name(&self) -> &'static str {
        match self.role {
            Role::Follower => "follower",
            Role::PreCandidate | Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
    pub fn log(&self) -> &[Entry] {
        &self.log
    }
    pub fn chain(&self) -> &[u64] {
        &self.chain
    }
    pub fn commit_index(&self) -> u64 {
        self.commit
    }
    pub fn applied_index(&self) -> u64 {
        self.applied
    }
    /// The state machine's value for `key`.
    pub fn value_of(&self, key: u64) -> Option<u64> {
        self.kv.get(key)
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }
    fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            0
        } else {
            self.log.get(index as usize - 1).map_or(0, |e| e.term)
        }
    }
    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.config.servers.iter().copied().filter(move |&p| p != self.id)
    }
    /// A server's slot in the leader's progress table.
    fn slot(&self, p: NodeId) -> usize {
        self.config.servers.iter().position(|&s| s == p).expect("a peer is a configured server")
    }
    fn progress(&mut self, p: NodeId) -> &mut Progress {
        let i = self.slot(p);
        &mut self.lead.progress[i]
    }

    fn push_entry(&mut self, e: Entry) {
        let prev = self.chain.last().copied().unwrap_or(0);
        self.chain.push(chain_step(prev, &e));
        self.log.push(e);
    }

    fn truncate_log(&mut self, len: usize) {
        self.log.truncate(len);
        self.chain.truncate(len);
    }

    // ---- persistence ----
    fn sync(&self, cx: &mut impl RaftCx, file: &str) -> bool {
        self.config.bugs.ack_before_fsync || cx.disk().fsync(file).is_ok()
    }

    fn persist_meta(&self, cx: &mut impl RaftCx) -> bool {
        let meta = storage::encode_meta(self.term, self.voted_for);
        cx.disk().overwrite(META, &meta).is_ok() && self.sync(cx, META)
    }

    /// Writes log entries from index `from` (1-based) on, cutting the file first if needed.
    fn persist_log_from(&self, cx: &mut impl RaftCx, from: u64) -> bool {
        assert!(
            from >= 1 && from <= self.last_index() + 1,
            "log indexes start at 1 and persisting starts within the log"
        );
        let offset = (from as usize - 1) * storage::RECORD;
        if cx.disk().len(LOG) != offset && cx.disk().truncate(LOG, offset).is_err() {
            return false;
        }
        let entries = &self.log[from as usize - 1..];
        let written = entries.is_empty()
            || (cx.disk())
                .append_with(LOG, |buf| {
                    entries.iter().for_each(|e| buf.extend_from_slice(&storage::encode_entry(e)))
                })
                .is_ok();
        written && self.sync(cx, LOG)
    }

    // ---- timers ----
    fn reset_election_timer(&mut self, cx: &mut impl RaftCx) {
        let (lo, hi) = self.config.election_timeout;
        let after = SimDuration(cx.rng().between(lo.0, hi.0));
        self.election_timer = Some(cx.rearm_timer(self.election_timer, after, RaftTimer::Election));
    }

    pub fn on_start(&mut self, cx: &mut impl RaftCx) {
        assert!(
            self.role == Role::Follower && self.commit == 0,
            "a server starts as a follower with nothing committed"
        );
        cx.observe(super::TERM, self.term as i64);
        self.reset_election_timer(cx);
        if self.config.bugs.ack_before_fsync {
            cx.set_timer(LAZY_SYNC, RaftTimer::Sync);
        }
        self.check_state();
    }

    pub fn on_timer(&mut self, cx: &mut impl RaftCx, timer: RaftTimer) {
        let before = self.watermarks();
        match timer {
            RaftTimer::Election => {
                self.election_timer = None;
                if self.role != Role::Leader {
                    self.campaign(cx);
                }
            }
            RaftTimer::Heartbeat if self.role == Role::Leader => self.heartbeat(cx),
            RaftTimer::Sync => {
                // The ack-before-fsync variant syncs lazily, in the background.
                let _ = cx.disk().fsync(META);
                let _ = cx.disk().fsync(LOG);
                cx.set_timer(LAZY_SYNC, RaftTimer::Sync);
            }
            RaftTimer::Heartbeat | RaftTimer::Client(_) => {}
        }
        self.check_callback(&before);
    }

    // ---- invariants ----
    fn watermarks(&self) -> Watermarks {
        Watermarks {
            term: self.term,
            voted_for: self.voted_for,
            commit: self.commit,
            applied: self.applied,
            leading: self.role == Role::Leader,
            log_len: self.last_index(),
            log_digest: self.chain.last().copied().unwrap_or(0),
        }
    }

    /// After every callback: the monotonic term and indexes, the indexes' bounds and the
    /// checks of `check_step`, in debug builds (they run after every callback: in release
    /// builds they cost about 1% of a Raft sweep; the online monitor checks the properties).
    #[inline]
    fn check_callback(&self, before: &Watermarks) {
        if cfg!(debug_assertions) {
            self.check_monotonic(before);
            self.check_indexes();
        }
        #[cfg(debug_assertions)]
        self.check_step(before);
    }

    /// Within an incarnation the term never decreases (so never below the term recovered
    /// from disk, the first watermark), nor do the commit and applied indexes.
    #[inline]
    fn check_monotonic(&self, before: &Watermarks) {
        assert!(self.term >= before.term, "a server's term never decreases");
        assert!(self.commit >= before.commit, "the commit index never decreases");
        assert!(self.applied >= before.applied, "the applied index never decreases");
    }

    /// A server applies only committed entries, and commits only entries it holds.
    #[inline]
    fn check_indexes(&self) {
        assert!(self.applied <= self.commit, "a server applies only committed entries");
        // A broken variant may cut committed entries (its monitor reports it).
        assert!(
            self.commit <= self.last_index() || self.config.bugs != super::Bugs::default(),
            "the commit index lies within the log"
        );
    }

    /// Checks one callback's changes against the watermarks it started from: the monotonic
    /// term and indexes; a vote, once cast, stays for the rest of its term; a leader's log
    /// only grows while it leads in one term (its old entries untouched: the ghost digest of
    /// the old length is unchanged). Then the state's own invariants. O(1).
    #[cfg(any(test, debug_assertions))]
    fn check_step(&self, before: &Watermarks) {
        self.check_monotonic(before);
        if self.term == before.term && before.voted_for.is_some() && !self.config.bugs.vote_without_term_check
        {
            assert!(self.voted_for == before.voted_for, "a server votes at most once per term");
        }
        if before.leading && self.role == Role::Leader && self.term == before.term {
            let kept = before.log_len == 0
                || self.chain.get(before.log_len as usize - 1) == Some(&before.log_digest);
            assert!(kept, "a leader's log only grows in its term");
        }
        self.check_state();
    }

    /// The invariants of a server's state between callbacks. O(1).
    fn check_state(&self) {
        self.check_indexes();
        assert!(self.chain.len() == self.log.len(), "the ghost chain digests every prefix of the log");
        if self.role == Role::Leader {
            assert!(
                self.leader == Some(self.id) && self.lead.progress.len() == self.config.servers.len(),
                "a leader knows itself as leader and tracks every server"
            );
        } else {
            assert!(self.lead.progress.is_empty(), "only a leader keeps leader state");
        }
        if matches!(self.role, Role::Candidate | Role::Leader) && !self.config.bugs.vote_without_term_check {
            assert!(self.voted_for == Some(self.id.0), "a candidate or leader voted for itself in its term");
        }
    }

    // ---- elections ----
    fn campaign(&mut self, cx: &mut impl RaftCx) {
        self.votes = BTreeSet::from([self.id]);
        self.leader = None;
        if self.config.pre_vote {
            self.role = Role::PreCandidate;
            self.request_votes(cx, self.term + 1, true);
        } else {
            self.start_election(cx);
        }
        self.reset_election_timer(cx);
    }

    fn start_election(&mut self, cx: &mut impl RaftCx) {
        assert!(self.role != Role::Leader, "a leader never stands for election");
        self.term += 1;
        self.voted_for = Some(self.id.0);
        self.role = Role::Candidate;
        self.votes = BTreeSet::from([self.id]);
        cx.observe(super::TERM, self.term as i64);
        if !self.persist_meta(cx) {
            return;
        }
        self.request_votes(cx, self.term, false);
    }

    fn request_votes(&mut self, cx: &mut impl RaftCx, term: u64, pre_vote: bool) {
        if self.votes.len() >= self.config.majority() {
            return self.won(cx, pre_vote);
        }
        let (last_index, last_term) = (self.last_index(), self.term_at(self.last_index()));
        for p in self.peers() {
            cx.send(p, RaftMsg::RequestVote { term, last_index, last_term, pre_vote });
        }
    }

    fn won(&mut self, cx: &mut impl RaftCx, pre_vote: bool) {
        if pre_vote {
            self.start_election(cx);
        } else {
            self.become_leader(cx);
        }
    }

    fn heard_leader_recently(&self, cx: &mut impl RaftCx) -> bool {
        let min = self.config.election_timeout.0;
        self.heard_leader.is_some_and(|t| cx.now().saturating_since(t) < min)
    }

    fn up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        let my_term = self.term_at(self.last_index());
        last_term > my_term || (last_term == my_term && last_index >= self.last_index())
    }

    fn on_request_vote(
        &mut self,
        cx: &mut impl RaftCx,
        src: NodeId,
        (term, last_index, last_term, pre_vote): (u64, u64, u64, bool),
    ) {
        let sticky = self.role == Role::Leader || self.heard_leader_recently(cx);
        if pre_vote {
            let granted = term > self.term && self.up_to_date(last_index, last_term) && !sticky;
            cx.send(src, RaftMsg::Vote { term, granted, pre_vote: true });
            return;
        }
        if self.config.check_quorum && sticky && term > self.term {
            return; // a live leader is known: ignore a disruptive candidate
        }
        if term > self.term {
            self.step_down(cx, term);
        }
        let free = self.voted_for.is_none_or(|v| v == src.0);
        let granted = if self.config.bugs.vote_without_term_check {
            self.up_to_date(last_index, last_term)
        } else {
            term == self.term && free && self.up_to_date(last_index, last_term)
        };
        if granted {
            self.voted_for = Some(src.0);
            if !self.persist_meta(cx) {
                return;
            }
            self.reset_election_timer(cx);
        }
        cx.send(src, RaftMsg::Vote { term: self.term.max(term), granted, pre_vote: false });
    }

    fn on_vote(&mut self, cx: &mut impl RaftCx, src: NodeId, term: u64, granted: bool, pre_vote: bool) {
        if !pre_vote && term > self.term {
            self.step_down(cx, term);
            return;
        }
        let counting = match (self.role, pre_vote) {
            (Role::PreCandidate, true) => term == self.term + 1,
            (Role::Candidate, false) => term == self.term,
            _ => false,
        };
        if counting && granted {
            self.votes.insert(src);
            if self.votes.len() >= self.config.majority() {
                self.won(cx, pre_vote);
            }
        }
    }

    fn step_down(&mut self, cx: &mut impl RaftCx, term: u64) {
        assert!(term >= self.term, "a server steps down only to its own term or a later one");
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            cx.observe(super::TERM, term as i64);
            self.persist_meta(cx);
        }
        if self.role == Role::Leader {
            self.leader = None;
        }
        if self.role != Role::Follower {
            self.role = Role::Follower;
            if let Some(t) = self.lead.heartbeat_timer.take() {
                cx.cancel_timer(t);
            }
            self.lead = LeaderState::default();
            self.reset_election_timer(cx);
        }
    }

    fn become_leader(&mut self, cx: &mut impl RaftCx) {
        assert!(self.role == Role::Candidate, "only a candidate becomes leader");
        assert!(self.votes.len() >= self.config.majority(), "a leader won a majority of votes");
        self.role = Role::Leader;
        self.leader = Some(self.id);
        if let Some(t) = self.election_timer.take() {
            cx.cancel_timer(t);
        }
        let next = self.last_index() + 1;
        let now = cx.now();
        // Every follower starts in probing, as in etcd: one append at a time (the first
        // carries the no-op) until it answers; then pipelining and the in-flight window.
        // A follower that never answers (a dead one) gets one append per tick.
        let fresh = Progress { next, last_ack: now, probing: true, ..Progress::default() };
        self.lead =
            LeaderState { progress: vec![fresh; self.config.servers.len()], ..LeaderState::default() };
        cx.observe(super::LEADER, self.term as i64);
        if self.append_local(cx, Command::Noop).is_none() {
            // A leader that cannot persist its own log cannot lead.
            self.step_down(cx, self.term);
            return;
        }
        self.heartbeat(cx);
    }

    // ---- replication ----
    fn append_local(&mut self, cx: &mut impl RaftCx, cmd: Command) -> Option<u64> {
        self.push_entry(Entry { term: self.term, cmd });
        let index = self.last_index();
        self.persist_log_from(cx, index).then_some(index)
    }

    fn heartbeat(&mut self, cx: &mut impl RaftCx) {
        if self.config.check_quorum && !self.quorum_heard(cx) {
            cx.observe(super::STEP_DOWN_NO_QUORUM, self.term as i64);
            self.step_down(cx, self.term);
            return;
        }
        self.new_round(cx);
        for p in &mut self.lead.progress {
            p.probe_in_flight = false;
        }
        // With no read waiting (ReadIndex mode), a tick tells a follower sent an append in
        // the last half interval nothing new: it is skipped, so a busy leader sends almost
        // no heartbeats (LogCabin's rule; a follower still hears from the leader at least
        // every 1.5 intervals). Lease mode extends its lease with every tick's round, and a
        // probing or paused follower gets its one append per tick.
        let quiet = self.config.read_mode != ReadMode::Lease && self.lead.reads.is_empty();
        let (now, recent) = (cx.now(), SimDuration(self.config.heartbeat.0 / 2));
        for i in 0..self.config.servers.len() {
            let (peer, p) = (self.config.servers[i], self.lead.progress[i]);
            let heard = p.last_sent.is_some_and(|t| now.saturating_since(t) < recent);
            if peer != self.id && !(quiet && heard && !p.probing) {
                self.send_append(cx, peer, true);
            }
        }
        self.advance_commit(cx);
        self.serve_reads(cx);
        self.lead.heartbeat_timer = Some(cx.set_timer(self.config.heartbeat, RaftTimer::Heartbeat));
    }

    fn quorum_heard(&self, cx: &mut impl RaftCx) -> bool {
        let window = self.config.election_timeout.0;
        let now = cx.now();
        let me = self.slot(self.id);
        let heard = (self.lead.progress.iter().enumerate())
            .filter(|&(i, p)| i != me && now.saturating_since(p.last_ack) < window)
            .count();
        heard + 1 >= self.config.majority()
    }

    fn broadcast(&mut self, cx: &mut impl RaftCx) {
        for i in 0..self.config.servers.len() {
            let p = self.config.servers[i];
            if p != self.id {
                self.send_append(cx, p, false);
            }
        }
    }

    /// Sends `peer` the entries it lacks (at most `max_batch`), or an empty append; `tick`:
    /// on the heartbeat tick (a paused peer gets only these).
    fn send_append(&mut self, cx: &mut impl RaftCx, peer: NodeId, tick: bool) {
        let (last, round, window) = (self.last_index(), self.lead.round, self.config.max_inflight);
        let progress = self.progress(peer);
        let probing = progress.probing;
        if probing {
            if progress.probe_in_flight {
                return; // one probe at a time
            }
            progress.probe_in_flight = true;
        }
        let next = progress.next.clamp(1, last + 1);
        let prev_index = next - 1;
        // Flow control (etcd's in-flight window): a peer that has left `max_inflight`
        // entries unacknowledged, a dead one or one far behind, gets no new entries until
        // acknowledgements catch up, only the heartbeat tick's empty append.
        let paused = !probing && prev_index.saturating_sub(progress.matched) >= window;
        if paused && !tick {
            return;
        }
        progress.last_sent = Some(cx.now());
        let end = if paused { next - 1 } else { (prev_index + self.config.max_batch as u64).min(last) };
        if !probing {
            // Optimistic pipelining: assume these arrive; a rejection moves `next` back
            // and the follower to probing.
            self.progress(peer).next = end + 1;
        }
        let msg = RaftMsg::Append {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries: self.log[prev_index as usize..end as usize].to_vec(),
            commit: self.commit,
            round,
        };
        cx.send(peer, msg);
    }

    fn on_append(&mut self, cx: &mut impl RaftCx, src: NodeId, msg: RaftMsg) {
        let RaftMsg::Append { term, prev_index, prev_term, entries, commit, round } = msg else {
            unreachable!("on_append takes appends")
        };
        let reply = |s: &Self, success: bool, match_index: u64, hint: u64| RaftMsg::AppendReply {
            term: s.term,
            success,
            match_index,
            hint,
            round,
        };
        if term < self.term {
            cx.send(src, reply(self, false, 0, 0));
            return;
        }
        if term > self.term || self.role != Role::Follower {
            self.step_down(cx, term);
        }
        self.leader = Some(src);
        self.heard_leader = Some(cx.now());
        self.reset_election_timer(cx);
        if prev_index > self.last_index() {
            cx.send(src, reply(self, false, 0, self.last_index() + 1));
            return;
        }
        if self.term_at(prev_index) != prev_term {
            let bad = self.term_at(prev_index);
            let first = self.log.iter().position(|e| e.term == bad).map_or(1, |i| i as u64 + 1);
            cx.send(src, reply(self, false, 0, first.max(1)));
            return;
        }
        let mut first_new = None;
        for (k, e) in entries.iter().enumerate() {
            let index = prev_index + 1 + k as u64;
            if index <= self.last_index() && self.term_at(index) == e.term {
                continue;
            }
            if index <= self.last_index() {
                // Only a broken leader (a `bugs` variant) can ask for this; the monitor then
                // reports the safety violation, so the model carries on.
                assert!(
                    index > self.commit || self.config.bugs != super::Bugs::default(),
                    "a follower never truncates committed entries"
                );
                self.truncate_log(index as usize - 1);
            }
            first_new.get_or_insert(index);
            self.push_entry(*e);
        }
        if let Some(from) = first_new {
            if !self.persist_log_from(cx, from) {
                return;
            }
        }
        let last_new = prev_index + entries.len() as u64;
        assert!(self.last_index() >= last_new, "a follower holds every entry it acknowledges");
        if commit > self.commit {
            self.commit = commit.min(last_new).max(self.commit);
            self.apply(cx);
        }
        cx.send(src, reply(self, true, last_new, 0));
    }

    fn on_append_reply(
        &mut self,
        cx: &mut impl RaftCx,
        src: NodeId,
        (term, success, match_index, hint, round): (u64, bool, u64, u64, u64),
    ) {
        if term > self.term {
            self.step_down(cx, term);
            return;
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let now = cx.now();
        let last = self.last_index();
        let slot = self.slot(src);
        let lead = &mut self.lead;
        let p = &mut lead.progress[slot];
        p.last_ack = now;
        if round > p.acked_round {
            p.acked_round = round;
            // Raising one acknowledgement to at most the confirmed round cannot confirm a
            // higher one: only a higher acknowledgement makes the cache stale.
            if lead.confirmed.is_none_or(|c| round > c) {
                lead.confirmed = None;
            }
        }
        p.probe_in_flight = false;
        if success {
            // Only a higher match can move the commit index (every other change to the
            // commit rule's inputs is followed by its own `advance_commit`).
            let matched_more = match_index > p.matched;
            p.matched = p.matched.max(match_index);
            if p.probing {
                p.probing = false;
                p.next = p.matched + 1;
            }
            let more = p.next <= last;
            if matched_more {
                self.advance_commit(cx);
            }
            if more {
                self.send_append(cx, src, false);
            }
        } else {
            // Never below what the follower is known to hold.
            p.next = hint.max(p.matched + 1).min(last + 1);
            p.probing = true;
            self.send_append(cx, src, false);
        }
        self.serve_reads(cx);
    }

    /// The commit rule: the highest index replicated on a majority whose entry is of the
    /// current term (or of any term, in the Figure 8 variant).
    fn advance_commit(&mut self, cx: &mut impl RaftCx) {
        debug_assert!(self.role == Role::Leader, "only a leader commits by counting replicas");
        let majority = self.config.majority();
        let mut n = self.last_index();
        while n > self.commit {
            let own_term = self.term_at(n) == self.term || self.config.bugs.commit_old_terms_by_count;
            let replicas = 1 + self.lead.progress.iter().filter(|p| p.matched >= n).count();
            if own_term && replicas >= majority {
                self.commit = n;
                break;
            }
            n -= 1;
        }
        self.apply(cx);
    }

    fn apply(&mut self, cx: &mut impl RaftCx) {
        while self.applied < self.commit {
            self.applied += 1;
            let e = self.log[self.applied as usize - 1];
            if let Command::Op { client, id, kind: OpKind::Write, key, value } = e.cmd {
                if self.applied_ids.insert(client, id) {
                    self.kv.insert(key, value);
                }
                if let Some((node, req)) = self.lead.writes.remove(self.applied) {
                    cx.send(node, RaftMsg::Reply { id: req, result: Ok(Some(value)) });
                }
            }
        }
        // A leader's callers answer the reads this made ready (`serve_reads`) once, at the end.
    }

    // ---- clients ----
    pub fn on_message(&mut self, cx: &mut impl RaftCx, src: NodeId, msg: RaftMsg) {
        let before = self.watermarks();
        match msg {
            RaftMsg::RequestVote { term, last_index, last_term, pre_vote } => {
                self.on_request_vote(cx, src, (term, last_index, last_term, pre_vote))
            }
            RaftMsg::Vote { term, granted, pre_vote } => self.on_vote(cx, src, term, granted, pre_vote),
            m @ RaftMsg::Append { .. } => self.on_append(cx, src, m),
            RaftMsg::AppendReply { term, success, match_index, hint, round } => {
                self.on_append_reply(cx, src, (term, success, match_index, hint, round))
            }
            RaftMsg::Request(req) => self.on_client(cx, src, req),
            RaftMsg::Reply { .. } => {}
        }
        self.check_callback(&before);
    }

    fn on_client(&mut self, cx: &mut impl RaftCx, src: NodeId, req: Request) {
        if self.role != Role::Leader {
            cx.send(src, RaftMsg::Reply { id: req.id, result: Err(Refusal::NotLeader(self.leader)) });
            return;
        }
        match (req.kind, req.value) {
            (OpKind::Write, Some(value)) => self.on_write(cx, src, req, value),
            (OpKind::Write, None) => {}
            (OpKind::Read, _) => self.on_read(cx, src, req),
        }
    }

    fn on_write(&mut self, cx: &mut impl RaftCx, src: NodeId, req: Request, value: u64) {
        if self.applied_ids.contains(src.0, req.id) {
            cx.send(src, RaftMsg::Reply { id: req.id, result: Ok(Some(value)) });
            return;
        }
        // A write already applied was answered above, so only the unapplied tail can hold it.
        let tail = (4 * self.config.max_batch).min(self.last_index().saturating_sub(self.applied) as usize);
        let in_log = self.log.iter().enumerate().rev().take(tail).find(
            |(_, e)| matches!(e.cmd, Command::Op { client, id, .. } if client == src.0 && id == req.id),
        );
        let index = match in_log {
            Some((i, _)) => i as u64 + 1,
            None => {
                let cmd = Command::Op { client: src.0, id: req.id, kind: OpKind::Write, key: req.key, value };
                match self.append_local(cx, cmd) {
                    Some(index) => index,
                    None => return,
                }
            }
        };
        self.lead.writes.insert(index, (src, req.id));
        // Reads waiting for the next ReadIndex round ride on this broadcast: it goes to
        // every peer anyway, and its acknowledgements confirm leadership as well as a
        // heartbeat's would. Fewer messages, at a price: a follower acknowledges entries
        // only after its fsync, so those reads wait for one (about 0.1 ms more at the
        // median in raft-leader-crash).
        if self.reads_waiting() {
            self.new_round(cx);
        }
        self.broadcast(cx);
        self.advance_commit(cx);
        self.serve_reads(cx);
    }

    fn on_read(&mut self, cx: &mut impl RaftCx, src: NodeId, req: Request) {
        if self.config.read_mode == ReadMode::Lease
            && cx.now() < self.lead.lease_until
            && self.term_committed()
        {
            let value = self.kv.get(req.key);
            cx.send(src, RaftMsg::Reply { id: req.id, result: Ok(value) });
            return;
        }
        self.lead.reads.push(PendingRead {
            client: src,
            id: req.id,
            key: req.key,
            read_index: self.commit,
            round: NEXT_ROUND,
        });
        // One ReadIndex round in flight at a time: a read arriving meanwhile joins the next
        // (it must start after the read arrived), as etcd batches its ReadIndex requests.
        if self.lead.read_round <= self.confirmed_round() {
            self.new_round(cx);
            self.broadcast(cx);
        }
        self.serve_reads(cx);
    }

    /// Whether some read waits for the next round to start.
    fn reads_waiting(&self) -> bool {
        self.lead.reads.iter().any(|r| r.round == NEXT_ROUND)
    }

    /// Starts a heartbeat round (the caller broadcasts it); the reads waiting for one join it.
    fn new_round(&mut self, cx: &mut impl RaftCx) {
        self.lead.round += 1;
        self.lead.confirmed = None;
        let round = self.lead.round;
        self.lead.round_started.push_back((round, cx.now()));
        let mut joined = false;
        for r in self.lead.reads.iter_mut().filter(|r| r.round == NEXT_ROUND) {
            r.round = round;
            joined = true;
        }
        if joined {
            self.lead.read_round = round;
        }
    }

    /// Whether the leader has committed an entry of its own term (so its commit index is
    /// at least every earlier leader's).
    fn term_committed(&self) -> bool {
        self.term_at(self.commit) == self.term
    }

    /// The highest round a majority (the leader included) has acknowledged.
    /// (Cached: asked after most leader callbacks, it changes only when an acknowledged
    /// round or the leader's own round does.)
    fn confirmed_round(&mut self) -> u64 {
        if let Some(c) = self.lead.confirmed {
            return c;
        }
        // The k-th highest of the peers' acknowledged rounds and the leader's own, k a
        // majority: the highest candidate that at least k of them reach.
        let me = self.slot(self.id);
        let acked = |i: usize, p: &Progress| if i == me { self.lead.round } else { p.acked_round };
        let mut best = 0;
        for (i, p) in self.lead.progress.iter().enumerate() {
            let c = acked(i, p);
            if c > best {
                let reach = self.lead.progress.iter().enumerate().filter(|&(j, q)| acked(j, q) >= c).count();
                if reach >= self.config.majority() {
                    best = c;
                }
            }
        }
        self.lead.confirmed = Some(best);
        best
    }

    fn serve_reads(&mut self, cx: &mut impl RaftCx) {
        if self.role != Role::Leader {
            return;
        }
        let idle = self.lead.reads.is_empty() && self.config.read_mode != ReadMode::Lease;
        if idle && self.lead.round_started.len() < 64 {
            return; // nothing to answer and no lease to extend: settle the rounds later
        }
        // Called after nearly every leader callback, most of which change none of its
        // inputs; and a pass leaves nothing for a second pass on the same inputs to do.
        let inputs = self.serve_inputs();
        if self.lead.served == Some(inputs) {
            return;
        }
        self.serve_ready_reads(cx);
        self.lead.served = Some(self.serve_inputs());
    }

    fn serve_inputs(&mut self) -> Served {
        (self.confirmed_round(), self.lead.round, self.applied, self.commit, self.lead.reads.len())
    }

    /// Settles confirmed rounds (extending the lease), answers the reads they and the
    /// applied index allow, and starts a round for reads still waiting for one.
    fn serve_ready_reads(&mut self, cx: &mut impl RaftCx) {
        let confirmed = self.confirmed_round();
        while let Some(&(round, start)) = self.lead.round_started.front() {
            if round > confirmed {
                break;
            }
            if round == confirmed {
                self.lead.lease_until = self.lead.lease_until.max(start + self.config.lease);
                break;
            }
            self.lead.round_started.pop_front();
        }
        if !self.term_committed() || self.lead.reads.is_empty() {
            return;
        }
        let (kv, applied) = (&self.kv, self.applied);
        self.lead.reads.retain(|r| {
            let ready = r.round <= confirmed && r.read_index <= applied;
            if ready {
                let value = kv.get(r.key);
                cx.send(r.client, RaftMsg::Reply { id: r.id, result: Ok(value) });
            }
            !ready
        });
        if self.reads_waiting() && self.lead.read_round <= confirmed {
            self.new_round(cx);
            self.broadcast(cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Bugs, Command, Entry, RaftConfig, ReadMode};
    use super::storage::{encode_entry, encode_meta, LOG, META};
    use super::{KvMap, LeaderState, Progress, RaftServer, Role, Sessions, DENSE_KEYS};
    use crate::process::disk::Disk;
    use crate::process::NodeId;
    use crate::sim::SimDuration;
    use std::sync::Arc;

    /// Server 0 of three, recovered from a disk holding term 2, a vote for itself and a
    /// log of three entries.
    fn server(bugs: Bugs) -> RaftServer {
        let config = RaftConfig {
            servers: vec![NodeId(0), NodeId(1), NodeId(2)],
            election_timeout: (SimDuration::from_millis(150), SimDuration::from_millis(300)),
            heartbeat: SimDuration::from_millis(50),
            max_batch: 64,
            max_inflight: 256,
            pre_vote: false,
            check_quorum: false,
            read_mode: ReadMode::ReadIndex,
            lease: SimDuration::ZERO,
            bugs,
        };
        let mut disk = Disk::new();
        disk.overwrite(META, &encode_meta(2, Some(0))).unwrap();
        for term in [1, 1, 2] {
            disk.append(LOG, &encode_entry(&Entry { term, cmd: Command::Noop })).unwrap();
        }
        disk.fsync(META).unwrap();
        disk.fsync(LOG).unwrap();
        let mut s = RaftServer::recover(Arc::new(config), NodeId(0), &disk);
        s.commit = 2;
        s.applied = 1;
        s.check_state();
        s
    }

    /// The server as the leader of its term.
    fn leader() -> RaftServer {
        let mut s = server(Bugs::default());
        s.role = Role::Leader;
        s.leader = Some(s.id);
        s.lead = LeaderState { progress: vec![Progress::default(); 3], ..LeaderState::default() };
        s.check_state();
        s
    }

    #[test]
    fn a_callback_that_only_moves_forward_passes() {
        let mut s = leader();
        let before = s.watermarks();
        s.push_entry(Entry { term: 2, cmd: Command::Noop });
        s.push_entry(Entry { term: 2, cmd: Command::Noop });
        s.commit = 4;
        s.applied = 3;
        s.check_step(&before);
        let before = s.watermarks();
        s.term = 3;
        s.voted_for = None;
        s.role = Role::Follower;
        s.lead = LeaderState::default();
        s.truncate_log(4); // a follower of a new term may lose uncommitted entries
        s.push_entry(Entry { term: 3, cmd: Command::Noop });
        s.check_step(&before);
    }

    #[test]
    #[should_panic(expected = "a server's term never decreases")]
    fn a_term_going_back_is_caught() {
        let mut s = server(Bugs::default());
        let before = s.watermarks();
        s.term = 1;
        s.check_step(&before);
    }

    #[test]
    #[should_panic(expected = "the commit index never decreases")]
    fn a_commit_index_going_back_is_caught() {
        let mut s = server(Bugs::default());
        let before = s.watermarks();
        (s.commit, s.applied) = (1, 1);
        s.check_step(&before);
    }

    #[test]
    #[should_panic(expected = "the commit index lies within the log")]
    fn a_commit_index_past_the_log_is_caught() {
        let mut s = server(Bugs::default());
        s.commit = 4;
        s.check_state();
    }

    #[test]
    fn a_broken_variant_may_commit_past_what_it_cut() {
        let mut s = server(Bugs { commit_old_terms_by_count: true, ..Bugs::default() });
        s.truncate_log(1);
        s.check_state();
    }

    #[test]
    #[should_panic(expected = "a server applies only committed entries")]
    fn applying_past_the_commit_index_is_caught() {
        let mut s = server(Bugs::default());
        s.applied = 3;
        s.check_state();
    }

    #[test]
    #[should_panic(expected = "a server votes at most once per term")]
    fn a_second_vote_in_a_term_is_caught() {
        let mut s = server(Bugs::default());
        let before = s.watermarks();
        s.voted_for = Some(1);
        s.check_step(&before);
    }

    #[test]
    fn the_vote_bug_may_vote_twice() {
        let mut s = server(Bugs { vote_without_term_check: true, ..Bugs::default() });
        let before = s.watermarks();
        s.voted_for = Some(1);
        s.check_step(&before);
    }

    #[test]
    #[should_panic(expected = "a leader's log only grows in its term")]
    fn a_leader_rewriting_its_log_is_caught() {
        let mut s = leader();
        let before = s.watermarks();
        s.truncate_log(2);
        let write = Command::Op { client: 7, id: 1, kind: crate::history::OpKind::Write, key: 3, value: 9 };
        s.push_entry(Entry { term: 2, cmd: write });
        s.push_entry(Entry { term: 2, cmd: Command::Noop });
        assert_eq!(s.log.len(), 4, "longer than before, with entry 3 replaced");
        s.check_step(&before);
    }

    #[test]
    #[should_panic(expected = "only a leader keeps leader state")]
    fn leader_state_on_a_follower_is_caught() {
        let mut s = leader();
        s.role = Role::Follower;
        s.check_state();
    }

    #[test]
    fn the_kv_map_holds_small_and_huge_keys() {
        let mut m = KvMap::default();
        assert_eq!(m.get(5), None);
        for (k, v) in [(5, 50), (0, 1), (DENSE_KEYS - 1, 2), (DENSE_KEYS, 3), (u64::MAX, 4), (5, 51)] {
            m.insert(k, v);
        }
        assert_eq!(m.get(5), Some(51), "overwritten");
        assert_eq!(
            [0, DENSE_KEYS - 1, DENSE_KEYS, u64::MAX, 6].map(|k| m.get(k)),
            [Some(1), Some(2), Some(3), Some(4), None]
        );
    }

    #[test]
    fn sessions_answer_membership_in_any_order() {
        let mut s = Sessions::default();
        assert!(!s.contains(3, 7));
        for id in [5, 9, 2, 7, 8] {
            assert!(s.insert(3, id), "first time {id}");
        }
        assert!(!s.insert(3, 7), "a duplicate is refused");
        assert!(s.insert(1, 7), "another client's id is its own");
        for id in 0..12 {
            assert_eq!(s.contains(3, id), [2, 5, 7, 8, 9].contains(&id), "id {id}");
        }
        assert!(!s.contains(9, 7), "an unknown client has applied nothing");
    }
}

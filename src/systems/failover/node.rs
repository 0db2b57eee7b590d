//! The failover system's processes: replicas (one primary at a time, the others backups)
//! and clients.
//!
//! **Primary.** Serves clients. A write is appended to its log (fsynced), applied, and sent
//! as `Replicate` to every in-sync backup; the client is answered once each of them has
//! acknowledged it (synchronous replication), so an acknowledged write is on every in-sync
//! backup. A read takes the same path as a barrier (nothing to apply): it is answered once
//! every in-sync backup has confirmed that it still follows this primary's epoch, so a
//! deposed primary cannot serve a stale read. A backup that leaves a write unacknowledged for `timeout` is dropped from the
//! in-sync set (checked at each heartbeat), and the writes that waited on it complete. The
//! primary beats every `heartbeat` through a [`Pacemaker`].
//!
//! Each write is logged with its client's request id, and a request already applied (a
//! retry after a timeout, perhaps to the next primary) is answered without being applied
//! again: without that, a retried write could take effect twice, after a later write.
//!
//! **Backup.** Applies `Replicate`s in sequence order (fsynced before it acknowledges) and
//! watches the primary with a [`Detector`]. When the primary has been silent for
//! `timeout` (plus a stagger by rank, so the first backup goes first), it promotes itself:
//! a new epoch, persisted before it acts, and a beat to everyone at once.
//!
//! **Pauses.** A primary whose heartbeat tick comes more than `timeout` late has not run for
//! as long as a backup waits before taking over: it steps down instead of acting alone
//! (a pause detector, as JVM-based stores keep), and promotes again later if nobody leads.
//!
//! **Fencing.** Every message carries its sender's epoch. A replica adopts a higher epoch
//! it hears of (and steps down if it was primary), and refuses a `Replicate` of a lower
//! epoch with `Fenced`: a deposed primary (paused, cut off) that wakes up cannot get its
//! writes acknowledged, learns the new epoch and steps down. A replica that adopts an epoch
//! asks the new primary to `Join` and gets its whole store (`Snapshot`) before it is in sync.
//!
//! **Broken variant** (`bugs: [NoFencing]`): no fencing of any kind — epochs are not
//! compared and the pause detector is off (replication and joining work as usual). A
//! deposed primary goes on serving from its stale store, and replicas apply whatever they
//! are sent: two primaries at once (split brain), caught by the `single_primary` property, by
//! linearizability and by the durability check.
//!
//! Clients follow the primary: a refusal names the primary the replica believes in, and an
//! attempt that times out moves the client to the next replica. A refused write is
//! reported `timed_out` (it may have been applied by a deposed primary).
//!
//! Epochs are unique per replica (replica `r` of `n` promotes to the next epoch `≡ r mod n`),
//! so two replicas never claim the same epoch.
//!
//! **Known limit, by design of primary-backup:** a replica cannot tell a dead primary from a
//! cut link. A partition between the primary and its only backup makes each serve its side
//! alone (split brain), and a primary left with no in-sync backup serves unconfirmed. Quorum
//! systems (Raft) are the remedy. Not modelled: a catch-up log (a joining backup gets the
//! whole store), membership changes, reads from backups.

use super::FailoverParams;
use crate::components::heartbeat::{Beat, Detector, HeartbeatTimer, Pacemaker};
use crate::history::OpKind;
use crate::process::disk::Disk;
use crate::process::{flip_bit_u64, Cx, Message, NodeId, Process, TimerId};
use crate::sim::RngStream;
use crate::workload::{ClientTimer, Driver, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The replica's write log: [`Write`] records of 32 bytes.
pub const LOG: &str = "failover.log";
/// The replica's epoch: 8 bytes, rewritten (and fsynced) when it changes.
pub const EPOCH: &str = "failover.epoch";

/// Messages of a failover run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoMsg {
    Beat(Beat),
    Request(Request),
    /// `Ok(value)`: done; `Err(primary)`: refused, with the primary the replica believes in.
    Reply {
        id: u64,
        result: Result<Option<u64>, Option<NodeId>>,
    },
    /// The primary's `seq`-th operation: a write to apply, or `None` for a read barrier.
    Replicate {
        epoch: u64,
        seq: u64,
        write: Option<Write>,
    },
    Ack {
        epoch: u64,
        seq: u64,
    },
    Fenced {
        epoch: u64,
    },
    Join {
        epoch: u64,
    },
    /// From the primary to a replica out of its in-sync set: join again. `since` is the
    /// primary's sequence when it sent this, so a backup that has joined since can tell a
    /// stale one.
    Rejoin {
        epoch: u64,
        since: u64,
    },
    /// The primary's whole log (every write, in order), for a joining backup.
    Snapshot {
        epoch: u64,
        seq: u64,
        log: Vec<Write>,
    },
}

impl Message for FoMsg {
    fn wire_size(&self) -> u32 {
        match self {
            FoMsg::Snapshot { log, .. } => 32 + RECORD as u32 * log.len() as u32,
            _ => 48,
        }
    }

    /// Flips a bit of an epoch, a key or an id (no checksums: acted upon as received).
    fn corrupt(&mut self, rng: &mut RngStream) {
        match self {
            FoMsg::Beat(Beat(e))
            | FoMsg::Replicate { epoch: e, .. }
            | FoMsg::Ack { epoch: e, .. }
            | FoMsg::Fenced { epoch: e }
            | FoMsg::Join { epoch: e }
            | FoMsg::Rejoin { epoch: e, .. }
            | FoMsg::Snapshot { epoch: e, .. } => *e = flip_bit_u64(*e, rng),
            FoMsg::Request(req) => req.key = flip_bit_u64(req.key, rng),
            FoMsg::Reply { id, .. } => *id = flip_bit_u64(*id, rng),
        }
    }
}

/// Silences in a row after which a backup that is not synced promotes itself anyway.
pub const UNCLEAN_AFTER: u32 = 10;

/// One write as the log keeps it: the client's request (client node and request id, so a
/// retried request is applied once) and what it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    pub client: u32,
    pub id: u64,
    pub key: u64,
    pub value: u64,
}

/// Bytes of one log record: client (4), padding (4), id, key, value (8 each).
const RECORD: usize = 32;

impl Write {
    fn encode(&self) -> [u8; RECORD] {
        let mut r = [0u8; RECORD];
        r[..4].copy_from_slice(&self.client.to_le_bytes());
        r[8..16].copy_from_slice(&self.id.to_le_bytes());
        r[16..24].copy_from_slice(&self.key.to_le_bytes());
        r[24..].copy_from_slice(&self.value.to_le_bytes());
        r
    }

    fn decode(r: &[u8]) -> Write {
        let u64_at =
            |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("a record holds 8 bytes here"));
        let client = u32::from_le_bytes(r[..4].try_into().expect("a record holds a client"));
        Write { client, id: u64_at(8), key: u64_at(16), value: u64_at(24) }
    }
}

/// Timers of a failover run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoTimer {
    Heartbeat(HeartbeatTimer),
    Client(ClientTimer),
}

/// A replica's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Backup,
}

/// An operation the primary has sequenced and not yet answered.
#[derive(Clone, Debug)]
struct Waiting {
    client: NodeId,
    id: u64,
    /// The value written, or the value read (`None`: absent).
    value: Option<u64>,
    /// In-sync backups that have not acknowledged it.
    missing: BTreeSet<NodeId>,
    /// What was sent, to send it again to a backup that has not acknowledged it.
    write: Option<Write>,
    /// When it was sent (local time), for dropping a backup that never answers.
    sent: crate::sim::SimTime,
    /// When it was sequenced (true time: a fact for the monitor, never read by the model).
    sequenced: crate::sim::SimTime,
}

/// One replica.
#[derive(Clone, Debug)]
pub struct Replica {
    params: Arc<FailoverParams>,
    role: Role,
    epoch: u64,
    /// The primary this replica believes in.
    primary: Option<NodeId>,
    store: BTreeMap<u64, u64>,
    /// Every write applied, in order: the log's records (a joining backup gets them all).
    log: Vec<Write>,
    /// The (client, request id) of every write applied: a retry is not applied twice.
    done: BTreeSet<(u32, u64)>,
    /// Writes applied so far in the current primary's sequence.
    applied: u64,
    /// Replicates that arrived ahead of a gap, by sequence number.
    ahead: BTreeMap<u64, Option<Write>>,
    /// Facts for the `single_primary` monitor about the operations this replica answered as
    /// primary: the latest true time one of them was sequenced, the epoch it was answered
    /// in, and how many were answered so far.
    last_answer: (crate::sim::SimTime, u64, u64),
    /// Primary only: the backups that must acknowledge each write, and the writes waiting.
    in_sync: BTreeSet<NodeId>,
    waiting: BTreeMap<u64, Waiting>,
    pacemaker: Pacemaker,
    /// Backup only: whether it holds everything the primary it follows has (it joined, and
    /// has not been dropped since). Only a synced backup may promote itself, except after
    /// a long silence ([`UNCLEAN_AFTER`] suspicions in a row).
    synced: bool,
    /// Suspicions since it last heard a primary, installed a snapshot or promoted.
    unsynced_suspicions: u32,
    /// When it last answered a Rejoin with a Join (local time), until a snapshot comes.
    join_sent: Option<crate::sim::SimTime>,
    /// The sequence of the last snapshot it installed in this epoch (`None`: none yet; it
    /// holds the replicates it gets until one comes).
    joined: Option<u64>,
    /// Primary only: when the pacemaker last ticked (local time).
    last_tick: Option<crate::sim::SimTime>,
    detector: Detector,
}

impl Replica {
    /// Rebuilds a replica from its disk: its epoch and its log.
    pub fn recover(params: Arc<FailoverParams>, me: NodeId, disk: &Disk) -> Self {
        let epoch =
            disk.contents(EPOCH).get(..8).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        let log = records(disk.contents(LOG));
        let store = log.iter().map(|w| (w.key, w.value)).collect();
        let done = log.iter().map(|w| (w.client, w.id)).collect();
        // Every replica starts as a backup; the first one of a fresh cluster promotes
        // itself at once (`on_start`). A restarted one does not know whether another has
        // been promoted meanwhile: it waits to hear.
        let role = Role::Backup;
        let primary = None;
        let pacemaker = Pacemaker::new(params.heartbeat);
        let detector = Detector::new(params.timeout + params.stagger(me));
        Replica {
            role,
            epoch,
            primary,
            store,
            log,
            done,
            applied: 0,
            ahead: BTreeMap::new(),
            last_answer: (crate::sim::SimTime::ZERO, epoch, 0),
            in_sync: BTreeSet::new(),
            waiting: BTreeMap::new(),
            pacemaker,
            synced: false,
            unsynced_suspicions: 0,
            join_sent: None,
            joined: None,
            last_tick: None,
            detector,
            params,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// (latest true time sequenced, epoch, count) of the operations answered as primary.
    pub fn last_answer(&self) -> (crate::sim::SimTime, u64, u64) {
        self.last_answer
    }

    fn fencing(&self) -> bool {
        !self.params.no_fencing
    }

    /// The first primary of a fresh cluster takes the first epoch at once; the backups
    /// adopt it from its first beat and join.
    fn on_start(&mut self, cx: &mut impl Cx<FailoverNode>) {
        self.role = Role::Backup;
        if self.epoch == 0 && self.params.replicas[0] == cx.id() {
            self.promote(cx);
        } else {
            self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<FailoverNode>, id: TimerId, t: HeartbeatTimer) {
        let peers = self.params.replicas.clone();
        let now = cx.now();
        if self.pacemaker.on_timer(
            &mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat),
            (id, t),
            &peers,
            self.epoch,
        ) {
            let late = self.last_tick.is_some_and(|t| now.0.saturating_sub(t.0) > self.params.timeout.0);
            self.last_tick = Some(now);
            if late && self.fencing() {
                // This replica has not run for longer than a backup waits before taking
                // over (a pause, a starved node): another may lead now. Step down rather
                // than decide alone; if nobody leads, this one promotes again later.
                self.step_down(cx);
            } else {
                self.tend_backups(cx);
            }
        } else if self.detector.on_timer((id, t)) && self.role == Role::Backup {
            self.on_suspicion(cx);
        }
    }

    /// The primary has been silent for the detector's timeout. A synced backup takes
    /// over; one that is not (it was dropped, or never joined) would lose what it lacks,
    /// so it waits — and takes over anyway after [`UNCLEAN_AFTER`] silences in a row
    /// (an unclean promotion: nobody better is left), observed as such.
    fn on_suspicion(&mut self, cx: &mut impl Cx<FailoverNode>) {
        if self.synced || !self.fencing() {
            self.promote(cx);
            return;
        }
        self.unsynced_suspicions += 1;
        if self.unsynced_suspicions >= UNCLEAN_AFTER {
            cx.observe(super::UNCLEAN, self.epoch as i64);
            self.promote(cx);
        } else {
            self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
        }
    }

    /// The primary has been silent too long: take over with a new epoch, persisted first.
    fn promote(&mut self, cx: &mut impl Cx<FailoverNode>) {
        let epoch = self.params.next_epoch(self.epoch, cx.id());
        if !self.persist_epoch(cx, epoch) {
            // The disk failed: stay a backup and try again after another silence.
            self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
            return;
        }
        self.role = Role::Primary;
        self.synced = false;
        self.unsynced_suspicions = 0;
        self.primary = Some(cx.id());
        self.in_sync.clear();
        self.applied = 0;
        self.ahead.clear();
        cx.observe(super::PROMOTED, epoch as i64);
        let peers = self.params.replicas.clone();
        self.pacemaker.start(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat), &peers, epoch);
    }

    fn persist_epoch(&mut self, cx: &mut impl Cx<FailoverNode>, epoch: u64) -> bool {
        assert!(epoch >= self.epoch, "an epoch never goes back");
        let mut disk = cx.disk();
        let ok = disk.truncate(EPOCH, 0).is_ok()
            && disk.append(EPOCH, &epoch.to_le_bytes()).is_ok()
            && disk.fsync(EPOCH).is_ok();
        if ok {
            self.epoch = epoch;
        }
        ok
    }

    /// A message of `epoch` from `src`: adopt a newer epoch (stepping down if primary) and
    /// follow its sender. Returns whether the message may be acted on (not from a deposed
    /// primary's older epoch). Without fencing nothing is compared.
    fn check_epoch(
        &mut self,
        cx: &mut impl Cx<FailoverNode>,
        src: NodeId,
        epoch: u64,
        from_primary: bool,
    ) -> bool {
        if !self.fencing() {
            // Epochs are not compared; a backup still joins the primary it hears from.
            if from_primary && self.role == Role::Backup && self.primary != Some(src) {
                self.primary = Some(src);
                cx.send(src, FoMsg::Join { epoch });
            }
            return true;
        }
        if epoch < self.epoch {
            return false;
        }
        if epoch > self.epoch {
            if !self.persist_epoch(cx, epoch) {
                return false;
            }
            if self.role == Role::Primary {
                self.step_down(cx);
            }
            self.primary = from_primary.then_some(src);
            self.synced = false;
            self.joined = None;
            self.applied = 0;
            self.ahead.clear();
            if from_primary {
                cx.send(src, FoMsg::Join { epoch });
            }
        } else if from_primary && self.role == Role::Backup && self.primary != Some(src) {
            self.primary = Some(src);
            cx.send(src, FoMsg::Join { epoch });
        }
        true
    }

    /// A deposed primary: stop beating, refuse what waits, watch for the new primary.
    /// It keeps what it acknowledged, so it counts as synced (if nobody else leads, it may
    /// take over again after the usual timeout); stepping down for a newer epoch
    /// (`check_epoch`) makes it unsynced until it joins the new primary.
    fn step_down(&mut self, cx: &mut impl Cx<FailoverNode>) {
        self.role = Role::Backup;
        self.synced = true;
        self.last_tick = None;
        self.pacemaker.stop(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
        self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
        for (_, w) in std::mem::take(&mut self.waiting) {
            cx.send(w.client, FoMsg::Reply { id: w.id, result: Err(None) });
        }
        self.in_sync.clear();
        cx.observe(super::STEPPED_DOWN, self.epoch as i64);
    }

    fn on_message(&mut self, cx: &mut impl Cx<FailoverNode>, src: NodeId, msg: FoMsg) {
        match msg {
            FoMsg::Beat(Beat(epoch)) => {
                if self.check_epoch(cx, src, epoch, true) && self.role == Role::Backup {
                    self.unsynced_suspicions = 0;
                    self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
                }
            }
            FoMsg::Request(req) => self.on_request(cx, src, req),
            FoMsg::Replicate { epoch, seq, write } => {
                if !self.check_epoch(cx, src, epoch, true) {
                    cx.send(src, FoMsg::Fenced { epoch: self.epoch });
                    return;
                }
                if self.role == Role::Backup {
                    self.detector.heard(&mut cx.scope(FoMsg::Beat, FoTimer::Heartbeat));
                }
                self.on_replicate(cx, src, (epoch, seq), write);
            }
            FoMsg::Ack { epoch, seq } => {
                if self.check_epoch(cx, src, epoch, false) {
                    self.on_ack(cx, src, seq);
                }
            }
            FoMsg::Fenced { epoch } => {
                if self.fencing() && epoch > self.epoch {
                    cx.observe(super::FENCED, epoch as i64);
                }
                self.check_epoch(cx, src, epoch, false);
            }
            FoMsg::Join { epoch } => {
                if self.check_epoch(cx, src, epoch, false) && self.role == Role::Primary {
                    self.in_sync.insert(src);
                    cx.send(
                        src,
                        FoMsg::Snapshot { epoch: self.epoch, seq: self.applied, log: self.log.clone() },
                    );
                }
            }
            FoMsg::Rejoin { epoch, since } => {
                if !self.check_epoch(cx, src, epoch, true) || self.role != Role::Backup {
                    return;
                }
                if self.synced && self.joined.is_some_and(|j| since < j) {
                    return; // sent before the snapshot this backup has installed since
                }
                self.synced = false;
                // One Join per heartbeat while one is outstanding: Rejoins held during a
                // pause arrive together, and each Join costs the primary a whole-log
                // snapshot. (Installing a snapshot clears it.)
                let now = cx.now();
                let recent =
                    self.join_sent.is_some_and(|t| now.0.saturating_sub(t.0) < self.params.heartbeat.0);
                if !recent {
                    self.join_sent = Some(now);
                    cx.send(src, FoMsg::Join { epoch: self.epoch });
                }
            }
            FoMsg::Snapshot { epoch, seq, log } => {
                if self.check_epoch(cx, src, epoch, true) && self.role == Role::Backup {
                    self.install(cx, src, seq, log);
                }
            }
            FoMsg::Reply { .. } => {}
        }
    }

    fn on_request(&mut self, cx: &mut impl Cx<FailoverNode>, src: NodeId, req: Request) {
        if self.role != Role::Primary {
            cx.send(src, FoMsg::Reply { id: req.id, result: Err(self.primary) });
            return;
        }
        let write = match (req.kind, req.value) {
            (OpKind::Read, _) => None,
            (OpKind::Write, Some(value)) => Some(Write { client: src.0, id: req.id, key: req.key, value }),
            (OpKind::Write, None) => {
                cx.send(src, FoMsg::Reply { id: req.id, result: Err(None) });
                return;
            }
        };
        self.sequence(cx, src, req, write);
    }

    /// The primary's operation: a write is logged and applied, a read reads; either is sent
    /// to every in-sync backup and answered when each has confirmed it in this epoch.
    fn sequence(
        &mut self,
        cx: &mut impl Cx<FailoverNode>,
        client: NodeId,
        req: Request,
        write: Option<Write>,
    ) {
        // A retry of a write already applied is answered, once confirmed, as a read would be.
        let (write, value) = match write {
            Some(w) if self.done.contains(&(w.client, w.id)) => (None, Some(w.value)),
            Some(w) => (Some(w), Some(w.value)),
            None => (None, self.store.get(&req.key).copied()),
        };
        if let Some(w) = write {
            if !self.log(cx, w) {
                cx.send(client, FoMsg::Reply { id: req.id, result: Err(None) });
                return;
            }
        }
        self.applied += 1;
        let seq = self.applied;
        for &b in &self.in_sync {
            cx.send(b, FoMsg::Replicate { epoch: self.epoch, seq, write });
        }
        let (sent, sequenced) = (cx.now(), cx.true_now());
        let missing = self.in_sync.clone();
        let waiting = Waiting { client, id: req.id, value, missing, write, sent, sequenced };
        self.waiting.insert(seq, waiting);
        self.answer_done(cx);
    }

    /// Appends a write to the log, fsyncs and applies it (a write already applied, by its
    /// request, is not applied again).
    fn log(&mut self, cx: &mut impl Cx<FailoverNode>, w: Write) -> bool {
        if self.done.contains(&(w.client, w.id)) {
            return true;
        }
        let mut disk = cx.disk();
        if disk.append(LOG, &w.encode()).is_err() || disk.fsync(LOG).is_err() {
            return false;
        }
        self.store.insert(w.key, w.value);
        self.done.insert((w.client, w.id));
        self.log.push(w);
        true
    }

    fn on_replicate(
        &mut self,
        cx: &mut impl Cx<FailoverNode>,
        src: NodeId,
        (_, seq): (u64, u64),
        write: Option<Write>,
    ) {
        if self.role == Role::Primary {
            // With fencing, a primary takes no writes from another (an older epoch was
            // refused already; the same epoch cannot be another's). Without, it applies
            // them as they come: the deposed primary's writes land beside its own.
            if !self.fencing() {
                if let Some(w) = write {
                    if !self.log(cx, w) {
                        return;
                    }
                }
                cx.send(src, FoMsg::Ack { epoch: self.epoch, seq });
            }
            return;
        }
        if seq <= self.applied {
            cx.send(src, FoMsg::Ack { epoch: self.epoch, seq }); // a duplicate
            return;
        }
        self.ahead.insert(seq, write);
        if self.joined.is_some() {
            self.apply_ready(cx, src);
        }
    }

    /// Applies, in sequence, the replicates that follow what is applied; acknowledges each.
    fn apply_ready(&mut self, cx: &mut impl Cx<FailoverNode>, primary: NodeId) {
        while let Some(write) = self.ahead.remove(&(self.applied + 1)) {
            if let Some(w) = write {
                if !self.log(cx, w) {
                    self.ahead.insert(self.applied + 1, write);
                    return;
                }
            }
            self.applied += 1;
            cx.send(primary, FoMsg::Ack { epoch: self.epoch, seq: self.applied });
        }
    }

    fn install(&mut self, cx: &mut impl Cx<FailoverNode>, src: NodeId, seq: u64, log: Vec<Write>) {
        // A snapshot never takes a backup back: one older than what it has applied (a late
        // answer to an earlier Join) is ignored, and so is one that brings nothing to a
        // backup already in sync.
        if self.joined.is_some() && (seq < self.applied || (self.synced && seq == self.applied)) {
            return;
        }
        let mut bytes = Vec::with_capacity(log.len() * RECORD);
        for w in &log {
            bytes.extend_from_slice(&w.encode());
        }
        let mut disk = cx.disk();
        if disk.truncate(LOG, 0).is_err() || disk.append(LOG, &bytes).is_err() || disk.fsync(LOG).is_err() {
            return;
        }
        self.store = log.iter().map(|w| (w.key, w.value)).collect();
        self.done = log.iter().map(|w| (w.client, w.id)).collect();
        self.log = log;
        self.applied = seq;
        self.synced = true;
        self.joined = Some(seq);
        self.join_sent = None;
        self.unsynced_suspicions = 0;
        // Replicates that overtook the snapshot wait in `ahead`: apply what now follows.
        self.ahead.retain(|&s, _| s > seq);
        self.apply_ready(cx, src);
    }

    fn on_ack(&mut self, cx: &mut impl Cx<FailoverNode>, src: NodeId, seq: u64) {
        if let Some(w) = self.waiting.get_mut(&seq) {
            w.missing.remove(&src);
        }
        self.answer_done(cx);
    }

    /// Answers, in sequence order, the writes no in-sync backup still owes.
    fn answer_done(&mut self, cx: &mut impl Cx<FailoverNode>) {
        while let Some(entry) = self.waiting.first_entry() {
            if !entry.get().missing.is_empty() {
                break;
            }
            let w = entry.remove();
            let latest = self.last_answer.0.max(w.sequenced);
            self.last_answer = (latest, self.epoch, self.last_answer.2 + 1);
            cx.send(w.client, FoMsg::Reply { id: w.id, result: Ok(w.value) });
        }
    }

    /// At each beat: what a backup has owed for a heartbeat is sent to it again (a lost
    /// message is not a dead backup); a backup that has owed something for `timeout`
    /// leaves the in-sync set; and every replica out of it is asked to join, at every
    /// beat until it does (so a dropped backup learns that it may not promote itself).
    fn tend_backups(&mut self, cx: &mut impl Cx<FailoverNode>) {
        let now = cx.now();
        let age = |w: &Waiting| now.0.saturating_sub(w.sent.0);
        let late: BTreeSet<NodeId> = (self.waiting.values())
            .filter(|w| age(w) >= self.params.timeout.0)
            .flat_map(|w| w.missing.iter().copied())
            .collect();
        self.in_sync.retain(|b| !late.contains(b));
        for (&seq, w) in self.waiting.iter_mut() {
            w.missing.retain(|b| !late.contains(b));
            if age(w) >= self.params.heartbeat.0 {
                for &b in &w.missing {
                    cx.send(b, FoMsg::Replicate { epoch: self.epoch, seq, write: w.write });
                }
            }
        }
        let me = cx.id();
        for &r in self.params.replicas.iter().filter(|&&r| r != me && !self.in_sync.contains(&r)) {
            cx.send(r, FoMsg::Rejoin { epoch: self.epoch, since: self.applied });
        }
        self.answer_done(cx);
    }
}

/// The writes of a log, in order (a torn tail is ignored).
pub fn records(log: &[u8]) -> Vec<Write> {
    log.chunks_exact(RECORD).map(Write::decode).collect()
}

/// A client: the workload's driver, following the primary.
#[derive(Clone, Debug)]
pub struct FoClient {
    pub driver: Driver,
    replicas: Vec<NodeId>,
    target: usize,
    /// Where each request's current attempt went.
    sent_to: crate::workload::idmap::IdMap<NodeId>,
}

impl FoClient {
    pub fn new(driver: Driver, replicas: Vec<NodeId>) -> Self {
        FoClient { driver, replicas, target: 0, sent_to: Default::default() }
    }

    fn send(&mut self, cx: &mut impl Cx<FailoverNode>, req: Option<Request>) {
        if let Some(req) = req {
            if req.kind == OpKind::Write {
                // Any replica that takes it may apply it, whatever it answers later.
                self.driver.mark_uncertain(req.id);
            }
            let to = self.replicas[self.target];
            self.sent_to.insert(req.id, to);
            cx.send(to, FoMsg::Request(req));
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<FailoverNode>, t: ClientTimer) {
        if !self.driver.is_live(&t) {
            return;
        }
        if let ClientTimer::AttemptTimeout { req, .. } = t {
            // Move on only if the client still targets the replica that did not answer:
            // the timeouts of a burst sent to a dead primary come due one after another,
            // after a refusal may already have pointed the client at the new one.
            if self.sent_to.remove(req) == Some(self.replicas[self.target]) {
                self.target = (self.target + 1) % self.replicas.len();
            }
        }
        let req = self.driver.on_timer(&mut cx.scope(|m| m, FoTimer::Client), t);
        self.send(cx, req);
    }

    fn on_reply(
        &mut self,
        cx: &mut impl Cx<FailoverNode>,
        src: NodeId,
        id: u64,
        result: Result<Option<u64>, Option<NodeId>>,
    ) {
        match result {
            Err(Some(primary)) if primary != src => {
                if let Some(pos) = self.replicas.iter().position(|&r| r == primary) {
                    self.target = pos;
                }
            }
            Err(_) if self.replicas[self.target] == src => {
                self.target = (self.target + 1) % self.replicas.len()
            }
            _ => {}
        }
        // A refusal goes to the retry policy; a retried attempt goes to the new target.
        let result = result.map_err(|_| ());
        self.driver.on_reply(&mut cx.scope(|m| m, FoTimer::Client), id, result);
        if self.driver.pending_request(id).is_none() {
            self.sent_to.remove(id);
        }
    }
}

/// A node of a failover run.
#[derive(Clone, Debug)]
pub enum FailoverNode {
    Replica(Box<Replica>),
    Client(FoClient),
    Idle,
}

impl FailoverNode {
    pub fn replica(&self) -> Option<&Replica> {
        match self {
            FailoverNode::Replica(r) => Some(r),
            _ => None,
        }
    }
}

impl Process for FailoverNode {
    type Msg = FoMsg;
    type Timer = FoTimer;

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        match self {
            FailoverNode::Replica(r) => r.on_start(cx),
            FailoverNode::Client(c) => c.driver.start(&mut cx.scope(|m| m, FoTimer::Client)),
            FailoverNode::Idle => {}
        }
    }

    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: FoMsg) {
        match (self, msg) {
            (FailoverNode::Replica(r), msg) => r.on_message(cx, src, msg),
            (FailoverNode::Client(c), FoMsg::Reply { id, result }) => c.on_reply(cx, src, id, result),
            (FailoverNode::Client(_) | FailoverNode::Idle, _) => {}
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, id: TimerId, timer: FoTimer) {
        match (self, timer) {
            (FailoverNode::Replica(r), FoTimer::Heartbeat(t)) => r.on_timer(cx, id, t),
            (FailoverNode::Client(c), FoTimer::Client(t)) => c.on_timer(cx, t),
            _ => {}
        }
    }

    fn has_role(&self, role: &str) -> bool {
        match self {
            FailoverNode::Replica(r) => {
                role == "replica"
                    || (role == "primary" && r.role == Role::Primary)
                    || (role == "backup" && r.role == Role::Backup)
            }
            FailoverNode::Client(_) => role == "client",
            FailoverNode::Idle => false,
        }
    }

    fn record_unfinished(&mut self, cx: &mut impl Cx<Self>) {
        if let FailoverNode::Client(c) = self {
            c.driver.finish(&mut cx.scope(|m| m, FoTimer::Client));
        }
    }
}

//! The key-value system's processes: one server and its clients.
//!
//! The server keeps an index in memory and a log on disk. Each write appends a record —
//! key and value, little-endian, plus a CRC-32C of both when `checksums` is on — and, when
//! `fsync_before_ack` is on (the honest default), fsyncs before it acknowledges. When it is
//! off the server lies: it acknowledges at once and fsyncs in the background every
//! `sync_interval`, so a crash loses the writes acknowledged since the last sync.
//!
//! Reads answer from memory, or, with `reads_from_disk`, read the key's record back from the
//! log (as a database without a cache would), so silent disk corruption reaches clients:
//! without checksums a rotten record is returned as if it were good; with checksums the
//! server detects it (`checksum_mismatch` observation) and refuses the read.
//! A restart replays the log's whole records; with checksums, a record that fails its
//! checksum is skipped (that write is lost; the rest survive), and a torn partial record at
//! the tail is cut before the next append. A disk error fails the request.

use crate::history::OpKind;
use crate::process::disk::{crc32c, Disk};
use crate::process::{flip_bit_u64, Cx, Message, NodeId, Process, TimerId};
use crate::sim::{RngStream, SimDuration};
use crate::workload::{ClientTimer, Driver, Request};
use std::collections::{BTreeMap, BTreeSet};

pub const LOG_FILE: &str = "kv.log";

/// Messages between clients and the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvMsg {
    Request(Request),
    /// `Ok(value)`: done (a read's value, or `None` for an absent key); `Err(())`: refused.
    Reply {
        id: u64,
        result: Result<Option<u64>, ()>,
    },
}

impl Message for KvMsg {
    fn wire_size(&self) -> u32 {
        match self {
            KvMsg::Request(_) => 48,
            KvMsg::Reply { .. } => 32,
        }
    }

    /// Flips a bit of the key or value of a request, or of a reply's value (or id).
    fn corrupt(&mut self, rng: &mut RngStream) {
        match self {
            KvMsg::Request(req) => match (req.value, rng.below(2)) {
                (Some(v), 0) => req.value = Some(flip_bit_u64(v, rng)),
                _ => req.key = flip_bit_u64(req.key, rng),
            },
            KvMsg::Reply { result: Ok(Some(v)), .. } => *v = flip_bit_u64(*v, rng),
            KvMsg::Reply { id, .. } => *id = flip_bit_u64(*id, rng),
        }
    }
}

/// Server knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvServerConfig {
    /// fsync the log before acknowledging a write (the honest default).
    pub fsync_before_ack: bool,
    /// Without `fsync_before_ack`: how often the log is synced in the background.
    pub sync_interval: SimDuration,
    /// Records carry a CRC-32C, verified on every read and at recovery.
    pub checksums: bool,
    /// Reads fetch the record from disk instead of memory.
    pub reads_from_disk: bool,
}

impl Default for KvServerConfig {
    fn default() -> Self {
        KvServerConfig {
            fsync_before_ack: true,
            sync_interval: SimDuration::from_secs(1),
            checksums: false,
            reads_from_disk: false,
        }
    }
}

impl KvServerConfig {
    fn record_len(&self) -> usize {
        if self.checksums {
            20
        } else {
            16
        }
    }

    fn encode(&self, key: u64, value: u64) -> Vec<u8> {
        let mut r = Vec::with_capacity(self.record_len());
        r.extend_from_slice(&key.to_le_bytes());
        r.extend_from_slice(&value.to_le_bytes());
        if self.checksums {
            let crc = crc32c(&r);
            r.extend_from_slice(&crc.to_le_bytes());
        }
        r
    }

    /// Decodes one record; `None` if its checksum does not match (checksums on).
    fn decode(&self, r: &[u8]) -> Option<(u64, u64)> {
        let key = u64::from_le_bytes(r[..8].try_into().expect("record holds a key"));
        let value = u64::from_le_bytes(r[8..16].try_into().expect("record holds a value"));
        if self.checksums {
            let stored = u32::from_le_bytes(r[16..20].try_into().expect("record holds a checksum"));
            if stored != crc32c(&r[..16]) {
                return None;
            }
        }
        Some((key, value))
    }

    /// The whole records of a log with their offsets; with checksums on, a record whose
    /// checksum fails is skipped (its write is lost, the rest of the log is kept).
    fn replay<'a>(&'a self, log: &'a [u8]) -> impl Iterator<Item = (usize, (u64, u64))> + 'a {
        log.chunks_exact(self.record_len())
            .enumerate()
            .filter_map(|(i, r)| self.decode(r).map(|kv| (i * self.record_len(), kv)))
    }
}

/// The key-value server.
#[derive(Clone, Debug)]
pub struct KvServer {
    config: KvServerConfig,
    /// key → (latest value, offset of its record in the log).
    index: BTreeMap<u64, (u64, usize)>,
    log_len: usize,
}

impl KvServer {
    /// Rebuilds the server from its disk (the log survives crashes once synced).
    pub fn recover(config: KvServerConfig, disk: &Disk) -> Self {
        let log = disk.contents(LOG_FILE);
        let mut index = BTreeMap::new();
        for (offset, (key, value)) in config.replay(log) {
            index.insert(key, (value, offset));
        }
        // A torn tail (a partial record) is cut before the next append.
        let log_len = log.len() - log.len() % config.record_len();
        KvServer { config, index, log_len }
    }

    fn write(&mut self, cx: &mut impl Cx<KvNode>, key: u64, value: u64) -> Result<(), ()> {
        let mut disk = cx.disk();
        if disk.len(LOG_FILE) != self.log_len {
            // A torn partial record was left at the tail: cut it before appending.
            disk.truncate(LOG_FILE, self.log_len).map_err(|_| ())?;
        }
        disk.append(LOG_FILE, &self.config.encode(key, value)).map_err(|_| ())?;
        if self.config.fsync_before_ack {
            disk.fsync(LOG_FILE).map_err(|_| ())?;
        }
        self.index.insert(key, (value, self.log_len));
        self.log_len += self.config.record_len();
        Ok(())
    }

    fn read(&mut self, cx: &mut impl Cx<KvNode>, key: u64) -> Result<Option<u64>, ()> {
        let Some(&(value, offset)) = self.index.get(&key) else {
            return Ok(None);
        };
        if !self.config.reads_from_disk {
            return Ok(Some(value));
        }
        let record = cx.disk().read_at(LOG_FILE, offset, self.config.record_len()).map_err(|_| ())?;
        if record.len() < self.config.record_len() {
            return Err(());
        }
        match self.config.decode(&record) {
            // Without checksums a rotten record reads as good: the value may be wrong.
            Some((_, v)) => Ok(Some(v)),
            None => {
                cx.observe(super::CHECKSUM_MISMATCH, key as i64);
                Err(())
            }
        }
    }

    fn on_request(&mut self, cx: &mut impl Cx<KvNode>, src: NodeId, req: Request) {
        let result = match (req.kind, req.value) {
            (OpKind::Write, Some(value)) => self.write(cx, req.key, value).map(|()| Some(value)),
            (OpKind::Write, None) => Err(()),
            (OpKind::Read, _) => self.read(cx, req.key),
        };
        cx.send(src, KvMsg::Reply { id: req.id, result });
    }
}

/// Every (key, value) the server's log holds as it would see it now.
pub fn authoritative_writes(config: &KvServerConfig, disk: &Disk, up: bool) -> BTreeSet<(u64, u64)> {
    let log = if up { disk.contents(LOG_FILE) } else { disk.read_durable(LOG_FILE) };
    log.chunks_exact(config.record_len())
        .map(|r| {
            let key = u64::from_le_bytes(r[..8].try_into().expect("record holds a key"));
            let value = u64::from_le_bytes(r[8..16].try_into().expect("record holds a value"));
            (key, value)
        })
        .collect()
}

/// A client of the key-value server.
#[derive(Clone, Debug)]
pub struct KvClient {
    pub driver: Driver,
    pub server: NodeId,
}

/// The timers of a hello-kv run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvTimer {
    Client(ClientTimer),
    /// The lying server's background fsync.
    Sync,
}

/// A node of a hello-kv run: the server or a client (static dispatch).
#[derive(Clone, Debug)]
pub enum KvNode {
    Server(KvServer),
    Client(KvClient),
    /// A node of the topology with no part in this system.
    Idle,
}

impl KvClient {
    fn send(&self, cx: &mut impl Cx<KvNode>, req: Option<Request>) {
        if let Some(req) = req {
            cx.send(self.server, KvMsg::Request(req));
        }
    }
}

impl Process for KvNode {
    type Msg = KvMsg;
    type Timer = KvTimer;

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        match self {
            KvNode::Client(c) => c.driver.start(&mut cx.scope(|m| m, KvTimer::Client)),
            KvNode::Server(s) if !s.config.fsync_before_ack => {
                cx.set_timer(s.config.sync_interval, KvTimer::Sync);
            }
            KvNode::Server(_) | KvNode::Idle => {}
        }
    }

    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: KvMsg) {
        match (self, msg) {
            (KvNode::Server(s), KvMsg::Request(req)) => s.on_request(cx, src, req),
            (KvNode::Client(c), KvMsg::Reply { id, result }) => {
                c.driver.on_reply(&mut cx.scope(|m| m, KvTimer::Client), id, result)
            }
            (KvNode::Server(_), KvMsg::Reply { .. })
            | (KvNode::Client(_), KvMsg::Request(_))
            | (KvNode::Idle, _) => {}
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, _id: TimerId, timer: KvTimer) {
        match (self, timer) {
            (KvNode::Client(c), KvTimer::Client(t)) => {
                let req = c.driver.on_timer(&mut cx.scope(|m| m, KvTimer::Client), t);
                c.send(cx, req);
            }
            (KvNode::Server(s), KvTimer::Sync) => {
                // A failed background sync is retried at the next tick.
                let _ = cx.disk().fsync(LOG_FILE);
                cx.set_timer(s.config.sync_interval, KvTimer::Sync);
            }
            _ => {}
        }
    }

    fn has_role(&self, role: &str) -> bool {
        matches!((self, role), (KvNode::Server(_), "server") | (KvNode::Client(_), "client"))
    }

    /// Clients record their unfinished operations.
    fn record_unfinished(&mut self, cx: &mut impl Cx<Self>) {
        if let KvNode::Client(c) = self {
            c.driver.finish(&mut cx.scope(|m| m, KvTimer::Client));
        }
    }
}

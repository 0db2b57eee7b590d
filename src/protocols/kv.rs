//! `hello-kv`: one key-value server and its clients.
//!
//! The server keeps a map in memory and a log on disk: each write appends a 16-byte record
//! (key, value, little-endian) and, unless told to lie, fsyncs before it acknowledges.
//! A restart replays the log. Reads answer from memory. Work takes time: the node's service
//! stage (workers, queue, service time) models the server's capacity.
//!
//! Ground truth for "no acknowledged write lost": [`authoritative_writes`] decodes the
//! server's log as the server would see it now (durable content if it is down, durable plus
//! pending if it is up); every acknowledged write must be in it.

use crate::process::{Context, Message, NodeId, Process, TimerId};
use crate::sim::history::OpKind;
use crate::workload::{ClientTimer, Driver, Request};
use crate::world::disk::Disk;
use std::collections::{BTreeMap, BTreeSet};

pub const LOG_FILE: &str = "kv.log";
const RECORD_BYTES: usize = 16;

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
}

/// Server knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvServerConfig {
    /// fsync the log before acknowledging a write (the honest default).
    pub fsync_before_ack: bool,
}

/// The key-value server.
#[derive(Clone, Debug)]
pub struct KvServer {
    config: KvServerConfig,
    map: BTreeMap<u64, u64>,
}

fn decode(log: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    log.chunks_exact(RECORD_BYTES).map(|r| {
        let key = u64::from_le_bytes(r[..8].try_into().expect("record holds a key"));
        let value = u64::from_le_bytes(r[8..].try_into().expect("record holds a value"));
        (key, value)
    })
}

impl KvServer {
    /// Rebuilds the server from its disk (the log survives crashes once synced).
    pub fn recover(config: KvServerConfig, disk: &Disk) -> Self {
        let map = decode(&disk.read(LOG_FILE)).collect();
        KvServer { config, map }
    }

    fn write(&mut self, cx: &mut Context<'_, KvNode>, key: u64, value: u64) {
        let mut record = [0u8; RECORD_BYTES];
        record[..8].copy_from_slice(&key.to_le_bytes());
        record[8..].copy_from_slice(&value.to_le_bytes());
        cx.disk().append(LOG_FILE, &record);
        if self.config.fsync_before_ack {
            cx.disk().fsync(LOG_FILE);
        }
        self.map.insert(key, value);
    }

    fn on_request(&mut self, cx: &mut Context<'_, KvNode>, src: NodeId, req: Request) {
        let result = match (req.kind, req.value) {
            (OpKind::Write, Some(value)) => {
                self.write(cx, req.key, value);
                Ok(Some(value))
            }
            (OpKind::Write, None) => Err(()),
            (OpKind::Read, _) => Ok(self.map.get(&req.key).copied()),
        };
        cx.send(src, KvMsg::Reply { id: req.id, result });
    }
}

/// Every (key, value) the server's log holds as it would see it now.
pub fn authoritative_writes(disk: &Disk, up: bool) -> BTreeSet<(u64, u64)> {
    if up {
        decode(&disk.read(LOG_FILE)).collect()
    } else {
        decode(disk.read_durable(LOG_FILE)).collect()
    }
}

/// A client of the key-value server.
#[derive(Clone, Debug)]
pub struct KvClient {
    pub driver: Driver,
    pub server: NodeId,
}

/// The timers of a hello-kv run (only clients set timers).
pub type KvTimer = ClientTimer;

/// A node of a hello-kv run: the server or a client (static dispatch).
#[derive(Clone, Debug)]
pub enum KvNode {
    Server(KvServer),
    Client(KvClient),
    /// A node of the topology with no part in this system.
    Idle,
}

fn wrap(t: ClientTimer) -> KvTimer {
    t
}

impl KvClient {
    fn send(&self, cx: &mut Context<'_, KvNode>, req: Option<Request>) {
        if let Some(req) = req {
            cx.send(self.server, KvMsg::Request(req));
        }
    }
}

impl Process for KvNode {
    type Msg = KvMsg;
    type Timer = KvTimer;

    fn on_start(&mut self, cx: &mut Context<'_, Self>) {
        if let KvNode::Client(c) = self {
            c.driver.start(cx, wrap);
        }
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, src: NodeId, msg: KvMsg) {
        match (self, msg) {
            (KvNode::Server(s), KvMsg::Request(req)) => s.on_request(cx, src, req),
            (KvNode::Client(c), KvMsg::Reply { id, result }) => c.driver.on_reply(cx, id, result, wrap),
            (KvNode::Server(_), KvMsg::Reply { .. })
            | (KvNode::Client(_), KvMsg::Request(_))
            | (KvNode::Idle, _) => {}
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _id: TimerId, timer: KvTimer) {
        if let KvNode::Client(c) = self {
            let req = c.driver.on_timer(cx, timer, wrap);
            c.send(cx, req);
        }
    }

    fn has_role(&self, role: &str) -> bool {
        matches!(
            (self, role),
            (KvNode::Server(_), "server") | (KvNode::Client(_), "client")
        )
    }
}

impl KvNode {
    /// End of run: clients record their unfinished operations.
    pub fn finish(&mut self, cx: &mut Context<'_, Self>) {
        if let KvNode::Client(c) = self {
            c.driver.finish(cx);
        }
    }
}

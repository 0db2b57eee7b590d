//! A simulated node: its process, incarnation, clock, disk, random streams, timers, and
//! the service stage that makes work take time.
//!
//! Service model (optional per node): `workers` requests are handled at once; each takes a
//! service time drawn from a distribution (plus whatever the process adds with
//! `Context::busy`); further requests wait in a FIFO queue bounded at `queue` entries;
//! a request that finds the queue full is dropped (`DropReason::QueueFull`). A process's
//! callback runs when its request *starts* service; its replies leave when the service
//! ends. Timers bypass the queue. Nodes without a service model handle messages at once.

use super::clock::Clock;
use super::disk::Disk;
use crate::process::{NodeId, Process, TimerSlab};
use crate::sim::{Dist, RngStream, SimTime};
use serde::Serialize;
use std::collections::VecDeque;

/// Capacity of a node: workers, a bounded queue, and a service time per request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Service {
    pub workers: u32,
    pub queue: usize,
    pub time: Dist,
}

/// A message waiting in a node's queue.
#[derive(Debug)]
pub struct Queued<M> {
    pub src: NodeId,
    pub msg: M,
    pub enqueued: SimTime,
}

/// Per-node counters for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    pub messages_handled: u64,
    pub timers_fired: u64,
    /// Timer events discarded because they belonged to an earlier incarnation.
    pub stale_timers: u64,
    pub crashes: u64,
    pub restarts: u64,
    /// Total worker-busy time in nanoseconds (utilisation = busy / (workers × duration)).
    pub busy_ns: u64,
    pub max_queue_depth: u64,
}

/// One node of the world.
pub struct Node<P: Process> {
    pub id: NodeId,
    pub process: Option<P>,
    /// Starts at 0; bumped at every crash. Messages and timers carry the incarnation they
    /// were addressed to and are discarded if it has changed.
    pub incarnation: u32,
    /// `crash_times[k]`: when incarnation `k` ended.
    pub crash_times: Vec<SimTime>,
    pub clock: Clock,
    pub disk: Disk,
    pub rng: RngStream,
    pub service_rng: RngStream,
    pub timers: TimerSlab<P::Timer>,
    pub service: Option<Service>,
    pub busy: u32,
    pub queue: VecDeque<Queued<P::Msg>>,
    pub stats: NodeStats,
}

impl<P: Process> Node<P> {
    pub fn new(id: NodeId, name: &str, seed: u64, service: Option<Service>, clock: Clock) -> Self {
        Node {
            id,
            process: None,
            incarnation: 0,
            crash_times: Vec::new(),
            clock,
            disk: Disk::new(),
            rng: RngStream::new(seed, &format!("node/{name}")),
            service_rng: RngStream::new(seed, &format!("service/{name}")),
            timers: TimerSlab::default(),
            service,
            busy: 0,
            queue: VecDeque::new(),
            stats: NodeStats::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.process.is_some()
    }

    /// Whether a message sent by incarnation `inc` at `depart` never left because this
    /// node crashed first.
    pub fn crashed_before(&self, inc: u32, depart: SimTime) -> bool {
        inc != self.incarnation && self.crash_times.get(inc as usize).is_some_and(|&c| c < depart)
    }
}

//! A simulated node: its process, incarnation, clock, disk, random streams, timers, and
//! the service stage that makes work take time.
//!
//! Service model (optional per node): `workers` requests are handled at once; each takes a
//! service time drawn from a distribution (plus whatever the process adds with
//! `Context::busy`); further requests wait in a FIFO queue bounded at `queue` entries;
//! a request that finds the queue full is dropped (`DropReason::QueueFull`). A process's
//! callback runs when its request *starts* service; its replies leave when the service
//! ends. Timers bypass the queue. Nodes without a service model handle messages at once.

use super::Event;
use crate::process::clock::Clock;
use crate::process::disk::{Disk, DiskConfig};
use crate::process::{NodeId, Process, TimerSlab};
use crate::sim::{Dist, RngStream, SimDuration, SimTime};
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
    pub pauses: u64,
    pub clock_syncs: u64,
}

/// NTP-like synchronisation of a node's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockSync {
    pub interval: SimDuration,
    pub max_error: SimDuration,
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
    /// When each worker finishes its current request (a worker is free once this has
    /// passed). Tracking release times instead of scheduling a release event per request
    /// halves the events a busy node costs; an event is scheduled only for a waiting queue.
    pub free_at: Vec<SimTime>,
    pub queue: VecDeque<Queued<P::Msg>>,
    /// Periodic clock synchronisation, if any.
    pub sync: Option<ClockSync>,
    /// The node's own stream for clock synchronisation errors.
    pub clock_rng: RngStream,
    /// Gray failure: service times are multiplied by this.
    pub slow_factor: f64,
    /// Gray failure: added to the departure of every message the node sends.
    pub slow_latency: SimDuration,
    /// A stop-the-world pause holds the node's events here until it ends.
    pub paused: bool,
    pub held: Vec<Event<P::Msg>>,
    pub stats: NodeStats,
}

impl<P: Process> Node<P> {
    pub fn new(id: NodeId, name: &str, seed: u64, service: Option<Service>, clock: Clock) -> Self {
        assert!(service.as_ref().is_none_or(|s| s.workers > 0), "a service model has workers (validated)");
        Node {
            id,
            process: None,
            incarnation: 0,
            crash_times: Vec::new(),
            clock,
            disk: Disk::with_config(DiskConfig::default(), RngStream::new(seed, &format!("disk/{name}"))),
            rng: RngStream::new(seed, &format!("node/{name}")),
            service_rng: RngStream::new(seed, &format!("service/{name}")),
            timers: TimerSlab::default(),
            free_at: vec![SimTime::ZERO; service.as_ref().map_or(0, |s| s.workers as usize)],
            service,
            queue: VecDeque::new(),
            sync: None,
            clock_rng: RngStream::new(seed, &format!("clock/{name}")),
            slow_factor: 1.0,
            slow_latency: SimDuration::ZERO,
            paused: false,
            held: Vec::new(),
            stats: NodeStats::default(),
        }
    }

    /// Gives the node a disk with this configuration (its stream: `disk/<name>`).
    pub fn with_disk(mut self, config: DiskConfig, seed: u64, name: &str) -> Self {
        self.disk = Disk::with_config(config, RngStream::new(seed, &format!("disk/{name}")));
        self
    }

    /// Synchronises the node's clock periodically.
    pub fn with_sync(mut self, sync: Option<ClockSync>) -> Self {
        self.sync = sync;
        self
    }

    /// The worker that frees up first and when (`None` without a service model).
    pub fn first_free(&mut self) -> Option<(usize, SimTime)> {
        let workers = self.service.as_ref().map_or(0, |s| s.workers as usize);
        if self.free_at.len() != workers {
            self.free_at.resize(workers, SimTime::ZERO); // the service model was replaced
        }
        let mut best: Option<(usize, SimTime)> = None;
        for (w, &t) in self.free_at.iter().enumerate() {
            if best.is_none_or(|(_, b)| t < b) {
                best = Some((w, t));
            }
        }
        best
    }

    pub fn is_up(&self) -> bool {
        self.process.is_some()
    }

    /// Whether a message sent by incarnation `inc` at `depart` never left because this
    /// node crashed first.
    pub fn crashed_before(&self, inc: u32, depart: SimTime) -> bool {
        debug_assert!(inc <= self.incarnation, "an incarnation that sent has begun");
        debug_assert_eq!(
            self.crash_times.len(),
            self.incarnation as usize,
            "incarnation k ended at crash_times[k]"
        );
        inc != self.incarnation && self.crash_times.get(inc as usize).is_some_and(|&c| c < depart)
    }
}

//! The world: what is simulated. It is the kernel's event handler.
//!
//! The world owns the nodes (processes, clocks, disks, service stages), the network, the
//! fault plan and the history. It turns kernel events into process callbacks and carries
//! out what the callbacks record. It is generic over one process type `P`; several kinds
//! of process share a run through an enum `P` (static dispatch). Faults are applied by
//! `inject` (same type, its own file).
//!
//! Ordering contract: events at the same instant run in the order they were scheduled.
//! A callback's sends are routed in the order the callback made them. A paused node's
//! events are held and re-scheduled, in their original order, when the pause ends.

pub mod fault;
mod inject;
pub mod network;
pub mod node;

use crate::history::{History, Violation};
use crate::process::disk::Disk;
use crate::process::{Command, Message, NodeContext, NodeId, Process, TimerDue, TimerId};
use crate::sim::{EventTag, Handler, RngStream, Scheduler, SimDuration, SimError, SimTime};
use fault::{FaultAction, Undo};
use network::{DropReason, Network};
use node::{Node, Queued};
use std::collections::BTreeMap;

/// Builds a node's process, at the start and at every restart, from its durable disk.
pub type Spawner<P> = Box<dyn Fn(NodeId, &Disk) -> P>;

/// An online checker: called after every callback with the process that just ran, the
/// instant its work ended, and the list to record violations in.
pub type Monitor<P> = Box<dyn FnMut(SimTime, NodeId, &P, &mut Vec<Violation>)>;

/// A kernel event of the world.
#[derive(Debug)]
pub enum Event<M> {
    Deliver { src: NodeId, dst: NodeId, src_inc: u32, dst_inc: u32, depart: SimTime, msg: M },
    Timer { node: NodeId, inc: u32, id: TimerId },
    WorkerDone { node: NodeId, inc: u32 },
    Fault { action: u32 },
    Undo { record: u32 },
    ClockSync { node: NodeId },
}

impl<M> Event<M> {
    pub const KIND_DELIVER: u32 = 1;
    pub const KIND_TIMER: u32 = 2;
    pub const KIND_WORKER: u32 = 3;
    pub const KIND_FAULT: u32 = 4;
    pub const KIND_UNDO: u32 = 5;
    pub const KIND_SYNC: u32 = 6;

    /// The node whose process the event concerns (held while that node is paused).
    fn target(&self) -> Option<NodeId> {
        match self {
            Event::Deliver { dst, .. } => Some(*dst),
            Event::Timer { node, .. } | Event::WorkerDone { node, .. } => Some(*node),
            Event::Fault { .. } | Event::Undo { .. } | Event::ClockSync { .. } => None,
        }
    }
}

/// The simulated world.
pub struct World<P: Process> {
    pub nodes: Vec<Node<P>>,
    pub net: Network,
    pub history: History,
    spawner: Spawner<P>,
    plan: Vec<FaultAction>,
    /// The nodes random fault targets draw from (the topology's nodes, not clients).
    pool: Vec<NodeId>,
    undo: BTreeMap<u32, Undo>,
    fault_rng: RngStream,
    outbox: Vec<Command<P::Msg>>,
    max_in_flight: u64,
    monitor: Option<Monitor<P>>,
}

impl<P: Process> World<P> {
    pub fn new(
        nodes: Vec<Node<P>>,
        net: Network,
        spawner: Spawner<P>,
        plan: Vec<FaultAction>,
        fault_rng: RngStream,
        max_in_flight: u64,
    ) -> Self {
        assert_eq!(nodes.len(), net.topology.len(), "one node per topology entry");
        let pool = nodes.iter().map(|n| n.id).collect();
        World {
            nodes,
            net,
            history: History::default(),
            spawner,
            plan,
            pool,
            undo: BTreeMap::new(),
            fault_rng,
            outbox: Vec::new(),
            max_in_flight,
            monitor: None,
        }
    }

    /// Checks properties online, after every callback.
    pub fn with_monitor(mut self, monitor: Monitor<P>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Restricts random fault targets to these nodes (by default: every node).
    pub fn with_fault_pool(mut self, pool: Vec<NodeId>) -> Self {
        self.pool = pool;
        self
    }

    /// Starts every node's process at time zero, schedules the fault plan and clock syncs.
    pub fn start(&mut self, sched: &mut Scheduler<Event<P::Msg>>) -> Result<(), SimError> {
        for (i, action) in self.plan.iter().enumerate() {
            sched.schedule_at(action.at, Event::Fault { action: i as u32 });
        }
        for i in 0..self.nodes.len() {
            if let Some(sync) = self.nodes[i].sync {
                sched.schedule_in(sync.interval, Event::ClockSync { node: NodeId(i as u32) });
            }
            self.boot(sched, NodeId(i as u32))?;
        }
        Ok(())
    }

    /// Lets every live process record what it still holds (e.g. unfinished operations),
    /// then checks the message accounting.
    pub fn finish(&mut self, sched: &mut Scheduler<Event<P::Msg>>) {
        for i in 0..self.nodes.len() {
            self.callback(sched.now(), NodeId(i as u32), SimDuration::ZERO, |p, cx| p.record_unfinished(cx));
            self.outbox.clear();
        }
        assert!(self.net.stats.balanced(), "every message is accounted for: {:?}", self.net.stats);
        assert_eq!(
            self.net.stats.queued,
            self.queued_total(),
            "'queued' counts the requests waiting at nodes"
        );
        #[cfg(debug_assertions)]
        for node in &self.nodes {
            node.timers.check_invariants();
            node.disk.check_invariants();
        }
    }

    /// The requests waiting in every node's queue (what `NetStats::queued` counts). O(nodes).
    fn queued_total(&self) -> u64 {
        self.nodes.iter().map(|n| n.queue.len() as u64).sum()
    }

    pub fn node_name(&self, id: NodeId) -> &str {
        &self.net.topology.info(id).name
    }

    fn boot(&mut self, sched: &mut Scheduler<Event<P::Msg>>, id: NodeId) -> Result<(), SimError> {
        let node = &mut self.nodes[id.index()];
        assert!(!node.is_up(), "only a down node boots");
        assert!(
            node.queue.is_empty() && node.held.is_empty() && !node.paused && node.timers.armed() == 0,
            "a node boots with no request waiting, no event held, unpaused and no timer armed"
        );
        assert_eq!(
            node.crash_times.len(),
            node.incarnation as usize,
            "incarnation k ended at crash_times[k]"
        );
        node.process = Some((self.spawner)(id, &node.disk));
        let elapsed = self.callback(sched.now(), id, SimDuration::ZERO, |p, cx| p.on_start(cx));
        self.flush(sched, id, elapsed)
    }

    /// Runs one callback on a live process; returns the callback's final elapsed work, or
    /// `None` if the node is down.
    fn callback(
        &mut self,
        now: SimTime,
        id: NodeId,
        elapsed: SimDuration,
        f: impl FnOnce(&mut P, &mut NodeContext<'_, P>),
    ) -> Option<SimDuration> {
        let node = &mut self.nodes[id.index()];
        let process = node.process.as_mut()?;
        debug_assert!(self.outbox.is_empty(), "a callback starts with an empty outbox");
        let mut cx = NodeContext {
            node: id,
            incarnation: node.incarnation,
            true_now: now,
            elapsed,
            clock: &node.clock,
            disk: &mut node.disk,
            rng: &mut node.rng,
            timers: &mut node.timers,
            outbox: &mut self.outbox,
            history: &mut self.history,
        };
        f(process, &mut cx);
        debug_assert!(cx.elapsed >= elapsed, "a callback's work only adds up");
        let elapsed = cx.elapsed;
        if let Some(monitor) = self.monitor.as_mut() {
            monitor(now + elapsed, id, process, &mut self.history.violations);
        }
        Some(elapsed)
    }

    /// Carries out the commands a callback of `src` recorded.
    fn flush(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        src: NodeId,
        elapsed: Option<SimDuration>,
    ) -> Result<(), SimError> {
        if elapsed.is_none() {
            assert!(self.outbox.is_empty(), "a down node records no commands");
            return Ok(());
        }
        let now = sched.now();
        let node = &self.nodes[src.index()];
        let (src_inc, slow) = (node.incarnation, node.slow_latency);
        let mut outbox = std::mem::take(&mut self.outbox);
        for cmd in outbox.drain(..) {
            match cmd {
                Command::Send { dst, msg, after } => {
                    self.send(sched, src, dst, (src_inc, now + after + slow), msg)
                }
                Command::Timer { id, after } => {
                    sched.schedule_at(now + after, Event::Timer { node: src, inc: src_inc, id });
                }
            }
        }
        self.outbox = outbox;
        if self.net.stats.in_flight > self.max_in_flight {
            return Err(SimError::Limit {
                limit: "max_in_flight",
                value: self.net.stats.in_flight,
                max: self.max_in_flight,
            });
        }
        Ok(())
    }

    /// Routes one message through the network and schedules its copies.
    fn send(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        src: NodeId,
        dst: NodeId,
        (src_inc, depart): (u32, SimTime),
        mut msg: P::Msg,
    ) {
        let dst_inc = self.nodes[dst.index()].incarnation;
        let in_flight = self.net.stats.in_flight;
        let Ok(arrivals) = self.net.send(depart, src, dst, msg.wire_size()) else {
            debug_assert_eq!(
                self.net.stats.in_flight, in_flight,
                "a message dropped at once is not in flight"
            );
            return;
        };
        debug_assert_eq!(
            self.net.stats.in_flight,
            in_flight + 1 + u64::from(arrivals.duplicate.is_some()),
            "every copy scheduled for delivery is counted in flight"
        );
        if let Some(dup) = arrivals.duplicate {
            let mut copy = msg.clone();
            if dup.corrupt {
                self.net.corrupt(&mut copy);
            }
            sched.schedule_at(dup.at, Event::Deliver { src, dst, src_inc, dst_inc, depart, msg: copy });
        }
        if arrivals.first.corrupt {
            self.net.corrupt(&mut msg);
        }
        sched.schedule_at(arrivals.first.at, Event::Deliver { src, dst, src_inc, dst_inc, depart, msg });
    }

    fn on_deliver(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        src: NodeId,
        dst: NodeId,
        (src_inc, dst_inc, depart): (u32, u32, SimTime),
        msg: P::Msg,
    ) -> Result<(), SimError> {
        assert!(self.net.stats.in_flight > 0, "a delivered message was in flight");
        self.net.stats.in_flight -= 1;
        let node = &self.nodes[dst.index()];
        // Paired with `send`, which addresses a message to the incarnations live then.
        debug_assert!(dst_inc <= node.incarnation, "a message is addressed to an incarnation that has begun");
        assert!(
            src_inc <= self.nodes[src.index()].incarnation,
            "a message comes from an incarnation that has begun"
        );
        let verdict = if self.net.is_blocked(src, dst) {
            Some(DropReason::Partition)
        } else if self.nodes[src.index()].crashed_before(src_inc, depart) {
            Some(DropReason::SenderCrashed)
        } else if !node.is_up() {
            Some(DropReason::NodeDown)
        } else if node.incarnation != dst_inc {
            Some(DropReason::StaleIncarnation)
        } else {
            None
        };
        if let Some(reason) = verdict {
            self.net.stats.drop(reason);
            return Ok(());
        }
        let now = sched.now();
        let node = &mut self.nodes[dst.index()];
        let Some(capacity) = node.service.as_ref().map(|s| s.queue) else {
            return self.serve(sched, dst, src, msg, None);
        };
        let (worker, free) = node.first_free().expect("a service model has workers");
        if node.queue.is_empty() && free <= now {
            return self.serve(sched, dst, src, msg, Some(worker));
        }
        if node.queue.len() >= capacity {
            self.net.stats.drop(DropReason::QueueFull);
            return Ok(());
        }
        if node.queue.is_empty() {
            // The first waiter: wake the queue when a worker frees up.
            sched.schedule_at(free.max(now), Event::WorkerDone { node: dst, inc: node.incarnation });
        }
        node.queue.push_back(Queued { src, msg, enqueued: now });
        node.stats.max_queue_depth = node.stats.max_queue_depth.max(node.queue.len() as u64);
        self.net.stats.queued += 1;
        debug_assert_eq!(
            self.net.stats.queued,
            self.queued_total(),
            "'queued' counts the requests waiting at nodes"
        );
        Ok(())
    }

    /// Hands `msg` to `dst`'s process; with a `worker`, occupies it for the service time.
    fn serve(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        dst: NodeId,
        src: NodeId,
        msg: P::Msg,
        worker: Option<usize>,
    ) -> Result<(), SimError> {
        let now = sched.now();
        let node = &mut self.nodes[dst.index()];
        if let Some(w) = worker {
            // Paired with `first_free` in `on_deliver` and `on_worker_done`.
            debug_assert!(node.free_at[w] <= now, "a request starts on a free worker");
        }
        let start = match (&node.service, worker) {
            (Some(service), Some(_)) => {
                let t = service.time.sample(&mut node.service_rng);
                if node.slow_factor == 1.0 {
                    t
                } else {
                    SimDuration((t.0 as f64 * node.slow_factor).round() as u64)
                }
            }
            _ => SimDuration::ZERO,
        };
        node.stats.messages_handled += 1;
        self.net.stats.delivered += 1;
        let elapsed = self.callback(now, dst, start, |p, cx| p.on_message(cx, src, msg));
        let elapsed = elapsed.expect("a served node is up");
        if let Some(w) = worker {
            let node = &mut self.nodes[dst.index()];
            node.stats.busy_ns += elapsed.0;
            node.free_at[w] = now + elapsed;
        }
        self.flush(sched, dst, Some(elapsed))
    }

    /// A worker has freed up while requests wait: serve the first, and wake the queue
    /// again for the next one.
    fn on_worker_done(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        id: NodeId,
        inc: u32,
    ) -> Result<(), SimError> {
        let now = sched.now();
        let node = &mut self.nodes[id.index()];
        if node.incarnation != inc || !node.is_up() {
            return Ok(());
        }
        // One wake-up is pending while requests wait, and only then (see `on_deliver`).
        debug_assert!(!node.queue.is_empty(), "a wake-up finds a request waiting");
        let Some(q) = node.queue.pop_front() else {
            return Ok(());
        };
        let (worker, free) = node.first_free().expect("a queue implies workers");
        assert!(free <= now, "the queue wakes when a worker is free");
        assert!(self.net.stats.queued > 0, "a waiting request is counted as queued");
        self.net.stats.queued -= 1;
        self.serve(sched, id, q.src, q.msg, Some(worker))?;
        let node = &mut self.nodes[id.index()];
        if !node.queue.is_empty() && node.is_up() {
            let (_, free) = node.first_free().expect("a queue implies workers");
            sched.schedule_at(free.max(now), Event::WorkerDone { node: id, inc: node.incarnation });
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        id: NodeId,
        inc: u32,
        timer: TimerId,
    ) -> Result<(), SimError> {
        let node = &mut self.nodes[id.index()];
        if node.incarnation != inc || !node.is_up() {
            node.stats.stale_timers += 1;
            return Ok(());
        }
        let kind = match node.timers.due(timer, sched.now()) {
            TimerDue::Fire(kind) => kind,
            TimerDue::Later(at) => {
                assert!(at > sched.now(), "a timer re-armed for later fires later");
                sched.schedule_at(at, Event::Timer { node: id, inc, id: timer });
                return Ok(());
            }
            TimerDue::Stale => return Ok(()), // cancelled
        };
        node.stats.timers_fired += 1;
        let elapsed = self.callback(sched.now(), id, SimDuration::ZERO, |p, cx| p.on_timer(cx, timer, kind));
        self.flush(sched, id, elapsed)
    }

    /// Sets the node's clock to true time plus an error uniform in [-max_error, max_error],
    /// then schedules the next synchronisation.
    fn on_clock_sync(&mut self, sched: &mut Scheduler<Event<P::Msg>>, id: NodeId) {
        let now = sched.now();
        let node = &mut self.nodes[id.index()];
        let sync = node.sync.expect("only synchronised nodes get sync events");
        let span = sync.max_error.0.saturating_mul(2);
        let error = node.clock_rng.between(0, span) as i64 - sync.max_error.0 as i64;
        let current = node.clock.local(now).0 as i64;
        node.clock.step(now, now.0 as i64 + error - current);
        node.stats.clock_syncs += 1;
        sched.schedule_in(sync.interval, Event::ClockSync { node: id });
    }
}

impl<P: Process> Handler for World<P> {
    type Event = Event<P::Msg>;

    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event) -> Result<(), SimError> {
        if let Some(node) = event.target() {
            let n = &mut self.nodes[node.index()];
            if n.paused {
                assert!(n.is_up(), "only a live node is paused");
                n.held.push(event);
                return Ok(());
            }
        }
        let result = match event {
            Event::Deliver { src, dst, src_inc, dst_inc, depart, msg } => {
                self.on_deliver(sched, src, dst, (src_inc, dst_inc, depart), msg)
            }
            Event::Timer { node, inc, id } => self.on_timer(sched, node, inc, id),
            Event::WorkerDone { node, inc } => self.on_worker_done(sched, node, inc),
            Event::Fault { action } => self.on_fault(sched, action),
            Event::Undo { record } => self.on_undo(sched, record),
            Event::ClockSync { node } => {
                self.on_clock_sync(sched, node);
                Ok(())
            }
        };
        debug_assert!(self.net.stats.balanced(), "every message is accounted for: {:?}", self.net.stats);
        result
    }

    fn tag(&self, event: &Self::Event) -> EventTag {
        type E = Event<()>;
        let (kind, node) = match event {
            Event::Deliver { dst, .. } => (E::KIND_DELIVER, dst.0),
            Event::Timer { node, .. } => (E::KIND_TIMER, node.0),
            Event::WorkerDone { node, .. } => (E::KIND_WORKER, node.0),
            Event::Fault { action } => (E::KIND_FAULT, *action),
            Event::Undo { record } => (E::KIND_UNDO, *record),
            Event::ClockSync { node } => (E::KIND_SYNC, node.0),
        };
        EventTag { kind, node }
    }
}

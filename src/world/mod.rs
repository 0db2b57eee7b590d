//! The world: what is simulated. It is the kernel's event handler.
//!
//! The world owns the nodes (processes, clocks, disks, service stages), the network, the
//! fault plan and the history. It turns kernel events into process callbacks and carries
//! out what the callbacks record. It is generic over one process type `P`; several kinds
//! of process share a run through an enum `P` (static dispatch).
//!
//! Ordering contract: events at the same instant run in the order they were scheduled.
//! A callback's sends are routed in the order the callback made them.

pub mod clock;
pub mod disk;
pub mod fault;
pub mod network;
pub mod node;

use crate::process::{Command, Context, NodeId, Process, TimerId};
use crate::sim::history::{FaultRecord, History};
use crate::sim::{EventTag, Handler, RngStream, Scheduler, SimDuration, SimError, SimTime};
use disk::Disk;
use fault::{partition_pairs, FaultAction, FaultKind, Target, Undo};
use network::{DropReason, Network};
use node::{Node, Queued};
use std::collections::BTreeMap;

/// Builds a node's process, at the start and at every restart, from its durable disk.
pub type Spawner<P> = Box<dyn Fn(NodeId, &Disk) -> P>;

/// A kernel event of the world.
#[derive(Debug)]
pub enum Event<M> {
    Deliver {
        src: NodeId,
        dst: NodeId,
        src_inc: u32,
        dst_inc: u32,
        depart: SimTime,
        msg: M,
    },
    Timer {
        node: NodeId,
        inc: u32,
        id: TimerId,
    },
    WorkerDone {
        node: NodeId,
        inc: u32,
    },
    Fault {
        action: u32,
    },
    Undo {
        record: u32,
    },
}

impl<M> Event<M> {
    pub const KIND_DELIVER: u32 = 1;
    pub const KIND_TIMER: u32 = 2;
    pub const KIND_WORKER: u32 = 3;
    pub const KIND_FAULT: u32 = 4;
    pub const KIND_UNDO: u32 = 5;
}

/// The simulated world.
pub struct World<P: Process> {
    pub nodes: Vec<Node<P>>,
    pub net: Network,
    pub history: History,
    spawner: Spawner<P>,
    plan: Vec<FaultAction>,
    undo: BTreeMap<u32, Undo>,
    fault_rng: RngStream,
    outbox: Vec<Command<P::Msg>>,
    max_in_flight: u64,
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
        World {
            nodes,
            net,
            history: History::default(),
            spawner,
            plan,
            undo: BTreeMap::new(),
            fault_rng,
            outbox: Vec::new(),
            max_in_flight,
        }
    }

    /// Starts every node's process at time zero and schedules the fault plan.
    pub fn start(&mut self, sched: &mut Scheduler<Event<P::Msg>>) -> Result<(), SimError> {
        for (i, action) in self.plan.iter().enumerate() {
            sched.schedule_at(action.at, Event::Fault { action: i as u32 });
        }
        for i in 0..self.nodes.len() {
            self.boot(sched, NodeId(i as u32))?;
        }
        Ok(())
    }

    /// Lets every live process record what it still holds (e.g. unfinished operations),
    /// then checks the message accounting.
    pub fn finish(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        finish: impl Fn(&mut P, &mut Context<'_, P>),
    ) {
        for i in 0..self.nodes.len() {
            self.callback(sched.now(), NodeId(i as u32), SimDuration::ZERO, |p, cx| {
                finish(p, cx)
            });
            self.outbox.clear();
        }
        assert!(
            self.net.stats.balanced(),
            "every message is accounted for: {:?}",
            self.net.stats
        );
    }

    pub fn node_name(&self, id: NodeId) -> &str {
        &self.net.topology.info(id).name
    }

    fn boot(&mut self, sched: &mut Scheduler<Event<P::Msg>>, id: NodeId) -> Result<(), SimError> {
        let node = &mut self.nodes[id.index()];
        assert!(!node.is_up(), "only a down node boots");
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
        f: impl FnOnce(&mut P, &mut Context<'_, P>),
    ) -> Option<SimDuration> {
        let node = &mut self.nodes[id.index()];
        let process = node.process.as_mut()?;
        let mut cx = Context {
            node: id,
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
        Some(cx.elapsed)
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
        let src_inc = self.nodes[src.index()].incarnation;
        for cmd in self.outbox.drain(..) {
            match cmd {
                Command::Send { dst, msg, after } => {
                    let depart = now + after;
                    let dst_inc = self.nodes[dst.index()].incarnation;
                    let size = crate::process::Message::wire_size(&msg);
                    if let Ok(arrivals) = self.net.send(depart, src, dst, size) {
                        if let Some(dup) = arrivals.duplicate {
                            let ev = Event::Deliver {
                                src,
                                dst,
                                src_inc,
                                dst_inc,
                                depart,
                                msg: msg.clone(),
                            };
                            sched.schedule_at(dup, ev);
                        }
                        sched.schedule_at(
                            arrivals.first,
                            Event::Deliver {
                                src,
                                dst,
                                src_inc,
                                dst_inc,
                                depart,
                                msg,
                            },
                        );
                    }
                }
                Command::Timer { id, after } => {
                    sched.schedule_at(
                        now + after,
                        Event::Timer {
                            node: src,
                            inc: src_inc,
                            id,
                        },
                    );
                }
            }
        }
        if self.net.stats.in_flight > self.max_in_flight {
            return Err(SimError::Limit {
                limit: "max_in_flight",
                value: self.net.stats.in_flight,
                max: self.max_in_flight,
            });
        }
        Ok(())
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
        let node = &mut self.nodes[dst.index()];
        match &node.service {
            None => self.serve(sched, dst, src, msg, false),
            Some(service) if node.busy < service.workers => self.serve(sched, dst, src, msg, true),
            Some(service) if node.queue.len() < service.queue => {
                node.queue.push_back(Queued {
                    src,
                    msg,
                    enqueued: sched.now(),
                });
                node.stats.max_queue_depth = node.stats.max_queue_depth.max(node.queue.len() as u64);
                self.net.stats.queued += 1;
                Ok(())
            }
            Some(_) => {
                self.net.stats.drop(DropReason::QueueFull);
                Ok(())
            }
        }
    }

    /// Hands `msg` to `dst`'s process; with `worker`, occupies a worker for the service time.
    fn serve(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        dst: NodeId,
        src: NodeId,
        msg: P::Msg,
        worker: bool,
    ) -> Result<(), SimError> {
        let node = &mut self.nodes[dst.index()];
        let start = match (&node.service, worker) {
            (Some(service), true) => {
                node.busy += 1;
                assert!(
                    node.busy <= service.workers,
                    "never more busy workers than workers"
                );
                service.time.sample(&mut node.service_rng)
            }
            _ => SimDuration::ZERO,
        };
        node.stats.messages_handled += 1;
        self.net.stats.delivered += 1;
        let elapsed = self.callback(sched.now(), dst, start, |p, cx| p.on_message(cx, src, msg));
        let elapsed = elapsed.expect("a served node is up");
        if worker {
            let node = &mut self.nodes[dst.index()];
            node.stats.busy_ns += elapsed.0;
            sched.schedule_in(
                elapsed,
                Event::WorkerDone {
                    node: dst,
                    inc: node.incarnation,
                },
            );
        }
        self.flush(sched, dst, Some(elapsed))
    }

    fn on_worker_done(
        &mut self,
        sched: &mut Scheduler<Event<P::Msg>>,
        id: NodeId,
        inc: u32,
    ) -> Result<(), SimError> {
        let node = &mut self.nodes[id.index()];
        if node.incarnation != inc || !node.is_up() {
            return Ok(());
        }
        assert!(node.busy > 0, "a finishing worker was busy");
        node.busy -= 1;
        match node.queue.pop_front() {
            Some(q) => {
                self.net.stats.queued -= 1;
                self.serve(sched, id, q.src, q.msg, true)
            }
            None => Ok(()),
        }
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
        let Some(kind) = node.timers.fire(timer) else {
            return Ok(()); // cancelled
        };
        node.stats.timers_fired += 1;
        let elapsed = self.callback(sched.now(), id, SimDuration::ZERO, |p, cx| {
            p.on_timer(cx, timer, kind)
        });
        self.flush(sched, id, elapsed)
    }

    /// Resolves a target to node ids at this instant.
    fn resolve(&mut self, target: &Target) -> Vec<NodeId> {
        match target {
            Target::Node(id) => vec![*id],
            Target::Nodes(ids) => ids.clone(),
            Target::Zone(zone) => {
                let topo = &self.net.topology;
                topo.ids().filter(|&id| &topo.info(id).zone == zone).collect()
            }
            Target::Crashed => self.nodes.iter().filter(|n| !n.is_up()).map(|n| n.id).collect(),
            Target::Role(role) => self
                .nodes
                .iter()
                .filter(|n| n.process.as_ref().is_some_and(|p| p.has_role(role)))
                .map(|n| n.id)
                .collect(),
            Target::RandomNode => {
                let live: Vec<NodeId> = self.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect();
                if live.is_empty() {
                    return live;
                }
                vec![live[self.fault_rng.below(live.len() as u64) as usize]]
            }
        }
    }

    fn crash(&mut self, now: SimTime, id: NodeId) -> bool {
        let node = &mut self.nodes[id.index()];
        if !node.is_up() {
            return false;
        }
        node.process = None;
        node.crash_times.push(now);
        node.incarnation += 1;
        node.disk.crash();
        node.timers = Default::default();
        node.busy = 0;
        node.stats.crashes += 1;
        let purged = node.queue.len() as u64;
        node.queue.clear();
        self.net.stats.queued -= purged;
        for _ in 0..purged {
            self.net.stats.drop(DropReason::Crash);
        }
        true
    }

    fn on_fault(&mut self, sched: &mut Scheduler<Event<P::Msg>>, index: u32) -> Result<(), SimError> {
        let action = self.plan[index as usize].clone();
        let now = sched.now();
        let (targets, undo) = match &action.kind {
            FaultKind::Crash(target) => {
                let ids: Vec<NodeId> = self
                    .resolve(target)
                    .into_iter()
                    .filter(|&id| self.crash(now, id))
                    .collect();
                let undo = ids
                    .iter()
                    .map(|&id| (id, self.nodes[id.index()].incarnation))
                    .collect();
                (ids, Some(Undo::Restart(undo)))
            }
            FaultKind::Restart(target) => {
                let ids: Vec<NodeId> = self
                    .resolve(target)
                    .into_iter()
                    .filter(|&id| !self.nodes[id.index()].is_up())
                    .collect();
                for &id in &ids {
                    self.restart(sched, id)?;
                }
                (ids, None)
            }
            FaultKind::Partition { groups, one_way } => {
                let pairs = partition_pairs(groups, *one_way);
                for &(a, b) in &pairs {
                    self.net.block(a, b, true);
                }
                (
                    groups.iter().flatten().copied().collect(),
                    Some(Undo::Unblock(pairs)),
                )
            }
            FaultKind::Heal => {
                self.net.heal_all();
                // Pending timed undos of partitions have nothing left to lift.
                self.undo.retain(|_, u| !matches!(u, Undo::Unblock(_)));
                self.close_records(now, |k| k.starts_with("partition") || k.starts_with("one_way"));
                (Vec::new(), None)
            }
        };
        let record = self.history.faults.len() as u32;
        let names = targets.iter().map(|&id| self.node_name(id).to_string()).collect();
        let open_ended = matches!(action.kind, FaultKind::Crash(_) | FaultKind::Partition { .. });
        self.history.faults.push(FaultRecord {
            index: index as usize,
            kind: action.kind.name().to_string(),
            targets: names,
            start: now,
            end: if open_ended { None } else { Some(now) },
        });
        if let (Some(d), Some(undo)) = (action.duration, undo) {
            self.undo.insert(record, undo);
            sched.schedule_in(d, Event::Undo { record });
        }
        Ok(())
    }

    fn restart(&mut self, sched: &mut Scheduler<Event<P::Msg>>, id: NodeId) -> Result<(), SimError> {
        self.nodes[id.index()].stats.restarts += 1;
        let name = self.node_name(id).to_string();
        // The crash that ended this node's last incarnation ends now.
        if let Some(rec) = self
            .history
            .faults
            .iter_mut()
            .rev()
            .find(|r| r.kind == "crash" && r.end.is_none() && r.targets.contains(&name))
        {
            rec.end = Some(sched.now());
        }
        self.boot(sched, id)
    }

    fn close_records(&mut self, now: SimTime, kind: impl Fn(&str) -> bool) {
        for rec in self
            .history
            .faults
            .iter_mut()
            .filter(|r| r.end.is_none() && kind(&r.kind))
        {
            rec.end = Some(now);
        }
    }

    fn on_undo(&mut self, sched: &mut Scheduler<Event<P::Msg>>, record: u32) -> Result<(), SimError> {
        let Some(undo) = self.undo.remove(&record) else {
            return Ok(()); // overtaken by a heal
        };
        match undo {
            Undo::Restart(ids) => {
                for (id, inc) in ids {
                    let node = &self.nodes[id.index()];
                    if !node.is_up() && node.incarnation == inc {
                        self.restart(sched, id)?;
                    }
                }
            }
            Undo::Unblock(pairs) => {
                for (a, b) in pairs {
                    self.net.block(a, b, false);
                }
                let rec = &mut self.history.faults[record as usize];
                if rec.end.is_none() {
                    rec.end = Some(sched.now());
                }
            }
        }
        Ok(())
    }
}

impl<P: Process> Handler for World<P> {
    type Event = Event<P::Msg>;

    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event) -> Result<(), SimError> {
        match event {
            Event::Deliver {
                src,
                dst,
                src_inc,
                dst_inc,
                depart,
                msg,
            } => self.on_deliver(sched, src, dst, (src_inc, dst_inc, depart), msg),
            Event::Timer { node, inc, id } => self.on_timer(sched, node, inc, id),
            Event::WorkerDone { node, inc } => self.on_worker_done(sched, node, inc),
            Event::Fault { action } => self.on_fault(sched, action),
            Event::Undo { record } => self.on_undo(sched, record),
        }
    }

    fn tag(&self, event: &Self::Event) -> EventTag {
        type E = Event<()>;
        let (kind, node) = match event {
            Event::Deliver { dst, .. } => (E::KIND_DELIVER, dst.0),
            Event::Timer { node, .. } => (E::KIND_TIMER, node.0),
            Event::WorkerDone { node, .. } => (E::KIND_WORKER, node.0),
            Event::Fault { action } => (E::KIND_FAULT, *action),
            Event::Undo { record } => (E::KIND_UNDO, *record),
        };
        EventTag { kind, node }
    }
}

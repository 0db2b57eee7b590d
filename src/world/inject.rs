//! Applying the fault plan to the world: resolving targets, firing actions, undoing them.
//!
//! Every fired action is written to the history's fault log with the node names it touched
//! and, once its effect ends (a restart, a heal, the end of its duration), its end time.
//! Random targets draw from the world's `faults` stream only, so adding a fault never
//! changes the network's, the nodes' or the workload's draws.

use super::fault::{partition_pairs, FaultKind, Target, Undo};
use super::network::{DropReason, Rule};
use super::{Event, World};
use crate::history::{FaultName, FaultRecord};
use crate::process::{NodeId, Process};
use crate::sim::{Scheduler, SimError, SimTime};
use std::collections::BTreeSet;

type Sched<P> = Scheduler<Event<<P as Process>::Msg>>;

impl<P: Process> World<P> {
    /// Resolves a target to node ids at this instant.
    fn resolve(&mut self, target: &Target) -> Vec<NodeId> {
        let topo = &self.net.topology;
        match target {
            Target::Node(id) => vec![*id],
            Target::Nodes(ids) => ids.clone(),
            Target::Zone(zone) => topo.ids().filter(|&id| &topo.info(id).zone == zone).collect(),
            Target::Region(region) => topo.ids().filter(|&id| &topo.info(id).region == region).collect(),
            Target::Crashed => self.nodes.iter().filter(|n| !n.is_up()).map(|n| n.id).collect(),
            Target::Role(role) => self
                .nodes
                .iter()
                .filter(|n| n.process.as_ref().is_some_and(|p| p.has_role(role)))
                .map(|n| n.id)
                .collect(),
            Target::All => self.pool.clone(),
            Target::RandomNode => {
                let live: Vec<NodeId> =
                    self.pool.iter().copied().filter(|id| self.nodes[id.index()].is_up()).collect();
                self.pick(live, 1)
            }
            Target::RandomMinority => self.pick(self.pool.clone(), (self.pool.len().saturating_sub(1)) / 2),
            Target::RandomMajority => self.pick(self.pool.clone(), self.pool.len() / 2 + 1),
            Target::RandomNodes(k) => self.pick(self.pool.clone(), *k as usize),
            Target::OneWithRole(role) => {
                let with = self.resolve(&Target::Role(role.clone()));
                self.pick(with, 1)
            }
            Target::MinorityWithRole(role) => {
                let mut with = self.resolve(&Target::Role(role.clone()));
                let size = (self.pool.len().saturating_sub(1)) / 2;
                let rest: Vec<NodeId> = self.pool.iter().copied().filter(|id| !with.contains(id)).collect();
                let more = size.saturating_sub(with.len());
                with.extend(self.pick(rest, more));
                with.sort();
                with
            }
        }
    }

    /// `k` distinct nodes of `from`, drawn from the faults' stream, in id order.
    fn pick(&mut self, mut from: Vec<NodeId>, k: usize) -> Vec<NodeId> {
        let k = k.min(from.len());
        for i in 0..k {
            let j = i + self.fault_rng.below((from.len() - i) as u64) as usize;
            from.swap(i, j);
        }
        from.truncate(k);
        from.sort();
        from
    }

    pub(super) fn crash(&mut self, now: SimTime, id: NodeId) -> bool {
        if !self.nodes[id.index()].is_up() {
            return false;
        }
        self.callback(now, id, crate::sim::SimDuration::ZERO, |p, cx| p.record_unfinished(cx));
        self.outbox.clear();
        let node = &mut self.nodes[id.index()];
        node.process = None;
        node.crash_times.push(now);
        node.incarnation += 1;
        assert_eq!(
            node.crash_times.len(),
            node.incarnation as usize,
            "incarnation k ended at crash_times[k]"
        );
        node.disk.crash();
        #[cfg(debug_assertions)]
        node.timers.check_invariants();
        node.timers = Default::default();
        node.free_at.fill(SimTime::ZERO);
        node.paused = false;
        node.stats.crashes += 1;
        let purged = node.queue.len() as u64;
        node.queue.clear();
        let held = std::mem::take(&mut node.held);
        assert!(self.net.stats.queued >= purged, "the requests waiting at a node are counted as queued");
        self.net.stats.queued -= purged;
        for _ in 0..purged {
            self.net.stats.drop(DropReason::Crash);
        }
        for event in held {
            if let Event::Deliver { .. } = event {
                assert!(self.net.stats.in_flight > 0, "a held message is counted in flight");
                self.net.stats.in_flight -= 1;
                self.net.stats.drop(DropReason::Crash);
            }
        }
        debug_assert!(self.net.stats.balanced(), "a crash accounts for what it purges: {:?}", self.net.stats);
        true
    }

    fn restart(&mut self, sched: &mut Sched<P>, id: NodeId) -> Result<(), SimError> {
        self.nodes[id.index()].stats.restarts += 1;
        let name = self.node_name(id).to_string();
        // The crash that ended this node's last incarnation ends now.
        if let Some(rec) = self
            .history
            .faults
            .iter_mut()
            .rev()
            .find(|r| r.kind == FaultName::Crash && r.end.is_none() && r.targets.contains(&name))
        {
            rec.end = Some(sched.now());
        }
        self.boot(sched, id)
    }

    /// Ends a pause: the held events run now, in the order they arrived.
    fn resume(&mut self, sched: &mut Sched<P>, id: NodeId) {
        let node = &mut self.nodes[id.index()];
        // Paused while up, and the same incarnation (checked by the undo): still up.
        assert!(node.is_up(), "a resumed node is up");
        node.paused = false;
        for event in std::mem::take(&mut node.held) {
            sched.schedule_at(sched.now(), event);
        }
    }

    fn cut(&mut self, pairs: &[(NodeId, NodeId)]) {
        for &(a, b) in pairs {
            self.net.block(a, b, true);
        }
    }

    /// Every ordered pair between `inside` and the rest of the world, both ways.
    fn isolation_pairs(&self, inside: &[NodeId]) -> Vec<(NodeId, NodeId)> {
        let rest: Vec<NodeId> = self.nodes.iter().map(|n| n.id).filter(|id| !inside.contains(id)).collect();
        partition_pairs(&[inside.to_vec(), rest], false)
    }

    pub(super) fn on_fault(&mut self, sched: &mut Sched<P>, index: u32) -> Result<(), SimError> {
        let action = self.plan[index as usize].clone();
        let now = sched.now();
        let (targets, undo) = self.apply(sched, &action.kind, action.duration.map(|d| now + d))?;
        let record = self.history.faults.len() as u32;
        let names = targets.iter().map(|&id| self.node_name(id).to_string()).collect();
        self.history.faults.push(FaultRecord {
            index: index as usize,
            kind: action.kind.name(),
            targets: names,
            start: now,
            end: if action.kind.lasts() { None } else { Some(now) },
        });
        if let (Some(d), Some(undo)) = (action.duration, undo) {
            let earlier = self.undo.insert(record, undo);
            assert!(earlier.is_none(), "a fault record has one undo");
            sched.schedule_in(d, Event::Undo { record });
        }
        Ok(())
    }

    /// Carries out one action; returns the nodes it touched and how to undo it.
    fn apply(
        &mut self,
        sched: &mut Sched<P>,
        kind: &FaultKind,
        until: Option<SimTime>,
    ) -> Result<(Vec<NodeId>, Option<Undo>), SimError> {
        let now = sched.now();
        Ok(match kind {
            FaultKind::Crash(target) => {
                let ids: Vec<NodeId> =
                    self.resolve(target).into_iter().filter(|&id| self.crash(now, id)).collect();
                let undo = ids.iter().map(|&id| (id, self.nodes[id.index()].incarnation)).collect();
                (ids, Some(Undo::Restart(undo)))
            }
            FaultKind::Restart(target) => {
                let ids: Vec<NodeId> =
                    self.resolve(target).into_iter().filter(|&id| !self.nodes[id.index()].is_up()).collect();
                for &id in &ids {
                    self.restart(sched, id)?;
                }
                (ids, None)
            }
            FaultKind::Partition { groups, one_way } => {
                let pairs = partition_pairs(groups, *one_way);
                self.cut(&pairs);
                (groups.iter().flatten().copied().collect(), Some(Undo::Unblock(pairs)))
            }
            FaultKind::Isolate(target) => {
                let inside = self.resolve(target);
                let pairs = self.isolation_pairs(&inside);
                self.cut(&pairs);
                (inside, Some(Undo::Unblock(pairs)))
            }
            FaultKind::Cut { target, from, one_way } => {
                let (a, b) = (self.resolve(target), self.resolve(from));
                let b: Vec<NodeId> = b.into_iter().filter(|id| !a.contains(id)).collect();
                let pairs = partition_pairs(&[b.clone(), a.clone()], *one_way);
                self.cut(&pairs);
                (a.into_iter().chain(b).collect(), Some(Undo::Unblock(pairs)))
            }
            FaultKind::Heal => {
                self.net.heal_all();
                // Pending timed undos of partitions have nothing left to lift.
                self.undo.retain(|_, u| !matches!(u, Undo::Unblock(_)));
                let cut =
                    [FaultName::Partition, FaultName::OneWayPartition, FaultName::Isolate, FaultName::Cut];
                for rec in self.history.faults.iter_mut().filter(|r| r.end.is_none() && cut.contains(&r.kind))
                {
                    rec.end = Some(now);
                }
                (Vec::new(), None)
            }
            _ => self.apply_gray(sched, kind, until),
        })
    }

    /// Clock, disk, speed, pause and network-rule faults.
    fn apply_gray(
        &mut self,
        sched: &mut Sched<P>,
        kind: &FaultKind,
        until: Option<SimTime>,
    ) -> (Vec<NodeId>, Option<Undo>) {
        let now = sched.now();
        let pairs = |p: &[(NodeId, NodeId)]| p.iter().copied().collect::<BTreeSet<_>>();
        match kind {
            FaultKind::ClockStep { target, by_ns } => {
                let ids = self.resolve(target);
                for &id in &ids {
                    self.nodes[id.index()].clock.step(now, *by_ns);
                }
                (ids, None)
            }
            FaultKind::ClockDrift { target, ppb } => {
                let ids = self.resolve(target);
                let old = ids.iter().map(|&id| (id, self.nodes[id.index()].clock.drift_ppb())).collect();
                for &id in &ids {
                    self.nodes[id.index()].clock.set_drift(now, *ppb);
                }
                (ids, Some(Undo::Drift(old)))
            }
            FaultKind::Disk { target, fault } => {
                let ids = self.resolve(target);
                for &id in &ids {
                    self.nodes[id.index()].disk.set_fault(Some(*fault));
                }
                (ids.clone(), Some(Undo::Disk(ids)))
            }
            FaultKind::Slow { target, factor, latency } => {
                let ids = self.resolve(target);
                for &id in &ids {
                    let node = &mut self.nodes[id.index()];
                    node.slow_factor = *factor;
                    node.slow_latency = *latency;
                }
                (ids.clone(), Some(Undo::Slow(ids)))
            }
            FaultKind::Pause(target) => {
                let ids: Vec<NodeId> =
                    self.resolve(target).into_iter().filter(|&id| self.nodes[id.index()].is_up()).collect();
                for &id in &ids {
                    let node = &mut self.nodes[id.index()];
                    node.paused = true;
                    node.stats.pauses += 1;
                }
                let undo = ids.iter().map(|&id| (id, self.nodes[id.index()].incarnation)).collect();
                (ids, Some(Undo::Resume(undo)))
            }
            FaultKind::Corrupt { probability, pairs: p } => {
                let rule = self
                    .net
                    .add_rule(Rule::Corrupt { probability: *probability, pairs: p.as_deref().map(pairs) });
                (Vec::new(), Some(Undo::Rule(rule)))
            }
            FaultKind::Flaky { pairs: p, p_enter, p_exit, loss } => {
                let rule = Rule::Flaky { pairs: pairs(p), p_enter: *p_enter, p_exit: *p_exit, loss: *loss };
                (Vec::new(), Some(Undo::Rule(self.net.add_rule(rule))))
            }
            FaultKind::Clog { pairs: p } => {
                let until = until.expect("a clog has a duration (validated)");
                let rule = self.net.add_rule(Rule::Clog { pairs: pairs(p), until });
                (Vec::new(), Some(Undo::Rule(rule)))
            }
            FaultKind::Crash(_)
            | FaultKind::Restart(_)
            | FaultKind::Partition { .. }
            | FaultKind::Isolate(_)
            | FaultKind::Cut { .. }
            | FaultKind::Heal => {
                unreachable!("node and partition faults are applied by `apply`")
            }
        }
    }

    pub(super) fn on_undo(&mut self, sched: &mut Sched<P>, record: u32) -> Result<(), SimError> {
        let Some(undo) = self.undo.remove(&record) else {
            return Ok(()); // overtaken by a heal
        };
        let now = sched.now();
        match undo {
            Undo::Restart(ids) => {
                for (id, inc) in ids {
                    let node = &self.nodes[id.index()];
                    if !node.is_up() && node.incarnation == inc {
                        self.restart(sched, id)?;
                    }
                }
                return Ok(()); // the restart closes the crash record
            }
            Undo::Unblock(pairs) => pairs.into_iter().for_each(|(a, b)| self.net.block(a, b, false)),
            Undo::Drift(old) => {
                old.into_iter().for_each(|(id, ppb)| self.nodes[id.index()].clock.set_drift(now, ppb))
            }
            Undo::Disk(ids) => ids.into_iter().for_each(|id| self.nodes[id.index()].disk.set_fault(None)),
            Undo::Slow(ids) => ids.into_iter().for_each(|id| {
                let node = &mut self.nodes[id.index()];
                node.slow_factor = 1.0;
                node.slow_latency = crate::sim::SimDuration::ZERO;
            }),
            Undo::Resume(ids) => {
                for (id, inc) in ids {
                    if self.nodes[id.index()].incarnation == inc {
                        self.resume(sched, id);
                    }
                }
            }
            Undo::Rule(id) => self.net.remove_rule(id),
        }
        let rec = &mut self.history.faults[record as usize];
        if rec.end.is_none() {
            rec.end = Some(now);
        }
        Ok(())
    }
}

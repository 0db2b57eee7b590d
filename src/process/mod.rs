//! How protocols plug in: the sans-IO [`Process`] trait and its [`Context`].
//!
//! A process is a state machine. It never performs I/O: it reacts to a start, a message or
//! a timer, and records what it wants done (sends, timers) into the context's outbox, which
//! the world carries out after the callback returns — the shape of stateright's `Actor`.
//!
//! Time inside a callback: the callback starts at the current instant. Work the process
//! declares with [`Context::busy`] (and, later, disk latencies) advances a per-callback
//! `elapsed` offset; a message sent or a timer set after that work leaves at `now + elapsed`.
//! The world keeps the node's worker busy until the callback's final `elapsed`.
//!
//! A crash drops the process value with all its volatile state; a restart builds a new one
//! from the node's durable disk (see `world::Spawner`). Several kinds of process share one
//! run by making `P` an enum that dispatches statically to its variants; a component
//! written for other message and timer types runs inside a process through a scoped
//! context ([`Context::scope`]).

use crate::history::{GeneralOp, History, Observation, OpRecord};
use crate::sim::{RngStream, SimDuration, SimTime};
pub mod clock;
pub mod disk;

use clock::Clock;
use disk::{Disk, DiskIo};
use serde::Serialize;
use std::fmt::Debug;

/// A node's index in the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A handle to a pending timer: a slot and the generation it was armed with. Cancelling
/// bumps the slot's generation, so a stale handle or a cancelled timer's event is ignored
/// when it fires (lazy cancellation; the queue is never searched).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TimerId {
    pub slot: u32,
    pub generation: u32,
}

/// What every protocol message provides.
pub trait Message: Clone + Debug {
    /// The size on the wire in bytes, for bandwidth models. A rough figure is fine.
    fn wire_size(&self) -> u32 {
        64
    }

    /// Changes the content deterministically, drawing from `rng`, as a bit flip in flight
    /// would: the receiver gets a different message and no flag it can read for free. A
    /// model that carries a checksum leaves it stale here, so verifying it detects the
    /// damage. Required, so that every message type decides what corruption means for it.
    fn corrupt(&mut self, rng: &mut RngStream);
}

/// Flips one random bit of `x`: the building block of most `Message::corrupt`s.
pub fn flip_bit_u64(x: u64, rng: &mut RngStream) -> u64 {
    x ^ (1u64 << rng.below(64))
}

/// A sans-IO protocol state machine. Its callbacks take any [`Context`] in its own types,
/// so a process can also run inside another one (see [`Context::scope`]).
pub trait Process: Sized {
    type Msg: Message;
    /// What a timer carries back to the process when it fires.
    type Timer: Clone + Debug;

    fn on_start(&mut self, cx: &mut impl Cx<Self>);
    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: Self::Msg);
    fn on_timer(&mut self, cx: &mut impl Cx<Self>, timer: TimerId, kind: Self::Timer);

    /// Whether this process currently plays `role` (e.g. "leader"), for dynamic fault
    /// targets resolved when a fault fires. The names are the ones its system declares
    /// (`systems::System::roles`); validation refuses any other.
    fn has_role(&self, _role: &str) -> bool {
        false
    }

    /// Bookkeeping for the omniscient observer, called just before a crash drops the
    /// process and at the end of the run: e.g. a client records its unfinished operations
    /// in the history. Not part of the modelled system (a crashed process runs no code):
    /// sends and timers recorded here are discarded.
    fn record_unfinished(&mut self, _cx: &mut impl Cx<Self>) {}
}

/// A command recorded by a callback, carried out by the world when the callback returns.
#[derive(Debug)]
pub enum Command<M> {
    Send { dst: NodeId, msg: M, after: SimDuration },
    Timer { id: TimerId, after: SimDuration },
}

/// The timers of one node incarnation: payloads in slots, with generations.
///
/// A slot remembers when its queue event is due and the timer's deadline. Re-arming a
/// timer for a later deadline (an election timer pushed back by every heartbeat) only moves
/// the deadline: the queued event, when it comes, sees the deadline ahead and is queued
/// again for it. One event per deadline actually reached instead of one per reset.
#[derive(Debug)]
pub struct TimerSlab<T> {
    slots: Vec<TimerSlot<T>>,
    free: Vec<u32>,
    armed: usize,
}

#[derive(Debug)]
struct TimerSlot<T> {
    generation: u32,
    payload: Option<T>,
    /// When the slot's event is due in the queue (true time).
    queued: SimTime,
    /// When the timer fires (true time); never before `queued`.
    deadline: SimTime,
}

/// What a timer event finds when it comes due.
#[derive(Debug, PartialEq, Eq)]
pub enum TimerDue<T> {
    /// Cancelled, fired already, or from an earlier incarnation.
    Stale,
    /// Re-armed for later: queue the event again at this time.
    Later(SimTime),
    /// Fires now, with its payload.
    Fire(T),
}

impl<T> Default for TimerSlab<T> {
    fn default() -> Self {
        TimerSlab { slots: Vec::new(), free: Vec::new(), armed: 0 }
    }
}

impl<T> TimerSlab<T> {
    /// Arms a timer firing at true time `at`; the caller queues its event for `at`.
    pub fn arm(&mut self, payload: T, at: SimTime) -> TimerId {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(TimerSlot { generation: 0, payload: None, queued: at, deadline: at });
            u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 timers per node")
        });
        let entry = &mut self.slots[slot as usize];
        assert!(entry.payload.is_none(), "a free timer slot holds no payload");
        entry.payload = Some(payload);
        (entry.queued, entry.deadline) = (at, at);
        let generation = entry.generation;
        self.armed += 1;
        debug_assert_eq!(self.armed + self.free.len(), self.slots.len(), "every timer slot is armed or free");
        TimerId { slot, generation }
    }

    /// Moves an armed timer's deadline to `at` and replaces its payload, if `at` is no
    /// earlier than its queued event (which then re-queues itself). Returns false, changing
    /// nothing, if `id` is not armed or `at` is earlier: cancel it and arm a new one.
    pub fn rearm(&mut self, id: TimerId, at: SimTime, payload: T) -> Result<(), T> {
        match self.slots.get_mut(id.slot as usize) {
            Some(e) if e.generation == id.generation && e.payload.is_some() && at >= e.queued => {
                e.deadline = at;
                e.payload = Some(payload);
                Ok(())
            }
            _ => Err(payload),
        }
    }

    /// What the event of `id`, due at `now`, does: fire (freeing the slot), wait for a
    /// later deadline, or nothing.
    pub fn due(&mut self, id: TimerId, now: SimTime) -> TimerDue<T> {
        let Some(entry) = self.slots.get_mut(id.slot as usize) else {
            return TimerDue::Stale;
        };
        if entry.generation != id.generation || entry.payload.is_none() {
            return TimerDue::Stale;
        }
        // The live event of an armed timer is the one queued for `queued` (a pause may only
        // hold it back).
        debug_assert!(entry.queued <= now, "a timer's event comes no earlier than it was queued for");
        if entry.deadline > now {
            entry.queued = entry.deadline;
            return TimerDue::Later(entry.deadline);
        }
        self.take(id).map_or(TimerDue::Stale, TimerDue::Fire)
    }

    fn take(&mut self, id: TimerId) -> Option<T> {
        let entry = self.slots.get_mut(id.slot as usize)?;
        if entry.generation != id.generation || entry.payload.is_none() {
            return None;
        }
        entry.generation = entry.generation.wrapping_add(1);
        let payload = entry.payload.take();
        self.free.push(id.slot);
        assert!(self.armed > 0, "a timer taken was counted armed");
        self.armed -= 1;
        debug_assert_eq!(self.armed + self.free.len(), self.slots.len(), "every timer slot is armed or free");
        payload
    }

    /// Disarms `id`; returns whether it was armed.
    pub fn cancel(&mut self, id: TimerId) -> bool {
        self.take(id).is_some()
    }

    pub fn armed(&self) -> usize {
        self.armed
    }

    /// Checks the slab: `armed` counts the slots holding a payload, every other slot is on
    /// the free list exactly once, and an armed timer's deadline is never before its queued
    /// event. O(slots): tests and debug builds only.
    pub fn check_invariants(&self) {
        let armed = self.slots.iter().filter(|e| e.payload.is_some()).count();
        assert_eq!(armed, self.armed, "'armed' counts the slots holding a payload");
        assert_eq!(armed + self.free.len(), self.slots.len(), "every timer slot is armed or free");
        let mut listed = vec![false; self.slots.len()];
        for &slot in &self.free {
            let entry = &self.slots[slot as usize];
            assert!(entry.payload.is_none(), "a free timer slot holds no payload");
            assert!(!std::mem::replace(&mut listed[slot as usize], true), "a timer slot is freed once");
        }
        for entry in self.slots.iter().filter(|e| e.payload.is_some()) {
            assert!(entry.deadline >= entry.queued, "an armed timer's deadline is not before its event");
        }
    }
}

/// What a process (or a component inside one) can do during one callback, in its own
/// message and timer types: read its node's local clock, send, arm timers, work, use the
/// disk, draw randomness, and record for the observer.
///
/// The world hands every callback a [`NodeContext`]; a process that hosts a component
/// written for other message and timer types gives it a [`Scoped`] view
/// ([`Context::scope`]) that wraps what the component sends and arms into the host's
/// types. Everything is generic (static dispatch): a scoped call costs a wrap, no more.
pub trait Context {
    type Msg;
    type Timer;

    /// This node.
    fn id(&self) -> NodeId;
    /// How many times this node has crashed before this process was built.
    fn incarnation(&self) -> u32;
    /// The node's local clock reading, including work done so far in this callback.
    fn now(&self) -> SimTime;
    /// True simulated time: for the history only (a protocol must use [`Context::now`]).
    fn true_now(&self) -> SimTime;
    /// Sends `msg` to `dst`; it leaves after the work done so far in this callback.
    fn send(&mut self, dst: NodeId, msg: Self::Msg);
    /// Re-arms `timer` (if it is still armed) to fire after `after` of local time with
    /// `kind`, as `cancel_timer` + `set_timer` would, and returns the handle to keep. Moving
    /// a deadline later, the common case (a timeout pushed back by each sign of life),
    /// costs no queue event.
    fn rearm_timer(&mut self, timer: Option<TimerId>, after: SimDuration, kind: Self::Timer) -> TimerId;
    /// Cancels a timer; a cancelled timer never fires. Returns whether it was armed.
    fn cancel_timer(&mut self, id: TimerId) -> bool;
    /// Declares `d` of work: later sends and the worker's release move `d` later.
    fn busy(&mut self, d: SimDuration);
    /// The node's disk: every operation adds its latency to this callback's work.
    fn disk(&mut self) -> DiskIo<'_>;
    /// The node's own random stream.
    fn rng(&mut self) -> &mut RngStream;
    /// Records an observation for metrics and checkers.
    fn observe(&mut self, name: &'static str, value: i64);
    /// Appends a finished register operation to the run's history.
    fn record_op(&mut self, op: OpRecord);
    /// Appends an operation of the general history (CAS, lists, transactions).
    fn record(&mut self, op: GeneralOp);

    /// Arms a timer that fires after `after` of *local* clock time (a fast clock fires early).
    #[inline]
    fn set_timer(&mut self, after: SimDuration, kind: Self::Timer) -> TimerId {
        self.rearm_timer(None, after, kind)
    }

    /// A view of this context for a component whose messages and timers are `M` and `T`:
    /// what it sends is wrapped by `msg`, what it arms by `timer`. The host unwraps
    /// deliveries and timer payloads itself and hands them to the component with a scope.
    #[inline]
    fn scope<M, T, F, G>(&mut self, msg: F, timer: G) -> Scoped<'_, Self, M, T, F, G>
    where
        Self: Sized,
        F: Fn(M) -> Self::Msg,
        G: Fn(T) -> Self::Timer,
    {
        Scoped { inner: self, msg, timer, _types: std::marker::PhantomData }
    }
}

/// The context of a process of type `P`: `Context` in `P`'s own types. A shorthand for
/// bounds, `cx: &mut impl Cx<Self>`.
pub trait Cx<P: Process>: Context<Msg = P::Msg, Timer = P::Timer> {}

impl<P: Process, C: Context<Msg = P::Msg, Timer = P::Timer>> Cx<P> for C {}

/// A component's view of its host's context (see [`Context::scope`]).
pub struct Scoped<'a, C, M, T, F, G> {
    inner: &'a mut C,
    msg: F,
    timer: G,
    _types: std::marker::PhantomData<fn(M, T)>,
}

impl<C, M, T, F, G> Context for Scoped<'_, C, M, T, F, G>
where
    C: Context,
    F: Fn(M) -> C::Msg,
    G: Fn(T) -> C::Timer,
{
    type Msg = M;
    type Timer = T;

    #[inline]
    fn id(&self) -> NodeId {
        self.inner.id()
    }
    #[inline]
    fn incarnation(&self) -> u32 {
        self.inner.incarnation()
    }
    #[inline]
    fn now(&self) -> SimTime {
        self.inner.now()
    }
    #[inline]
    fn true_now(&self) -> SimTime {
        self.inner.true_now()
    }
    #[inline]
    fn send(&mut self, dst: NodeId, msg: M) {
        self.inner.send(dst, (self.msg)(msg));
    }
    #[inline]
    fn rearm_timer(&mut self, timer: Option<TimerId>, after: SimDuration, kind: T) -> TimerId {
        self.inner.rearm_timer(timer, after, (self.timer)(kind))
    }
    #[inline]
    fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.inner.cancel_timer(id)
    }
    #[inline]
    fn busy(&mut self, d: SimDuration) {
        self.inner.busy(d);
    }
    #[inline]
    fn disk(&mut self) -> DiskIo<'_> {
        self.inner.disk()
    }
    #[inline]
    fn rng(&mut self) -> &mut RngStream {
        self.inner.rng()
    }
    #[inline]
    fn observe(&mut self, name: &'static str, value: i64) {
        self.inner.observe(name, value);
    }
    #[inline]
    fn record_op(&mut self, op: OpRecord) {
        self.inner.record_op(op);
    }
    #[inline]
    fn record(&mut self, op: GeneralOp) {
        self.inner.record(op);
    }
}

/// A process's window on its node during one callback: the root [`Context`], built by the
/// world.
pub struct NodeContext<'a, P: Process> {
    pub(crate) node: NodeId,
    pub(crate) incarnation: u32,
    pub(crate) true_now: SimTime,
    pub(crate) elapsed: SimDuration,
    pub(crate) clock: &'a Clock,
    pub(crate) disk: &'a mut Disk,
    pub(crate) rng: &'a mut RngStream,
    pub(crate) timers: &'a mut TimerSlab<P::Timer>,
    pub(crate) outbox: &'a mut Vec<Command<P::Msg>>,
    pub(crate) history: &'a mut History,
}

impl<P: Process> Context for NodeContext<'_, P> {
    type Msg = P::Msg;
    type Timer = P::Timer;

    #[inline]
    fn id(&self) -> NodeId {
        self.node
    }

    #[inline]
    fn incarnation(&self) -> u32 {
        self.incarnation
    }

    #[inline]
    fn now(&self) -> SimTime {
        self.clock.local(self.true_now + self.elapsed)
    }

    #[inline]
    fn true_now(&self) -> SimTime {
        self.true_now + self.elapsed
    }

    #[inline]
    fn send(&mut self, dst: NodeId, msg: P::Msg) {
        self.outbox.push(Command::Send { dst, msg, after: self.elapsed });
    }

    fn rearm_timer(&mut self, timer: Option<TimerId>, after: SimDuration, kind: P::Timer) -> TimerId {
        let fire = self.clock.true_after_local(self.true_now + self.elapsed, after);
        let kind = match timer {
            Some(id) => match self.timers.rearm(id, fire, kind) {
                Ok(()) => return id,
                Err(kind) => {
                    self.timers.cancel(id);
                    kind
                }
            },
            None => kind,
        };
        let id = self.timers.arm(kind, fire);
        self.outbox.push(Command::Timer { id, after: fire.since(self.true_now) });
        id
    }

    #[inline]
    fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.timers.cancel(id)
    }

    #[inline]
    fn busy(&mut self, d: SimDuration) {
        self.elapsed += d;
    }

    #[inline]
    fn disk(&mut self) -> DiskIo<'_> {
        DiskIo { disk: self.disk, elapsed: &mut self.elapsed }
    }

    #[inline]
    fn rng(&mut self) -> &mut RngStream {
        self.rng
    }

    fn observe(&mut self, name: &'static str, value: i64) {
        let time = self.true_now + self.elapsed;
        self.history.observations.push(Observation { time, node: self.node.0, name, value });
    }

    fn record_op(&mut self, op: OpRecord) {
        debug_assert!(op.complete >= op.invoke, "an operation completes after it is invoked");
        self.history.ops.push(op);
    }

    fn record(&mut self, op: GeneralOp) {
        assert!(op.complete.is_none_or(|c| c >= op.invoke), "an operation completes after it is invoked");
        assert!(op.complete.is_some() || op.output.is_none(), "an operation without completion has no reply");
        self.history.general.push(op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_fires_only_with_the_generation_it_was_armed_with() {
        let mut slab: TimerSlab<&str> = TimerSlab::default();
        let a = slab.arm("a", SimTime(10));
        assert!(slab.cancel(a));
        let b = slab.arm("b", SimTime(20));
        assert_eq!(b.slot, a.slot, "the slot is reused");
        assert_ne!(b.generation, a.generation, "with a new generation");
        slab.check_invariants();
        assert_eq!(slab.due(a, SimTime(10)), TimerDue::Stale, "the old handle's event is stale");
        assert_eq!(slab.rearm(b, SimTime(30), "b2"), Ok(()));
        assert_eq!(slab.due(b, SimTime(20)), TimerDue::Later(SimTime(30)));
        slab.check_invariants();
        assert_eq!(slab.due(b, SimTime(30)), TimerDue::Fire("b2"));
        assert_eq!(slab.due(b, SimTime(30)), TimerDue::Stale, "a timer fires once");
        assert_eq!(slab.armed(), 0);
        slab.check_invariants();
    }

    #[test]
    #[should_panic(expected = "'armed' counts the slots holding a payload")]
    fn a_wrong_armed_count_is_caught() {
        let mut slab: TimerSlab<u8> = TimerSlab::default();
        slab.arm(1, SimTime(5));
        slab.arm(2, SimTime(6));
        slab.armed = 1;
        slab.check_invariants();
    }

    #[test]
    #[should_panic(expected = "a timer slot is freed once")]
    fn a_slot_freed_twice_is_caught() {
        let mut slab: TimerSlab<u8> = TimerSlab::default();
        let a = slab.arm(1, SimTime(5));
        slab.arm(2, SimTime(6));
        slab.cancel(a);
        // Corrupt: the free slot listed twice, and a phantom empty slot to balance the count.
        slab.free.push(a.slot);
        slab.slots.push(TimerSlot { generation: 0, payload: None, queued: SimTime(0), deadline: SimTime(0) });
        slab.check_invariants();
    }

    #[test]
    #[cfg(debug_assertions)] // a hot-path check: debug builds only
    #[should_panic(expected = "comes no earlier than it was queued for")]
    fn an_event_before_its_queued_time_is_caught() {
        let mut slab: TimerSlab<u8> = TimerSlab::default();
        let a = slab.arm(1, SimTime(50));
        slab.due(a, SimTime(49));
    }
}

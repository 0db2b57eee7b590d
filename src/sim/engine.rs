//! The event loop: the only code in Stormglass that advances time.
//!
//! [`Engine`] is generic over a [`Handler`], which owns the simulated state and reacts to
//! one event at a time through a [`Scheduler`]. The kernel knows nothing of nodes or
//! networks: PHOLD runs on the bare kernel, the world on the same one.
//!
//! Guarantees:
//! - events are handled in `(time, seq)` order; time never goes back (asserted);
//! - every run has limits; passing one is an error that names it ([`SimError::Limit`]);
//! - each handled event folds `(time, seq, kind, node)` into a rolling digest, so two runs
//!   can be compared cheaply, and optionally records them so a divergence can be located.

use super::queue::EventQueue;
use super::time::{SimDuration, SimTime};
use serde::Serialize;
use thiserror::Error;

/// Why a run stopped early. Every variant is fatal for that run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SimError {
    /// A configured limit was passed; `limit` names it, as the scenario spells it.
    #[error("limit '{limit}' reached ({value} > {max}); raise it under 'limits' if the run is meant to be this large")]
    Limit { limit: &'static str, value: u64, max: u64 },
    /// A model broke an invariant of its own.
    #[error("model error: {0}")]
    Model(String),
}

/// Caps that turn a runaway run into an error instead of a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_events: u64,
    pub max_time: SimTime,
    pub max_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 500_000_000, max_time: SimTime(u64::MAX), max_queue: 50_000_000 }
    }
}

/// What an event is, for the digest and the trace: a small kind code and a node (or LP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EventTag {
    pub kind: u32,
    pub node: u32,
}

/// One handled event, as recorded for divergence reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    pub index: u64,
    pub time: SimTime,
    pub seq: u64,
    pub tag: EventTag,
}

/// The simulated state: reacts to events, one at a time.
pub trait Handler {
    type Event;
    /// Handles one event at `sched.now()`; may schedule more.
    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event) -> Result<(), SimError>;
    /// Names an event for the digest.
    fn tag(&self, event: &Self::Event) -> EventTag;
}

/// The handler's view of the kernel: the clock and the queue.
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
    stop: bool,
}

impl<E> Scheduler<E> {
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at the absolute instant `at`, which must not be in the past.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> u64 {
        assert!(at >= self.now, "events are never scheduled in the past");
        self.queue.push(at, event)
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> u64 {
        let at = self.now + delay;
        self.queue.push(at, event)
    }

    /// Asks the engine to stop after the current event.
    pub fn stop(&mut self) {
        self.stop = true;
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Why a run ended normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The next event lies past the horizon.
    Horizon,
    /// No event is left.
    Drained,
    /// The handler asked to stop.
    Requested,
    /// The event budget given to `run` was spent.
    EventBudget,
}

/// Counters of one finished run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RunStats {
    pub events: u64,
    pub end_time: SimTime,
    pub digest: u64,
    pub stop: StopReason,
}

/// The event loop.
pub struct Engine<E> {
    sched: Scheduler<E>,
    limits: Limits,
    events: u64,
    /// The least seq the next event at `sched.now` may carry (one past the last handled).
    seq_floor: u64,
    digest: u64,
    trace: Option<Vec<EventRecord>>,
}

/// Folds one event into the rolling digest (a fixed multiply-xorshift mix, not a hash map).
#[inline]
pub fn digest_step(digest: u64, time: u64, seq: u64, tag: EventTag) -> u64 {
    let mut h = digest ^ 0x9e37_79b9_7f4a_7c15;
    for word in [time, seq, (u64::from(tag.kind) << 32) | u64::from(tag.node)] {
        h = (h ^ word).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
    }
    h
}

impl<E> Engine<E> {
    pub fn new(limits: Limits) -> Self {
        Engine {
            sched: Scheduler { now: SimTime::ZERO, queue: EventQueue::new(), stop: false },
            limits,
            events: 0,
            seq_floor: 0,
            digest: 0,
            trace: None,
        }
    }

    /// Records every handled event from now on (for divergence reports; costs memory).
    pub fn record_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    pub fn take_trace(&mut self) -> Option<Vec<EventRecord>> {
        self.trace.take()
    }

    /// Schedules an initial event before the run starts.
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        self.sched.schedule_at(at, event);
    }

    pub fn scheduler(&mut self) -> &mut Scheduler<E> {
        &mut self.sched
    }

    pub fn now(&self) -> SimTime {
        self.sched.now
    }

    /// Runs until the horizon (events strictly after it stay queued), the queue drains,
    /// the handler stops, or `budget` events have been handled in this call.
    pub fn run<H: Handler<Event = E>>(
        &mut self,
        handler: &mut H,
        horizon: SimTime,
        budget: u64,
    ) -> Result<RunStats, SimError> {
        let mut handled_here = 0u64;
        let stop = loop {
            if self.sched.stop {
                break StopReason::Requested;
            }
            if handled_here == budget {
                break StopReason::EventBudget;
            }
            let peeked = match self.sched.queue.peek_time() {
                None => break StopReason::Drained,
                Some(t) if t > horizon => break StopReason::Horizon,
                Some(t) => t,
            };
            let (time, seq, event) = self.sched.queue.pop().expect("peeked queue is non-empty");
            debug_assert!(time == peeked, "the popped event is the one peeked");
            assert!(time >= self.sched.now, "time never goes back");
            // Scheduling never goes before `now` and stamps ever larger seqs, so the queue
            // hands out strictly increasing `(time, seq)`.
            debug_assert!(
                time > self.sched.now || seq >= self.seq_floor,
                "events leave the queue in (time, seq) order"
            );
            self.check_limits(time)?;
            self.sched.now = time;
            self.seq_floor = seq + 1;
            let tag = handler.tag(&event);
            self.digest = digest_step(self.digest, time.0, seq, tag);
            if let Some(trace) = self.trace.as_mut() {
                trace.push(EventRecord { index: self.events, time, seq, tag });
            }
            self.events += 1;
            handled_here += 1;
            handler.handle(&mut self.sched, event)?;
        };
        #[cfg(debug_assertions)]
        self.sched.queue.check_invariants();
        Ok(RunStats { events: self.events, end_time: self.sched.now, digest: self.digest, stop })
    }

    #[inline]
    fn check_limits(&self, time: SimTime) -> Result<(), SimError> {
        if self.events >= self.limits.max_events {
            return Err(SimError::Limit {
                limit: "max_events",
                value: self.events + 1,
                max: self.limits.max_events,
            });
        }
        if time > self.limits.max_time {
            return Err(SimError::Limit { limit: "max_time", value: time.0, max: self.limits.max_time.0 });
        }
        let pending = self.sched.queue.len() as u64;
        if pending > self.limits.max_queue as u64 {
            return Err(SimError::Limit {
                limit: "max_queue",
                value: pending,
                max: self.limits.max_queue as u64,
            });
        }
        Ok(())
    }
}

/// The first event at which two recorded traces differ, if any.
pub fn first_divergence(
    a: &[EventRecord],
    b: &[EventRecord],
) -> Option<(Option<EventRecord>, Option<EventRecord>)> {
    let n = a.len().max(b.len());
    (0..n).find_map(|i| {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        (x != y).then_some((x, y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler that reschedules each event `hops` times, 10 ns apart.
    struct Chain {
        seen: Vec<(u64, u32)>,
    }

    impl Handler for Chain {
        type Event = u32;
        fn handle(&mut self, sched: &mut Scheduler<u32>, hops: u32) -> Result<(), SimError> {
            self.seen.push((sched.now().0, hops));
            if hops > 0 {
                sched.schedule_in(SimDuration(10), hops - 1);
            }
            Ok(())
        }
        fn tag(&self, e: &u32) -> EventTag {
            EventTag { kind: 0, node: *e }
        }
    }

    #[test]
    fn runs_in_order_until_drained() {
        let mut engine: Engine<u32> = Engine::new(Limits::default());
        engine.schedule_at(SimTime(0), 2);
        engine.schedule_at(SimTime(5), 1);
        let mut h = Chain { seen: vec![] };
        let stats = engine.run(&mut h, SimTime::MAX, u64::MAX).unwrap();
        assert_eq!(h.seen, vec![(0, 2), (5, 1), (10, 1), (15, 0), (20, 0)]);
        assert_eq!(stats.events, 5);
        assert_eq!(stats.stop, StopReason::Drained);
    }

    #[test]
    fn horizon_leaves_later_events_queued() {
        let mut engine: Engine<u32> = Engine::new(Limits::default());
        engine.schedule_at(SimTime(0), 100);
        let mut h = Chain { seen: vec![] };
        let stats = engine.run(&mut h, SimTime(25), u64::MAX).unwrap();
        assert_eq!(stats.stop, StopReason::Horizon);
        assert_eq!(h.seen.len(), 3);
        assert_eq!(stats.end_time, SimTime(20));
    }

    #[test]
    fn event_limit_is_an_error_that_names_it() {
        let limits = Limits { max_events: 3, ..Limits::default() };
        let mut engine: Engine<u32> = Engine::new(limits);
        engine.schedule_at(SimTime(0), 100);
        let err = engine.run(&mut Chain { seen: vec![] }, SimTime::MAX, u64::MAX).unwrap_err();
        assert!(matches!(err, SimError::Limit { limit: "max_events", .. }));
        assert!(err.to_string().contains("max_events"));
    }

    #[test]
    fn time_limit_is_an_error_that_names_it() {
        let limits = Limits { max_time: SimTime(15), ..Limits::default() };
        let mut engine: Engine<u32> = Engine::new(limits);
        engine.schedule_at(SimTime(0), 100);
        let err = engine.run(&mut Chain { seen: vec![] }, SimTime::MAX, u64::MAX).unwrap_err();
        assert_eq!(err, SimError::Limit { limit: "max_time", value: 20, max: 15 });
    }

    #[test]
    fn digests_agree_for_equal_runs_and_traces_locate_divergence() {
        let run = |start: u32| {
            let mut engine: Engine<u32> = Engine::new(Limits::default());
            engine.record_trace();
            engine.schedule_at(SimTime(0), start);
            let stats = engine.run(&mut Chain { seen: vec![] }, SimTime::MAX, u64::MAX).unwrap();
            (stats.digest, engine.take_trace().unwrap())
        };
        let (d1, t1) = run(5);
        let (d2, t2) = run(5);
        let (d3, t3) = run(6);
        assert_eq!(d1, d2);
        assert_ne!(d1, d3);
        assert_eq!(first_divergence(&t1, &t2), None);
        let (x, _) = first_divergence(&t1, &t3).unwrap();
        assert_eq!(x.unwrap().index, 0);
    }
}

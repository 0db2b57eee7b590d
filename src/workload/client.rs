//! The protocol-independent half of a client: arrivals, timeouts, retries, history.
//!
//! The driver owns the client's logical operations. A logical operation is invoked once,
//! may be attempted several times (a retry reuses its request id, so a late reply to an
//! earlier attempt completes it), and is written to the history exactly once: `ok` on the
//! first success, `failed` when the system refuses and no attempt is left, `timed_out`
//! when the last attempt's timeout expires, `incomplete` if the run ends first.
//! Timers are local-clock timers of the client's node.

use super::idmap::IdMap;
use super::{Arrival, WorkloadSpec};
use crate::history::{ClientId, OpKind, OpRecord, Outcome};
use crate::process::{Context, TimerId};
use crate::sim::{SimDuration, SimTime};
use std::sync::Arc;

/// The timers a driver sets; a client process wraps them in its own timer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// Time to invoke the next operation.
    Arrival,
    /// Attempt number `attempt` of `req` has waited `timeout` (stale if the attempt has
    /// ended since: see [`Driver::is_live`]).
    AttemptTimeout { req: u64, attempt: u32 },
    /// The backoff before the next attempt of `req` has passed.
    Retry { req: u64 },
}

/// One attempt to send: the protocol client turns it into a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: u64,
    pub kind: OpKind,
    pub key: u64,
    /// The value to write (writes only).
    pub value: Option<u64>,
}

#[derive(Clone, Debug)]
struct Pending {
    request: Request,
    invoke: SimTime,
    attempts: u32,
    timer: Option<TimerId>,
    /// An attempt timed out: the operation may have taken effect, so it can never be
    /// reported `failed` (which promises it did not).
    uncertain: bool,
}

/// At most this many ended attempts' timers are kept armed for reuse.
const SPARE_TIMERS: usize = 8;

/// A workload client's state.
///
/// Attempt timeouts: nearly every attempt ends with a reply long before its timeout. Rather
/// than cancel its timer (whose queue event would still come due, to be discarded), the
/// driver keeps it armed as a spare and re-arms it for the next attempt: a later deadline,
/// so no new queue event (see `Context::rearm_timer`). A spare that comes due unused
/// carries an ended attempt and is ignored.
#[derive(Clone, Debug)]
pub struct Driver {
    client: ClientId,
    spec: Arc<WorkloadSpec>,
    next_id: u64,
    pending: IdMap<Pending>,
    spare: Vec<TimerId>,
}

impl Driver {
    pub fn new(client: ClientId, spec: Arc<WorkloadSpec>) -> Self {
        Driver { client, spec, next_id: 0, pending: IdMap::default(), spare: Vec::new() }
    }

    pub fn client(&self) -> ClientId {
        self.client
    }

    /// Records that `id` may have taken effect whatever replies follow (e.g. a write sent to
    /// a server that might lead, over a network that may duplicate it): it will be reported
    /// `timed_out` rather than `failed` if every later attempt is refused.
    pub fn mark_uncertain(&mut self, id: u64) {
        if let Some(p) = self.pending.get_mut(id) {
            p.uncertain = true;
        }
    }

    /// The request of a pending operation (to resend it elsewhere, e.g. after a redirect).
    pub fn pending_request(&self, id: u64) -> Option<Request> {
        self.pending.get(id).map(|p| p.request)
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Whether `timer` still means something: false for the timeout of an attempt that has
    /// ended (answered, refused or already timed out).
    pub fn is_live(&self, timer: &ClientTimer) -> bool {
        match *timer {
            ClientTimer::AttemptTimeout { req, attempt } => {
                self.pending.get(req).is_some_and(|p| p.attempts == attempt && p.timer.is_some())
            }
            ClientTimer::Arrival | ClientTimer::Retry { .. } => true,
        }
    }

    /// An attempt ended before its timeout: keep its timer for the next attempt.
    fn retire(&mut self, cx: &mut impl Context<Timer = ClientTimer>, timer: TimerId) {
        if self.spare.len() < SPARE_TIMERS {
            self.spare.push(timer);
        } else {
            cx.cancel_timer(timer);
        }
    }

    fn next_gap(&self, cx: &mut impl Context<Timer = ClientTimer>) -> SimDuration {
        match &self.spec.arrival {
            Arrival::Open { rate_per_s } => {
                let mean_ns = 1e9 / rate_per_s;
                crate::sim::Dist::Exponential { mean: mean_ns }.sample(cx.rng())
            }
            Arrival::Closed { think } => think.sample(cx.rng()),
        }
    }

    /// Schedules the first arrival. Request ids (and so written values) of a restarted
    /// client start at `incarnation << 32`, so they never repeat an earlier incarnation's.
    pub fn start(&mut self, cx: &mut impl Context<Timer = ClientTimer>) {
        self.next_id = u64::from(cx.incarnation()) << 32;
        let gap = self.next_gap(cx);
        cx.set_timer(gap, ClientTimer::Arrival);
    }

    /// Invokes a new operation (and, open loop, schedules the next arrival). Returns the
    /// first attempt to send.
    pub fn on_arrival(&mut self, cx: &mut impl Context<Timer = ClientTimer>) -> Request {
        if matches!(self.spec.arrival, Arrival::Open { .. }) {
            let gap = self.next_gap(cx);
            cx.set_timer(gap, ClientTimer::Arrival);
        }
        let id = self.next_id;
        self.next_id += 1;
        let key = self.spec.keys.sample(cx.rng());
        let write = cx.rng().chance(self.spec.write_ratio);
        let (kind, value) = if write {
            // Unique across the run: client number in the high bits, sequence below.
            (OpKind::Write, Some((u64::from(self.client.0) + 1) << 48 | id))
        } else {
            (OpKind::Read, None)
        };
        let request = Request { id, kind, key, value };
        let pending = Pending { request, invoke: cx.true_now(), attempts: 0, timer: None, uncertain: false };
        self.pending.insert(id, pending);
        self.attempt(cx, id).expect("a new operation is pending")
    }

    /// Starts the next attempt of `req`: counts it and arms its timeout.
    fn attempt(&mut self, cx: &mut impl Context<Timer = ClientTimer>, req: u64) -> Option<Request> {
        let timeout = self.spec.timeout;
        let p = self.pending.get_mut(req)?;
        p.attempts += 1;
        let kind = ClientTimer::AttemptTimeout { req, attempt: p.attempts };
        p.timer = Some(cx.rearm_timer(self.spare.pop(), timeout, kind));
        Some(p.request)
    }

    /// A reply arrived: `Ok(value)` completes the operation; `Err(())` is a refusal, retried
    /// if attempts remain. Replies for operations no longer pending are ignored.
    pub fn on_reply(
        &mut self,
        cx: &mut impl Context<Timer = ClientTimer>,
        req: u64,
        result: Result<Option<u64>, ()>,
    ) {
        let Some(p) = self.pending.get_mut(req) else {
            return;
        };
        let in_flight = p.timer.take();
        let kind = p.request.kind;
        let written = p.request.value;
        if let Some(t) = in_flight {
            self.retire(cx, t);
        }
        match result {
            Ok(value) => {
                let value = if kind == OpKind::Write { written } else { value };
                self.complete(cx, req, Outcome::Ok, value);
            }
            // A refusal of an attempt already given up on changes nothing.
            Err(()) if in_flight.is_none() => {}
            Err(()) => self.retry_or(cx, req, Outcome::Failed),
        }
    }

    /// Handles one of the driver's timers; returns an attempt to send, if any.
    pub fn on_timer(
        &mut self,
        cx: &mut impl Context<Timer = ClientTimer>,
        timer: ClientTimer,
    ) -> Option<Request> {
        match timer {
            ClientTimer::Arrival => Some(self.on_arrival(cx)),
            ClientTimer::AttemptTimeout { req, .. } => {
                if !self.is_live(&timer) {
                    return None; // a spare, or the timeout of an attempt already ended
                }
                let p = self.pending.get_mut(req)?;
                p.timer = None;
                p.uncertain = true;
                self.retry_or(cx, req, Outcome::TimedOut);
                None
            }
            ClientTimer::Retry { req } => self.attempt(cx, req),
        }
    }

    fn retry_or(&mut self, cx: &mut impl Context<Timer = ClientTimer>, req: u64, outcome: Outcome) {
        let p = self.pending.get(req).expect("a retried operation is pending");
        let (attempts, uncertain) = (p.attempts, p.uncertain);
        if attempts < self.spec.retry.max_attempts() {
            let backoff = self.spec.retry.backoff(attempts, cx.rng());
            cx.set_timer(backoff, ClientTimer::Retry { req });
        } else {
            let outcome = if uncertain { Outcome::TimedOut } else { outcome };
            self.complete(cx, req, outcome, None);
        }
    }

    fn complete(
        &mut self,
        cx: &mut impl Context<Timer = ClientTimer>,
        req: u64,
        outcome: Outcome,
        value: Option<u64>,
    ) {
        let p = self.pending.remove(req).expect("a completed operation was pending");
        let value = if p.request.kind == OpKind::Write { p.request.value } else { value };
        cx.record_op(OpRecord {
            client: self.client,
            kind: p.request.kind,
            key: p.request.key,
            value,
            invoke: p.invoke,
            complete: cx.true_now(),
            outcome,
            attempts: p.attempts,
        });
        if let Arrival::Closed { think } = &self.spec.arrival {
            let gap = think.sample(cx.rng());
            cx.set_timer(gap, ClientTimer::Arrival);
        }
    }

    /// Records every operation still in flight as incomplete (at the end of the run).
    pub fn finish(&mut self, cx: &mut impl Context<Timer = ClientTimer>) {
        for (_, p) in self.pending.drain() {
            cx.record_op(OpRecord {
                client: self.client,
                kind: p.request.kind,
                key: p.request.key,
                value: p.request.value,
                invoke: p.invoke,
                complete: cx.true_now().max(p.invoke),
                outcome: Outcome::Incomplete,
                attempts: p.attempts,
            });
        }
    }
}

//! Heartbeats and a failure detector, as two components.
//!
//! A [`Pacemaker`] sends a [`Beat`] to its peers every `interval` of its node's local
//! clock, carrying a number its host chooses (an epoch, a term). A [`Detector`] suspects
//! the peer it watches once `timeout` of local time passes with no sign of life
//! ([`Detector::heard`]); each sign of life pushes the deadline back, re-arming one timer
//! (no queue event per heartbeat). The classic timeout detector: complete (a crashed peer
//! is suspected within `timeout` plus a heartbeat's latency) but not accurate (a paused,
//! slow or cut-off peer is suspected as well), which is what fencing is for.
//!
//! Both run on any [`Context`] whose messages and timers are theirs, so a host gives them a
//! scope: `self.pacemaker.on_timer(&mut cx.scope(Msg::Beat, Timer::Heartbeat), t, peers)`.

use crate::process::{Context, NodeId, TimerId};
use crate::sim::SimDuration;

/// A heartbeat, carrying its sender's number (an epoch, a term).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beat(pub u64);

/// The components' timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatTimer {
    /// The pacemaker's next beat.
    Send,
    /// The detector's deadline.
    Silence,
}

/// Sends a beat to every peer every `interval`, while running.
#[derive(Clone, Debug)]
pub struct Pacemaker {
    interval: SimDuration,
    timer: Option<TimerId>,
}

impl Pacemaker {
    pub fn new(interval: SimDuration) -> Self {
        assert!(interval > SimDuration::ZERO, "a pacemaker beats at a positive interval");
        Pacemaker { interval, timer: None }
    }

    pub fn running(&self) -> bool {
        self.timer.is_some()
    }

    /// Beats now and every `interval` from now on.
    pub fn start(
        &mut self,
        cx: &mut impl Context<Msg = Beat, Timer = HeartbeatTimer>,
        peers: &[NodeId],
        n: u64,
    ) {
        self.beat(cx, peers, n);
    }

    /// Stops beating.
    pub fn stop(&mut self, cx: &mut impl Context<Timer = HeartbeatTimer>) {
        if let Some(t) = self.timer.take() {
            cx.cancel_timer(t);
        }
    }

    /// Its timer fired: beat and arm the next one. Returns whether it was the pacemaker's
    /// (a stopped pacemaker ignores a late timer).
    pub fn on_timer(
        &mut self,
        cx: &mut impl Context<Msg = Beat, Timer = HeartbeatTimer>,
        (id, timer): (TimerId, HeartbeatTimer),
        peers: &[NodeId],
        n: u64,
    ) -> bool {
        if timer != HeartbeatTimer::Send || self.timer != Some(id) {
            return false;
        }
        self.beat(cx, peers, n);
        true
    }

    fn beat(&mut self, cx: &mut impl Context<Msg = Beat, Timer = HeartbeatTimer>, peers: &[NodeId], n: u64) {
        let me = cx.id();
        for &peer in peers.iter().filter(|&&p| p != me) {
            cx.send(peer, Beat(n));
        }
        self.timer = Some(cx.set_timer(self.interval, HeartbeatTimer::Send));
        debug_assert!(self.running(), "a pacemaker that beat has its next beat armed");
    }
}

/// Suspects a peer after `timeout` of silence.
#[derive(Clone, Debug)]
pub struct Detector {
    timeout: SimDuration,
    timer: Option<TimerId>,
    suspected: bool,
}

impl Detector {
    pub fn new(timeout: SimDuration) -> Self {
        assert!(timeout > SimDuration::ZERO, "a detector waits a positive time");
        Detector { timeout, timer: None, suspected: false }
    }

    /// Whether the watched peer is suspected (its silence outlasted the timeout).
    pub fn suspected(&self) -> bool {
        self.suspected
    }

    pub fn watching(&self) -> bool {
        self.timer.is_some()
    }

    /// A sign of life: trust the peer and push the deadline back to `timeout` from now
    /// (also how watching starts).
    pub fn heard(&mut self, cx: &mut impl Context<Timer = HeartbeatTimer>) {
        self.suspected = false;
        self.timer = Some(cx.rearm_timer(self.timer, self.timeout, HeartbeatTimer::Silence));
    }

    /// Stops watching (e.g. the host became the one others watch).
    pub fn stop(&mut self, cx: &mut impl Context<Timer = HeartbeatTimer>) {
        if let Some(t) = self.timer.take() {
            cx.cancel_timer(t);
        }
        self.suspected = false;
    }

    /// Its timer fired: returns true when this is a new suspicion.
    pub fn on_timer(&mut self, (id, timer): (TimerId, HeartbeatTimer)) -> bool {
        if timer != HeartbeatTimer::Silence || self.timer != Some(id) {
            return false;
        }
        self.timer = None;
        assert!(!self.suspected, "a suspicion is raised once per silence");
        self.suspected = true;
        true
    }
}

//! Re-armable timers and the service stage's release times: the same behaviour as the
//! plain way (cancel + set; a release event per request), for fewer queue events.

use crate::common::*;
use stormglass::process::clock::Clock;
use stormglass::process::{Cx, NodeId, Process, TimerId};
use stormglass::sim::{Dist, Engine, Limits, RngStream, SimDuration, SimTime};
use stormglass::world::network::NetworkBuilder;
use stormglass::world::node::{Node, Service};
use stormglass::world::{Spawner, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Beat {
    /// A sign of life: push the watchdog back.
    Tick,
    Watchdog,
}

/// Ticks every 2 ms, 100 times; every tick resets a watchdog to `timeout` (by re-arming, or
/// by cancelling and setting a new one). Observes `fired` when the watchdog fires.
#[derive(Clone, Debug)]
struct Watch {
    rearm: bool,
    timeout: SimDuration,
    ticks: u32,
    watchdog: Option<TimerId>,
}

impl Watch {
    fn reset(&mut self, cx: &mut impl Cx<Self>) {
        self.watchdog = Some(if self.rearm {
            cx.rearm_timer(self.watchdog, self.timeout, Beat::Watchdog)
        } else {
            if let Some(t) = self.watchdog.take() {
                cx.cancel_timer(t);
            }
            cx.set_timer(self.timeout, Beat::Watchdog)
        });
    }
}

impl Process for Watch {
    type Msg = Msg;
    type Timer = Beat;

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        cx.set_timer(ms(2), Beat::Tick);
        self.reset(cx);
    }

    fn on_message(&mut self, _: &mut impl Cx<Self>, _: NodeId, _: Msg) {}

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, _: TimerId, beat: Beat) {
        match beat {
            Beat::Tick => {
                self.ticks += 1;
                // The timeout shrinks at tick 50: a deadline moved earlier fires earlier.
                if self.ticks == 50 {
                    self.timeout = ms(20);
                }
                self.reset(cx);
                if self.ticks < 100 {
                    cx.set_timer(ms(2), Beat::Tick);
                }
            }
            Beat::Watchdog => {
                self.watchdog = None;
                cx.observe("fired", cx.now().0 as i64);
            }
        }
    }
}

/// Runs one node (with a drifting clock) for 1 s; returns its observations and the events.
fn watch(rearm: bool) -> (Vec<(SimTime, i64)>, u64) {
    let net = NetworkBuilder::new(stormglass::world::network::Link::default());
    let mut net = net;
    net.node(info("n0", "z", "r"));
    let net = net.build(RngStream::new(SEED, "network"));
    let clock = Clock::new(0, 250_000); // +250 ppm: local durations differ from true ones
    let nodes = vec![Node::new(NodeId(0), "n0", SEED, None, clock)];
    let spawner: Spawner<Watch> =
        Box::new(move |_, _| Watch { rearm, timeout: ms(50), ticks: 0, watchdog: None });
    let mut w = World::new(nodes, net, spawner, vec![], RngStream::new(SEED, "faults"), u64::MAX);
    let mut engine = Engine::new(Limits::default());
    w.start(engine.scheduler()).expect("the world starts");
    let stats = engine.run(&mut w, SimTime::ZERO + ms(1000), u64::MAX).expect("the run finishes");
    let fired =
        w.history.observations.iter().filter(|o| o.name == "fired").map(|o| (o.time, o.value)).collect();
    (fired, stats.events)
}

#[test]
fn a_rearmed_timer_fires_when_cancel_and_set_would_with_fewer_events() {
    let (rearmed, rearm_events) = watch(true);
    let (plain, plain_events) = watch(false);
    // The watchdog fires once, 20 ms (local) after the last tick at 200 ms (local).
    assert_eq!(rearmed.len(), 1, "{rearmed:?}");
    assert_eq!(rearmed, plain, "the same firing, at the same true and local times");
    assert_eq!(rearmed[0].1 as u64, 220 * MS, "local time of the firing");
    // Cancel + set leaves one dead event per reset in the queue (100); re-arming later
    // only re-queues its one event when it comes due (every ~48 ms, then every ~18 ms).
    assert!(plain_events >= rearm_events + 80, "{plain_events} vs {rearm_events} events");
}

#[test]
fn an_idle_service_costs_one_event_per_message_and_a_busy_one_queues_in_order() {
    // 20 pings 10 ms apart to a server that takes 1 ms each: no queue, so no release events.
    let run_with = |interval: SimDuration, service: SimDuration| {
        let mut w = world(network(2, constant_link(1)), zero_to_one(interval, 20), vec![]);
        w.nodes[1].service = Some(Service { workers: 1, queue: 64, time: Dist::Constant(service.0) });
        let mut engine = Engine::new(Limits::default());
        w.start(engine.scheduler()).expect("the world starts");
        let stats = engine.run(&mut w, SimTime::ZERO + ms(1000), u64::MAX).expect("the run finishes");
        w.finish(engine.scheduler());
        (w, stats.events)
    };
    let (idle, idle_events) = run_with(ms(10), ms(1));
    assert_eq!(idle.nodes[1].stats.messages_handled, 20);
    // The pinger's 20 timers and 20 deliveries, nothing else.
    assert_eq!(idle_events, 40);
    // A burst of 20 at once: served one after another, 5 ms apart, in order.
    let (busy, busy_events) = run_with(SimDuration::ZERO, ms(5));
    let got = between(&busy, 0, 1);
    let times: Vec<SimTime> = got.iter().map(|r| r.time).collect();
    let want: Vec<SimTime> = (0..20).map(|k| at_ms(1 + 5 * (k + 1))).collect();
    assert_eq!(times, want);
    assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), (0..20).collect::<Vec<_>>());
    assert_eq!(busy.nodes[1].stats.max_queue_depth, 19);
    // The pinger's 20 timers, 20 deliveries, and one wake-up per queued request.
    assert_eq!(busy_events, 20 + 20 + 19);
}

fn constant_link(ms_: u64) -> stormglass::world::network::Link {
    stormglass::world::network::Link { latency: Dist::Constant(ms_ * MS), ..Default::default() }
}

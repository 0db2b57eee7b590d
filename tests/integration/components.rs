//! Composing components: one node type hosting pieces written for other contexts.
//!
//! `Composite` is a node type of its own, with its own message and timer enums. Its server
//! nodes run a Raft server (written for Raft's context, `RaftCx`) beside a heartbeat
//! pacemaker (written for the heartbeat component's context); its client node runs a Raft
//! client (which itself hosts the workload's driver) beside a failure detector watching
//! one server. Each piece gets a scoped context that wraps what it sends and arms into
//! `Composite`'s types; `Composite` unwraps what arrives. No piece knows it is composed.

use crate::common::{info, MS};
use std::sync::Arc;
use stormglass::check::durability::key_checks;
use stormglass::components::heartbeat::{Beat, Detector, HeartbeatTimer, Pacemaker};
use stormglass::history::ClientId;
use stormglass::process::clock::Clock;
use stormglass::process::{Context, Cx, Message, NodeId, Process, TimerId};
use stormglass::sim::{Dist, Engine, Limits, RngStream, SimDuration, SimTime};
use stormglass::systems::raft::{RaftClient, RaftMsg, RaftServer, RaftTimer};
use stormglass::systems::AnySystem;
use stormglass::world::fault::{FaultAction, FaultKind, Target};
use stormglass::world::network::{Link, NetworkBuilder};
use stormglass::world::node::Node;
use stormglass::world::{Spawner, World};

#[derive(Clone, Debug)]
enum CMsg {
    Raft(RaftMsg),
    Beat(Beat),
}

impl Message for CMsg {
    fn wire_size(&self) -> u32 {
        match self {
            CMsg::Raft(m) => m.wire_size(),
            CMsg::Beat(_) => 16,
        }
    }

    fn corrupt(&mut self, rng: &mut RngStream) {
        match self {
            CMsg::Raft(m) => m.corrupt(rng),
            CMsg::Beat(Beat(n)) => *n = stormglass::process::flip_bit_u64(*n, rng),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum CTimer {
    Raft(RaftTimer),
    Heartbeat(HeartbeatTimer),
}

/// When the watcher's detector suspects the server it watches.
const SUSPECTED: &str = "suspected";

#[derive(Clone, Debug)]
enum Composite {
    Server { raft: Box<RaftServer>, pacemaker: Pacemaker, watcher: NodeId },
    Client { raft: RaftClient, detector: Detector },
}

impl Process for Composite {
    type Msg = CMsg;
    type Timer = CTimer;

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        match self {
            Composite::Server { raft, pacemaker, watcher } => {
                raft.on_start(&mut cx.scope(CMsg::Raft, CTimer::Raft));
                if cx.id() == NodeId(0) {
                    pacemaker.start(&mut cx.scope(CMsg::Beat, CTimer::Heartbeat), &[*watcher], 0);
                }
            }
            Composite::Client { raft, detector } => {
                raft.on_start(&mut cx.scope(CMsg::Raft, CTimer::Raft));
                detector.heard(&mut cx.scope(CMsg::Beat, CTimer::Heartbeat));
            }
        }
    }

    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: CMsg) {
        match (self, msg) {
            (Composite::Server { raft, .. }, CMsg::Raft(m)) => {
                raft.on_message(&mut cx.scope(CMsg::Raft, CTimer::Raft), src, m)
            }
            (Composite::Client { raft, .. }, CMsg::Raft(m)) => {
                raft.on_message(&mut cx.scope(CMsg::Raft, CTimer::Raft), src, m)
            }
            (Composite::Client { detector, .. }, CMsg::Beat(_)) => {
                detector.heard(&mut cx.scope(CMsg::Beat, CTimer::Heartbeat))
            }
            (Composite::Server { .. }, CMsg::Beat(_)) => {}
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, id: TimerId, timer: CTimer) {
        match (self, timer) {
            (Composite::Server { raft, .. }, CTimer::Raft(t)) => {
                raft.on_timer(&mut cx.scope(CMsg::Raft, CTimer::Raft), t)
            }
            (Composite::Client { raft, .. }, CTimer::Raft(t)) => {
                raft.on_timer(&mut cx.scope(CMsg::Raft, CTimer::Raft), t)
            }
            (Composite::Server { pacemaker, watcher, .. }, CTimer::Heartbeat(t)) => {
                let peers = [*watcher];
                pacemaker.on_timer(&mut cx.scope(CMsg::Beat, CTimer::Heartbeat), (id, t), &peers, 0);
            }
            (Composite::Client { detector, .. }, CTimer::Heartbeat(t)) => {
                if detector.on_timer((id, t)) {
                    cx.observe(SUSPECTED, 0);
                }
            }
        }
    }

    fn record_unfinished(&mut self, cx: &mut impl Cx<Self>) {
        if let Composite::Client { raft, .. } = self {
            raft.driver.finish(&mut cx.scope(CMsg::Raft, CTimer::Raft).scope(|m| m, RaftTimer::Client));
        }
    }
}

/// Three Raft servers and one client at 200 ops/s, as a scenario would configure them.
fn setup() -> (Arc<stormglass::systems::raft::RaftConfig>, Arc<stormglass::workload::WorkloadSpec>) {
    let text = r#"Scenario(version: 1, name: "composed", duration: "5s",
        topology: (nodes: [(name: "n0"), (name: "n1"), (name: "n2")]),
        system: Raft(election_timeout: ("150ms", "300ms"), heartbeat: "50ms"),
        workload: (clients: 1, arrival: Poisson(rate_per_s: 200.0), keys: Uniform(n: 20), write_ratio: 0.5,
                   timeout: "200ms", retry: Exponential(base: "20ms", cap: "200ms", max_attempts: 10)),
    )"#;
    let scenario = stormglass::systems::parse(text, "composed.ron").expect("the scenario is valid");
    let AnySystem::Raft(section) = &scenario.raw.system else { unreachable!("a Raft scenario") };
    let servers: Vec<NodeId> = (0..3).map(NodeId).collect();
    let config = Arc::new(section.config(servers));
    let spec = Arc::new(stormglass::simulation::resolve::workload(&scenario.raw.workload));
    (config, spec)
}

fn run(seed: u64) -> World<Composite> {
    let (config, spec) = setup();
    let spawner: Spawner<Composite> = Box::new(move |id, disk| match id.0 {
        0..=2 => Composite::Server {
            raft: Box::new(RaftServer::recover(config.clone(), id, disk)),
            pacemaker: Pacemaker::new(SimDuration(50 * MS)),
            watcher: NodeId(3),
        },
        _ => {
            let driver = stormglass::workload::Driver::new(ClientId(0), spec.clone());
            Composite::Client {
                raft: RaftClient::new(driver, config.servers.clone()),
                detector: Detector::new(SimDuration(200 * MS)),
            }
        }
    });
    let mut b = NetworkBuilder::new(Link { latency: Dist::Constant(MS), ..Link::default() });
    for name in ["n0", "n1", "n2", "client-0"] {
        b.node(info(name, "z", "r"));
    }
    let net = b.build(RngStream::new(seed, "network"));
    let nodes = (net.topology.ids())
        .map(|id| Node::new(id, &net.topology.info(id).name, seed, None, Clock::default()))
        .collect();
    let crash = FaultAction {
        at: SimTime(2_000 * MS),
        duration: None,
        kind: FaultKind::Crash(Target::Node(NodeId(0))),
    };
    let mut world = World::new(nodes, net, spawner, vec![crash], RngStream::new(seed, "faults"), u64::MAX);
    let mut engine = Engine::new(Limits::default());
    world.start(engine.scheduler()).expect("the world starts");
    engine.run(&mut world, SimTime(5_000 * MS), u64::MAX).expect("the run stays within its limits");
    world.finish(engine.scheduler());
    world
}

/// A Raft server and client, written for Raft's own context, run inside a foreign node type
/// beside heartbeat components written for theirs: the cluster serves, and the detector
/// suspects the crashed server within its timeout.
#[test]
fn raft_and_a_failure_detector_compose_on_one_node_type() {
    let world = run(3);
    let h = &world.history;
    let ok = h.ops.iter().filter(|o| o.outcome == stormglass::history::Outcome::Ok).count();
    assert!(ok > 700, "about 1,000 operations in 5 s, most of them acknowledged: {ok}");
    let (_, linearizable) = key_checks(h);
    assert_eq!(linearizable.holds, Some(true), "{}", linearizable.detail);
    let leaders = h.observations.iter().filter(|o| o.name == stormglass::systems::raft::LEADER).count();
    assert!(leaders >= 1, "the composed servers elect a leader");
    let suspected: Vec<SimTime> =
        h.observations.iter().filter(|o| o.name == SUSPECTED).map(|o| o.time).collect();
    assert_eq!(suspected.len(), 1, "suspected once, after the crash: {suspected:?}");
    // Last beat at or before 2 s (+1 ms to arrive), then 200 ms of silence.
    let at = suspected[0].0;
    assert!((2_150 * MS..=2_202 * MS).contains(&at), "suspected at {} ms", at / MS);
    assert!(world.net.stats.balanced(), "{:?}", world.net.stats);
}

#[test]
fn a_composed_run_is_deterministic_per_seed() {
    let digest = |w: &World<Composite>| format!("{:?}{:?}", w.history.ops, w.history.observations);
    assert_eq!(digest(&run(3)), digest(&run(3)), "the same seed, the same history");
    assert_ne!(digest(&run(3)), digest(&run(4)), "another seed, another history");
}

/// A scope of a scope: what the innermost component sends is wrapped twice.
#[test]
fn scopes_nest() {
    #[derive(Default)]
    struct Outbox {
        sent: Vec<(NodeId, u64)>,
        timers: u32,
    }
    // A minimal context in `u64` messages and `u8` timers, recording what it is asked.
    struct Fake<'a>(&'a mut Outbox);
    impl Context for Fake<'_> {
        type Msg = u64;
        type Timer = u8;
        fn id(&self) -> NodeId {
            NodeId(9)
        }
        fn incarnation(&self) -> u32 {
            0
        }
        fn now(&self) -> SimTime {
            SimTime::ZERO
        }
        fn true_now(&self) -> SimTime {
            SimTime::ZERO
        }
        fn send(&mut self, dst: NodeId, msg: u64) {
            self.0.sent.push((dst, msg));
        }
        fn rearm_timer(&mut self, _: Option<TimerId>, _: SimDuration, kind: u8) -> TimerId {
            self.0.timers += u32::from(kind);
            TimerId { slot: 0, generation: 0 }
        }
        fn cancel_timer(&mut self, _: TimerId) -> bool {
            false
        }
        fn busy(&mut self, _: SimDuration) {}
        fn disk(&mut self) -> stormglass::process::disk::DiskIo<'_> {
            unreachable!("not used here")
        }
        fn rng(&mut self) -> &mut RngStream {
            unreachable!("not used here")
        }
        fn observe(&mut self, _: &'static str, _: i64) {}
        fn record_op(&mut self, _: stormglass::history::OpRecord) {}
        fn record(&mut self, _: stormglass::history::GeneralOp) {}
    }
    let mut out = Outbox::default();
    let mut root = Fake(&mut out);
    let mut outer = root.scope(|m: u32| u64::from(m) * 10, |t: bool| if t { 2 } else { 1 });
    let mut inner = outer.scope(
        |m: u16| u32::from(m) + 1,
        |t: ()| {
            let () = t;
            true
        },
    );
    inner.send(NodeId(1), 4);
    inner.set_timer(SimDuration(1), ());
    assert_eq!(inner.id(), NodeId(9), "a scope reads its host's node");
    assert_eq!(out.sent, vec![(NodeId(1), 50)], "(4 + 1) × 10");
    assert_eq!(out.timers, 2, "() → true → 2");
}

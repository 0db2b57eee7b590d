//! What the integration tests share: a tiny pinging process and a world runner.

use stormglass::process::clock::Clock;
use stormglass::process::disk::Disk;
use stormglass::process::{Cx, Message, NodeId, Process, TimerId};
use stormglass::sim::{Engine, Limits, RngStream, SimDuration, SimTime};
use stormglass::world::fault::FaultAction;
use stormglass::world::network::{Link, NetworkBuilder, NodeInfo};
use stormglass::world::node::Node;
use stormglass::world::{Spawner, World};

pub const SEED: u64 = 7;
pub const MS: u64 = 1_000_000;
pub const US: u64 = 1_000;

/// The file a journaling [`Pinger`] logs received sequence numbers to, 8 bytes each.
pub const LOG: &str = "log";

#[derive(Clone, Debug)]
pub enum Msg {
    Ping { seq: u64 },
}

impl Message for Msg {
    /// 1250 bytes = 10,000 bits: 10 ms on a 1 Mbit/s link.
    fn wire_size(&self) -> u32 {
        1250
    }

    fn corrupt(&mut self, rng: &mut RngStream) {
        let Msg::Ping { seq } = self;
        *seq = stormglass::process::flip_bit_u64(*seq, rng);
    }
}

/// Sends `Ping{seq}` for seq = 0, 1, … `count - 1` to every peer, ping `k` leaving at
/// `k × interval` after start. On a ping it observes `recv` = seq, then `src` = sender.
/// A journaling pinger also appends each received seq to [`LOG`] and fsyncs after every
/// second record; at start it observes `start` = records found on disk.
#[derive(Clone, Debug, Default)]
pub struct Pinger {
    pub peers: Vec<NodeId>,
    pub interval: SimDuration,
    pub count: u64,
    pub journal: bool,
    records: u64,
    sent: u64,
}

impl Pinger {
    pub fn new(peers: &[u32], interval: SimDuration, count: u64) -> Self {
        Pinger { peers: peers.iter().map(|&p| NodeId(p)).collect(), interval, count, ..Pinger::default() }
    }

    pub fn journaled(mut self, disk: &Disk) -> Self {
        self.journal = true;
        self.records = disk.contents(LOG).len() as u64 / 8;
        self
    }
}

impl Process for Pinger {
    type Msg = Msg;
    type Timer = ();

    fn on_start(&mut self, cx: &mut impl Cx<Self>) {
        cx.observe("start", self.records as i64);
        if !self.peers.is_empty() && self.count > 0 {
            cx.set_timer(SimDuration::ZERO, ());
        }
    }

    fn on_message(&mut self, cx: &mut impl Cx<Self>, src: NodeId, msg: Msg) {
        let Msg::Ping { seq } = msg;
        cx.observe("recv", seq as i64);
        cx.observe("src", i64::from(src.0));
        if self.journal {
            cx.disk().append(LOG, &seq.to_le_bytes()).expect("a healthy disk accepts writes");
            self.records += 1;
            if self.records % 2 == 0 {
                cx.disk().fsync(LOG).expect("a healthy disk syncs");
            }
        }
    }

    fn on_timer(&mut self, cx: &mut impl Cx<Self>, _: TimerId, _: ()) {
        for i in 0..self.peers.len() {
            cx.send(self.peers[i], Msg::Ping { seq: self.sent });
        }
        self.sent += 1;
        if self.sent < self.count {
            cx.set_timer(self.interval, ());
        }
    }
}

/// One delivered ping, read back from the observations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recv {
    pub time: SimTime,
    pub src: u32,
    pub dst: u32,
    pub seq: u64,
}

pub fn received(world: &World<Pinger>) -> Vec<Recv> {
    let obs = &world.history.observations;
    obs.iter()
        .zip(obs.iter().skip(1))
        .filter(|(r, s)| r.name == "recv" && s.name == "src")
        .map(|(r, s)| Recv { time: r.time, src: s.value as u32, dst: r.node, seq: r.value as u64 })
        .collect()
}

/// The deliveries from `src` to `dst`, in arrival order.
pub fn between(world: &World<Pinger>, src: u32, dst: u32) -> Vec<Recv> {
    received(world).into_iter().filter(|r| r.src == src && r.dst == dst).collect()
}

pub fn info(name: &str, zone: &str, region: &str) -> NodeInfo {
    NodeInfo { name: name.to_string(), zone: zone.to_string(), region: region.to_string() }
}

/// `n` nodes named n0, n1, … in one zone, every pair on `link`.
pub fn network(n: u32, link: Link) -> NetworkBuilder {
    let mut b = NetworkBuilder::new(link);
    for i in 0..n {
        b.node(info(&format!("n{i}"), "z", "r"));
    }
    b
}

/// Node 0 pings node 1; every other node idles.
pub fn zero_to_one(interval: SimDuration, count: u64) -> Spawner<Pinger> {
    Box::new(move |id, _| match id.0 {
        0 => Pinger::new(&[1], interval, count),
        _ => Pinger::default(),
    })
}

pub fn world(net: NetworkBuilder, spawner: Spawner<Pinger>, plan: Vec<FaultAction>) -> World<Pinger> {
    let net = net.build(RngStream::new(SEED, "network"));
    let nodes = net
        .topology
        .ids()
        .map(|id| Node::new(id, &net.topology.info(id).name, SEED, None, Clock::default()))
        .collect();
    World::new(nodes, net, spawner, plan, RngStream::new(SEED, "faults"), u64::MAX)
}

/// Runs `world` to `horizon`, finishes it and checks the message accounting.
pub fn run(mut world: World<Pinger>, horizon: SimDuration) -> World<Pinger> {
    let mut engine = Engine::new(Limits::default());
    world.start(engine.scheduler()).expect("the world starts");
    engine.run(&mut world, SimTime::ZERO + horizon, u64::MAX).expect("the run stays within its limits");
    world.finish(engine.scheduler());
    let s = &world.net.stats;
    assert!(s.balanced(), "sent + duplicated = delivered + dropped + in flight + queued: {s:?}");
    world
}

pub fn ms(n: u64) -> SimDuration {
    SimDuration(n * MS)
}

pub fn at_ms(n: u64) -> SimTime {
    SimTime(n * MS)
}

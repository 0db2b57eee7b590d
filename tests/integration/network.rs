//! The network: loss, duplication, partitions, FIFO, bandwidth, the latency matrix,
//! accounting, and the node service model.

use crate::common::*;
use stormglass::process::NodeId;
use stormglass::sim::{Dist, SimDuration, SimTime};
use stormglass::world::fault::{FaultAction, FaultKind};
use stormglass::world::network::{DropReason, Link};
use stormglass::world::node::Service;

const N: u64 = 20_000;

fn lossy(loss: f64, duplicate: f64) -> Link {
    Link { latency: Dist::Constant(MS), loss, duplicate, ..Link::default() }
}

fn dropped(world: &stormglass::world::World<Pinger>, reason: DropReason) -> u64 {
    world.net.stats.dropped.get(&reason).copied().unwrap_or(0)
}

#[test]
fn loss_drops_the_configured_fraction() {
    let w = run(world(network(2, lossy(0.1, 0.0)), zero_to_one(ms(1), N), vec![]), ms(N + 10));
    let delivered = received(&w).len() as u64;
    // Deliveries ~ Binomial(20,000, 0.9): mean 18,000, standard error
    // sqrt(20,000 × 0.9 × 0.1) ≈ 42.4; four standard errors ≈ 170.
    assert!(delivered.abs_diff(18_000) <= 170, "delivered {delivered} of {N}");
    assert_eq!(w.net.stats.sent, N);
    assert_eq!(w.net.stats.delivered, delivered);
    assert_eq!(dropped(&w, DropReason::Loss), N - delivered);

    let w = run(world(network(2, lossy(0.0, 0.0)), zero_to_one(ms(1), N), vec![]), ms(N + 10));
    assert_eq!(received(&w).len() as u64, N);
    assert_eq!(w.net.stats.dropped_total(), 0);
}

#[test]
fn duplication_adds_the_configured_fraction_of_copies() {
    let w = run(world(network(2, lossy(0.0, 0.2)), zero_to_one(ms(1), N), vec![]), ms(N + 10));
    let delivered = received(&w).len() as u64;
    // Extra copies ~ Binomial(20,000, 0.2): mean 4,000, standard error
    // sqrt(20,000 × 0.2 × 0.8) ≈ 56.6; four standard errors ≈ 226.
    assert!(delivered.abs_diff(24_000) <= 226, "delivered {delivered} for {N} sent");
    assert_eq!(w.net.stats.duplicated, delivered - N);
    // Every seq arrives once or twice.
    let mut copies = vec![0u32; N as usize];
    for r in received(&w) {
        copies[r.seq as usize] += 1;
    }
    assert!(copies.iter().all(|&c| c == 1 || c == 2));

    let w = run(world(network(2, lossy(0.0, 0.0)), zero_to_one(ms(1), N), vec![]), ms(N + 10));
    assert_eq!(received(&w).len() as u64, N);
    assert_eq!(w.net.stats.duplicated, 0);
}

/// Nodes 0 and 1 ping each other every millisecond, 100 times.
fn both_ways() -> stormglass::world::Spawner<Pinger> {
    Box::new(|id, _| Pinger::new(&[1 - id.0], ms(1), 100))
}

fn seqs(recvs: &[Recv]) -> Vec<u64> {
    recvs.iter().map(|r| r.seq).collect()
}

#[test]
fn one_way_partition_cuts_only_its_direction() {
    let link = Link { latency: Dist::Constant(500 * US), ..Link::default() };
    let cut = FaultAction {
        at: at_ms(20),
        duration: Some(ms(40)),
        kind: FaultKind::Partition { groups: vec![vec![NodeId(0)], vec![NodeId(1)]], one_way: true },
    };
    let w = run(world(network(2, link), both_ways(), vec![cut]), ms(200));
    // 0 → 1: the pings sent at 20 ms … 59 ms are cut; the undo at 60 ms precedes the
    // ping sent then (it was scheduled earlier).
    let expected: Vec<u64> = (0..20).chain(60..100).collect();
    assert_eq!(seqs(&between(&w, 0, 1)), expected);
    assert_eq!(dropped(&w, DropReason::Partition), 40);
    // 1 → 0: everything.
    assert_eq!(seqs(&between(&w, 1, 0)), (0..100).collect::<Vec<_>>());
    let rec = &w.history.faults[0];
    assert_eq!((rec.kind.as_str(), rec.start, rec.end), ("one_way_partition", at_ms(20), Some(at_ms(60))));
}

#[test]
fn symmetric_partition_blocks_until_healed() {
    // 5 ms of latency, so the pings sent at 15 … 19 ms are in flight when the partition
    // starts at 20 ms and must be dropped on arrival.
    let link = Link { latency: Dist::Constant(5 * MS), ..Link::default() };
    let plan = vec![
        FaultAction {
            at: at_ms(20),
            duration: None,
            kind: FaultKind::Partition { groups: vec![vec![NodeId(0)], vec![NodeId(1)]], one_way: false },
        },
        FaultAction { at: at_ms(60), duration: None, kind: FaultKind::Heal },
    ];
    let w = run(world(network(2, link), both_ways(), plan), ms(200));
    for (src, dst) in [(0, 1), (1, 0)] {
        let got = between(&w, src, dst);
        let expected: Vec<u64> = (0..15).chain(60..100).collect();
        assert_eq!(seqs(&got), expected, "{src} → {dst}");
        assert!(
            got.iter().all(|r| r.time < at_ms(20) || r.time > at_ms(60)),
            "nothing crosses during the partition"
        );
    }
    // Per direction: 5 dropped on arrival, 40 at send.
    assert_eq!(dropped(&w, DropReason::Partition), 2 * 45);
    let rec = &w.history.faults[0];
    assert_eq!((rec.kind.as_str(), rec.end), ("partition", Some(at_ms(60))));
}

fn jittery(fifo: bool) -> Link {
    Link { latency: Dist::Uniform { lo: 0, hi: 10 * MS }, fifo, ..Link::default() }
}

fn inversions(recvs: &[Recv]) -> usize {
    recvs.windows(2).filter(|p| p[1].seq < p[0].seq).count()
}

#[test]
fn fifo_links_keep_order_and_others_reorder() {
    // Pings every 100 us against latencies spread over 10 ms: without FIFO, a ping
    // overtakes its predecessor about half the time.
    let every = SimDuration(100 * US);
    let w = run(world(network(2, jittery(true)), zero_to_one(every, 2000), vec![]), ms(300));
    let got = between(&w, 0, 1);
    assert_eq!(seqs(&got), (0..2000).collect::<Vec<_>>());

    let w = run(world(network(2, jittery(false)), zero_to_one(every, 2000), vec![]), ms(300));
    let got = between(&w, 0, 1);
    assert_eq!(got.len(), 2000);
    assert!(inversions(&got) > 100, "{} inversions", inversions(&got));
}

#[test]
fn bandwidth_serializes_back_to_back_messages() {
    // 1250 bytes at 1 Mbit/s take 10 ms on the wire; latency adds 1 ms after that.
    let link = Link { latency: Dist::Constant(MS), bandwidth_bps: Some(1_000_000), ..Link::default() };
    let w = run(world(network(2, link), zero_to_one(SimDuration::ZERO, 10), vec![]), ms(500));
    let times: Vec<SimTime> = between(&w, 0, 1).iter().map(|r| r.time).collect();
    let expected: Vec<SimTime> = (1..=10).map(|k| at_ms(10 * k + 1)).collect();
    assert_eq!(times, expected);

    // Unlimited bandwidth: all ten arrive together.
    let w = run(world(network(2, lossy(0.0, 0.0)), zero_to_one(SimDuration::ZERO, 10), vec![]), ms(500));
    assert!(between(&w, 0, 1).iter().all(|r| r.time == at_ms(1)));
}

fn constant(ms_: u64) -> Link {
    Link { latency: Dist::Constant(ms_ * MS), ..Link::default() }
}

#[test]
fn latency_overrides_apply_pair_then_zone_then_region_then_default() {
    let mut b = stormglass::world::network::NetworkBuilder::new(constant(1));
    b.node(info("n0", "za", "r1"));
    b.node(info("n1", "zb", "r1"));
    b.node(info("n2", "zc", "r2"));
    b.node(info("n3", "zb", "r1"));
    // Declared from the most to the least specific: precedence must not follow the
    // order of the calls.
    b.pair(NodeId(0), NodeId(3), constant(3));
    b.zones("za", "zb", constant(10));
    b.zones("za", "zc", constant(20));
    b.regions("r1", "r2", constant(50));
    let everyone: stormglass::world::Spawner<Pinger> = Box::new(|id, _| {
        let others: Vec<u32> = (0..4).filter(|&j| j != id.0).collect();
        Pinger::new(&others, ms(1), 1)
    });
    let w = run(world(b, everyone, vec![]), ms(200));
    let expected = |src: u32, dst: u32| match (src.min(dst), src.max(dst)) {
        (0, 3) if src == 0 => 3, // the pair, one direction only
        (0, 1) | (0, 3) => 10,   // zone za–zb
        (0, 2) => 20,            // zone za–zc beats region r1–r2
        (1, 2) | (2, 3) => 50,   // region r1–r2
        (1, 3) => 1,             // same zone, same region: the default
        _ => unreachable!(),
    };
    let mut pairs = 0;
    for r in received(&w) {
        let want = expected(r.src, r.dst);
        assert_eq!(w.net.link(NodeId(r.src), NodeId(r.dst)).latency, Dist::Constant(want * MS));
        assert_eq!(r.time, at_ms(want), "{} → {}", r.src, r.dst);
        pairs += 1;
    }
    assert_eq!(pairs, 12, "every ordered pair delivers its ping");
}

#[test]
fn a_bounded_queue_drops_beyond_capacity() {
    // A burst of 10 arrives at 1 ms: one is served, two wait, seven are dropped.
    let mut w = world(network(2, constant(1)), zero_to_one(SimDuration::ZERO, 10), vec![]);
    w.nodes[1].service = Some(Service { workers: 1, queue: 2, time: Dist::Constant(10 * MS) });
    let w = run(w, ms(500));
    assert_eq!(dropped(&w, DropReason::QueueFull), 7);
    assert_eq!(w.nodes[1].stats.max_queue_depth, 2);
    assert_eq!(w.nodes[1].stats.messages_handled, 3);
    assert_eq!(w.nodes[1].stats.busy_ns, 30 * MS);
    // Served one after another; an observation is stamped at the end of its service.
    let got = between(&w, 0, 1);
    assert_eq!(seqs(&got), vec![0, 1, 2]);
    let times: Vec<SimTime> = got.iter().map(|r| r.time).collect();
    assert_eq!(times, vec![at_ms(11), at_ms(21), at_ms(31)]);
}

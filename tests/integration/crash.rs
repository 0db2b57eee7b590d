//! Crashes and restarts: durable state, incarnations, timers, timed and dynamic faults.

use crate::common::*;
use stormglass::process::NodeId;
use stormglass::sim::{Dist, SimTime};
use stormglass::world::fault::{FaultAction, FaultKind, Target};
use stormglass::world::network::{DropReason, Link};
use stormglass::world::{Spawner, World};

fn latency(ns: u64) -> Link {
    Link { latency: Dist::Constant(ns), ..Link::default() }
}

fn fault(at: SimTime, kind: FaultKind) -> FaultAction {
    FaultAction { at, duration: None, kind }
}

fn crash(at: SimTime, node: u32) -> FaultAction {
    fault(at, FaultKind::Crash(Target::Node(NodeId(node))))
}

fn restart(at: SimTime, node: u32) -> FaultAction {
    fault(at, FaultKind::Restart(Target::Node(NodeId(node))))
}

fn dropped(world: &World<Pinger>, reason: DropReason) -> u64 {
    world.net.stats.dropped.get(&reason).copied().unwrap_or(0)
}

/// The `start` observations of `node`: (when, records found on disk).
fn starts(world: &World<Pinger>, node: u32) -> Vec<(SimTime, i64)> {
    let obs = world.history.observations.iter();
    obs.filter(|o| o.name == "start" && o.node == node).map(|o| (o.time, o.value)).collect()
}

fn records(bytes: &[u8]) -> Vec<u64> {
    let words = bytes.chunks_exact(8);
    words.map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).collect()
}

#[test]
fn a_crash_loses_exactly_the_unsynced_writes() {
    // Node 1 journals every ping and fsyncs after every second record. Pings 0 … 4 arrive
    // before the crash at 4.5 ms: 0–3 are synced, 4 is not. Pings 5 and 6 find the node
    // down; 7, 8, 9 reach the new incarnation, built from the disk.
    let spawner: Spawner<Pinger> = Box::new(|id, disk| match id.0 {
        0 => Pinger::new(&[1], ms(1), 10),
        _ => Pinger::default().journaled(disk),
    });
    let plan = vec![crash(SimTime(4_500 * US), 1), restart(SimTime(6_500 * US), 1)];
    let w = run(world(network(2, latency(100 * US)), spawner, plan), ms(100));
    assert_eq!(starts(&w, 1), vec![(SimTime::ZERO, 0), (SimTime(6_500 * US), 4)]);
    let disk = &w.nodes[1].disk;
    assert_eq!(disk.stats().writes_lost_in_crash, 1);
    assert_eq!(dropped(&w, DropReason::NodeDown), 2);
    // The new incarnation counts on from the 4 recovered records: 7 and 8 make records
    // 5 and 6 (synced), 9 is record 7 (pending).
    assert_eq!(records(disk.read_durable(LOG)), vec![0, 1, 2, 3, 7, 8]);
    assert_eq!(records(disk.contents(LOG)), vec![0, 1, 2, 3, 7, 8, 9]);
}

#[test]
fn messages_to_an_earlier_incarnation_or_a_down_node_are_dropped() {
    // 50 ms of latency. Node 1 crashes at 20 ms and is back at 30 ms: pings 0–19, sent to
    // incarnation 0, arrive at 50–69 ms at incarnation 1 and are stale. Pings 20–99 arrive
    // by 149 ms and are delivered. Node 1 crashes for good at 150 ms: pings 100–119 find
    // it down.
    let plan = vec![crash(at_ms(20), 1), restart(at_ms(30), 1), crash(at_ms(150), 1)];
    let w = run(world(network(2, latency(50 * MS)), zero_to_one(ms(1), 120), plan), ms(300));
    let got: Vec<u64> = between(&w, 0, 1).iter().map(|r| r.seq).collect();
    assert_eq!(got, (20..100).collect::<Vec<_>>());
    assert_eq!(dropped(&w, DropReason::StaleIncarnation), 20);
    assert_eq!(dropped(&w, DropReason::NodeDown), 20);
    assert_eq!(w.net.stats.sent, 120);
    assert_eq!(w.net.stats.delivered, 80);
}

#[test]
fn timers_of_an_earlier_incarnation_never_fire() {
    // Node 0 pings every 100 ms. Its first incarnation arms a timer for 100 ms, then
    // crashes at 10 ms; the second starts at 20 ms and arms its own for 120 ms, with the
    // same slot and generation. The stale timer must not fire at 100 ms.
    let plan = vec![crash(at_ms(10), 0), restart(at_ms(20), 0)];
    let w = run(world(network(2, Link::default()), zero_to_one(ms(100), 10), plan), ms(250));
    let got: Vec<(SimTime, u64)> = between(&w, 0, 1).iter().map(|r| (r.time, r.seq)).collect();
    assert_eq!(got, vec![(at_ms(0), 0), (at_ms(20), 0), (at_ms(120), 1), (at_ms(220), 2)]);
    assert_eq!(w.nodes[0].stats.stale_timers, 1);
    assert_eq!(w.nodes[0].stats.timers_fired, 4);
}

#[test]
fn a_crash_with_a_duration_restarts_by_itself() {
    let plan = vec![FaultAction { duration: Some(ms(20)), ..crash(at_ms(10), 1) }];
    let w = run(world(network(2, Link::default()), zero_to_one(ms(1), 100), plan), ms(200));
    let node = &w.nodes[1];
    assert!(node.is_up());
    assert_eq!((node.stats.crashes, node.stats.restarts), (1, 1));
    assert_eq!(starts(&w, 1), vec![(at_ms(0), 0), (at_ms(30), 0)]);
    // Pings sent 10 … 29 ms find the node down; the restart at 30 ms precedes ping 30.
    let got: Vec<u64> = between(&w, 0, 1).iter().map(|r| r.seq).collect();
    assert_eq!(got, (0..10).chain(30..100).collect::<Vec<_>>());
    assert_eq!(dropped(&w, DropReason::NodeDown), 20);
    let rec = &w.history.faults[0];
    assert_eq!(rec.kind.as_str(), "crash");
    assert_eq!(rec.targets, vec!["n1".to_string()]);
    assert_eq!((rec.start, rec.end), (at_ms(10), Some(at_ms(30))));
}

#[test]
fn restarting_the_crashed_restarts_exactly_the_nodes_down() {
    let idle: Spawner<Pinger> = Box::new(|_, _| Pinger::default());
    let plan = vec![
        crash(at_ms(10), 1),
        crash(at_ms(12), 2),
        fault(at_ms(20), FaultKind::Restart(Target::Crashed)),
        crash(at_ms(30), 3),
        fault(at_ms(40), FaultKind::Restart(Target::Crashed)),
    ];
    let w = run(world(network(4, Link::default()), idle, plan), ms(100));
    let f = &w.history.faults;
    assert_eq!(f[2].targets, vec!["n1".to_string(), "n2".to_string()]);
    assert_eq!(f[4].targets, vec!["n3".to_string()]);
    let ends: Vec<Option<SimTime>> = [0, 1, 3].iter().map(|&i| f[i].end).collect();
    assert_eq!(ends, vec![Some(at_ms(20)), Some(at_ms(20)), Some(at_ms(40))]);
    let counts: Vec<(u64, u64)> = w.nodes.iter().map(|n| (n.stats.crashes, n.stats.restarts)).collect();
    assert_eq!(counts, vec![(0, 0), (1, 1), (1, 1), (1, 1)]);
    assert!(w.nodes.iter().all(|n| n.is_up()));
    let boots: Vec<usize> = (0..4).map(|i| starts(&w, i).len()).collect();
    assert_eq!(boots, vec![1, 2, 2, 2]);
}

#[test]
fn a_timed_crash_does_not_restart_a_later_crash() {
    // Regression: crash n1 for 50 ms at 0, restart it by hand at 10 ms, crash it for good at
    // 20 ms. The first crash's timed undo at 50 ms belongs to an earlier incarnation and
    // must leave the node down.
    let plan = vec![
        FaultAction { duration: Some(ms(50)), ..crash(at_ms(0), 1) },
        restart(at_ms(10), 1),
        crash(at_ms(20), 1),
    ];
    let w = run(world(network(2, Link::default()), zero_to_one(ms(1), 100), plan), ms(100));
    let node = &w.nodes[1];
    assert!(!node.is_up(), "the permanent crash holds");
    assert_eq!((node.stats.crashes, node.stats.restarts), (2, 1));
    assert_eq!(w.history.faults[2].end, None, "the permanent crash never ends");
}

#[test]
fn a_heal_cancels_pending_timed_partitions() {
    // Regression: a partition for 50 ms at 0, a heal at 10 ms, a lasting partition at 20 ms.
    // The first partition's timed undo at 50 ms must not lift the lasting one.
    let cut = |at, duration| FaultAction {
        at,
        duration,
        kind: FaultKind::Partition { groups: vec![vec![NodeId(0)], vec![NodeId(1)]], one_way: false },
    };
    let plan = vec![cut(at_ms(0), Some(ms(50))), fault(at_ms(10), FaultKind::Heal), cut(at_ms(20), None)];
    let w = run(world(network(2, Link::default()), zero_to_one(ms(1), 100), plan), ms(100));
    let got: Vec<u64> = between(&w, 0, 1).iter().map(|r| r.seq).collect();
    assert_eq!(got, (10..20).collect::<Vec<_>>(), "only the pings between heal and the lasting cut cross");
    assert_eq!(w.history.faults[2].end, None, "the lasting partition never ends");
}

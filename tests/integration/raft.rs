//! Raft: every shipped scenario holds its expectations, every broken variant is caught by
//! its checker at a pinned seed, and runs are deterministic.

use stormglass::simulation::{self, RunOptions, RunResult};
use stormglass::systems as scenario;
use stormglass::systems::raft::RaftReport;

fn run_text(text: &str, seed: u64) -> RunResult {
    let s = scenario::parse(text, "raft.ron").expect("the scenario parses");
    simulation::run(&s, RunOptions { seed: Some(seed), record_trace: false }).expect("the scenario runs")
}

fn load(name: &str) -> String {
    std::fs::read_to_string(format!("scenarios/{name}")).expect("the scenario file is readable")
}

fn holds(r: &RunResult, property: &str) -> Option<bool> {
    r.properties.iter().find(|p| p.name == property).and_then(|p| p.holds)
}

/// A small Raft scenario: five servers, a light workload, a body of faults.
fn scenario(system_extra: &str, faults: &str, duration: &str) -> String {
    format!(
        r#"Scenario(
    version: 1, name: "raft-variant", duration: "{duration}",
    topology: (
        nodes: [(name: "n1"), (name: "n2"), (name: "n3"), (name: "n4"), (name: "n5")],
        link: (latency: LogNormal(median: "1ms", p99: "5ms")),
        disk: (fsync: Constant("1ms")),
    ),
    system: Raft(election_timeout: ("150ms", "300ms"), heartbeat: "50ms", {system_extra}),
    workload: (clients: 4, arrival: Poisson(rate_per_s: 300.0), keys: Zipf(n: 100, s: 1.0), write_ratio: 0.5,
               timeout: "300ms", retry: Exponential(base: "20ms", cap: "500ms", max_attempts: 4)),
    faults: [{faults}],
)"#
    )
}

#[test]
fn the_leader_crash_scenario_holds_every_property() {
    let r = run_text(&load("raft-leader-crash.ron"), 1);
    assert!(r.passed(), "{:?}", r.expectations);
    let raft = r.system.figures::<RaftReport>().expect("a Raft run reports elections");
    let e = raft.elections.iter().find(|e| e.hit_leader).expect("the crash hit the leader");
    let down = e.downtime_s.expect("a new leader was elected");
    assert!((0.15..1.0).contains(&down), "election downtime {down} s");
    assert_eq!(raft.leaders_elected, 2);
}

#[test]
fn same_seed_same_digest_other_seed_another() {
    let text = load("raft-leader-crash.ron");
    let (a, b, c) = (run_text(&text, 3), run_text(&text, 3), run_text(&text, 4));
    assert_eq!(a.digest, b.digest);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    assert_ne!(a.digest, c.digest);
}

#[test]
fn votes_without_the_term_check_break_election_safety() {
    // Narrow timeouts make split votes, and so concurrent candidates in one term, likely.
    let faults = r#"(at: "5s", do: Crash(Role("leader"))), (at: "8s", do: Restart(Crashed))"#;
    let bad = scenario(r#"bugs: [VoteWithoutTermCheck]"#, faults, "12s")
        .replace(r#"("150ms", "300ms")"#, r#"("150ms", "155ms")"#);
    let r = run_text(&bad, 1);
    assert_eq!(holds(&r, "election_safety"), Some(false), "{:?}", r.properties);
    // The same run without the bug keeps one leader per term.
    let good = bad.replace("bugs: [VoteWithoutTermCheck]", "");
    assert_eq!(holds(&run_text(&good, 1), "election_safety"), Some(true));
}

#[test]
fn acknowledging_before_fsync_loses_committed_entries_in_a_power_loss() {
    // Every server loses power at once: the entries acknowledged since the last lazy sync
    // were committed but are gone. The monitor sees a committed index rewritten, clients
    // lose acknowledged writes, and reads after recovery are not linearizable.
    let faults = r#"(at: "5s", for: "1s", do: Crash(All))"#;
    let bad = scenario("bugs: [AckBeforeFsync]", faults, "10s");
    let r = run_text(&bad, 1);
    assert_eq!(holds(&r, "state_machine_safety"), Some(false), "{:?}", r.properties);
    assert!(r.durability.lost_acknowledged_writes > 0);
    let good = run_text(&bad.replace("bugs: [AckBeforeFsync]", ""), 1);
    assert_eq!(holds(&good, "state_machine_safety"), Some(true));
    assert_eq!(good.durability.lost_acknowledged_writes, 0);
    assert_eq!(holds(&good, "linearizable"), Some(true), "{:?}", good.properties);
}

#[test]
fn lease_reads_under_clock_drift_are_caught_and_read_index_is_not() {
    // The lease scenario pins seed 3: the stale read needs a write at the new leader to a key
    // the old one is then asked for, within its lease (about one seed in two).
    let lease = run_text(&load("raft-clock-drift-lease-reads.ron"), 3);
    assert_eq!(holds(&lease, "linearizable"), Some(false), "{:?}", lease.properties);
    assert!(lease.passed(), "the scenario expects the violation: {:?}", lease.expectations);
    let index = run_text(&load("raft-clock-drift-read-index.ron"), 3);
    assert_eq!(holds(&index, "linearizable"), Some(true), "{:?}", index.properties);
}

#[test]
fn pre_vote_and_check_quorum_calm_an_asymmetric_partition() {
    let noisy = run_text(&load("raft-asymmetric-partition.ron"), 1);
    let calm = run_text(&load("raft-asymmetric-partition-prevote.ron"), 1);
    let terms = |r: &RunResult| r.system.figures::<RaftReport>().map_or(0, |x| x.highest_term);
    assert!(terms(&noisy) > 10 * terms(&calm).max(1), "{} vs {}", terms(&noisy), terms(&calm));
    assert!(calm.metrics.availability.request_availability > noisy.metrics.availability.request_availability);
    assert!(noisy.passed() && calm.passed());
}

#[test]
fn committing_earlier_terms_by_counting_breaks_leader_completeness() {
    let bad = load("raft-figure8-bug.ron");
    let r = run_text(&bad, 3);
    assert_eq!(holds(&r, "leader_completeness"), Some(false), "{:?}", r.properties);
    assert_eq!(holds(&r, "state_machine_safety"), Some(false), "{:?}", r.properties);
    assert!(r.passed(), "{:?}", r.expectations);
    let good = run_text(&bad.replace("bugs: [CommitOldTermsByCount],", ""), 3);
    assert_eq!(holds(&good, "leader_completeness"), Some(true), "{:?}", good.properties);
    assert_eq!(holds(&good, "state_machine_safety"), Some(true));
}

#[test]
fn reads_arriving_during_a_read_index_round_share_the_next_one() {
    // Only reads, 1,000 a second. Without batching each read costs its own round: a
    // request, a reply, and an append and its acknowledgement per follower (10 messages).
    // With one round in flight at a time, reads arriving meanwhile share the next round.
    let text = scenario("", "", "10s")
        .replace("rate_per_s: 300.0", "rate_per_s: 1000.0")
        .replace("write_ratio: 0.5", "write_ratio: 0.0");
    let r = run_text(&text, 1);
    assert!(r.passed() && holds(&r, "linearizable") == Some(true), "{:?}", r.properties);
    assert!(r.ops.ok > 9_000, "{:?}", r.ops);
    let per_read = r.messages.sent as f64 / r.ops.total as f64;
    assert!(per_read < 7.0, "{per_read:.2} messages per read: rounds are not shared");
}

#[test]
fn clients_keep_to_the_new_leader_while_old_attempts_time_out() {
    // After the leader crashes, each client's attempts sent to it time out one after
    // another, 500 ms later, by when a redirect has taken the client to the new leader.
    // A timeout moves the client on only if it still targets the silent server; rotating
    // on every one of them sent clients back to the dead server for as long as it stayed
    // down (about one operation in five retried at these seeds).
    for seed in [1, 3, 5] {
        let r = run_text(&load("raft-leader-crash.ron"), seed);
        let amp = r.metrics.retry_amplification;
        assert!(amp < 1.05, "seed {seed}: {amp} attempts per operation");
    }
}

#[test]
fn a_dead_follower_gets_heartbeats_not_entries_and_catches_up_after() {
    // A follower is down from 2 s to 8 s while about 150 writes a second commit. With a
    // window of 64 unacknowledged entries the leader stops sending it entries once the
    // window is full (it still gets the heartbeat tick); with an unbounded window every
    // append goes to it and is dropped. Either way it catches up after its restart.
    let faults = r#"(at: "2s", for: "6s", do: Crash(OneWithRole("follower")))"#;
    let run = |window: &str| run_text(&scenario(&format!("max_inflight: {window}"), faults, "12s"), 2);
    let (bounded, unbounded) = (run("64"), run("1000000000"));
    let dropped = |r: &RunResult| r.messages.dropped.values().sum::<u64>();
    let writes = bounded.history.ops.iter().filter(|o| o.kind == stormglass::history::OpKind::Write);
    let writes_while_down = writes.filter(|o| (2.0..8.0).contains(&o.invoke.as_secs_f64())).count() as u64;
    assert!(writes_while_down > 600, "{writes_while_down} writes");
    assert!(
        dropped(&bounded) + writes_while_down * 8 / 10 < dropped(&unbounded),
        "bounded {} vs unbounded {} messages dropped ({writes_while_down} writes while down)",
        dropped(&bounded),
        dropped(&unbounded)
    );
    for r in [&bounded, &unbounded] {
        assert!(r.properties.iter().all(|p| p.holds == Some(true)), "{:?}", r.properties);
        // The restarted follower wrote (caught up) about as much log as the others.
        let down = &r.faults[0].targets[0];
        let bytes = |n: &stormglass::simulation::NodeSummary| n.disk.bytes_written;
        let f = r.nodes.iter().find(|n| &n.name == down).expect("the crashed follower");
        let least = r.nodes.iter().filter(|n| &n.name != down).map(bytes).min().unwrap();
        assert!(bytes(f) * 10 >= least * 9, "{down} wrote {} bytes, the others at least {least}", bytes(f));
    }
}

#[test]
fn reads_waiting_for_a_round_ride_on_a_write_broadcast() {
    // Reads that arrive while a ReadIndex round is in flight wait for the next round; a
    // write's broadcast, which goes to every follower anyway, starts it. A write costs 10
    // messages (request, reply, an append and its ack per follower), and so does a read
    // alone in its round; sharing rounds brings the mix below. At this seed: 9.14 messages
    // per operation, 10.07 when waiting reads never ride on a write.
    let text = scenario("", "", "10s").replace("rate_per_s: 300.0", "rate_per_s: 1000.0");
    let r = run_text(&text, 1);
    assert!(r.passed() && holds(&r, "linearizable") == Some(true), "{:?}", r.properties);
    let per_op = r.messages.sent as f64 / r.ops.total as f64;
    assert!(per_op < 9.6, "{per_op:.2} messages per operation: reads do not ride on writes");
}

#[test]
fn a_busy_leader_skips_heartbeats_an_idle_one_sends_them() {
    // Writes only, 300 a second: every follower gets an append every few milliseconds, so
    // the heartbeat tick skips it (LogCabin's rule). Ticks to all four followers would add
    // 160 messages a second. At this seed: 34,862 messages (11.54 per write, start-up
    // redirects and retries included); 36,658 (12.13) when every tick goes to everyone.
    let busy = scenario("", "", "10s").replace("write_ratio: 0.5", "write_ratio: 1.0");
    let r = run_text(&busy, 1);
    assert!(r.passed() && r.ops.ok > 2_800, "{:?}", r.ops);
    let per_write = r.messages.sent as f64 / r.ops.total as f64;
    assert!(per_write < 11.8, "{per_write:.2} messages per write: the busy leader still heartbeats");
    // One operation every two seconds: the ticks are nearly all there is, 8 messages each
    // (an append and its ack per follower), 20 a second.
    let idle = busy.replace("rate_per_s: 300.0", "rate_per_s: 0.5");
    let r = run_text(&idle, 1);
    let heartbeats = r.messages.sent.saturating_sub(10 * r.ops.total);
    assert!(heartbeats > 8 * 20 * 9, "{heartbeats} heartbeat messages in 10 s");
}

#[test]
fn a_stale_leader_is_not_held_to_a_newer_terms_commits() {
    // At this seed the leader of term 26 commits entries up to index 7,888 at 31.967 s;
    // 2 ms later the votes for term 25 reach n1, which leads term 25 for a moment, without
    // those entries. Raft promises a leader the entries committed in earlier terms only:
    // the monitor once required every entry committed so far and reported this as a
    // Leader Completeness violation.
    let r = run_text(&load("raft-flaky-network.ron"), 40);
    assert_eq!(holds(&r, "leader_completeness"), Some(true), "{:?}", r.properties);
    assert!(r.passed(), "{:?}", r.expectations);
}

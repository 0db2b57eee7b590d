//! The shrinker: scenarios round-trip through RON, a known minimal cause is found exactly,
//! the result reproduces the failure by itself, and the budget of runs is respected.

use stormglass::scenario::raw::RawAction;
use stormglass::scenario::to_ron;
use stormglass::sim::SimDuration;
use stormglass::simulation::{self, RunOptions, RunResult};
use stormglass::sweep::shrink::{self, min_file_name, shrink};
use stormglass::systems::{self as scenario, Scenario};

fn run(s: &Scenario, seed: u64) -> RunResult {
    simulation::run(s, RunOptions { seed: Some(seed), record_trace: false }).expect("the scenario runs")
}

fn run_text(text: &str, seed: u64) -> RunResult {
    run(&scenario::parse(text, "shrunk.ron").expect("the scenario parses"), seed)
}

fn holds(r: &RunResult, property: &str) -> Option<bool> {
    r.properties.iter().find(|p| p.name == property).and_then(|p| p.holds)
}

fn loses_writes(r: &RunResult) -> bool {
    r.durability.lost_acknowledged_writes > 0
}

fn breaks_election_safety(r: &RunResult) -> bool {
    holds(r, "election_safety") == Some(false)
}

/// hello-kv without fsync before the ack, plus an idle node, eight faults that cannot lose a
/// write (clients and the idle node only) and one crash of the server, which does.
const KV: &str = r#"Scenario(
    version: 1, name: "kv-many-faults", duration: "60s",
    topology: (
        nodes: [
            (name: "kv", zone: "a", service: (workers: 4, queue: 64, time: Exponential(mean: "1ms"))),
            (name: "spare", zone: "a"),
        ],
        link: (latency: LogNormal(median: "500us", p99: "2ms")),
    ),
    system: KeyValue(server: "kv", fsync_before_ack: false, sync_interval: "1s"),
    workload: (
        clients: 4, zone: "a", arrival: Poisson(rate_per_s: 400.0), keys: Zipf(n: 1000, s: 1.0),
        write_ratio: 0.5, timeout: "200ms",
        retry: Exponential(base: "50ms", cap: "1s", max_attempts: 3, jitter: Full),
    ),
    faults: [
        (at: "3s", do: ClockDrift(target: Node("client-1"), ppm: 100.0)),
        (at: "5s", do: ClockStep(target: Node("client-0"), by: "+500ms")),
        (at: "8s", for: "5s", do: Slow(target: Node("client-1"), factor: 2.0, latency: "5ms")),
        (at: "10s", for: "3s", do: Partition(groups: [["client-2"], ["client-3"]])),
        (at: "12s", for: "1s", do: Pause(target: Node("client-0"))),
        (at: "15s", for: "5s", do: DiskFault(target: Node("spare"), kind: IoError)),
        (at: "20s", for: "5s", do: Crash(Node("kv"))),
        (at: "30s", for: "2s", do: Isolate(Node("spare"))),
        (at: "35s", do: ClockStep(target: Node("client-3"), by: "-200ms")),
    ],
    expect: [NoLostWrites],
)"#;

/// Five Raft servers that vote without the term check, with narrow election timeouts (split
/// votes, so concurrent candidates in a term), a leader crash and unrelated faults.
const RAFT: &str = r#"Scenario(
    version: 1, name: "raft-vote-bug", duration: "12s",
    topology: (
        nodes: [(name: "n1"), (name: "n2"), (name: "n3"), (name: "n4"), (name: "n5")],
        link: (latency: LogNormal(median: "1ms", p99: "5ms")),
        disk: (fsync: Constant("1ms")),
    ),
    system: Raft(election_timeout: ("150ms", "155ms"), heartbeat: "50ms", bugs: [VoteWithoutTermCheck]),
    workload: (clients: 4, arrival: Poisson(rate_per_s: 300.0), keys: Zipf(n: 100, s: 1.0), write_ratio: 0.5,
               timeout: "300ms", retry: Exponential(base: "20ms", cap: "500ms", max_attempts: 4)),
    faults: [
        (at: "1s", do: ClockStep(target: Node("client-0"), by: "+1s")),
        (at: "2s", for: "1s", do: Slow(target: Node("client-1"), factor: 3.0, latency: "2ms")),
        (at: "3s", for: "500ms", do: Pause(target: Node("client-2"))),
        (at: "5s", do: Crash(Role("leader"))),
        (at: "6s", for: "1s", do: Partition(groups: [["client-0"], ["client-3"]])),
        (at: "8s", do: Restart(Crashed)),
        (at: "9s", do: ClockDrift(target: Node("client-3"), ppm: 50.0)),
    ],
)"#;

#[test]
fn every_shipped_scenario_round_trips_through_ron() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("the scenarios folder is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let original = scenario::load(&path).expect("a shipped scenario loads");
        let text = to_ron(&original.raw).expect("a scenario serializes");
        let again =
            scenario::parse(&text, "again.ron").unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert_eq!(to_ron(&again.raw).expect("it serializes again"), text, "{}", path.display());
        // Every field, floats to the last bit: the same scenario, so the same run.
        assert_eq!(format!("{:?}", original.raw), format!("{:?}", again.raw), "{}", path.display());
        // And the runs agree. The Raft runs take minutes unoptimised: release builds only.
        if cfg!(debug_assertions) && original.raw.name.starts_with("raft") {
            continue;
        }
        let seed = original.raw.seed;
        let (a, b) = std::thread::scope(|t| {
            let a = t.spawn(|| run(&original, seed).digest);
            (run(&again, seed).digest, a.join().expect("the run finishes"))
        });
        assert_eq!(a, b, "{}", path.display());
    }
}

#[test]
fn one_crash_among_harmless_faults_is_found_exactly() {
    let seed = 1;
    let before = run_text(KV, seed);
    assert!(loses_writes(&before), "the crash loses writes acknowledged since the last sync");
    let out = shrink(KV, "kv.ron", seed, &loses_writes, 200).expect("the scenario shrinks");
    assert_eq!((out.faults_before, out.faults_after), (9, 1));
    assert!(out.runs <= 200);
    let min = scenario::parse(&out.text, "kv.seed-1.min.ron").expect("the shrunk scenario is valid");
    let [fault] = &min.raw.faults[..] else { panic!("one fault: {:?}", min.raw.faults) };
    assert!(matches!(&fault.action, RawAction::Crash(_)), "{fault:?}");
    assert!(min.raw.duration.0 < SimDuration::from_secs(60), "the run got shorter: {}", min.raw.duration.0);
    assert!(min.raw.workload.clients < 4);
    assert_eq!(min.raw.seed, seed, "the shrunk file carries the seed");
    assert!(out.text.starts_with("// Shrunk from kv.ron at seed 1 by stormglass check: 9 faults -> 1; replay: stormglass run kv.seed-1.min.ron\n"), "{}", out.text);
    // The file by itself reproduces the failure, with its own seed.
    assert!(loses_writes(&run(&min, min.raw.seed)));
    eprintln!("kv: {} runs\n{}", out.runs, out.text);
}

#[test]
fn a_raft_election_safety_failure_shrinks_to_a_one_minimal_fault_plan() {
    // At this seed and load the election timeouts alone do not break election safety.
    let seed = 18;
    assert!(breaks_election_safety(&run_text(RAFT, seed)));
    let mut calm = scenario::parse(RAFT, "raft.ron").expect("the scenario parses").raw;
    calm.faults.clear();
    let calm = scenario::parse(&to_ron(&calm).expect("it serializes"), "calm.ron").expect("it parses");
    assert!(!breaks_election_safety(&run(&calm, seed)), "without faults, no violation");
    let out = shrink(RAFT, "raft.ron", seed, &breaks_election_safety, 300).expect("the scenario shrinks");
    assert_eq!(out.faults_before, 7);
    let min = scenario::parse(&out.text, "raft.min.ron").expect("the shrunk scenario is valid");
    assert!(breaks_election_safety(&run(&min, seed)), "the shrunk file still fails");
    assert!(min.raw.duration.0 < SimDuration::from_secs(12), "the run got shorter: {}", min.raw.duration.0);
    assert_eq!(min.raw.faults.len(), out.faults_after);
    // Fewer clients change the draws, after which the bug may need no fault at all.
    assert!(out.faults_after <= 2, "at most the crash and its restart: {:?}", min.raw.faults);
    // 1-minimal: dropping any one remaining fault makes the failure go away.
    for i in 0..min.raw.faults.len() {
        let mut fewer = min.raw.clone();
        fewer.faults.remove(i);
        let Ok(fewer) = scenario::parse(&to_ron(&fewer).expect("it serializes"), "fewer.ron") else {
            continue;
        };
        assert!(!breaks_election_safety(&run(&fewer, seed)), "fault {i} was not needed");
    }
    eprintln!("raft: {} runs\n{}", out.runs, out.text);
}

#[test]
fn the_budget_of_runs_is_respected() {
    for budget in [0, 1, 3, 7] {
        let out = shrink(KV, "kv.ron", 1, &loses_writes, budget).expect("the scenario shrinks");
        assert!(out.runs <= budget, "{} runs for a budget of {budget}", out.runs);
        let min = scenario::parse(&out.text, "kv.min.ron").expect("a cut-short shrink is still valid");
        assert!(loses_writes(&run(&min, 1)), "budget {budget}: the best so far still fails");
        assert!(out.faults_after <= out.faults_before);
    }
}

#[test]
fn a_scenario_that_does_not_fail_is_an_error() {
    let err = shrink(KV, "kv.ron", 1, &|_| false, 10).expect_err("nothing to shrink");
    assert!(err.contains("'kv.ron'") && err.contains("does not fail at seed 1"), "{err}");
    let err = shrink("Scenario(version: 1)", "bad.ron", 1, &loses_writes, 10).expect_err("a bad file");
    assert!(err.starts_with("cannot shrink: bad.ron:"), "{err}");
}

#[test]
fn the_shrunk_file_is_named_after_the_scenario_and_seed() {
    assert_eq!(min_file_name("scenarios/raft.ron", 42), "scenarios/raft.seed-42.min.ron");
    assert_eq!(shrink::MAX_PASSES, 3);
}

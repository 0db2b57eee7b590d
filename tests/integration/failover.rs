//! Failover (primary-backup with a heartbeat failure detector and fencing): the shipped
//! scenarios hold, the broken variant without fencing is caught by its checkers at a pinned
//! seed, detection time matches the detector's timeout, and runs are deterministic.

use stormglass::simulation::{self, RunOptions, RunResult};
use stormglass::systems as scenario;
use stormglass::systems::failover::FailoverReport;

fn run_file(name: &str, seed: u64) -> RunResult {
    let text = std::fs::read_to_string(format!("scenarios/{name}")).expect("the scenario file is readable");
    run_text(&text, seed)
}

fn run_text(text: &str, seed: u64) -> RunResult {
    let s = scenario::parse(text, "failover.ron").unwrap_or_else(|e| panic!("{e}"));
    simulation::run(&s, RunOptions { seed: Some(seed), record_trace: false }).expect("the scenario runs")
}

fn holds(r: &RunResult, property: &str) -> Option<bool> {
    r.properties.iter().find(|p| p.name == property).and_then(|p| p.holds)
}

#[test]
fn a_paused_primary_is_replaced_after_the_detector_timeout_and_steps_down_when_it_wakes() {
    let r = run_file("failover-gc-pause.ron", 1);
    assert!(r.passed(), "{:?}", r.expectations);
    assert_eq!(holds(&r, "single_primary"), Some(true));
    assert_eq!(holds(&r, "linearizable"), Some(true));
    assert_eq!(r.durability.lost_acknowledged_writes, 0);
    let f = r.system.figures::<FailoverReport>().expect("a failover run reports its promotions");
    assert_eq!(f.promotions.len(), 2, "the first primary at start, then its backup: {:?}", f.promotions);
    assert_eq!(f.promotions[0].node, "p1");
    assert!(f.promotions[0].at_s < 0.01, "at the start, after fsyncing its epoch: {}", f.promotions[0].at_s);
    let takeover = &f.promotions[1];
    assert_eq!(takeover.node, "p2");
    // The pause starts at 10 s; p1's last beat left at most one heartbeat (50 ms) before;
    // p2 promotes 400 ms of silence after the last beat it heard.
    assert!((10.35..=10.41).contains(&takeover.at_s), "promoted at {} s", takeover.at_s);
    assert_eq!(f.stepped_down, 1, "p1 steps down when it wakes");
    assert!(r.reached.contains(&"FailedOver") && r.reached.contains(&"SteppedDown"), "{:?}", r.reached);
}

#[test]
fn without_fencing_two_primaries_serve_at_once_and_the_checkers_catch_it() {
    let r = run_file("failover-split-brain.ron", 1);
    assert!(r.passed(), "the demonstration's expectations (Violated) hold: {:?}", r.expectations);
    assert_eq!(holds(&r, "single_primary"), Some(false), "the monitor sees the deposed primary answer");
    assert_eq!(holds(&r, "linearizable"), Some(false), "its stale reads are not linearizable");
    assert!(
        r.durability.lost_acknowledged_writes > 0,
        "what it acknowledged alone never reaches the new primary"
    );
    let f = r.system.figures::<FailoverReport>().expect("a failover run reports its promotions");
    assert_eq!(f.stepped_down, 0, "nothing tells the old primary to step down");
}

/// The split-brain scenario's lossy network does no harm with fencing on: a lost
/// replication message is sent again at the next beat (a dropped backup would lose its
/// right to take over), and the paused primary steps down as it wakes.
#[test]
fn with_fencing_the_lossy_network_of_the_split_brain_scenario_does_no_harm() {
    let fenced = std::fs::read_to_string("scenarios/failover-split-brain.ron")
        .expect("readable")
        .replace("        bugs: [NoFencing],\n", "");
    assert!(!fenced.contains("        bugs: [NoFencing],"), "the bug is removed");
    for seed in 1..=20 {
        let r = run_text(&fenced, seed);
        assert_eq!(holds(&r, "single_primary"), Some(true), "seed {seed}");
        assert_eq!(holds(&r, "linearizable"), Some(true), "seed {seed}");
        assert_eq!(r.durability.lost_acknowledged_writes, 0, "seed {seed}");
    }
}

/// The same pause with fencing holds at every seed tried; without it, every seed is caught.
#[test]
fn fencing_holds_and_its_absence_is_caught_across_seeds() {
    let good = std::fs::read_to_string("scenarios/failover-gc-pause.ron").expect("readable");
    let bad = std::fs::read_to_string("scenarios/failover-split-brain.ron").expect("readable");
    for seed in 1..=20 {
        let r = run_text(&good, seed);
        assert_eq!(holds(&r, "single_primary"), Some(true), "seed {seed}");
        assert_eq!(holds(&r, "linearizable"), Some(true), "seed {seed}");
        assert_eq!(r.durability.lost_acknowledged_writes, 0, "seed {seed}");
        assert_eq!(holds(&run_text(&bad, seed), "single_primary"), Some(false), "seed {seed}");
    }
}

/// A crash instead of a pause: the backup takes over, nothing is lost, nobody steps down.
#[test]
fn a_crashed_primary_is_replaced_and_nothing_acknowledged_is_lost() {
    let text = std::fs::read_to_string("scenarios/failover-gc-pause.ron")
        .expect("readable")
        .replace(r#"do: Pause(target: Role("primary"))"#, r#"do: Crash(Role("primary"))"#);
    let r = run_text(&text, 2);
    assert_eq!(holds(&r, "single_primary"), Some(true));
    assert_eq!(holds(&r, "linearizable"), Some(true));
    assert_eq!(r.durability.lost_acknowledged_writes, 0);
    let f = r.system.figures::<FailoverReport>().expect("figures");
    assert_eq!(f.promotions.len(), 2);
    assert_eq!(f.stepped_down, 0, "a crashed primary restarts as a backup: nothing to step down from");
    let crash = r.metrics.incidents.first().expect("the crash is an incident");
    assert_eq!(crash.kind.as_str(), "crash");
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let a = run_file("failover-gc-pause.ron", 5);
    let b = run_file("failover-gc-pause.ron", 5);
    let c = run_file("failover-gc-pause.ron", 6);
    assert_eq!((&a.digest, a.events), (&b.digest, b.events));
    assert_ne!(a.digest, c.digest);
}

#[test]
fn a_failover_section_is_validated_with_positions() {
    let text = std::fs::read_to_string("scenarios/failover-gc-pause.ron").expect("readable");
    let one = text.replace(r#"replicas: ["p1", "p2"],"#, r#"replicas: ["p1"],"#);
    let err = scenario::parse(&one, "f.ron").expect_err("one replica is no failover");
    assert_eq!(err.path, "system.replicas", "{err}");
    let unknown = text.replace(r#"replicas: ["p1", "p2"],"#, r#"replicas: ["p1", "p3"],"#);
    let err = scenario::parse(&unknown, "f.ron").expect_err("p3 is not a node");
    assert_eq!(err.path, "system.replicas[1]", "{err}");
    assert!(err.message.contains("'p3' is not a node of the topology"), "{err}");
    let role = text.replace(r#"Role("primary")"#, r#"Role("primery")"#);
    let err = scenario::parse(&role, "f.ron").expect_err("a misspelled role");
    assert!(err.message.contains("did you mean 'primary'?"), "{err}");
    let slow = text.replace(r#"timeout: "400ms","#, r#"timeout: "50ms","#);
    let err = scenario::parse(&slow, "f.ron").expect_err("a timeout no longer than the heartbeat");
    assert_eq!(err.path, "system.timeout", "{err}");
}

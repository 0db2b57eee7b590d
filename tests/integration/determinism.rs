//! Determinism: the same seed gives byte-identical output, another seed different output,
//! and any generated scenario gives the same digest twice.

use proptest::prelude::*;
use stormglass::simulation::{self, DeterminismCheck, RunOptions};
use stormglass::systems as scenario;

fn hello() -> scenario::Scenario {
    scenario::load(std::path::Path::new("scenarios/hello-kv.ron")).expect("hello-kv.ron loads")
}

fn json(s: &scenario::Scenario, seed: u64) -> String {
    let r = simulation::run(s, RunOptions { seed: Some(seed), record_trace: false }).expect("hello-kv runs");
    serde_json::to_string_pretty(&r).expect("result serialises")
}

#[test]
fn same_seed_gives_byte_identical_json() {
    let s = hello();
    assert_eq!(json(&s, 1), json(&s, 1));
}

#[test]
fn another_seed_gives_different_json() {
    let s = hello();
    assert_ne!(json(&s, 1), json(&s, 2));
}

#[test]
fn check_determinism_agrees_on_every_event() {
    match simulation::check_determinism(&hello(), Some(3)).expect("runs") {
        DeterminismCheck::Same { events, .. } => assert!(events > 10_000),
        other => panic!("hello-kv diverged: {other:?}"),
    }
}

/// A small scenario built from generated knobs: every feature of the core at least once.
#[derive(Debug, Clone)]
struct Knobs {
    servers: usize,
    clients: u32,
    latency: String,
    loss: f64,
    duplicate: f64,
    fifo: bool,
    bandwidth: Option<u64>,
    workers: u32,
    queue: u32,
    closed: bool,
    crash_at_ms: u64,
    crash_for_ms: u64,
    partition_at_ms: u64,
    one_way: bool,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    let latency = prop_oneof![
        Just("Constant(\"1ms\")".to_string()),
        Just("Uniform(lo: \"100us\", hi: \"3ms\")".to_string()),
        Just("Normal(mean: \"2ms\", std_dev: \"1ms\")".to_string()),
        Just("LogNormal(median: \"1ms\", p99: \"8ms\")".to_string()),
        Just("Exponential(mean: \"1ms\")".to_string()),
        Just("Pareto(scale: \"500us\", shape: 1.5)".to_string()),
    ];
    (
        (
            1usize..4,
            1u32..4,
            latency,
            0.0..0.2f64,
            0.0..0.2f64,
            any::<bool>(),
            prop::option::of(100_000u64..10_000_000),
        ),
        (1u32..4, 0u32..8, any::<bool>(), 0u64..2000, 1u64..1000, 0u64..2000, any::<bool>()),
    )
        .prop_map(
            |(
                (servers, clients, latency, loss, duplicate, fifo, bandwidth),
                (workers, queue, closed, crash_at_ms, crash_for_ms, partition_at_ms, one_way),
            )| Knobs {
                servers,
                clients,
                latency,
                loss,
                duplicate,
                fifo,
                bandwidth,
                workers,
                queue,
                closed,
                crash_at_ms,
                crash_for_ms,
                partition_at_ms,
                one_way,
            },
        )
}

fn scenario_text(k: &Knobs) -> String {
    let nodes: Vec<String> = (0..k.servers)
        .map(|i| {
            format!(
                "(name: \"s{i}\", zone: \"z{}\", service: (workers: {}, queue: {}, time: Exponential(mean: \"500us\")))",
                i % 2,
                k.workers,
                k.queue
            )
        })
        .collect();
    let bandwidth = k.bandwidth.map(|b| format!(", bandwidth_bps: {b}")).unwrap_or_default();
    let arrival = if k.closed {
        "Closed(think: Exponential(mean: \"5ms\"))".to_string()
    } else {
        "Poisson(rate_per_s: 300.0)".to_string()
    };
    format!(
        r#"Scenario(
    version: 1, name: "generated", duration: "2s",
    topology: (
        nodes: [{nodes}],
        link: (latency: {lat}, loss: {loss}, duplicate: {dup}, fifo: {fifo}{bandwidth}),
        zones: [(between: ("z0", "z1"), latency: Constant("5ms"))],
    ),
    system: KeyValue(server: "s0"),
    workload: (clients: {clients}, zone: "z1", arrival: {arrival}, keys: Zipf(n: 50, s: 1.1), write_ratio: 0.5,
               timeout: "50ms", retry: Exponential(base: "5ms", cap: "40ms", max_attempts: 3)),
    faults: [
        (at: "{crash}ms", for: "{crash_for}ms", do: Crash(Node("s0"))),
        (at: "{part}ms", for: "300ms", do: Partition(groups: [["s0"], ["client-0"]], one_way: {one_way})),
    ],
)"#,
        nodes = nodes.join(", "),
        lat = k.latency,
        loss = k.loss,
        dup = k.duplicate,
        fifo = k.fifo,
        clients = k.clients,
        crash = k.crash_at_ms,
        crash_for = k.crash_for_ms,
        part = k.partition_at_ms,
        one_way = k.one_way,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_generated_scenario_gives_the_same_digest_twice(k in knobs(), seed in 0u64..1_000_000) {
        let text = scenario_text(&k);
        let s = scenario::parse(&text, "generated.ron").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let opts = RunOptions { seed: Some(seed), record_trace: false };
        let a = simulation::run(&s, opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = simulation::run(&s, opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&a.digest, &b.digest);
        prop_assert_eq!(a.events, b.events);
        prop_assert!(a.messages.balanced());
        prop_assert_eq!(a.durability.lost_acknowledged_writes, 0);
    }
}

//! Error messages for bad fault specifications, as a user sees them.
//!
//! Each case starts from [`VALID`], a small scenario with one fault of most kinds that
//! loads, breaks exactly one thing (one text replacement), and snapshots the error's
//! `Display`. Every case also pins the field path the error names, so a message that
//! blames the wrong field fails even if its snapshot is re-accepted.

use stormglass::scenario::ScenarioError;
use stormglass::systems::parse;

/// A valid scenario exercising the fault model; every case changes one thing in it.
const VALID: &str = r#"Scenario(
    version: 1,
    name: "bad-faults",
    duration: "60s",
    topology: (
        nodes: [
            (name: "kv", zone: "a", region: "east", disk: (read_corruption: (0.0, 0.01))),
            (name: "spare", zone: "b", region: "west", clock: (drift_ppm: 20.0)),
        ],
    ),
    system: KeyValue(server: "kv"),
    workload: (
        clients: 2,
        zone: "a",
        region: "east",
        arrival: Poisson(rate_per_s: 100.0),
        keys: Uniform(n: 100),
        write_ratio: 0.5,
        timeout: "200ms",
    ),
    faults: [
        (at: "5s", do: ClockStep(target: Node("spare"), by: "-200ms")),
        (at: "10s", for: "5s", do: ClockDrift(target: Node("spare"), ppm: 50.0)),
        (at: "12s", for: "2s", do: Slow(target: Node("kv"), factor: 3.0)),
        (at: "20s", for: "1s", do: Pause(target: Node("kv"))),
        (at: "25s", for: "1s", do: Clog(groups: [["kv"], ["client-0"]])),
        (at: "30s", for: "2s", do: ZoneOutage(zone: "b")),
        (at: "35s", for: "2s", do: RegionOutage(region: "west", mode: Isolate)),
        (at: "40s", for: "1s", do: Crash(RandomNodes(1))),
    ],
    nemesis: (
        crashes: (mtbf: "30s", mttr: "2s"),
        targets: ["spare"],
    ),
)
"#;

/// `VALID` with the only occurrence of `from` replaced by `to`.
fn mutate(from: &str, to: &str) -> String {
    assert_eq!(VALID.matches(from).count(), 1, "the case's text {from:?} must occur exactly once in VALID");
    VALID.replacen(from, to, 1)
}

fn error(text: &str) -> ScenarioError {
    match parse(text, "bad.ron") {
        Ok(_) => panic!("this scenario should not load:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn the_base_scenario_loads() {
    parse(VALID, "bad.ron").expect("VALID loads");
}

/// A snapshot test per case; each also checks the field path named.
macro_rules! fault_cases {
    ($($name:ident: $from:expr => $to:expr, at $path:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let e = error(&mutate($from, $to));
                assert_eq!(e.path, $path, "{e}");
                insta::assert_snapshot!(stringify!($name), e.to_string());
            }
        )*
    };
}

fault_cases! {
    // Targets that name nothing.
    unknown_node_target: "ClockStep(target: Node(\"spare\")" => "ClockStep(target: Node(\"spore\")",
        at "faults[0].do.target[0]";
    unknown_zone: "ZoneOutage(zone: \"b\")" => "ZoneOutage(zone: \"q\")",
        at "faults[5].do.zone";
    unknown_region: "region: \"west\", mode" => "region: \"mars\", mode",
        at "faults[6].do.region";
    random_nodes_zero: "RandomNodes(1)" => "RandomNodes(0)",
        at "faults[7].do[0][0]";
    random_nodes_above_the_pool: "RandomNodes(1)" => "RandomNodes(3)",
        at "faults[7].do[0][0]";
    // Timing.
    negative_for: "(at: \"12s\", for: \"2s\"" => "(at: \"12s\", for: \"-5s\"",
        at "faults[2].for";
    fault_after_the_end: "(at: \"40s\"" => "(at: \"70s\"",
        at "faults[7].at";
    pause_without_for: "(at: \"20s\", for: \"1s\", do: Pause" => "(at: \"20s\", do: Pause",
        at "faults[3].for";
    clog_without_for: "(at: \"25s\", for: \"1s\", do: Clog" => "(at: \"25s\", do: Clog",
        at "faults[4].for";
    for_on_a_clock_step: "(at: \"5s\", do: ClockStep" => "(at: \"5s\", for: \"1s\", do: ClockStep",
        at "faults[0].for";
    // Contradictions.
    overlapping_slow_windows: "(at: \"20s\", for: \"1s\", do: Pause(target: Node(\"kv\")))"
        => "(at: \"13s\", for: \"1s\", do: Slow(target: Node(\"kv\"), factor: 2.0))",
        at "faults[3].at";
    overlapping_clock_drifts: "(at: \"5s\", do: ClockStep(target: Node(\"spare\"), by: \"-200ms\"))"
        => "(at: \"14s\", do: ClockDrift(target: Node(\"spare\"), ppm: -30.0))",
        at "faults[1].at";
    // Numbers out of range.
    drift_of_two_million_ppm_in_a_fault: "ppm: 50.0" => "ppm: 2000000.0",
        at "faults[1].do.ppm";
    drift_of_two_million_ppm_in_a_clock: "drift_ppm: 20.0" => "drift_ppm: 2e6",
        at "topology.nodes[1].clock.drift_ppm";
    range_with_lo_above_hi: "read_corruption: (0.0, 0.01)" => "read_corruption: (0.01, 0.0)",
        at "topology.nodes[0].disk.read_corruption";
    range_above_one: "read_corruption: (0.0, 0.01)" => "read_corruption: (0.0, 1.5)",
        at "topology.nodes[0].disk.read_corruption";
    // The nemesis.
    nemesis_mtbf_zero: "mtbf: \"30s\"" => "mtbf: \"0s\"",
        at "nemesis.crashes.mtbf";
    nemesis_range_lo_above_hi: "mtbf: \"30s\"" => "mtbf: (\"30s\", \"10s\")",
        at "nemesis.crashes.mtbf";
    nemesis_unknown_target: "targets: [\"spare\"]" => "targets: [\"spare\", \"ghost\"]",
        at "nemesis.targets[1]";
    nemesis_weibull_shape_zero: "mttr: \"2s\")" => "mttr: \"2s\", distribution: Weibull(0.0))",
        at "nemesis.crashes.distribution";
    // Spelling.
    misspelled_fault_variant: "do: ClockStep(" => "do: ClockStpe(",
        at "faults[0].do";
    misspelled_disk_fault_kind: "(at: \"40s\", for: \"1s\", do: Crash(RandomNodes(1)))"
        => "(at: \"40s\", for: \"1s\", do: DiskFault(target: Node(\"kv\"), kind: DiskFull))",
        at "faults[7].do.kind";
}

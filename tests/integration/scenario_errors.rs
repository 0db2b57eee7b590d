//! Scenario error messages, as a user sees them.
//!
//! Each case starts from [`VALID`], a small scenario that loads, breaks exactly one thing
//! (one text replacement), and snapshots the error's `Display`:
//! `bad.ron:LINE:COL: field.path: what failed: why; hint`.
//! Some cases also pin the line and column against the text, so a message that points at
//! the wrong token fails here even if its snapshot is re-accepted.

use stormglass::scenario::ScenarioError;
use stormglass::systems::parse;

/// A minimal valid scenario; every case below changes one thing in it.
const VALID: &str = r#"Scenario(
    version: 1,
    name: "bad",
    duration: "60s",
    topology: (
        nodes: [
            (name: "kv", zone: "a", service: (workers: 2, queue: 8, time: Exponential(mean: "1ms"))),
            (name: "spare", zone: "b"),
        ],
        link: (latency: LogNormal(median: "500us", p99: "2ms"), loss: 0.0),
    ),
    system: KeyValue(server: "kv"),
    workload: (
        clients: 2,
        zone: "a",
        arrival: Poisson(rate_per_s: 100.0),
        keys: Uniform(n: 100),
        write_ratio: 0.5,
        timeout: "200ms",
    ),
    faults: [
        (at: "10s", do: Crash(Node("kv")), for: "5s"),
        (at: "20s", do: Partition(groups: [["kv"], ["spare", "client-0"]])),
        (at: "30s", do: Heal),
    ],
)
"#;

/// `VALID` with the only occurrence of `from` replaced by `to`.
fn mutate(from: &str, to: &str) -> String {
    assert_eq!(VALID.matches(from).count(), 1, "the case's text {from:?} must occur exactly once in VALID");
    VALID.replacen(from, to, 1)
}

/// The error for `text`, which must not load.
fn error(text: &str) -> ScenarioError {
    match parse(text, "bad.ron") {
        Ok(_) => panic!("this scenario should not load:\n{text}"),
        Err(e) => e,
    }
}

/// 1-based line and column (in chars) of the `nth` occurrence of `needle` in `text`.
fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let (byte, _) = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} occurs at least {} times", nth + 1));
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Declares the cases once: a snapshot test per case, and the table `CASES` for the
/// tests that check every case.
macro_rules! cases {
    ($($name:ident: $from:expr => $to:expr;)*) => {
        const CASES: &[(&str, &str, &str)] = &[$((stringify!($name), $from, $to)),*];
        $(
            #[test]
            fn $name() {
                let text = mutate($from, $to);
                insta::assert_snapshot!(stringify!($name), error(&text).to_string());
            }
        )*
    };
}

cases! {
    // Field names.
    misspelled_top_level_field: "duration:" => "durration:";
    misspelled_nested_field: "write_ratio:" => "write_ration:";
    misspelled_fault_field: "for: \"5s\"" => "fro: \"5s\"";
    missing_required_field: "    name: \"bad\",\n" => "";
    field_given_twice: "clients: 2," => "clients: 2, clients: 3,";
    unknown_field_with_no_close_match: "    name: \"bad\",\n" => "    name: \"bad\",\n    colour: \"red\",\n";
    missing_nested_field: "        timeout: \"200ms\",\n" => "";
    number_given_as_string: "clients: 2," => "clients: \"two\",";
    // Version.
    wrong_version: "version: 1," => "version: 2,";
    missing_version: "    version: 1,\n" => "";
    // Durations.
    duration_with_unknown_unit: "duration: \"60s\"" => "duration: \"10 parsecs\"";
    duration_without_unit: "duration: \"60s\"" => "duration: \"10\"";
    duration_not_a_string: "timeout: \"200ms\"" => "timeout: 200";
    zero_duration: "duration: \"60s\"" => "duration: \"0s\"";
    negative_duration: "duration: \"60s\"" => "duration: \"-5s\"";
    // Numbers with a range.
    probability_above_one: "loss: 0.0" => "loss: 1.5";
    negative_rate: "rate_per_s: 100.0" => "rate_per_s: -5.0";
    zero_clients: "clients: 2," => "clients: 0,";
    negative_clients: "clients: 2," => "clients: -1,";
    // Variants.
    unknown_distribution: "LogNormal(" => "LogNormall(";
    unknown_fault_action: "do: Heal" => "do: Heel";
    unknown_fault_target_kind: "Crash(Node(" => "Crash(Nod(";
    uniform_lo_above_hi: "LogNormal(median: \"500us\", p99: \"2ms\")" => "Uniform(lo: \"2ms\", hi: \"1ms\")";
    retry_with_zero_attempts: "timeout: \"200ms\"," => "timeout: \"200ms\", retry: Fixed(delay: \"10ms\", max_attempts: 0),";
    p99_below_median: "p99: \"2ms\"" => "p99: \"100us\"";
    // Names that must refer to something.
    duplicate_node_name: "(name: \"spare\"" => "(name: \"kv\"";
    server_not_a_node: "server: \"kv\"" => "server: \"db\"";
    unknown_node_in_partition_group: "[\"spare\", \"client-0\"]" => "[\"spare\", \"client-9\"]";
    unknown_node_in_crash_target: "Crash(Node(\"kv\"))" => "Crash(Node(\"kb\"))";
    unknown_node_in_nodes_target: "Crash(Node(\"kv\"))" => "Crash(Nodes([\"kv\", \"kb\"]))";
    unknown_zone_in_fault_target: "Crash(Node(\"kv\"))" => "Crash(Zone(\"c\"))";
    // Names a system declares: roles, properties, sometimes events.
    misspelled_role: "Crash(Node(\"kv\"))" => "Crash(Role(\"sever\"))";
    role_of_another_system: "Crash(Node(\"kv\"))" => "Crash(OneWithRole(\"leader\"))";
    misspelled_property: "    faults: [" => "    expect: [Property(\"linearisable\")],\n    faults: [";
    property_of_another_system: "    faults: [" => "    expect: [Property(\"election_safety\")],\n    faults: [";
    misspelled_sometimes_event: "    faults: [" => "    expect: [Sometimes(\"FaultFird\")],\n    faults: [";
    sometimes_event_of_another_system: "    faults: [" => "    expect: [Sometimes(\"LeaderElected\")],\n    faults: [";
    // Faults.
    fault_after_the_end: "at: \"30s\"" => "at: \"70s\"";
    partition_with_one_group: "groups: [[\"kv\"], [\"spare\", \"client-0\"]]" => "groups: [[\"kv\", \"spare\"]]";
    node_in_two_partition_groups: "[\"spare\", \"client-0\"]" => "[\"spare\", \"kv\"]";
    restart_with_for: "do: Heal)" => "do: Restart(Node(\"kv\")), for: \"1s\")";
    // Raft knobs.
    raft_window_below_batch: "system: KeyValue(server: \"kv\")" => "system: Raft(election_timeout: (\"150ms\", \"300ms\"), heartbeat: \"50ms\", max_batch: 64, max_inflight: 16)";
    // RON syntax.
    missing_comma: "name: \"bad\",\n" => "name: \"bad\"\n";
    unclosed_paren: "(at: \"30s\", do: Heal)," => "(at: \"30s\", do: Heal,";
    unterminated_string: "name: \"bad\"," => "name: \"bad,";
}

#[test]
fn the_valid_scenario_loads() {
    let s = parse(VALID, "ok.ron").expect("VALID loads");
    assert_eq!(s.file, "ok.ron");
    assert_eq!(s.raw.name, "bad");
    assert_eq!(s.raw.seed, 1, "the default seed");
    assert_eq!(s.raw.faults.len(), 3);
}

#[test]
fn the_shipped_example_loads() {
    let text = include_str!("../../scenarios/hello-kv.ron");
    parse(text, "hello-kv.ron").expect("scenarios/hello-kv.ron loads");
}

/// Every error reads `bad.ron:LINE:COL: ...`, LINE:COL lies inside the text, and the
/// message after the position starts lowercase.
#[test]
fn every_error_names_the_file_line_and_column() {
    for &(name, from, to) in CASES {
        let text = mutate(from, to);
        let e = error(&text);
        let shown = e.to_string();
        let prefix = format!("bad.ron:{}:{}: ", e.line, e.col);
        assert!(shown.starts_with(&prefix), "{name}: {shown:?} starts with {prefix:?}");
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(e.line >= 1 && e.line <= lines.len(), "{name}: line {} out of range", e.line);
        let width = lines[e.line - 1].chars().count();
        assert!(e.col >= 1 && e.col <= width + 1, "{name}: column {} past the line", e.col);
        let message = &shown[prefix.len()..];
        let first = message.chars().next().expect("a message");
        assert!(!first.is_uppercase(), "{name}: starts lowercase: {message:?}");
    }
}

/// No Rust type name (`RawWorkload`, `RawDist`, ...) in any message: users write
/// `Scenario(..)` but never see the raw structs' names.
#[test]
fn no_rust_type_names_in_messages() {
    for &(name, from, to) in CASES {
        let shown = error(&mutate(from, to)).to_string();
        for leak in ["Raw", "Positive", "Prob", "Dur"] {
            assert!(!shown.contains(leak), "{name}: {leak} in {shown:?}");
        }
    }
}

/// Cross-field errors point at the offending token, found here independently of the library.
#[test]
fn cross_field_errors_point_at_the_offending_token() {
    let at = |from: &str, to: &str, path: &str| {
        let e = error(&mutate(from, to));
        assert_eq!(e.path, path, "{e}");
        e
    };
    // Literal positions, read off the text: `(at: "70s"` on line 24; `"client-9"` on line 23.
    let e = at("at: \"30s\"", "at: \"70s\"", "faults[2].at");
    assert_eq!((e.line, e.col), (24, 14), "{e}");
    let e = at("[\"spare\", \"client-0\"]", "[\"spare\", \"client-9\"]", "faults[1].do.groups[1][1]");
    assert_eq!((e.line, e.col), (23, 62), "{e}");

    // Positions found by searching the mutated text.
    let exact = |from: &str, to: &str, path: &str, needle: &str, nth: usize| {
        let e = at(from, to, path);
        assert_eq!((e.line, e.col), position(&mutate(from, to), needle, nth), "{e}");
    };
    exact("at: \"30s\"", "at: \"70s\"", "faults[2].at", "\"70s\"", 0);
    exact("(name: \"spare\"", "(name: \"kv\"", "topology.nodes[1].name", "\"kv\"", 1);
    exact("server: \"kv\"", "server: \"db\"", "system.server", "\"db\"", 0);
    exact("p99: \"2ms\"", "p99: \"100us\"", "topology.link.latency.p99", "\"100us\"", 0);
    exact("[\"spare\", \"client-0\"]", "[\"spare\", \"kv\"]", "faults[1].do.groups[1][1]", "\"kv\"]]", 0);
    exact("Crash(Node(\"kv\"))", "Crash(Nodes([\"kv\", \"kb\"]))", "faults[0].do[0][1]", "\"kb\"", 0);

    // A single-name target points at `Node("kb")` or at `"kb"` itself: either is on the token.
    for (to, needle) in [("Crash(Node(\"kb\"))", "\"kb\""), ("Crash(Zone(\"c\"))", "\"c\"")] {
        let text = mutate("Crash(Node(\"kv\"))", to);
        let e = error(&text);
        assert!(e.path.starts_with("faults[0].do"), "{e}");
        let (line, wrapper) = position(&text, &to[6..], 0);
        let (_, name) = position(&text, needle, 0);
        assert!(e.line == line && (e.col == wrapper || e.col == name), "{e}");
    }
}

/// Field-local errors come from the RON parser; they point into the offending value.
#[test]
fn field_local_errors_point_at_the_value() {
    for (from, to, needle) in [
        ("loss: 0.0", "loss: 1.5", "1.5"),
        ("rate_per_s: 100.0", "rate_per_s: -5.0", "-5.0"),
        ("duration: \"60s\"", "duration: \"10 parsecs\"", "\"10 parsecs\""),
        ("LogNormal(", "LogNormall(", "LogNormall"),
        ("write_ratio:", "write_ration:", "write_ration"),
    ] {
        let text = mutate(from, to);
        let e = error(&text);
        let (line, col) = position(&text, needle, 0);
        assert_eq!(e.line, line, "{e}");
        assert!(e.col >= col && e.col < col + needle.len(), "{e}: expected near column {col}");
    }
}

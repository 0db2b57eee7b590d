//! `stormglass check`: sweeps over seeds in parallel — byte-identical summaries whatever the
//! thread count, shards joined by `merge`, JUnit that CI systems read, vacuous "sometimes"
//! events, interrupts, failures that come with a replay command and a shrunk scenario — and
//! the liveness phase (`quiet_after`, `RecoversWithin`).

use std::path::{Path, PathBuf};
use std::process::Command;
use stormglass::simulation::{self, RunOptions};
use stormglass::sweep::{self, Control, Options, SeedSet, Shard, Summary, SweepVerdict};
use stormglass::systems as scenario;

/// Raft that votes without checking the term, with a narrow election timeout: election
/// safety fails at most seeds.
const VOTE_BUG: &str = r#"Scenario(
    version: 1,
    name: "vote-bug",
    duration: "5s",
    topology: (
        nodes: [(name: "n1"), (name: "n2"), (name: "n3"), (name: "n4"), (name: "n5")],
        link: (latency: LogNormal(median: "1ms", p99: "5ms")),
    ),
    system: Raft(election_timeout: ("150ms", "155ms"), heartbeat: "50ms", bugs: [VoteWithoutTermCheck]),
    workload: (clients: 2, arrival: Poisson(rate_per_s: 50.0), keys: Uniform(n: 10), write_ratio: 0.5, timeout: "500ms"),
    faults: [
        (at: "1s", do: Crash(Role("leader")), for: "500ms"),
        (at: "2s", do: Crash(Node("n1")), for: "200ms"),
        (at: "3s", do: Isolate(Node("n2")), for: "300ms"),
    ],
    expect: [Property("election_safety"), Sometimes("LeaderElected")],
)
"#;

/// A small key-value scenario: the server crashes at 3 s for 2 s. `{expect}` and `{extra}`
/// are filled in by [`kv`].
fn kv(name: &str, expect: &str, extra: &str) -> String {
    format!(
        r#"Scenario(
    version: 1,
    name: "{name}",
    duration: "10s",
    topology: (nodes: [(name: "kv")], link: (latency: Constant("1ms"))),
    system: KeyValue(server: "kv"),
    workload: (clients: 2, arrival: Poisson(rate_per_s: 100.0), keys: Uniform(n: 20), write_ratio: 0.5, timeout: "100ms"),
    {extra}
    expect: [{expect}],
)
"#
    )
}

fn kv_crash(name: &str, expect: &str) -> String {
    kv(name, expect, r#"faults: [(at: "3s", do: Crash(Node("kv")), for: "2s")],"#)
}

/// A folder with the given scenario files.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("the scenario is written");
    }
    dir
}

fn options(seeds: &str, jobs: usize) -> Options {
    Options {
        seeds: SeedSet::parse_arg(seeds).unwrap(),
        shard: None,
        jobs,
        determinism_every: None,
        shrink_max: 3,
        shrink_budget: 40,
    }
}

fn sweep_dir(dir: &Path, opts: &Options, control: &Control) -> Summary {
    let targets = sweep::load_targets(&[dir.to_path_buf()]).expect("the scenarios load");
    sweep::run(&targets, opts, control, &|_| {}).expect("the sweep runs")
}

fn stormglass(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stormglass")).args(args).output().expect("stormglass runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn summaries_are_byte_identical_whatever_the_thread_count() {
    let dir = folder(&[("vote-bug.ron", VOTE_BUG), ("kv.ron", &kv_crash("kv", "NoLostWrites"))]);
    let mut outputs = Vec::new();
    for jobs in ["1", "2"] {
        let out = |ext: &str| dir.path().join(format!("jobs-{jobs}.{ext}"));
        let (json, xml, md) = (out("json"), out("xml"), out("md"));
        let (code, _, _) = stormglass(&[
            "check",
            path(dir.path()),
            "--seeds",
            "1..6",
            "--jobs",
            jobs,
            "--check-determinism-every",
            "2",
            "--json",
            path(&json),
            "--junit",
            path(&xml),
            "--md",
            path(&md),
        ]);
        assert_eq!(code, 1, "election safety fails at some seeds");
        let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap();
        outputs.push((read(&json), read(&xml), read(&md)));
    }
    assert_eq!(outputs[0], outputs[1], "--jobs 1 and --jobs 2 write the same bytes");
    let s = Summary::from_json(&outputs[0].0).unwrap();
    assert_eq!(s.totals.planned, 12);
    assert_eq!(s.totals.determinism_checked, 6, "every 2nd seed of both scenarios");
    assert_eq!(s.totals.determinism_diverged, 0);
}

#[test]
fn shards_merged_equal_the_whole_sweep() {
    let dir = folder(&[
        ("vote-bug.ron", VOTE_BUG),
        ("kv.ron", &kv_crash("kv", "NoLostWrites, Sometimes(\"Timeout\")")),
    ]);
    let mut whole_opts = options("1..8", 2);
    whole_opts.determinism_every = Some(3);
    let whole = sweep_dir(dir.path(), &whole_opts, &Control::default());
    assert_eq!(whole.verdict, SweepVerdict::Failed);
    let shards: Vec<Summary> = [2u64, 1]
        .iter()
        .map(|&k| {
            let opts = Options { shard: Some(Shard { index: k, count: 2 }), ..whole_opts.clone() };
            let s = sweep_dir(dir.path(), &opts, &Control::default());
            assert_eq!(s.shard.as_deref(), Some(format!("{k}/2").as_str()));
            assert_eq!(s.totals.planned, 8, "16 runs dealt to 2 shards");
            // Round-tripped through JSON, as merge reads them.
            Summary::from_json(&s.to_json()).unwrap()
        })
        .collect();
    let merged = sweep::merge(shards.clone()).expect("the shards merge");
    assert_eq!(merged.to_json(), whole.to_json(), "merge gives the whole sweep's summary, byte for byte");
    // The first three failures of each scenario keep their shrunk file, as in the whole sweep.
    let bug = whole.scenarios.iter().find(|s| s.name == "vote-bug").unwrap();
    assert!(bug.failures.len() > 3, "election safety fails at most seeds: {:?}", bug.failures.len());
    assert!(bug.failures[..3].iter().all(|f| f.shrunk.is_some()));
    assert!(bug.failures[3..].iter().all(|f| f.shrunk.is_none() && f.not_shrunk.is_some()));

    let err = sweep::merge(vec![shards[0].clone()]).unwrap_err();
    assert!(err.contains("shard 1/2 is missing"), "{err}");
    let err = sweep::merge(vec![shards[0].clone(), shards[0].clone()]).unwrap_err();
    assert!(err.contains("given twice"), "{err}");
    let err = sweep::merge(vec![whole.clone()]).unwrap_err();
    assert!(err.contains("not a shard"), "{err}");
}

#[test]
fn merge_on_the_command_line_writes_the_whole_sweeps_json() {
    let dir = folder(&[("kv.ron", &kv_crash("kv", "NoLostWrites"))]);
    let d = |name: &str| dir.path().join(name);
    let common = ["check", path(dir.path()), "--seeds", "4"];
    let (code, _, _) = stormglass(&[&common[..], &["--json", path(&d("whole.json"))]].concat());
    assert_eq!(code, 0);
    for k in ["1/3", "2/3", "3/3"] {
        let file = d(&format!("shard-{}.json", &k[..1]));
        let (code, _, _) = stormglass(&[&common[..], &["--shard", k, "--json", path(&file)]].concat());
        assert_eq!(code, 0);
    }
    let shards = ["shard-3.json", "shard-1.json", "shard-2.json"].map(&d);
    let (code, stdout, _) = stormglass(&["merge", path(&shards[0]), path(&shards[1]), path(&shards[2])]);
    assert_eq!(code, 0);
    assert_eq!(stdout, std::fs::read_to_string(d("whole.json")).unwrap());
    let (code, _, stderr) = stormglass(&["merge", path(&shards[0])]);
    assert_eq!(code, 2, "a missing shard is bad input: {stderr}");
}

/// A tiny XML tree, enough to check the JUnit shape.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn count(&self, child: &str) -> usize {
        self.children.iter().filter(|c| c.name == child).count()
    }
}

fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::{BytesStart, Event};
    let element = |e: &BytesStart| Element {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().to_string(),
                )
            })
            .collect(),
        ..Element::default()
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap();
                let known = ["amp", "lt", "gt", "quot", "apos"];
                assert!(known.contains(&name.as_ref()), "only XML's predefined entities: {name}");
                stack.last_mut().unwrap().text.push('&');
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert_eq!(stack.len(), 1, "every element is closed");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.pop().unwrap()
}

/// The rules of the Jenkins xUnit plugin's junit-10.xsd (the schema GitLab and Jenkins read):
/// allowed children and attributes, required attributes, SUREFIRE_TIME times.
fn validate_junit(e: &Element) {
    let (children, required, allowed): (&[&str], &[&str], &[&str]) = match e.name.as_str() {
        "testsuites" => (&["testsuite"], &[], &["name", "time", "tests", "failures", "errors"]),
        "testsuite" => (
            &["testsuite", "properties", "testcase", "system-out", "system-err"],
            &["name", "tests", "failures", "errors"],
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
            ],
        ),
        "properties" => (&["property"], &[], &[]),
        "property" => (&[], &["name", "value"], &["name", "value"]),
        "testcase" => (
            &["skipped", "error", "failure", "system-out", "system-err"],
            &["name"],
            &["name", "time", "classname", "group"],
        ),
        "failure" | "error" | "skipped" => (&[], &[], &["type", "message"]),
        "system-out" | "system-err" => (&[], &[], &[]),
        other => panic!("element <{other}> is not in junit-10.xsd"),
    };
    for c in &e.children {
        assert!(children.contains(&c.name.as_str()), "<{}> may not hold <{}>", e.name, c.name);
        validate_junit(c);
    }
    for r in required {
        assert!(e.attr(r).is_some(), "<{}> needs attribute '{r}'", e.name);
    }
    for (k, _) in &e.attrs {
        assert!(allowed.contains(&k.as_str()), "<{}> may not carry attribute '{k}'", e.name);
    }
    if let Some(t) = e.attr("time") {
        assert!(t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ','), "time '{t}' is SUREFIRE_TIME");
    }
    if ["testsuites", "testsuite", "properties", "testcase"].contains(&e.name.as_str()) {
        assert!(e.text.trim().is_empty(), "<{}> holds no text", e.name);
    }
}

#[test]
fn junit_output_has_the_shape_ci_systems_read() {
    let vacuous = kv_crash("kv-vacuous", "NoLostWrites, Sometimes(\"LostWrite\")");
    let dir = folder(&[
        ("vote-bug.ron", VOTE_BUG),
        ("kv.ron", &kv_crash("kv", "NoLostWrites")),
        ("vacuous.ron", &vacuous),
    ]);
    let s = sweep_dir(dir.path(), &options("1..4", 2), &Control::default());
    let xml = sweep::junit::render(&s);
    let root = parse_xml(&xml);
    validate_junit(&root);
    assert_eq!(root.name, "testsuites");
    let suite = &root.children[0];
    assert_eq!(suite.count("testcase"), 3, "one test case per scenario");
    assert_eq!(suite.attr("tests"), Some("3"));
    let failing: Vec<&Element> =
        suite.children.iter().filter(|c| c.name == "testcase" && c.count("failure") > 0).collect();
    assert_eq!(suite.attr("failures"), Some(failing.len().to_string().as_str()));
    assert_eq!(failing.len(), 2, "the vote bug fails, the sweep declaring LostWrite is vacuous");
    let bug =
        suite.children.iter().find(|c| c.attr("name").is_some_and(|n| n.ends_with("vote-bug.ron"))).unwrap();
    let failure = bug.children.iter().find(|c| c.name == "failure").unwrap();
    assert!(failure.attr("message").unwrap().contains("seeds failed"));
    assert!(failure.text.contains("replay: stormglass run"), "{}", failure.text);
    assert!(failure.text.contains(".min.ron"), "{}", failure.text);
    let out = bug.children.iter().find(|c| c.name == "system-out").unwrap();
    assert!(out.text.contains("LeaderElected"), "the coverage table: {}", out.text);
    let v =
        suite.children.iter().find(|c| c.attr("name").is_some_and(|n| n.ends_with("vacuous.ron"))).unwrap();
    let failure = v.children.iter().find(|c| c.name == "failure").unwrap();
    assert!(failure.attr("message").unwrap().contains("vacuous: no seed reached LostWrite"));
}

#[test]
fn a_sweep_in_which_no_seed_reaches_a_declared_sometimes_event_fails_as_vacuous() {
    let dir = folder(&[(
        "kv.ron",
        &kv_crash("kv", "NoLostWrites, Sometimes(\"LostWrite\"), Sometimes(\"Timeout\")"),
    )]);
    let (code, stdout, _) = stormglass(&["check", path(dir.path()), "--seeds", "3"]);
    assert_eq!(code, 1, "vacuous: {stdout}");
    assert!(stdout.contains("VACUOUS: no seed reached the declared sometimes event 'LostWrite'"), "{stdout}");
    let s = sweep_dir(dir.path(), &options("3", 1), &Control::default());
    assert_eq!(s.verdict, SweepVerdict::Failed);
    let k = &s.scenarios[0];
    assert_eq!((k.passed, k.failed), (3, 0), "every run passes by itself");
    assert_eq!(k.vacuous, vec!["LostWrite".to_string()], "Timeout was reached, LostWrite never");
    let timeout = k.coverage.iter().find(|c| c.event == "Timeout").unwrap();
    assert!(timeout.declared && timeout.seeds.to_string() == "1..3");
    // A single run treats an unreached Sometimes as informational: it does not fail `run`.
    let (code, stdout, _) = stormglass(&["run", path(&dir.path().join("kv.ron"))]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("expect info  sometimes 'LostWrite': not reached in this run"), "{stdout}");
}

#[test]
fn an_interrupted_sweep_keeps_what_finished_and_says_what_did_not_run() {
    let dir = folder(&[("kv.ron", &kv_crash("kv", "NoLostWrites, Sometimes(\"LostWrite\")"))]);
    let control = Control { stop_after: Some(3), ..Control::default() };
    let s = sweep_dir(dir.path(), &options("1..8", 1), &control);
    assert_eq!(s.verdict, SweepVerdict::Interrupted);
    let k = &s.scenarios[0];
    assert_eq!(k.planned, 8);
    assert_eq!(k.passed, 3, "one thread takes runs in order: seeds 1, 2, 3 finished");
    assert_eq!(k.not_run.to_string(), "4..8");
    assert!(k.vacuous.is_empty(), "vacuity is not judged while seeds are missing");
    assert_eq!(s.totals.not_run, 5);
    assert!(sweep::markdown::render(&s).contains("5 did not run (interrupted)"));
    let xml = sweep::junit::render(&s);
    validate_junit(&parse_xml(&xml));
    assert!(xml.contains("<skipped message=\"interrupted: 5 of 8 seeds did not run: 4..8\"/>"), "{xml}");

    let json = dir.path().join("partial.json");
    let (code, stdout, _) = stormglass(&[
        "check",
        path(dir.path()),
        "--seeds",
        "8",
        "--jobs",
        "2",
        "--stop-after",
        "2",
        "--json",
        path(&json),
    ]);
    assert_eq!(code, 130, "an interrupted sweep exits 130: {stdout}");
    let partial = Summary::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let k = &partial.scenarios[0];
    assert!(k.runs() >= 2 && k.runs() + k.not_run.len() as u64 == 8, "{k:?}");
}

#[test]
fn a_failing_seed_comes_with_its_replay_command_and_a_shrunk_scenario_that_fails_alone() {
    let dir = folder(&[("vote-bug.ron", VOTE_BUG)]);
    let file = dir.path().join("vote-bug.ron");
    let (code, stdout, _) = stormglass(&["check", path(&file), "--seeds", "1..4", "--shrink-max", "1"]);
    assert_eq!(code, 1);
    let s = sweep_dir(dir.path(), &Options { shrink_max: 1, ..options("1..4", 2) }, &Control::default());
    let f = &s.scenarios[0].failures[0];
    assert_eq!(f.failed[0].expectation, "property 'election_safety'");
    assert!(f.failed[0].measured.starts_with("violated: "), "{:?}", f.failed[0]);
    assert_eq!(f.replay, format!("stormglass run {} --seed {}", file.display(), f.seed));
    assert!(stdout.contains(&f.replay), "{stdout}");
    let min = f.shrunk.as_ref().expect("the first failure is shrunk");
    assert_eq!(min.file, format!("{}/vote-bug.seed-{}.min.ron", dir.path().display(), f.seed));
    assert!(stdout.contains(&format!("shrunk: {}", min.file)), "{stdout}");
    assert!(min.faults_after <= min.faults_before);
    // The shrunk file reproduces the failure by itself, at its own seed.
    let shrunk = scenario::load(Path::new(&min.file)).expect("the shrunk scenario is valid");
    let r = simulation::run(&shrunk, RunOptions::default()).unwrap();
    assert_eq!(r.seed, f.seed);
    assert!(r.expectations.iter().any(|v| v.expectation == "property 'election_safety'" && v.fails()));
    // Shrunk files are not scenarios of the next sweep of the folder.
    let files = sweep::discover(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(files, vec![file]);
}

#[test]
fn demonstrations_run_only_their_own_seed() {
    let demo = VOTE_BUG.replace("seed: 1,", "").replace("duration:", "seed: 6,\n    duration:").replace(
        "expect: [Property(\"election_safety\"), Sometimes(\"LeaderElected\")]",
        "expect: [Violated(\"election_safety\")]",
    );
    let dir = folder(&[("demo.ron", &demo)]);
    let s = sweep_dir(dir.path(), &options("1..50", 2), &Control::default());
    let k = &s.scenarios[0];
    assert!(k.pinned);
    assert_eq!((k.planned, k.passed), (1, 1), "seed 6 only, and the violation shows");
    assert_eq!(k.coverage[0].seeds.to_string(), "6");
}

#[test]
fn bad_input_exits_2() {
    let dir = folder(&[("kv.ron", &kv_crash("kv", "NoLostWrites"))]);
    let d = path(dir.path());
    for args in [
        vec!["check", "no-such-folder"],
        vec!["check", d, "--seeds", "0"],
        vec!["check", d, "--seeds", "9..3"],
        vec!["check", d, "--shard", "3/2"],
        vec!["check", d, "--jobs", "0"],
        vec!["check", d, "--check-determinism-every", "0"],
    ] {
        let (code, _, stderr) = stormglass(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let broken = folder(&[("bad.ron", &kv_crash("bad", "Sometimes(\"LeaderElected\")"))]);
    let (code, _, stderr) = stormglass(&["check", path(broken.path())]);
    assert_eq!(code, 2);
    assert!(stderr.contains("'LeaderElected' applies to Raft systems only"), "{stderr}");
}

#[test]
fn sometimes_and_liveness_expectations_are_validated() {
    let err = |text: &str| scenario::parse(text, "x.ron").unwrap_err().to_string();
    assert!(
        err(&kv_crash("x", "Sometimes(\"Elected\")")).contains("unknown sometimes event 'Elected'; known:")
    );
    assert!(err(&kv_crash("x", "RecoversWithin(\"2s\")")).contains("add e.g. quiet_after"));
    let quiet = |q: &str, bound: &str| {
        kv_crash("x", &format!("RecoversWithin(\"{bound}\")"))
            .replace("duration: \"10s\",", &format!("duration: \"10s\",\n    quiet_after: \"{q}\","))
    };
    assert!(err(&quiet("8s", "5s")).contains("is past the run's duration"));
    assert!(err(&quiet("2s", "5s")).contains("faults[0].at: '3s' is at or after quiet_after '2s'"));
    assert!(err(&quiet("11s", "1s")).contains("quiet_after: '11s' must be above zero and within"));
    assert!(scenario::parse(&quiet("6s", "3s"), "x.ron").is_ok());
}

#[test]
fn after_quiet_after_the_nemesis_stops_and_recovery_is_judged() {
    let nemesis =
        r#"nemesis: (crashes: (mtbf: "2s", mttr: "1s"), partitions: (every: "3s", duration: "2s")),"#;
    let text = kv("quiet", "RecoversWithin(\"5s\")", nemesis)
        .replace("duration: \"10s\",", "duration: \"20s\",\n    quiet_after: \"8s\",")
        .replace(
            "topology: (nodes: [(name: \"kv\")]",
            "topology: (nodes: [(name: \"kv\"), (name: \"b\"), (name: \"c\")]",
        );
    let s = scenario::parse(&text, "quiet.ron").unwrap();
    for seed in 1..=4 {
        let r = simulation::run(&s, RunOptions { seed: Some(seed), record_trace: false }).unwrap();
        assert!(!r.faults.is_empty(), "seed {seed}: the nemesis fires before quiet_after");
        let q = 8_000_000_000;
        for f in &r.faults {
            assert!(f.start.0 < q, "seed {seed}: no fault starts at or after quiet_after: {f:?}");
            assert!(
                f.end.is_none_or(|e| e.0 <= q),
                "seed {seed}: every fault is undone by quiet_after: {f:?}"
            );
        }
        let v = r.expectations.iter().find(|v| v.expectation.starts_with("recovery after")).unwrap();
        assert!(v.holds, "seed {seed}: {v:?}");
        assert!(v.measured.starts_with("recovered at "), "{v:?}");
    }

    // The key-value server crashes for good: what is pending is named.
    let down = kv("down", "RecoversWithin(\"3s\")", r#"faults: [(at: "2s", do: Crash(Node("kv")))],"#)
        .replace("duration: \"10s\",", "duration: \"10s\",\n    quiet_after: \"4s\",");
    let r = simulation::run(&scenario::parse(&down, "down.ron").unwrap(), RunOptions::default()).unwrap();
    let v = r.expectations.iter().find(|v| v.expectation.starts_with("recovery after")).unwrap();
    assert!(!v.holds);
    assert!(v.measured.contains("incident crash at 2 s not recovered by 7 s"), "{v:?}");
    assert!(v.measured.contains("service not good for 3 consecutive windows by 7 s"), "{v:?}");

    // A Raft majority crashes for good: no leader can be elected.
    let raft = VOTE_BUG
        .replace(", bugs: [VoteWithoutTermCheck]", "")
        .replace("(\"150ms\", \"155ms\")", "(\"150ms\", \"300ms\")")
        .replace("duration: \"5s\",", "duration: \"8s\",\n    quiet_after: \"3s\",")
        .replace(
            "expect: [Property(\"election_safety\"), Sometimes(\"LeaderElected\")]",
            "expect: [RecoversWithin(\"4s\")]",
        );
    let raft = raft.replace(
        &raft[raft.find("faults: [").unwrap()..raft.find("expect:").unwrap()],
        "faults: [(at: \"1s\", do: Crash(Nodes([\"n1\", \"n2\", \"n3\"])))],\n    ",
    );
    let r = simulation::run(&scenario::parse(&raft, "raft.ron").unwrap(), RunOptions::default()).unwrap();
    let v = r.expectations.iter().find(|v| v.expectation.starts_with("recovery after")).unwrap();
    assert!(!v.holds);
    assert!(v.measured.contains("no leader elected since quiet_after (3 s)"), "{v:?}");
}

/// A misspelled role used to validate, target nobody and let `run` exit 0 having crashed
/// nothing; now `validate`, `run` and `check` all refuse it: exit 2, file:line:column.
#[test]
fn a_misspelled_role_is_bad_input_for_every_command() {
    let text = std::fs::read_to_string("scenarios/raft-leader-crash.ron")
        .expect("readable")
        .replace(r#"Crash(Role("leader"))"#, r#"Crash(Role("leeder"))"#);
    let dir = folder(&[("typo.ron", &text)]);
    let file = dir.path().join("typo.ron");
    for args in [
        vec!["validate", path(&file)],
        vec!["run", path(&file)],
        vec!["check", path(&file), "--seeds", "1..2"],
    ] {
        let (code, _, err) = stormglass(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("typo.ron:") && err.contains("unknown role 'leeder'; did you mean 'leader'?"),
            "{args:?}: {err}"
        );
    }
}

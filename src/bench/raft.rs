//! The Raft system's benchmarks: simulated seconds per wall second of a loaded five-server
//! cluster, and the distribution of election downtime after a leader crash over seeds.

use super::Exit;

#[derive(Debug, clap::Args)]
pub struct RaftArgs {
    /// Simulated seconds.
    #[arg(long, default_value_t = 3600)]
    pub seconds: u64,
    /// Client operations per second, in total.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct ElectionArgs {
    /// Seeds 1..=N.
    #[arg(long, default_value_t = 1000)]
    pub seeds: u64,
    /// The election timeout range, e.g. 150ms,300ms; repeat to compare several.
    #[arg(long, default_values_t = vec!["150ms,300ms".to_string()])]
    pub timeout: Vec<String>,
    /// Also writes the downtime distributions (CDFs, one line per range) as an SVG plot.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
}

/// A five-server Raft scenario with `clients` clients at `rate` ops/s for `seconds`.
fn raft_scenario(seconds: u64, rate: f64, timeout: (&str, &str), faults: &str) -> String {
    let nodes: Vec<String> = (1..=5).map(|i| format!("(name: \"n{i}\")")).collect();
    format!(
        r#"Scenario(
    version: 1, name: "bench-raft", duration: "{seconds}s",
    topology: (nodes: [{nodes}], link: (latency: LogNormal(median: "1ms", p99: "5ms"))),
    system: Raft(election_timeout: ("{lo}", "{hi}"), heartbeat: "50ms"),
    workload: (clients: 8, arrival: Poisson(rate_per_s: {rate:.1}), keys: Uniform(n: 10000), write_ratio: 0.5,
               timeout: "500ms", retry: Exponential(base: "20ms", cap: "1s", max_attempts: 5)),
    faults: [{faults}],
)"#,
        nodes = nodes.join(", "),
        lo = timeout.0,
        hi = timeout.1,
    )
}

pub(super) fn raft(a: &RaftArgs) -> Exit {
    let text = raft_scenario(a.seconds, a.rate, ("150ms", "300ms"), "");
    let scenario = crate::systems::parse(&text, "bench-raft.ron").expect("the built-in scenario is valid");
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark measures wall time
    let started = std::time::Instant::now();
    let r = match crate::simulation::run(
        &scenario,
        crate::simulation::RunOptions { seed: Some(a.seed), record_trace: false },
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failed;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    println!(
        "raft   5 servers, {} ops/s, {} simulated s: {} events, {} operations",
        a.rate, a.seconds, r.events, r.ops.total
    );
    println!(
        "wall {wall:.2} s (run and every check)  {:.0} simulated s per wall s  {:.2} M events/s",
        a.seconds as f64 / wall,
        r.events as f64 / wall / 1e6
    );
    Exit::Ok
}

pub(super) fn raft_elections(a: &ElectionArgs) -> Exit {
    let mut series = Vec::new();
    for range in &a.timeout {
        match election_downtimes(a.seeds, range) {
            Ok(downs) => series.push((format!("election timeout {range}"), downs)),
            Err(code) => return code,
        }
    }
    if let Some(path) = &a.svg {
        let svg = crate::report::plots::distribution_cdf(
            "Election downtime after a leader crash, across seeds",
            "time without a leader (ms)",
            &series,
        );
        if let Err(e) = crate::report::write_atomic(path, svg.as_bytes()) {
            eprintln!("error: cannot write '{}': {e}", path.display());
            return Exit::Failed;
        }
    }
    Exit::Ok
}

/// Runs `seeds` seeds of a leader crash with election timeouts `range` ("lo,hi"); prints
/// and returns the downtimes (ms) of the seeds that elected a new leader.
fn election_downtimes(seeds: u64, range: &str) -> Result<Vec<f64>, Exit> {
    let Some((lo, hi)) = range.split_once(',') else {
        eprintln!("error: --timeout takes two durations, e.g. 150ms,300ms");
        return Err(Exit::BadInput);
    };
    let faults = r#"(at: "2s", do: Crash(Role("leader")))"#;
    let text = raft_scenario(5, 50.0, (lo.trim(), hi.trim()), faults);
    let scenario = match crate::systems::parse(&text, "bench-raft-elections.ron") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Exit::BadInput);
        }
    };
    let mut downs = Vec::new();
    let mut none = 0;
    for seed in 1..=seeds {
        let opts = crate::simulation::RunOptions { seed: Some(seed), record_trace: false };
        let Ok(r) = crate::simulation::run(&scenario, opts) else { continue };
        let raft = r.system.figures::<crate::systems::raft::RaftReport>();
        match raft.and_then(|x| x.elections.iter().find(|e| e.hit_leader)).and_then(|e| e.downtime_s) {
            Some(d) => downs.push(d * 1e3),
            None => none += 1,
        }
    }
    downs.sort_by(f64::total_cmp);
    let q = |p: f64| {
        downs
            .get(((downs.len() as f64 * p).ceil() as usize).clamp(1, downs.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "election downtime after a leader crash, timeouts {lo}..{hi}, {seeds} seeds: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (no new leader: {none})",
        q(0.5),
        q(0.99),
        downs.last().copied().unwrap_or(0.0)
    );
    Ok(downs)
}

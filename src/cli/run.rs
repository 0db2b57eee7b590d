//! `stormglass run SCENARIO`: one run, a short human summary, optionally JSON.

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::simulation::{self, DeterminismCheck, RunOptions, RunResult};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Md,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (.ron).
    pub scenario: PathBuf,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Writes the report into DIR: report.json, report.md, report.html and SVG plots.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Prints the JSON report to stdout instead of the summary (same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Prints the report in this format to stdout instead of the summary.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Runs twice and compares every event; names the first divergent one.
    #[arg(long)]
    pub check_determinism: bool,
}

pub fn run(args: &RunArgs) -> i32 {
    let scenario = match crate::systems::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let seed = args.seed.unwrap_or(scenario.raw.seed);
    let replay = format!("stormglass run {} --seed {seed}", args.scenario.display());
    if args.check_determinism {
        return check_determinism(&scenario, seed, &replay);
    }
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time for the summary line only
    let started = std::time::Instant::now();
    let result = match simulation::run(&scenario, RunOptions { seed: Some(seed), record_trace: false }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}\nreplay: {replay}");
            return EXIT_FAILED;
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    if let Some(dir) = &args.out {
        if let Err(e) = crate::report::write_all(dir, &result) {
            eprintln!(
                "error: cannot write the report into '{}': {e}; check the folder is writable",
                dir.display()
            );
            return EXIT_FAILED;
        }
    }
    match (args.format, args.json) {
        (Some(Format::Json), _) | (None, true) => print!("{}", crate::report::json::render(&result)),
        (Some(Format::Md), _) => print!("{}", crate::report::markdown::render(&result)),
        (None, false) => {
            print_summary(&result, wall_s);
            if let Some(dir) = &args.out {
                println!("report       {}/report.html (and .md, .json, plots)", dir.display());
            }
        }
    }
    let failed: Vec<&str> =
        result.expectations.iter().filter(|v| v.fails()).map(|v| v.expectation.as_str()).collect();
    if failed.is_empty() {
        EXIT_OK
    } else {
        eprintln!("failed: {}; replay: {replay}", failed.join(", "));
        EXIT_FAILED
    }
}

fn check_determinism(scenario: &crate::systems::Scenario, seed: u64, replay: &str) -> i32 {
    match simulation::check_determinism(scenario, Some(seed)) {
        Ok(DeterminismCheck::Same { digest, events }) => {
            println!("deterministic: two runs of seed {seed} agree on all {events} events (digest {digest})");
            EXIT_OK
        }
        Ok(DeterminismCheck::Diverged { first, second }) => {
            println!("NOT deterministic: seed {seed} diverges");
            println!("  first run:  {first:?}");
            println!("  second run: {second:?}");
            println!("replay: {replay}");
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("error: {e}\nreplay: {replay}");
            EXIT_FAILED
        }
    }
}

/// One character per window: the share of the busiest window's successes.
fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values.iter().map(|&v| if v == 0 { ' ' } else { BARS[((v * 7).div_ceil(max)) as usize] }).collect()
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

pub fn print_summary(r: &RunResult, wall_s: f64) {
    let o = &r.ops;
    println!("{}  seed {}  {} s simulated", r.scenario, r.seed, r.duration_s);
    println!(
        "operations   {}  ok {} ({:.2}%)  failed {}  timed out {}  incomplete {}  attempts/op {:.3}",
        o.total,
        o.ok,
        pct(o.ok, o.total),
        o.failed,
        o.timed_out,
        o.incomplete,
        o.attempts as f64 / o.total.max(1) as f64
    );
    // At most 120 columns: long runs fold several windows into one column.
    let windows = &r.metrics.windows;
    let per = windows.len().div_ceil(120).max(1);
    let ok: Vec<u64> = windows.chunks(per).map(|c| c.iter().map(|w| w.ok).sum()).collect();
    let window_s = r.metrics.availability.window_s * per as f64;
    println!("ok           |{}|  (successes by invocation, {window_s} s per column)", sparkline(&ok));
    let a = &r.metrics.availability;
    println!(
        "availability requests {:.4}  time {:.4} ({} of {} busy windows meet the {} SLO, {} idle)",
        a.request_availability,
        a.time_availability,
        a.good_windows,
        a.windows - a.idle_windows,
        a.slo,
        a.idle_windows
    );
    let l = &r.metrics.latency.all_ok;
    println!(
        "latency ok   p50 {:.3} ms  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
        l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms
    );
    const SHOWN: usize = 12;
    for f in r.faults.iter().take(SHOWN) {
        let until = match f.end {
            Some(e) if e > f.start => format!(" until {e}"),
            Some(_) => String::new(),
            None => " (not undone)".to_string(),
        };
        println!("fault        {} {} {}{until}", f.start, f.kind, f.targets.join(","));
    }
    if r.faults.len() > SHOWN {
        println!("fault        ... and {} more (see --json)", r.faults.len() - SHOWN);
    }
    for i in r.metrics.incidents.iter().take(SHOWN) {
        let rto = match i.rto {
            crate::metrics::recovery::Rto::Recovered { rto_s } => format!("RTO {rto_s} s"),
            crate::metrics::recovery::Rto::NotRecovered => "NOT RECOVERED".to_string(),
            crate::metrics::recovery::Rto::Undetermined => "RTO undetermined (run ended)".to_string(),
        };
        println!(
            "incident     {} at {} s: {rto}, RPO {} s ({} lost writes)",
            i.kind, i.start_s, i.rpo_s, i.lost_writes
        );
    }
    for (label, text) in &r.system.terminal {
        println!("{label:<12} {text}");
    }
    let d = &r.durability;
    let verdict = if d.lost_acknowledged_writes == 0 { "none lost" } else { "LOST" };
    println!(
        "durability   {} acknowledged writes, {} lost ({verdict})",
        d.acknowledged_writes, d.lost_acknowledged_writes
    );
    if d.wrong_reads > 0 || d.detected_corruptions > 0 {
        println!(
            "corruption   {} wrong reads returned to clients, {} corruptions detected by checksums",
            d.wrong_reads, d.detected_corruptions
        );
    }
    print_disks(r);
    if !r.drawn.is_empty() {
        let drawn: Vec<String> = r.drawn.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        println!("drawn        {}", drawn.join(", "));
    }
    let m = &r.messages;
    let reasons: Vec<String> = m
        .dropped
        .iter()
        .map(|(r, n)| {
            format!(
                "{} {n}",
                serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
            )
        })
        .collect();
    println!(
        "messages     sent {}  delivered {}  dropped {}{}",
        m.sent + m.duplicated,
        m.delivered,
        m.dropped_total(),
        if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) }
    );
    let rate = r.events as f64 / wall_s.max(1e-9);
    println!(
        "engine       {} events in {:.3} s wall: {:.2} M events/s, {:.0} simulated s per wall s",
        r.events,
        wall_s,
        rate / 1e6,
        r.duration_s / wall_s.max(1e-9)
    );
    println!("digest       {}", r.digest);
    for v in &r.expectations {
        let mark = match (v.holds, v.informational) {
            (true, _) => "ok  ",
            (false, true) => "info",
            (false, false) => "FAIL",
        };
        println!("expect {mark}  {}: {} (bound {})", v.expectation, v.measured, v.bound);
    }
}

/// One line per node whose disk or clock did something worth seeing.
fn print_disks(r: &RunResult) {
    for n in &r.nodes {
        let k = &n.disk;
        let mut parts = Vec::new();
        for (count, what) in [
            (k.writes_lost_in_crash, "unsynced writes lost in crashes"),
            (k.torn_writes, "torn writes"),
            (k.corrupted_writes, "garbled writes"),
            (k.misdirected_writes, "misdirected writes"),
            (k.rotten_reads, "rotten reads"),
            (k.failed_ops, "failed disk operations"),
            (n.pauses, "pauses"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        }
        if n.clock_offset_ms_at_end != 0.0 {
            parts.push(format!("clock {:+.3} ms off at the end", n.clock_offset_ms_at_end));
        }
        if !parts.is_empty() {
            println!("node         {}: {}", n.name, parts.join(", "));
        }
    }
}

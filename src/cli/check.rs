//! `stormglass check PATH...`: every scenario × every seed in parallel, the verdict as an
//! exit code, and JSON / JUnit / Markdown summaries (see docs/ci.md).
//!
//! Exit codes: 0 every run held; 1 something failed (an expectation, a run that did not
//! finish, a vacuous "sometimes" event, a determinism divergence); 2 bad input; 130 the
//! sweep was interrupted (Ctrl-C) before it finished, with nothing failed so far. The
//! summary files are written in every case but bad input.

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::sweep::{self, Control, Event, Options, SeedSet, Shard, Summary, SweepVerdict};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// The exit code of an interrupted sweep (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario files, or folders (every *.ron in them except shrunk *.min.ron files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The seeds: N (the first N, 1..N) or a list of seeds and inclusive ranges, e.g.
    /// 1..1000 or 3,17,40..50. Demonstrations (a Violated expectation) run their own seed.
    #[arg(long, default_value = "1..100")]
    pub seeds: String,
    /// Threads (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Writes a JUnit XML summary (one test case per scenario).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Writes the JSON summary (what `merge` joins).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Writes a Markdown summary.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Runs shard K of N (1 <= K <= N): run j of the sweep goes to shard (j mod N) + 1.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Reruns every M-th seed of each scenario and compares digests.
    #[arg(long, value_name = "M")]
    pub check_determinism_every: Option<u64>,
    /// Failures shrunk per scenario (the first ones by seed); 0 shrinks none.
    #[arg(long, default_value_t = 3)]
    pub shrink_max: usize,
    /// Runs each shrink may make.
    #[arg(long, default_value_t = 100)]
    pub shrink_budget: usize,
    /// Stops taking new runs after this many have finished, as an interrupt does (tests).
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
}

pub fn check(args: &CheckArgs) -> i32 {
    let opts = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let targets = match sweep::load_targets(&args.paths) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let control = Control { stop_after: args.stop_after, ..Control::default() };
    let flag = control.stop.clone();
    // A first Ctrl-C stops taking new runs and writes what finished; a second one quits.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!(
            "\ninterrupted: finishing the runs under way, then writing the summary (Ctrl-C again quits)"
        );
    });
    let total = sweep::jobs(&targets, &opts.seeds, opts.determinism_every, opts.shard).len();
    eprintln!(
        "checking {} scenarios, seeds {}{}: {total} runs on {} threads",
        targets.len(),
        opts.seeds,
        opts.shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
        opts.jobs
    );
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time for the terminal only
    let started = std::time::Instant::now();
    let progress = Progress::new(total);
    let summary = match sweep::run(&targets, &opts, &control, &|e| progress.event(e)) {
        Ok(s) => s,
        Err(e) => {
            progress.finish();
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    progress.finish();
    let wall_s = started.elapsed().as_secs_f64();
    print_summary(&summary);
    let runs = summary.totals.passed + summary.totals.failed + summary.totals.errors;
    println!(
        "wall         {runs} runs in {wall_s:.2} s: {:.1} runs/s on {} threads",
        runs as f64 / wall_s.max(1e-9),
        opts.jobs
    );
    if let Err(code) = write_outputs(&summary, &args.json, &args.junit, &args.md) {
        return code;
    }
    exit_code(&summary)
}

fn options(args: &CheckArgs) -> Result<Options, String> {
    let seeds = SeedSet::parse_arg(&args.seeds)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    if args.check_determinism_every == Some(0) {
        return Err("--check-determinism-every 0 checks nothing; give M >= 1 (1 checks every seed)".into());
    }
    let jobs = match args.jobs {
        Some(0) => return Err("--jobs 0 runs nothing; give at least 1".into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok(Options {
        seeds,
        shard,
        jobs,
        determinism_every: args.check_determinism_every,
        shrink_max: args.shrink_max,
        shrink_budget: args.shrink_budget,
    })
}

/// The exit code of a finished sweep.
pub fn exit_code(s: &Summary) -> i32 {
    match s.verdict {
        SweepVerdict::Passed => EXIT_OK,
        SweepVerdict::Failed => EXIT_FAILED,
        SweepVerdict::Interrupted => EXIT_INTERRUPTED,
    }
}

/// Writes the requested summaries; on failure, says why and gives the exit code.
pub fn write_outputs(
    s: &Summary,
    json: &Option<PathBuf>,
    junit: &Option<PathBuf>,
    md: &Option<PathBuf>,
) -> Result<(), i32> {
    let outputs = [
        (json, "json", s.to_json()),
        (junit, "junit", sweep::junit::render(s)),
        (md, "md", sweep::markdown::render(s)),
    ];
    for (path, kind, text) in outputs {
        let Some(path) = path else { continue };
        if let Err(e) = crate::report::write_atomic(path, text.as_bytes()) {
            eprintln!(
                "error: cannot write the {kind} summary '{}': {e}; check the folder is writable",
                path.display()
            );
            return Err(EXIT_FAILED);
        }
        println!("summary      {}", path.display());
    }
    Ok(())
}

/// The terminal summary: a line per scenario, then every failure with its replay command
/// and shrunk file.
pub fn print_summary(s: &Summary) {
    for c in &s.scenarios {
        let mark = if c.is_failed() {
            "FAIL"
        } else if !c.not_run.is_empty() {
            "part"
        } else {
            "ok  "
        };
        println!("{mark}  {}  {}", c.file, sweep::markdown::counts(c));
        let reached: Vec<String> = c
            .coverage
            .iter()
            .map(|e| {
                let declared = if e.declared { "*" } else { "" };
                format!("{}{declared} {}", e.event, e.seeds.len())
            })
            .collect();
        println!("      coverage (seeds; * declared): {}", reached.join(", "));
        for v in &c.vacuous {
            println!("      VACUOUS: no seed reached the declared sometimes event '{v}'");
        }
        for f in &c.failures {
            println!("      seed {}:", f.seed);
            if let Some(e) = &f.error {
                println!("        the run did not finish: {e}");
            }
            for e in &f.failed {
                println!("        {}: {} (bound {})", e.expectation, e.measured, e.bound);
            }
            println!("        replay: {}", f.replay);
            match (&f.shrunk, &f.not_shrunk) {
                (Some(m), _) => println!(
                    "        shrunk: {} ({} faults -> {}); replay: {}",
                    m.file, m.faults_before, m.faults_after, m.replay
                ),
                (None, Some(why)) => println!("        {why}"),
                (None, None) => {}
            }
        }
        for d in &c.determinism_diverged {
            println!("      seed {} NOT deterministic: {}", d.seed, d.detail);
            println!("        replay: stormglass run {} --seed {} --check-determinism", c.file, d.seed);
        }
    }
    let t = &s.totals;
    println!(
        "verdict      {}: {} scenarios ({} failed), {} runs planned: {} passed, {} failed, {} errors{}",
        sweep::markdown::verdict_word(s),
        t.scenarios,
        t.scenarios_failed,
        t.planned,
        t.passed,
        t.failed,
        t.errors,
        if t.not_run > 0 { format!(", {} did not run (interrupted)", t.not_run) } else { String::new() }
    );
}

/// A progress bar on a terminal (stderr); plain lines otherwise (CI logs): every failure,
/// and a count every tenth of the way.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} runs  {per_sec}  eta {eta}  {wide_msg}",
            )
            .expect("the progress template is valid");
            bar.set_style(style);
            bar
        });
        Progress { bar, total }
    }

    fn event(&self, e: Event) {
        let line = match &e {
            Event::Ran { file, seed, failure: Some(why), .. } => {
                Some(format!("FAIL {file} seed {seed}: {why}"))
            }
            Event::Ran { .. } => None,
            Event::Shrinking { count } => Some(format!("shrinking {count} failures")),
            Event::Shrunk { file, seed, outcome: Ok(m) } => Some(format!(
                "shrunk {file} seed {seed}: {} ({} faults -> {})",
                m.file, m.faults_before, m.faults_after
            )),
            Event::Shrunk { file, seed, outcome: Err(why) } => Some(format!("{file} seed {seed}: {why}")),
        };
        match &self.bar {
            Some(bar) => {
                if let Some(line) = line {
                    bar.println(line);
                }
                if let Event::Ran { file, seed, .. } = e {
                    bar.inc(1);
                    bar.set_message(format!("{file} seed {seed}"));
                }
            }
            None => {
                if let Some(line) = line {
                    eprintln!("{line}");
                }
                if let Event::Ran { done, total, .. } = e {
                    let step = (self.total / 10).max(1);
                    if done % step == 0 || done == total {
                        eprintln!("progress: {done}/{total} runs");
                    }
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

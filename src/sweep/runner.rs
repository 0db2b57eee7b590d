//! Running a sweep: a `rayon` pool of `jobs` threads pulls runs in order from a shared
//! counter (so a stop leaves a prefix of the runs done when there is one thread), stores each
//! result in its run's slot, then shrinks the first failures of each scenario and builds the
//! summary from the slots in run order.

use super::summary::{
    Coverage, Divergence, FailedExpectation, ScenarioSummary, SeedFailure, ShrunkFile, Summary, SweepVerdict,
    Totals, SUMMARY_VERSION,
};
use super::{jobs, replay_command, Job, SeedSet, Shard, Target};
use crate::scenario::raw::RawExpect;
use crate::scenario::SystemSection;
use crate::simulation::{self, DeterminismCheck, RunOptions, RunResult};
use crate::sweep::shrink;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a sweep runs, beside its scenarios.
#[derive(Clone, Debug)]
pub struct Options {
    pub seeds: SeedSet,
    pub shard: Option<Shard>,
    /// Threads (at least 1).
    pub jobs: usize,
    pub determinism_every: Option<u64>,
    pub shrink_max: usize,
    pub shrink_budget: usize,
}

/// Stopping a sweep early: the flag (set by Ctrl-C), and a test hook that sets it once this
/// many runs have finished.
#[derive(Clone, Debug, Default)]
pub struct Control {
    pub stop: Arc<AtomicBool>,
    pub stop_after: Option<usize>,
}

impl Control {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// What a sweep reports while it works (for a progress bar or log lines).
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// A run finished: `done` of `total`; `failure` says what failed, if anything.
    Ran { done: usize, total: usize, file: &'a str, seed: u64, failure: Option<String> },
    /// Shrinking starts for `count` failures.
    Shrinking { count: usize },
    /// A failure was shrunk (or could not be).
    Shrunk { file: &'a str, seed: u64, outcome: Result<&'a ShrunkFile, &'a str> },
}

/// What one run left behind (the run's result itself is dropped at once).
#[derive(Clone, Debug)]
struct Outcome {
    failed: Vec<FailedExpectation>,
    error: Option<String>,
    reached: Vec<&'static str>,
    divergence: Option<String>,
}

/// Runs the sweep and returns its summary (finalised).
pub fn run(
    targets: &[Target],
    opts: &Options,
    control: &Control,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Summary, String> {
    assert!(opts.jobs >= 1, "a sweep runs on at least one thread");
    let jobs = jobs(targets, &opts.seeds, opts.determinism_every, opts.shard);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}; lower --jobs", opts.jobs))?;
    let slots: Vec<Mutex<Option<Outcome>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let worker = || loop {
        if control.stopped() {
            return;
        }
        let j = next.fetch_add(1, Ordering::SeqCst);
        let Some(job) = jobs.get(j) else { return };
        let target = &targets[job.target];
        let outcome = run_one(target, job);
        let failure = describe(&outcome);
        *slots[j].lock().expect("a slot's lock is never poisoned") = Some(outcome);
        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
        if control.stop_after.is_some_and(|n| finished >= n) {
            control.stop.store(true, Ordering::SeqCst);
        }
        progress(Event::Ran {
            done: finished,
            total: jobs.len(),
            file: &target.file,
            seed: job.seed,
            failure,
        });
    };
    pool.scope(|s| {
        for _ in 0..opts.jobs {
            s.spawn(|_| worker());
        }
    });
    let outcomes: Vec<Option<Outcome>> =
        slots.into_iter().map(|m| m.into_inner().expect("a slot's lock is never poisoned")).collect();
    let mut summary = summarise(targets, opts, &jobs, outcomes);
    shrink_failures(targets, opts, control, &pool, &mut summary, progress);
    summary.finalize();
    Ok(summary)
}

/// One run, judged; with `job.determinism`, run again and compare digests.
fn run_one(target: &Target, job: &Job) -> Outcome {
    let opts = RunOptions { seed: Some(job.seed), record_trace: false };
    let r = match simulation::run(&target.scenario, opts) {
        Ok(r) => r,
        Err(e) => {
            return Outcome { failed: vec![], error: Some(e.to_string()), reached: vec![], divergence: None }
        }
    };
    let failed = r
        .expectations
        .iter()
        .filter(|v| v.fails())
        .map(|v| FailedExpectation {
            expectation: v.expectation.clone(),
            measured: v.measured.clone(),
            bound: v.bound.clone(),
        })
        .collect();
    let reached = r.reached.clone();
    let divergence = if job.determinism { determinism(target, job.seed, &r) } else { None };
    Outcome { failed, error: None, reached, divergence }
}

/// Reruns the seed and compares; on a mismatch, a traced double run names the first
/// divergent event.
fn determinism(target: &Target, seed: u64, first: &RunResult) -> Option<String> {
    let again = match simulation::run(&target.scenario, RunOptions { seed: Some(seed), record_trace: false })
    {
        Ok(r) => r,
        Err(e) => return Some(format!("the rerun failed where the first run did not: {e}")),
    };
    if again.digest == first.digest && again.events == first.events {
        return None;
    }
    let digests = format!(
        "digest {} ({} events) then {} ({} events)",
        first.digest, first.events, again.digest, again.events
    );
    Some(match simulation::check_determinism(&target.scenario, Some(seed)) {
        Ok(DeterminismCheck::Diverged { first, second }) => {
            format!("{digests}; first divergent event: {first:?} vs {second:?}")
        }
        Ok(DeterminismCheck::Same { .. }) => format!("{digests}; a traced rerun agreed (intermittent)"),
        Err(e) => format!("{digests}; the traced rerun failed: {e}"),
    })
}

/// A one-line description of what failed in a run, if anything.
fn describe(o: &Outcome) -> Option<String> {
    let mut parts: Vec<String> = o.error.iter().cloned().collect();
    parts.extend(o.failed.iter().map(|f| format!("{}: {} (bound {})", f.expectation, f.measured, f.bound)));
    parts.extend(o.divergence.iter().map(|d| format!("NOT deterministic: {d}")));
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn summarise(targets: &[Target], opts: &Options, jobs: &[Job], outcomes: Vec<Option<Outcome>>) -> Summary {
    let mut scenarios: Vec<ScenarioSummary> = targets
        .iter()
        .map(|t| {
            let declared: Vec<&str> = t
                .scenario
                .raw
                .expect
                .iter()
                .filter_map(|e| match e {
                    RawExpect::Sometimes(name) => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            ScenarioSummary {
                file: t.file.clone(),
                name: t.scenario.raw.name.clone(),
                pinned: t.pinned,
                planned: 0,
                passed: 0,
                failed: 0,
                errors: 0,
                not_run: SeedSet::default(),
                failures: Vec::new(),
                coverage: (t.scenario.raw.system.sometimes().into_iter())
                    .map(|event| Coverage {
                        event: event.to_string(),
                        declared: declared.contains(&event),
                        seeds: SeedSet::default(),
                    })
                    .collect(),
                vacuous: Vec::new(),
                determinism_checked: 0,
                determinism_diverged: Vec::new(),
            }
        })
        .collect();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let s = &mut scenarios[job.target];
        s.planned += 1;
        let Some(o) = outcome else {
            s.not_run.0.insert(job.seed);
            continue;
        };
        match (&o.error, o.failed.is_empty()) {
            (Some(_), _) => s.errors += 1,
            (None, false) => s.failed += 1,
            (None, true) => s.passed += 1,
        }
        for c in s.coverage.iter_mut().filter(|c| o.reached.contains(&c.event.as_str())) {
            c.seeds.0.insert(job.seed);
        }
        if job.determinism {
            s.determinism_checked += 1;
        }
        if let Some(detail) = o.divergence {
            s.determinism_diverged.push(Divergence { seed: job.seed, detail });
        }
        if o.error.is_some() || !o.failed.is_empty() {
            s.failures.push(SeedFailure {
                seed: job.seed,
                failed: o.failed,
                not_shrunk: o.error.as_ref().map(|_| "not shrunk: the run did not finish".to_string()),
                error: o.error,
                replay: replay_command(&targets[job.target].file, job.seed),
                shrunk: None,
            });
        }
    }
    Summary {
        summary_version: SUMMARY_VERSION,
        seeds: opts.seeds.clone(),
        shard: opts.shard.map(|s| s.to_string()),
        determinism_every: opts.determinism_every,
        shrink_max: opts.shrink_max,
        shrink_budget: opts.shrink_budget,
        verdict: SweepVerdict::Passed,
        totals: Totals::default(),
        scenarios,
    }
}

/// Shrinks the first `shrink_max` failures of each scenario (those whose run finished), in
/// parallel, and writes each shrunk scenario next to its original as `X.seed-N.min.ron`.
fn shrink_failures(
    targets: &[Target],
    opts: &Options,
    control: &Control,
    pool: &rayon::ThreadPool,
    summary: &mut Summary,
    progress: &(dyn Fn(Event) + Sync),
) {
    let mut work: Vec<(usize, usize)> = Vec::new();
    for (t, s) in summary.scenarios.iter().enumerate() {
        let shrinkable = s.failures.iter().enumerate().filter(|(_, f)| f.error.is_none());
        work.extend(shrinkable.take(opts.shrink_max).map(|(i, _)| (t, i)));
    }
    if work.is_empty() {
        return;
    }
    progress(Event::Shrinking { count: work.len() });
    let results: Vec<Result<ShrunkFile, String>> = pool.install(|| {
        work.par_iter()
            .map(|&(t, i)| {
                let failure = &summary.scenarios[t].failures[i];
                let result = if control.stopped() {
                    Err("not shrunk: the sweep was interrupted".to_string())
                } else {
                    shrink_one(&targets[t], failure, opts.shrink_budget)
                };
                let outcome = result.as_ref().map_err(String::as_str);
                progress(Event::Shrunk { file: &targets[t].file, seed: failure.seed, outcome });
                result
            })
            .collect()
    });
    for ((t, i), result) in work.into_iter().zip(results) {
        let f = &mut summary.scenarios[t].failures[i];
        match result {
            Ok(file) => f.shrunk = Some(file),
            Err(why) => f.not_shrunk = Some(why),
        }
    }
}

/// Shrinks one failure while its first failing expectation still fails, and writes the file.
fn shrink_one(target: &Target, failure: &SeedFailure, budget: usize) -> Result<ShrunkFile, String> {
    let expectation = failure.failed.first().expect("a shrinkable failure has a failed expectation");
    let still_fails =
        |r: &RunResult| r.expectations.iter().any(|v| v.expectation == expectation.expectation && v.fails());
    let shrunk = shrink::shrink(&target.text, &target.file, failure.seed, &still_fails, budget)
        .map_err(|e| format!("not shrunk: {e}"))?;
    let file = shrink::min_file_name(&target.file, failure.seed);
    crate::report::write_atomic(std::path::Path::new(&file), shrunk.text.as_bytes())
        .map_err(|e| format!("not shrunk: cannot write '{file}': {e}; check the folder is writable"))?;
    Ok(ShrunkFile {
        replay: format!("stormglass run {file}"),
        file,
        faults_before: shrunk.faults_before,
        faults_after: shrunk.faults_after,
        runs: shrunk.runs,
    })
}

//! Delta debugging: the smallest scenario that still fails the same way at the same seed.
//!
//! [`shrink`] takes a failing scenario's text, the seed it fails at and a predicate over the
//! run's result ("the property still fails"), and reduces the scenario step by step, each
//! step kept only if a fresh run of the candidate at the same seed still satisfies the
//! predicate:
//!
//! 1. the fault plan, by ddmin (Zeller): no faults at all, then halves, quarters, … kept
//!    alone or dropped, down to dropping single faults;
//! 2. each remaining fault's `for`, halved while it still fails (down to [`MIN_SPAN`]);
//! 3. the run's `duration`: cut to just past the last fault's end plus [`MARGIN`], then the
//!    slack above the last fault's `at` halved while it still fails (never below that `at`);
//! 4. `workload.clients`, halved toward one;
//! 5. a Poisson arrival rate, halved (down to [`MIN_RATE_PER_S`]);
//! 6. the random nemesis, one part (crashes, partitions, clock steps) at a time.
//!
//! The steps repeat while a pass makes progress (at most [`MAX_PASSES`] passes), since a
//! smaller run can make further faults removable.
//!
//! Guarantees: every candidate is serialized to RON and re-parsed — so validated — before it
//! runs, and invalid candidates are skipped without a run; the text returned is exactly the
//! text of the last candidate that failed (plus a header comment), so `stormglass run` on it
//! reproduces the failure by itself. At most `budget` runs, the confirming run included; a
//! candidate already tried is never run twice. Deterministic: the same input gives the same
//! output.
//!
//! Known limits: greedy, not a global minimum. A halving that passes stops that step even if
//! a smaller value would fail again. Removing a fault or a nemesis part leaves every other
//! random stream as it was (each draws from its own stream), but fewer clients or a lower
//! rate change the workload's draws, so such a step may keep the failure through a different
//! execution. Only predicates over a finished run can be shrunk, not panics.

use crate::scenario::raw::{Dur, Positive, RawArrival, RawFault};
use crate::scenario::to_ron;
use crate::sim::SimDuration;
use crate::simulation::{self, RunOptions, RunResult};
use crate::systems::{self as scenario, RawScenario};
use std::collections::BTreeSet;

/// How far past the last fault's end the run's duration is first cut.
pub const MARGIN: SimDuration = SimDuration::from_secs(1);

/// Passes over every step, at most.
pub const MAX_PASSES: usize = 3;

/// The shortest `for` or slack the halvings go down to.
pub const MIN_SPAN: SimDuration = SimDuration::from_millis(1);

/// The lowest arrival rate the halvings go down to, per second.
pub const MIN_RATE_PER_S: f64 = 1.0;

/// The result of [`shrink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shrunk {
    /// The shrunk scenario: a header comment and the RON, with `seed` set to the seed.
    pub text: String,
    pub faults_before: usize,
    pub faults_after: usize,
    /// Runs made, the confirming run included (at most the budget).
    pub runs: usize,
}

/// The conventional name of the shrunk file for `file` at `seed`: `x.ron` → `x.seed-N.min.ron`.
pub fn min_file_name(file: &str, seed: u64) -> String {
    let stem = file.strip_suffix(".ron").unwrap_or(file);
    format!("{stem}.seed-{seed}.min.ron")
}

/// Delta-debugs a failing scenario: returns the smallest scenario text found for which
/// `still_fails` holds at `seed`. `text` is the scenario's RON text, `file` its name for errors.
pub fn shrink(
    text: &str,
    file: &str,
    seed: u64,
    still_fails: &dyn Fn(&RunResult) -> bool,
    budget: usize,
) -> Result<Shrunk, String> {
    let scenario = scenario::parse(text, file).map_err(|e| format!("cannot shrink: {e}"))?;
    let mut raw = scenario.raw;
    raw.seed = seed;
    let faults_before = raw.faults.len();
    let best_text = to_ron(&raw)?;
    let mut s = Shrinker {
        file,
        seed,
        still_fails,
        budget,
        runs: 0,
        accepted: 0,
        tried: BTreeSet::new(),
        best: raw,
        best_text,
    };
    if budget > 0 {
        s.confirm()?;
    }
    for _ in 0..MAX_PASSES {
        let accepted = s.accepted;
        s.faults();
        s.fault_lengths();
        s.duration();
        s.clients();
        s.rate();
        s.nemesis();
        if s.accepted == accepted || s.out_of_budget() {
            break;
        }
    }
    assert!(s.runs <= budget, "the shrinker stays within its budget of runs");
    let faults_after = s.best.faults.len();
    assert!(faults_after <= faults_before, "shrinking never adds faults");
    let header = format!(
        "// Shrunk from {file} at seed {seed} by stormglass check: {faults_before} faults -> {faults_after}; \
         replay: stormglass run {}\n",
        min_file_name(file, seed)
    );
    Ok(Shrunk { text: header + &s.best_text, faults_before, faults_after, runs: s.runs })
}

struct Shrinker<'a> {
    file: &'a str,
    seed: u64,
    still_fails: &'a dyn Fn(&RunResult) -> bool,
    budget: usize,
    runs: usize,
    /// Candidates accepted so far.
    accepted: usize,
    /// The text of every candidate run (each run is deterministic: no need to repeat one).
    tried: BTreeSet<String>,
    /// The smallest failing scenario so far, and its text as run.
    best: RawScenario,
    best_text: String,
}

impl Shrinker<'_> {
    fn out_of_budget(&self) -> bool {
        self.runs >= self.budget
    }

    /// Runs the scenario as written back, so the round trip is checked along with the failure.
    fn confirm(&mut self) -> Result<(), String> {
        let (file, seed) = (self.file, self.seed);
        let parsed = scenario::parse(&self.best_text, file).map_err(|e| {
            format!("cannot shrink '{file}': the scenario does not read back once written as RON ({e}); this is a bug")
        })?;
        self.runs += 1;
        self.tried.insert(self.best_text.clone());
        let result =
            simulation::run(&parsed, RunOptions { seed: Some(seed), record_trace: false }).map_err(|e| {
                format!("cannot shrink '{file}': {e}; only a failing property of a finished run shrinks")
            })?;
        if !(self.still_fails)(&result) {
            return Err(format!(
                "cannot shrink '{file}': it does not fail at seed {seed}; check the seed and the property"
            ));
        }
        Ok(())
    }

    /// Runs `candidate` if it is valid, new and within budget; keeps it if it still fails.
    fn attempt(&mut self, mut candidate: RawScenario) -> bool {
        if self.out_of_budget() {
            return false;
        }
        candidate.seed = self.seed;
        let Ok(text) = to_ron(&candidate) else { return false };
        if !self.tried.insert(text.clone()) {
            return false; // run before, and it passed (a failing one became `best`)
        }
        let Ok(parsed) = scenario::parse(&text, self.file) else { return false }; // invalid: skip
        self.runs += 1;
        let opts = RunOptions { seed: Some(self.seed), record_trace: false };
        let fails = simulation::run(&parsed, opts).is_ok_and(|r| (self.still_fails)(&r));
        if fails {
            self.best = parsed.raw;
            self.best_text = text;
            self.accepted += 1;
        }
        fails
    }

    fn attempt_faults(&mut self, faults: Vec<RawFault>) -> bool {
        let mut candidate = self.best.clone();
        candidate.faults = faults;
        self.attempt(candidate)
    }

    /// ddmin over the fault list: each of `n` chunks alone, then each dropped; finer chunks
    /// when neither helps, until single faults.
    fn faults(&mut self) {
        if self.best.faults.is_empty() || self.attempt_faults(Vec::new()) {
            return;
        }
        let mut n = 2;
        while self.best.faults.len() >= 2 && !self.out_of_budget() {
            let faults = self.best.faults.clone();
            let len = faults.len();
            let chunks: Vec<(usize, usize)> =
                (0..n.min(len)).map(|i| (i * len / n, (i + 1) * len / n)).collect();
            assert!(chunks.iter().all(|&(a, b)| a < b) && chunks.last().map(|c| c.1) == Some(len));
            let kept_alone = chunks.iter().any(|&(a, b)| self.attempt_faults(faults[a..b].to_vec()));
            if kept_alone {
                n = 2;
                continue;
            }
            let dropped = chunks.iter().any(|&(a, b)| {
                self.attempt_faults(faults[..a].iter().chain(&faults[b..]).cloned().collect())
            });
            if dropped {
                n = (n - 1).max(2);
            } else if n >= len {
                break;
            } else {
                n = (2 * n).min(len);
            }
        }
    }

    /// Each fault's `for`, halved while it still fails (down to [`MIN_SPAN`]).
    fn fault_lengths(&mut self) {
        for i in 0..self.best.faults.len() {
            while let Some(Dur(d)) = self.best.faults[i].for_ {
                let half = round_ms(SimDuration(d.0 / 2));
                if half < MIN_SPAN {
                    break;
                }
                let mut candidate = self.best.clone();
                candidate.faults[i].for_ = Some(Dur(half));
                if !self.attempt(candidate) {
                    break;
                }
            }
        }
    }

    /// The run's duration: just past the last fault's end, then the slack above the last
    /// fault's start halved while it still fails.
    fn duration(&mut self) {
        let faults = &self.best.faults;
        let floor = faults.iter().map(|f| f.at.0).max().unwrap_or(SimDuration::ZERO);
        let end = faults.iter().map(|f| f.at.0 + f.for_.map_or(SimDuration::ZERO, |d| d.0)).max();
        let first = end.unwrap_or(SimDuration::ZERO) + MARGIN;
        if first < self.best.duration.0 {
            self.attempt_duration(first);
        }
        loop {
            let d = self.best.duration.0;
            let slack = SimDuration(d.0.saturating_sub(floor.0));
            let candidate = floor + round_ms(SimDuration(slack.0 / 2)).max(MIN_SPAN);
            if candidate >= d || !self.attempt_duration(candidate) {
                break;
            }
        }
    }

    fn attempt_duration(&mut self, duration: SimDuration) -> bool {
        let mut candidate = self.best.clone();
        candidate.duration = Dur(duration);
        self.attempt(candidate)
    }

    /// `workload.clients`, halved toward one.
    fn clients(&mut self) {
        while self.best.workload.clients > 1 {
            let mut candidate = self.best.clone();
            candidate.workload.clients /= 2;
            if !self.attempt(candidate) {
                break;
            }
        }
    }

    /// A Poisson arrival rate, halved while it still fails (down to [`MIN_RATE_PER_S`]).
    fn rate(&mut self) {
        while let RawArrival::Poisson { rate_per_s } = self.best.workload.arrival {
            let half = rate_per_s.0 / 2.0;
            if half < MIN_RATE_PER_S {
                return;
            }
            let mut candidate = self.best.clone();
            candidate.workload.arrival = RawArrival::Poisson { rate_per_s: Positive(half) };
            if !self.attempt(candidate) {
                return;
            }
        }
    }

    /// The random nemesis, one part at a time.
    fn nemesis(&mut self) {
        for part in 0..3 {
            let mut candidate = self.best.clone();
            let n = &mut candidate.nemesis;
            let removed = match part {
                0 => n.crashes.take().is_some(),
                1 => n.partitions.take().is_some(),
                _ => n.clock_steps.take().is_some(),
            };
            if removed {
                self.attempt(candidate);
            }
        }
    }
}

/// Rounds a duration down to whole milliseconds, so shrunk files read `"312ms"`, not
/// `"312.5ms"`.
fn round_ms(d: SimDuration) -> SimDuration {
    SimDuration(d.0 - d.0 % SimDuration::from_millis(1).0)
}

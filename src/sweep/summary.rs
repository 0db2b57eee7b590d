//! A sweep's summary: plain, byte-stable data (serde), the same whatever the thread count,
//! and the same for a whole run as for its shards joined by [`merge`].
//!
//! Everything is sorted (scenarios by file, failures by seed, seed sets printed as ranges)
//! and nothing depends on the wall clock. The judgement that needs every seed — whether a
//! declared "sometimes" event was reached by any seed (vacuity), and which failures get a
//! shrunk file (the first `shrink_max` per scenario) — is made by [`Summary::finalize`], which
//! a whole run and `merge` both call, so the two agree byte for byte.

use super::seeds::SeedSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema version of [`Summary`] as serialised.
pub const SUMMARY_VERSION: u32 = 1;

/// The verdict of a whole sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepVerdict {
    /// Every planned run finished and every expectation held; no declared event was vacuous.
    Passed,
    /// An expectation or a property failed, a run did not finish, a determinism sample
    /// diverged, or a declared "sometimes" event was never reached.
    Failed,
    /// Nothing failed, but some planned runs did not run (an interrupt).
    Interrupted,
}

/// What a sweep found, for every scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub summary_version: u32,
    /// The seeds asked for, before sharding (pinned scenarios run their own seed instead).
    pub seeds: SeedSet,
    /// This summary's shard, `K/N`; absent for a whole sweep or a merged one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Every M-th seed of each scenario is rerun and its digest compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determinism_every: Option<u64>,
    /// Failures shrunk per scenario, at most (the first ones by seed).
    pub shrink_max: usize,
    /// Runs each shrink may make.
    pub shrink_budget: usize,
    pub verdict: SweepVerdict,
    pub totals: Totals,
    pub scenarios: Vec<ScenarioSummary>,
}

/// Counts over every scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub scenarios: u64,
    pub scenarios_failed: u64,
    pub planned: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub not_run: u64,
    pub determinism_checked: u64,
    pub determinism_diverged: u64,
}

/// One scenario's results over its seeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSummary {
    /// The file as found (relative paths stay relative).
    pub file: String,
    pub name: String,
    /// A demonstration (an expectation says a property is `Violated`): it runs only its own
    /// seed, whatever `--seeds` says.
    pub pinned: bool,
    /// Runs planned for this scenario (in this shard).
    pub planned: u64,
    /// Runs in which every expectation held.
    pub passed: u64,
    /// Runs in which an expectation failed.
    pub failed: u64,
    /// Runs that did not finish (a model panicked, a limit was hit).
    pub errors: u64,
    /// Planned seeds that did not run (the sweep was interrupted).
    pub not_run: SeedSet,
    /// The failing and erroring seeds, by seed.
    pub failures: Vec<SeedFailure>,
    /// Every "sometimes" event that applies to the system: the seeds that reached it.
    pub coverage: Vec<Coverage>,
    /// Declared "sometimes" events that no seed reached (judged over the whole sweep only:
    /// never in a shard, nor while seeds are missing).
    pub vacuous: Vec<String>,
    pub determinism_checked: u64,
    pub determinism_diverged: Vec<Divergence>,
}

impl ScenarioSummary {
    /// Runs that finished, passed or not.
    pub fn runs(&self) -> u64 {
        self.passed + self.failed + self.errors
    }

    /// Whether this scenario fails the sweep.
    pub fn is_failed(&self) -> bool {
        !self.failures.is_empty() || !self.vacuous.is_empty() || !self.determinism_diverged.is_empty()
    }
}

/// One seed that failed: what failed, how to replay it, and the shrunk scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFailure {
    pub seed: u64,
    /// The expectations that did not hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedExpectation>,
    /// Why the run did not finish (then `failed` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The one-line command that reproduces it.
    pub replay: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<ShrunkFile>,
    /// Why there is no shrunk file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_shrunk: Option<String>,
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedExpectation {
    pub expectation: String,
    pub measured: String,
    pub bound: String,
}

/// A shrunk scenario written next to the original.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShrunkFile {
    pub file: String,
    pub faults_before: usize,
    pub faults_after: usize,
    /// Runs the shrinker made.
    pub runs: usize,
    pub replay: String,
}

/// The seeds that reached one "sometimes" event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub event: String,
    /// The scenario declares it (`Sometimes(..)`): no seed reaching it fails the sweep.
    pub declared: bool,
    pub seeds: SeedSet,
}

/// A determinism sample that diverged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    pub seed: u64,
    pub detail: String,
}

impl Summary {
    /// Judges what needs the whole sweep, then counts: vacuity (only for a whole sweep with
    /// no seed missing), which failures keep their shrunk file (the first `shrink_max`
    /// shrinkable ones by seed), the totals and the verdict.
    pub fn finalize(&mut self) {
        let whole = self.shard.is_none();
        let mut totals = Totals::default();
        for s in &mut self.scenarios {
            s.failures.sort_by_key(|f| f.seed);
            s.determinism_diverged.sort_by_key(|d| d.seed);
            s.vacuous = if whole && s.not_run.is_empty() && s.runs() > 0 {
                s.coverage
                    .iter()
                    .filter(|c| c.declared && c.seeds.is_empty())
                    .map(|c| c.event.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let beyond = format!("not shrunk: beyond --shrink-max {}", self.shrink_max);
            for f in s.failures.iter_mut().filter(|f| f.error.is_none()).skip(self.shrink_max) {
                f.shrunk = None;
                f.not_shrunk = Some(beyond.clone());
            }
            assert_eq!(
                s.runs() + s.not_run.len() as u64,
                s.planned,
                "every planned run of '{}' either finished or is listed as not run",
                s.file
            );
            totals.scenarios += 1;
            totals.scenarios_failed += u64::from(s.is_failed());
            totals.planned += s.planned;
            totals.passed += s.passed;
            totals.failed += s.failed;
            totals.errors += s.errors;
            totals.not_run += s.not_run.len() as u64;
            totals.determinism_checked += s.determinism_checked;
            totals.determinism_diverged += s.determinism_diverged.len() as u64;
        }
        self.verdict = if totals.scenarios_failed > 0 {
            SweepVerdict::Failed
        } else if totals.not_run > 0 {
            SweepVerdict::Interrupted
        } else {
            SweepVerdict::Passed
        };
        self.totals = totals;
    }

    /// The summary as pretty JSON, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary serialises");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Summary, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// Joins the summaries of every shard of one sweep (`K/N` for each K in 1..=N, once each)
/// into the summary the unsharded sweep would have written.
pub fn merge(parts: Vec<Summary>) -> Result<Summary, String> {
    let first = parts.first().ok_or("nothing to merge; give the shards' JSON summaries")?.clone();
    let mut shards = BTreeMap::new();
    for (i, p) in parts.iter().enumerate() {
        if p.summary_version != SUMMARY_VERSION {
            return Err(format!(
                "input {}: summary version {} is not {SUMMARY_VERSION}; rerun the shard with this build",
                i + 1,
                p.summary_version
            ));
        }
        let shard = p.shard.as_deref().ok_or(format!(
            "input {}: not a shard's summary (it has no 'shard'); merge joins the outputs of check --shard K/N",
            i + 1
        ))?;
        let parsed = super::seeds::Shard::parse(shard).map_err(|e| format!("input {}: {e}", i + 1))?;
        if shards.insert(parsed.index, parsed.count).is_some() {
            return Err(format!("shard {shard} is given twice; give each shard's summary once"));
        }
        let same = p.seeds == first.seeds
            && p.determinism_every == first.determinism_every
            && p.shrink_max == first.shrink_max
            && p.shrink_budget == first.shrink_budget;
        if !same {
            return Err(format!(
                "input {} (shard {shard}) was run with other options (seeds, --check-determinism-every, --shrink-max or --shrink-budget) than input 1; rerun it with the same ones",
                i + 1
            ));
        }
        let shape = |x: &Summary| -> Vec<(String, Vec<String>)> {
            let events = |s: &ScenarioSummary| s.coverage.iter().map(|c| c.event.clone()).collect();
            x.scenarios.iter().map(|s| (s.file.clone(), events(s))).collect()
        };
        if shape(p) != shape(&first) {
            return Err(format!(
                "input {} (shard {shard}) checked other scenarios than input 1; run every shard on the same paths",
                i + 1
            ));
        }
    }
    let n = *shards.values().next().expect("at least one shard");
    let missing: Vec<String> =
        (1..=n).filter(|k| !shards.contains_key(k)).map(|k| format!("{k}/{n}")).collect();
    if shards.values().any(|&c| c != n) {
        return Err("the shards disagree on N in K/N; give the shards of one sweep".into());
    }
    if !missing.is_empty() {
        return Err(format!("shard {} is missing; give every shard's summary", missing.join(", ")));
    }
    let mut merged = first.clone();
    merged.shard = None;
    for (i, s) in merged.scenarios.iter_mut().enumerate() {
        let all: Vec<&ScenarioSummary> = parts.iter().map(|p| &p.scenarios[i]).collect();
        *s = merge_scenario(&all);
    }
    merged.finalize();
    Ok(merged)
}

fn merge_scenario(parts: &[&ScenarioSummary]) -> ScenarioSummary {
    let mut m = parts[0].clone();
    m.planned = parts.iter().map(|p| p.planned).sum();
    m.passed = parts.iter().map(|p| p.passed).sum();
    m.failed = parts.iter().map(|p| p.failed).sum();
    m.errors = parts.iter().map(|p| p.errors).sum();
    m.determinism_checked = parts.iter().map(|p| p.determinism_checked).sum();
    m.not_run = parts.iter().flat_map(|p| p.not_run.iter()).collect();
    m.failures = parts.iter().flat_map(|p| p.failures.iter().cloned()).collect();
    m.determinism_diverged = parts.iter().flat_map(|p| p.determinism_diverged.iter().cloned()).collect();
    for (j, c) in m.coverage.iter_mut().enumerate() {
        c.seeds = parts.iter().flat_map(|p| p.coverage[j].seeds.iter()).collect();
    }
    m
}

//! Sweeps: every scenario × every seed, in parallel, judged as one (`stormglass check`).
//!
//! A sweep loads its scenarios ([`load_targets`]: files, or every `*.ron` of a folder except
//! shrunk `*.min.ron` files), lists its runs scenario by scenario with seeds ascending,
//! keeps this shard's share ([`seeds::Shard`]), runs them on a `rayon` pool, one run per
//! thread ([`run`]), shrinks the first failures of each scenario ([`crate::sweep::shrink`])
//! and summarises ([`summary`]). Renderings: JSON ([`Summary::to_json`]), JUnit XML
//! ([`junit`]) and Markdown ([`markdown`]).
//!
//! Guarantees: a run is a pure function of (scenario, seed), and results are stored by run
//! number, not by finishing order, so the summary is byte-identical whatever the number of
//! threads; the shards of a sweep joined by [`summary::merge`] give the whole sweep's summary.
//! An interrupt ([`Control::stop`]) lets running runs finish, starts no new one, and the
//! summary lists the seeds that did not run.
//!
//! Demonstrations — scenarios with a `Violated(..)` expectation, which show a property
//! broken at one pinned seed — run only their own `seed`.
//!
//! Known limits: a run that loops forever is bounded only by the scenario's `limits`; an
//! interrupt waits for the runs (and shrinks) under way.

pub mod junit;
pub mod markdown;
mod runner;
pub mod seeds;
pub mod shrink;
pub mod summary;

pub use runner::{run, Control, Event, Options};
pub use seeds::{SeedSet, Shard};
pub use summary::{merge, Summary, SweepVerdict};

use crate::scenario::raw::RawExpect;
use crate::systems::Scenario;
use std::path::{Path, PathBuf};

/// One scenario of a sweep, loaded and validated.
#[derive(Clone, Debug)]
pub struct Target {
    /// The file as found (`scenarios/x.ron`), used in summaries and replay commands.
    pub file: String,
    /// The file's text (what the shrinker reduces).
    pub text: String,
    pub scenario: Scenario,
    /// A demonstration pinned to its own seed (it has a `Violated` expectation).
    pub pinned: bool,
}

impl Target {
    /// The seeds this scenario runs: its own seed if pinned, else the sweep's.
    pub fn seeds(&self, sweep: &SeedSet) -> SeedSet {
        if self.pinned {
            SeedSet([self.scenario.raw.seed].into())
        } else {
            sweep.clone()
        }
    }
}

/// The scenario files under `paths`: files as given, and every `*.ron` file directly inside
/// a folder except `*.min.ron` (shrunk scenarios). Sorted, without duplicates.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read folder '{}': {e}; check the path", p.display()))?;
            let mut found = 0;
            for entry in entries {
                let path = entry.map_err(|e| format!("cannot read folder '{}': {e}", p.display()))?.path();
                let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                if path.is_file() && name.ends_with(".ron") && !name.ends_with(".min.ron") {
                    files.push(path);
                    found += 1;
                }
            }
            if found == 0 {
                return Err(format!(
                    "folder '{}' holds no scenario (*.ron); give a folder of scenarios",
                    p.display()
                ));
            }
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("'{}' is neither a scenario file nor a folder; check the path", p.display()));
        }
    }
    files.sort_by_key(|f| f.display().to_string());
    files.dedup_by_key(|f| f.display().to_string());
    Ok(files)
}

/// Loads and validates every scenario under `paths` (see [`discover`]); the first error
/// stops the sweep before any run.
pub fn load_targets(paths: &[PathBuf]) -> Result<Vec<Target>, String> {
    discover(paths)?.iter().map(|f| load_target(f)).collect()
}

fn load_target(path: &Path) -> Result<Target, String> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read '{file}': {e}; check the path"))?;
    let scenario = crate::systems::parse(&text, &file).map_err(|e| e.to_string())?;
    let pinned = scenario.raw.expect.iter().any(|e| matches!(e, RawExpect::Violated(_)));
    Ok(Target { file, text, scenario, pinned })
}

/// One run of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// Index into the sweep's targets.
    pub target: usize,
    pub seed: u64,
    /// Rerun and compare digests (every M-th seed of its scenario).
    pub determinism: bool,
}

/// Every run of the sweep, scenario by scenario with seeds ascending, then this shard's
/// share: run j (from 0) belongs to shard (j mod N) + 1.
pub fn jobs(
    targets: &[Target],
    seeds: &SeedSet,
    determinism_every: Option<u64>,
    shard: Option<Shard>,
) -> Vec<Job> {
    let mut all = Vec::new();
    for (t, target) in targets.iter().enumerate() {
        for (position, seed) in target.seeds(seeds).iter().enumerate() {
            let determinism = determinism_every.is_some_and(|m| (position as u64 + 1) % m == 0);
            all.push(Job { target: t, seed, determinism });
        }
    }
    match shard {
        None => all,
        Some(s) => all.into_iter().enumerate().filter(|(j, _)| s.owns(*j)).map(|(_, job)| job).collect(),
    }
}

/// The command that replays one run.
pub fn replay_command(file: &str, seed: u64) -> String {
    format!("stormglass run {file} --seed {seed}")
}

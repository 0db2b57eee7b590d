//! The Markdown summary of a sweep (and the plain text of each scenario's counts and
//! coverage, which the JUnit output and the terminal reuse).

use super::summary::{ScenarioSummary, Summary, SweepVerdict};
use super::SeedSet;
use std::fmt::Write;

/// The most characters of a seed list shown in a table cell before it is cut.
const SEEDS_SHOWN: usize = 60;

pub fn verdict_word(s: &Summary) -> &'static str {
    match s.verdict {
        SweepVerdict::Passed => "passed",
        SweepVerdict::Failed => "FAILED",
        SweepVerdict::Interrupted => "INTERRUPTED",
    }
}

/// A seed set cut to a table cell's width.
pub fn short(seeds: &SeedSet) -> String {
    let text = seeds.to_string();
    if text.len() <= SEEDS_SHOWN {
        return text;
    }
    let cut = text[..SEEDS_SHOWN].rfind(',').unwrap_or(SEEDS_SHOWN);
    format!("{},…", &text[..cut])
}

/// One line of counts for a scenario.
pub fn counts(c: &ScenarioSummary) -> String {
    let mut line =
        format!("{} runs: {} passed, {} failed, {} errors", c.runs(), c.passed, c.failed, c.errors);
    if c.pinned {
        line.push_str(" (a demonstration: its own seed only)");
    }
    if !c.not_run.is_empty() {
        let _ = write!(line, "; {} did not run (interrupted): {}", c.not_run.len(), short(&c.not_run));
    }
    if c.determinism_checked > 0 {
        let _ = write!(
            line,
            "; determinism: {} sampled, {} diverged",
            c.determinism_checked,
            c.determinism_diverged.len()
        );
    }
    line
}

/// A scenario's counts and coverage table as plain text.
pub fn plain_report(c: &ScenarioSummary) -> String {
    let mut x = format!("{}\n{}\ncoverage (sometimes events: seeds that reached them)\n", c.file, counts(c));
    let width = c.coverage.iter().map(|e| e.event.len()).max().unwrap_or(0);
    for e in &c.coverage {
        let mark = match (e.declared, c.vacuous.contains(&e.event)) {
            (_, true) => "declared, VACUOUS",
            (true, false) => "declared",
            (false, false) => "",
        };
        let line = format!(
            "  {:width$}  {:>5} of {:<5} {:18} {}",
            e.event,
            e.seeds.len(),
            c.runs(),
            mark,
            short(&e.seeds)
        );
        let _ = writeln!(x, "{}", line.trim_end());
    }
    x
}

/// The whole summary as Markdown.
pub fn render(s: &Summary) -> String {
    let t = &s.totals;
    let mut x = format!("# stormglass check: {}\n\n", verdict_word(s));
    let _ = write!(
        x,
        "Seeds `{}`{}: {} scenarios, {} runs planned: {} passed, {} failed, {} errors",
        s.seeds,
        s.shard.as_ref().map(|k| format!(" (shard {k})")).unwrap_or_default(),
        t.scenarios,
        t.planned,
        t.passed,
        t.failed,
        t.errors
    );
    if t.not_run > 0 {
        let _ = write!(x, ", {} did not run (interrupted)", t.not_run);
    }
    if let Some(m) = s.determinism_every {
        let _ = write!(
            x,
            "; determinism sampled every {m}th seed: {} checked, {} diverged",
            t.determinism_checked, t.determinism_diverged
        );
    }
    x.push_str(".\n\n| scenario | runs | passed | failed | errors | not run | verdict |\n|---|---:|---:|---:|---:|---:|---|\n");
    for c in &s.scenarios {
        let verdict = if c.is_failed() {
            "FAILED"
        } else if !c.not_run.is_empty() {
            "incomplete"
        } else {
            "passed"
        };
        let _ = writeln!(
            x,
            "| `{}`{} | {} | {} | {} | {} | {} | {} |",
            c.file,
            if c.pinned { " (pinned)" } else { "" },
            c.runs(),
            c.passed,
            c.failed,
            c.errors,
            c.not_run.len(),
            verdict
        );
    }
    failures(&mut x, s);
    x.push_str("\n## Coverage\n\nSeeds that reached each \"sometimes\" event; a declared event that no seed reached makes the sweep vacuous.\n\n| scenario | event | declared | seeds | which |\n|---|---|---|---:|---|\n");
    for c in &s.scenarios {
        for e in &c.coverage {
            let declared = match (e.declared, c.vacuous.contains(&e.event)) {
                (_, true) => "yes, VACUOUS",
                (true, false) => "yes",
                (false, false) => "",
            };
            let _ = writeln!(
                x,
                "| `{}` | {} | {declared} | {} of {} | {} |",
                c.file,
                e.event,
                e.seeds.len(),
                c.runs(),
                short(&e.seeds)
            );
        }
    }
    x
}

fn failures(x: &mut String, s: &Summary) {
    if !s.scenarios.iter().any(ScenarioSummary::is_failed) {
        return;
    }
    x.push_str("\n## Failures\n");
    for c in s.scenarios.iter().filter(|c| c.is_failed()) {
        for f in &c.failures {
            let _ = writeln!(x, "\n### `{}` seed {}\n", c.file, f.seed);
            if let Some(e) = &f.error {
                let _ = writeln!(x, "- the run did not finish: {e}");
            }
            for e in &f.failed {
                let _ = writeln!(x, "- {}: measured {}, bound {}", e.expectation, e.measured, e.bound);
            }
            let _ = writeln!(x, "- replay: `{}`", f.replay);
            match (&f.shrunk, &f.not_shrunk) {
                (Some(m), _) => {
                    let _ = writeln!(
                        x,
                        "- shrunk: `{}` ({} faults → {}, {} runs): `{}`",
                        m.file, m.faults_before, m.faults_after, m.runs, m.replay
                    );
                }
                (None, Some(why)) => {
                    let _ = writeln!(x, "- {why}");
                }
                (None, None) => {}
            }
        }
        for v in &c.vacuous {
            let _ = writeln!(
                x,
                "\n### `{}`: vacuous\n\n- no seed reached the declared sometimes event `{v}`",
                c.file
            );
        }
        for d in &c.determinism_diverged {
            let _ = writeln!(
                x,
                "\n### `{}` seed {}: NOT deterministic\n\n- {}\n- replay: `stormglass run {} --seed {} --check-determinism`",
                c.file, d.seed, d.detail, c.file, d.seed
            );
        }
    }
}

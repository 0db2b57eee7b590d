//! The Markdown report: summary tables of a run.

use crate::simulation::RunResult;
use std::fmt::Write;

pub fn render(r: &RunResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} (seed {})\n", r.scenario, r.seed);
    let _ = writeln!(s, "{}\n", r.description);
    let _ = writeln!(s, "| expectation | measured | bound | holds |\n|---|---|---|---|");
    for v in &r.expectations {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            v.expectation,
            v.measured,
            v.bound,
            if v.holds { "yes" } else { "**NO**" }
        );
    }
    s
}

//! The JSON report: the run result as pretty-printed JSON (fields in declaration order).

use crate::simulation::RunResult;

pub fn render(r: &RunResult) -> String {
    serde_json::to_string_pretty(r).expect("a run result serialises") + "\n"
}

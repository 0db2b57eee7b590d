//! JUnit XML of a sweep, in the shape CI systems read (the Jenkins xUnit plugin's
//! `junit-10.xsd`, which GitLab, GitHub test reporters and Jenkins accept):
//!
//! ```text
//! testsuites(name, tests, failures, errors, time)
//! └ testsuite(name, tests, failures, errors, skipped, time)
//!   ├ properties/property(name, value)     seeds, shard, options
//!   └ testcase(name = scenario file, classname, time)   one per scenario
//!     ├ failure(message, type)   failing seeds: what failed, replay command, shrunk file;
//!     │                          vacuous "sometimes" events; determinism divergences
//!     ├ error(message, type)     runs that did not finish (a panic, a limit)
//!     ├ skipped(message)         seeds that did not run (an interrupt)
//!     └ system-out               counts and the coverage table
//! ```
//!
//! Times are `0`: the summary leaves out wall time so that it is byte-identical whatever the
//! thread count (the terminal shows the wall time).

use super::summary::{ScenarioSummary, Summary};
use std::fmt::Write;

/// Renders the summary as JUnit XML.
pub fn render(s: &Summary) -> String {
    let t = &s.totals;
    let errors = s.scenarios.iter().filter(|c| c.errors > 0).count();
    let failures = s.scenarios.iter().filter(|c| c.is_failed() && c.errors == 0).count();
    let skipped = s.scenarios.iter().filter(|c| !c.not_run.is_empty()).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"stormglass check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"0\">",
        t.scenarios
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"stormglass check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\">",
        t.scenarios
    );
    x.push_str("    <properties>\n");
    let mut props =
        vec![("seeds", s.seeds.to_string()), ("verdict", super::markdown::verdict_word(s).to_string())];
    props.extend(s.shard.iter().map(|k| ("shard", k.clone())));
    props.extend(s.determinism_every.map(|m| ("check-determinism-every", m.to_string())));
    props.push((
        "runs",
        format!("{} planned, {} passed, {} failed, {} errors", t.planned, t.passed, t.failed, t.errors),
    ));
    for (name, value) in props {
        let _ = writeln!(x, "      <property name=\"{}\" value=\"{}\"/>", escape(name), escape(&value));
    }
    x.push_str("    </properties>\n");
    for c in &s.scenarios {
        testcase(&mut x, c);
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

fn testcase(x: &mut String, c: &ScenarioSummary) {
    let _ = writeln!(
        x,
        "    <testcase name=\"{}\" classname=\"stormglass.check.{}\" time=\"0\">",
        escape(&c.file),
        escape(&c.name)
    );
    let failing: Vec<_> = c.failures.iter().filter(|f| f.error.is_none()).collect();
    if !failing.is_empty() || !c.vacuous.is_empty() || !c.determinism_diverged.is_empty() {
        let mut message = Vec::new();
        if !failing.is_empty() {
            message.push(format!("{} of {} seeds failed", failing.len(), c.runs()));
        }
        if !c.vacuous.is_empty() {
            message.push(format!("vacuous: no seed reached {}", c.vacuous.join(", ")));
        }
        if !c.determinism_diverged.is_empty() {
            message.push(format!("{} seeds not deterministic", c.determinism_diverged.len()));
        }
        let mut text = String::new();
        for f in &failing {
            let _ = writeln!(text, "seed {}:", f.seed);
            for e in &f.failed {
                let _ = writeln!(text, "  {}: {} (bound {})", e.expectation, e.measured, e.bound);
            }
            let _ = writeln!(text, "  replay: {}", f.replay);
            match (&f.shrunk, &f.not_shrunk) {
                (Some(m), _) => {
                    let _ = writeln!(
                        text,
                        "  shrunk: {} ({} faults -> {}); replay: {}",
                        m.file, m.faults_before, m.faults_after, m.replay
                    );
                }
                (None, Some(why)) => {
                    let _ = writeln!(text, "  {why}");
                }
                (None, None) => {}
            }
        }
        for v in &c.vacuous {
            let _ = writeln!(text, "vacuous: no seed reached the declared sometimes event '{v}'");
        }
        for d in &c.determinism_diverged {
            let _ = writeln!(text, "seed {} NOT deterministic: {}", d.seed, d.detail);
            let _ =
                writeln!(text, "  replay: stormglass run {} --seed {} --check-determinism", c.file, d.seed);
        }
        let _ = writeln!(
            x,
            "      <failure message=\"{}\" type=\"stormglass.check\">{}</failure>",
            escape(&message.join("; ")),
            escape(&text)
        );
    }
    let errors: Vec<_> = c.failures.iter().filter(|f| f.error.is_some()).collect();
    if !errors.is_empty() {
        let mut text = String::new();
        for f in &errors {
            let _ = writeln!(text, "seed {}: {}", f.seed, f.error.as_deref().unwrap_or_default());
            let _ = writeln!(text, "  replay: {}", f.replay);
        }
        let message = format!("{} of {} runs did not finish", errors.len(), c.runs());
        let _ = writeln!(
            x,
            "      <error message=\"{}\" type=\"stormglass.run\">{}</error>",
            escape(&message),
            escape(&text)
        );
    }
    if !c.not_run.is_empty() {
        let message =
            format!("interrupted: {} of {} seeds did not run: {}", c.not_run.len(), c.planned, c.not_run);
        let _ = writeln!(x, "      <skipped message=\"{}\"/>", escape(&message));
    }
    let _ = writeln!(x, "      <system-out>{}</system-out>", escape(&super::markdown::plain_report(c)));
    x.push_str("    </testcase>\n");
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_no_forbidden_character() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(escape("x\u{1}y\nz"), "xy\nz");
    }
}

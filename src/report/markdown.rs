//! The Markdown report: the sections of [`super::tables`] as Markdown tables, the plots
//! linked as the SVG files written beside it.

use super::tables::{sections, Align, Block, Table};
use crate::simulation::RunResult;
use std::fmt::Write;

pub fn render(r: &RunResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Stormglass report: {} (seed {})", escape(&r.scenario), r.seed);
    for section in sections(r) {
        let _ = writeln!(s, "\n## {}\n", section.title);
        for (i, block) in section.blocks.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            match block {
                Block::Note(text) => {
                    let _ = writeln!(s, "{}", escape(text));
                }
                Block::Table(t) => table(&mut s, t),
                Block::Plots => plots(&mut s),
            }
        }
    }
    s
}

fn table(s: &mut String, t: &Table) {
    let header: Vec<String> = t.columns.iter().map(|(name, _)| escape(name)).collect();
    let _ = writeln!(s, "| {} |", header.join(" | "));
    let rule: Vec<&str> =
        t.columns.iter().map(|(_, a)| if *a == Align::Right { "---:" } else { "---" }).collect();
    let _ = writeln!(s, "|{}|", rule.join("|"));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
}

fn plots(s: &mut String) {
    for (file, title) in super::plots::FILES {
        let _ = writeln!(s, "![{title}]({file})");
    }
}

/// Keeps a cell's text from breaking the table or turning into markup: escapes pipes,
/// backslashes, emphasis stars, code ticks and a `<` that could open an HTML tag.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let tag = c == '<' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || "/!?".contains(*n));
        if matches!(c, '|' | '*' | '`' | '\\') || tag {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

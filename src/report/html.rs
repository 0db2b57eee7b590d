//! The HTML report: one self-contained page with the tables of [`super::tables`] and the
//! four plots inline.
//!
//! No network reference of any kind: no external stylesheet, script, font or image, and
//! the inline SVGs lose their (never fetched) `xmlns` attribute, so the page holds no URL
//! at all. A little inline CSS lays it out.

use super::tables::{sections, Align, Block, Table};
use crate::simulation::RunResult;
use std::fmt::Write;

const STYLE: &str = "
body { font-family: sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
p { max-width: 60em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 3px 9px; }
th { background: #f0f0f0; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.fail { color: #b00; font-weight: bold; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
";

pub fn render(r: &RunResult, plots: &[(&'static str, String)]) -> String {
    let title = format!("Stormglass report: {} (seed {})", r.scenario, r.seed);
    let mut s = String::new();
    let _ = writeln!(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
    let _ = writeln!(s, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = writeln!(s, "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>", escape(&title));
    let _ = writeln!(s, "<h1>{}</h1>", escape(&title));
    for section in sections(r) {
        let _ = writeln!(s, "<h2>{}</h2>", escape(section.title));
        for block in &section.blocks {
            match block {
                Block::Note(text) => {
                    let _ = writeln!(s, "<p>{}</p>", escape(text));
                }
                Block::Table(t) => table(&mut s, t),
                Block::Plots => figures(&mut s, plots),
            }
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

fn table(s: &mut String, t: &Table) {
    let class = |a: Align| if a == Align::Right { " class=\"num\"" } else { "" };
    s.push_str("<table>\n<thead><tr>");
    for (name, align) in &t.columns {
        let _ = write!(s, "<th{}>{}</th>", class(*align), escape(name));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for (cell, (_, align)) in row.iter().zip(&t.columns) {
            let failed = cell == "NO" || cell.starts_with("FAILED");
            let class = if failed { " class=\"fail\"" } else { class(*align) };
            let _ = write!(s, "<td{class}>{}</td>", escape(cell));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
}

fn figures(s: &mut String, plots: &[(&'static str, String)]) {
    for (file, svg) in plots {
        let id = file.trim_end_matches(".svg");
        let inline = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
        let _ = writeln!(s, "<figure id=\"plot-{id}\">\n{}</figure>", inline.trim_end());
    }
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}

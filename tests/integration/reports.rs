//! Reports: the Markdown of hello-kv pinned as a snapshot, every output byte-stable and
//! self-contained, `--out` writing all seven files, and the reference reports in reports/
//! up to date with the code.

use std::path::{Path, PathBuf};
use stormglass::report;
use stormglass::simulation::{self, RunOptions, RunResult};
use stormglass::systems as scenario;

/// The command that rewrites reports/ (docs/metrics.md, reports/README.md).
const REGEN: &str = "scripts/regen-reports";

/// The seven files of a report, in `render_all`'s order.
const FILES: [&str; 7] =
    ["report.json", "report.md", "report.html", "latency.svg", "cdf.svg", "success.svg", "throughput.svg"];

fn run(path: &Path) -> RunResult {
    let s = scenario::load(path).unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
    simulation::run(&s, RunOptions::default()).unwrap_or_else(|e| panic!("{} runs: {e}", path.display()))
}

fn hello_kv() -> RunResult {
    run(Path::new("scenarios/hello-kv.ron"))
}

/// Every shipped scenario: scenarios/*.ron except the minimised ones (*.min.ron), by name.
fn shipped_scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            name.ends_with(".ron") && !name.ends_with(".min.ron")
        })
        .collect();
    paths.sort();
    paths
}

fn stem(path: &Path) -> String {
    path.file_stem().expect("a scenario file has a name").to_string_lossy().to_string()
}

#[test]
fn hello_kv_markdown_report() {
    insta::assert_snapshot!(report::markdown::render(&hello_kv()));
}

#[test]
fn render_all_names_seven_files_and_two_renders_are_byte_identical() {
    let r = hello_kv();
    let first = report::render_all(&r);
    let names: Vec<&str> = first.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, FILES);
    assert_eq!(first, report::render_all(&r), "rendering the same result twice gives the same bytes");
    assert_eq!(first, report::render_all(&hello_kv()), "two runs of one seed give the same report");
}

#[test]
fn plots_are_svg_with_titles_axes_and_text() {
    let files = report::render_all(&hello_kv());
    for (file, title) in report::plots::FILES {
        let svg = &files.iter().find(|(n, _)| *n == file).expect("every plot is rendered").1;
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{file} is one SVG element");
        assert!(svg.contains(title), "{file} carries its title '{title}'");
        assert!(svg.matches("<text").count() >= 10, "{file} has its labels as SVG text");
        let axes =
            if file == "cdf.svg" { "latency (ms, log scale)" } else { "time since the start of the run (s)" };
        assert!(svg.contains(axes), "{file} labels its x axis with its unit");
    }
    let success = &files.iter().find(|(n, _)| *n == "success.svg").expect("success.svg").1;
    assert!(success.contains("RTO 5.000 s"), "hello-kv's crash has its RTO marked");
    assert!(success.contains("fault (see Faults)"), "the fault window is in the legend");
}

#[test]
fn html_report_is_self_contained_with_four_inline_plots() {
    let files = report::render_all(&hello_kv());
    let html = &files.iter().find(|(n, _)| *n == "report.html").expect("report.html").1;
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), 4, "the four plots are inline");
    for needle in ["http:", "https:", "//", "src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(needle), "report.html refers to nothing outside itself: found '{needle}'");
    }
    for (_, title) in report::plots::FILES {
        assert!(html.contains(title), "report.html shows the plot '{title}'");
    }
    assert!(html.contains("<table>") && html.contains("<td class=\"num\">5.000 s</td>"), "the RTO is tabled");
}

#[test]
fn out_writes_all_seven_files() {
    let dir = std::env::temp_dir().join(format!("stormglass-reports-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let r = hello_kv();
    let written = report::write_all(&dir, &r).expect("the report is written");
    let expected: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    assert_eq!(written, expected);
    for ((name, content), path) in report::render_all(&r).iter().zip(&expected) {
        let on_disk = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name} is readable: {e}"));
        assert_eq!(&on_disk, content, "{name} on disk is what render_all rendered");
    }
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .expect("the report folder is readable")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().to_string())
        .collect();
    listed.sort();
    let mut want: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    want.sort();
    assert_eq!(listed, want, "exactly the seven files, no temporary file left behind");
    std::fs::remove_dir_all(&dir).expect("the temporary folder is removed");
}

/// reports/<stem>/ holds the report of every shipped scenario at its default seed, as the
/// code renders it now.
#[test]
fn reference_reports_are_up_to_date() {
    let mut stale = Vec::new();
    let scenarios = shipped_scenarios();
    assert!(!scenarios.is_empty(), "scenarios/ ships scenarios");
    for path in &scenarios {
        let dir = Path::new("reports").join(stem(path));
        for (name, content) in report::render_all(&run(path)) {
            let file = dir.join(name);
            match std::fs::read_to_string(&file) {
                Ok(on_disk) if on_disk == content => {}
                Ok(_) => stale.push(format!("{} differs from what the code renders now", file.display())),
                Err(e) => stale.push(format!("{} is missing ({e})", file.display())),
            }
        }
    }
    let stems: Vec<String> = scenarios.iter().map(|p| stem(p)).collect();
    for entry in std::fs::read_dir("reports").expect("reports/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if path.is_dir() && !stems.contains(&name) {
            stale.push(format!("{} has no scenario scenarios/{name}.ron", path.display()));
        }
    }
    assert!(stale.is_empty(), "stale reference reports:\n  {}\nregenerate them: {REGEN}", stale.join("\n  "));
}

//! Reports: a run's result rendered as JSON, Markdown, SVG plots and one HTML page.
//!
//! The only module that knows about files and formats. Outputs are byte-stable: fields in
//! a fixed order, floats at fixed precision, no timestamps, no absolute paths. Files are
//! written whole (a temporary file, then a rename).

pub mod html;
pub mod json;
pub mod markdown;
pub mod plots;
pub mod tables;

use crate::simulation::RunResult;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` whole: a temporary file in the same folder, then a rename, so a
/// reader never sees half a report and an interrupted write leaves the old file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Every file of a run's report, by file name, in a fixed order: report.json, report.md,
/// report.html, then the plots (latency.svg, cdf.svg, success.svg, throughput.svg).
pub fn render_all(r: &RunResult) -> Vec<(&'static str, String)> {
    let plots = plots::render_all(r);
    let mut files = vec![
        ("report.json", json::render(r)),
        ("report.md", markdown::render(r)),
        ("report.html", html::render(r, &plots)),
    ];
    files.extend(plots);
    files
}

/// Writes every file of the report into `dir`; returns their paths.
pub fn write_all(dir: &Path, r: &RunResult) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, content) in render_all(r) {
        let path = dir.join(name);
        write_atomic(&path, content.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

//! `stormglass merge FILES...`: joins the JSON summaries of a sharded sweep (`check --shard
//! K/N --json ...`, one per shard) into the summary the unsharded sweep would have written,
//! byte for byte. Exit codes as for `check`: 0 passed, 1 failed, 2 bad input, 130 a shard
//! was interrupted.

use super::check::{exit_code, print_summary, write_outputs};
use super::EXIT_BAD_INPUT;
use crate::sweep::{self, Summary};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON summaries, one per shard, in any order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Writes the merged JSON summary (without --json, --junit or --md it goes to stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Writes the merged JUnit XML summary.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Writes the merged Markdown summary.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
}

pub fn merge(args: &MergeArgs) -> i32 {
    let mut parts = Vec::new();
    for f in &args.files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read '{}': {e}; check the path", f.display());
                return EXIT_BAD_INPUT;
            }
        };
        match Summary::from_json(&text) {
            Ok(s) => parts.push(s),
            Err(e) => {
                eprintln!(
                    "error: '{}' is not a check summary: {e}; give the files of check --json",
                    f.display()
                );
                return EXIT_BAD_INPUT;
            }
        }
    }
    let merged = match sweep::merge(parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json.is_none() && args.junit.is_none() && args.md.is_none() {
        print!("{}", merged.to_json());
        return exit_code(&merged);
    }
    print_summary(&merged);
    if let Err(code) = write_outputs(&merged, &args.json, &args.junit, &args.md) {
        return code;
    }
    exit_code(&merged)
}

//! The command line: argument parsing, terminal output and exit codes. The only module
//! that knows about the terminal; it reads the wall clock only to report wall time.
//!
//! Exit codes: 0 success; 1 a run failed (an expectation, a limit, a model panic);
//! 2 bad input (scenario or arguments); 130 a `check` sweep interrupted by Ctrl-C. A Rust
//! panic outside a model stays 101.

mod check;
mod list;
mod merge;
mod run;
mod validate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "stormglass",
    version,
    about = "A deterministic discrete-event simulator of distributed systems"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario once and print a summary.
    Run(run::RunArgs),
    /// Run every scenario for many seeds in parallel; exit 1 if any property fails.
    Check(check::CheckArgs),
    /// Join the JSON summaries of `check --shard K/N` into the whole sweep's summary.
    Merge(merge::MergeArgs),
    /// Check scenario files without running them.
    Validate {
        /// Scenario files (.ron).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the shipped scenarios, one line each.
    List {
        /// The folder to list.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Benchmarks of the kernel.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

/// Parses the arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Validate { files } => validate::validate(&files),
        Command::List { dir } => list::list(&dir),
        Command::Bench(b) => match crate::bench::bench(&b) {
            crate::bench::Exit::Ok => EXIT_OK,
            crate::bench::Exit::Failed => EXIT_FAILED,
            crate::bench::Exit::BadInput => EXIT_BAD_INPUT,
        },
    }
}

//! Benchmarks: `stormglass bench phold`, the kernel's (Fujimoto's PHOLD), and the systems'
//! own (`bench raft`, `bench raft-elections`), which run whole simulations of one system.
//! They sit above `simulation` and `systems`, beside `cli` (which only parses their
//! arguments and calls [`bench`]), so that the layers below name no system. Benchmarks
//! measure wall time by design; nothing else here or below reads the clock.

mod raft;

pub use raft::{ElectionArgs, RaftArgs};

/// How a benchmark ended; the command line maps it to an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// The run failed.
    Failed,
    /// Its arguments were wrong.
    BadInput,
}
use crate::protocols::phold::{run_phold, PholdParams};

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// PHOLD on the bare kernel: N logical processes, E events each.
    Phold(PholdArgs),
    /// A 5-node Raft cluster serving a steady load: simulated seconds per wall second.
    Raft(RaftArgs),
    /// Leader-election downtime after a leader crash, over many seeds.
    RaftElections(ElectionArgs),
}

#[derive(Debug, clap::Args)]
pub struct PholdArgs {
    /// Logical processes.
    #[arg(long, default_value_t = 1000)]
    pub lps: u32,
    /// Initial events per LP (the population stays lps × this).
    #[arg(long, default_value_t = 10)]
    pub events_per_lp: u32,
    /// Probability that an event's successor goes to a uniformly random LP.
    #[arg(long, default_value_t = 0.9)]
    pub remote: f64,
    /// Lookahead added to every delay, in simulated seconds.
    #[arg(long, default_value_t = 0.1)]
    pub lookahead: f64,
    /// Mean of the exponential part of the delay, in simulated seconds.
    #[arg(long, default_value_t = 1.0)]
    pub mean: f64,
    /// Events to process.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Prints one JSON object: events, wall_s, events_per_s, digest.
    #[arg(long)]
    pub json: bool,
}

pub fn bench(cmd: &BenchCommand) -> Exit {
    match cmd {
        BenchCommand::Phold(a) => phold(a),
        BenchCommand::Raft(a) => raft::raft(a),
        BenchCommand::RaftElections(a) => raft::raft_elections(a),
    }
}

fn phold(a: &PholdArgs) -> Exit {
    let params = PholdParams {
        lps: a.lps,
        events_per_lp: a.events_per_lp,
        remote: a.remote,
        lookahead_s: a.lookahead,
        mean_s: a.mean,
        events: a.events,
        seed: a.seed,
    };
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark measures wall time
    let started = std::time::Instant::now();
    let result = match run_phold(&params) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failed;
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let eps = result.events as f64 / wall_s.max(1e-9);
    let digest = format!("{:016x}", result.digest);
    if a.json {
        let obj = serde_json::json!({
            "events": result.events, "wall_s": wall_s, "events_per_s": eps, "digest": digest,
        });
        println!("{obj}");
    } else {
        println!(
            "phold  lps {}  events/lp {}  remote {}  lookahead {}  mean {}",
            a.lps, a.events_per_lp, a.remote, a.lookahead, a.mean
        );
        println!(
            "events {}  wall {:.3} s  {:.2} M events/s  remote fraction {:.4}  digest {digest}",
            result.events,
            wall_s,
            eps / 1e6,
            result.remote_events as f64 / result.events.max(1) as f64
        );
    }
    Exit::Ok
}

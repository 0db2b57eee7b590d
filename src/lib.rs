//! Stormglass: a deterministic discrete-event simulator of distributed systems.
//!
//! # Map
//!
//! Data flows one way:
//!
//! ```text
//! scenarios/x.ron ──scenario::load──▶ Scenario (raw schema, validated, version 1)
//!        ▼ simulation: resolve and assemble
//! World { nodes (Process + clock + disk + service), network (petgraph), fault plan, workload }
//!        ▼ sim::Engine::run — the only loop that advances time
//! History { client operations, fault log, observations } ──▶ RunResult (plain serde data)
//! ```
//!
//! - [`sim`]: the kernel — integer time, the event queue, seeded streams, distributions,
//!   the engine (generic over its handler; PHOLD runs on it bare).
//! - [`process`]: the sans-IO `Process` trait and its `Context` (how protocols plug in).
//! - [`world`]: nodes, clocks, disks, the network, the fault plan; the kernel's handler.
//! - [`workload`]: clients, arrivals, keys, timeouts, retries.
//! - [`protocols`]: the models (`kv`, `phold`).
//! - [`scenario`]: RON scenario files, validated with positioned errors.
//! - [`simulation`]: one run, from scenario to result.
//! - [`metrics`]: latency, availability, RTO/RPO from the history; [`check`]: checkers and
//!   expectations; [`report`]: JSON, Markdown, SVG and HTML renderings of a result.
//! - [`sweep`]: many seeds of many scenarios in parallel, judged as one (`check`), with
//!   JSON, JUnit and Markdown summaries and shards joined by `merge`.
//! - [`cli`]: the command line (the only module that knows about the terminal).
//!
//! # Determinism contract
//!
//! 1. One `u64` seed feeds the run; every consumer draws from its own ChaCha8 stream
//!    derived from the seed and a fixed label (`network`, `faults`, `node/<name>`,
//!    `service/<name>`), so adding a node or a stream leaves every other stream's draws
//!    unchanged.
//! 2. Events are totally ordered by `(time, seq)`; `seq` is stamped at insertion.
//! 3. Time is integer nanoseconds; float samplers (through `libm`, not the platform's math
//!    library) convert to nanoseconds at once.
//! 4. Simulation state never iterates a hash map; nothing reads the wall clock; `clippy.toml`
//!    bans `HashMap`, `HashSet`, `Instant`, `SystemTime` and unpinned generators, with
//!    commented exceptions in `cli` for wall-time reporting.
//! 5. A run is single-threaded. `run --check-determinism` runs twice and names the first
//!    divergent event; every run reports a digest of `(time, seq, kind, node)` over all events.
//! 6. Outputs are byte-stable: ordered maps, no timestamps, no absolute paths.
//!
//! # Message ordering
//!
//! Messages between two nodes are not ordered unless the link is FIFO: each copy draws its
//! own latency. Events at the same instant run in the order they were scheduled. A message
//! sent while a node works (`Context::busy`) leaves when the work so far is done.

pub mod bench;
pub mod check;
pub mod cli;
pub mod components;
pub mod history;
pub mod metrics;
pub mod process;
pub mod protocols;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod simulation;
pub mod sweep;
pub mod systems;
pub mod workload;
pub mod world;

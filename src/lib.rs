//! Stormglass: a deterministic discrete-event simulator of distributed systems.
//!
//! # Map
//!
//! Data flows one way:
//!
//! ```text
//! scenarios/x.ron ──scenario::load──▶ Scenario<AnySystem> (validated, version 1)
//!        ▼ simulation: resolve; the system's `build` gives a spawner and an online monitor
//! World { nodes (Process + clock + disk + service), network (petgraph), fault plan, workload }
//!        ▼ sim::Engine::run — the only loop that advances time; the monitor after each callback
//! History { client operations (register and general), fault log, observations, violations }
//!        ▼ metrics (latency, availability, RTO/RPO) + the system's `judge` (durability, properties)
//! RunResult (plain serde data) ──report──▶ JSON, Markdown, SVG, HTML
//!        (sweep: many seeds × scenarios in parallel ──▶ one summary)
//! ```
//!
//! - [`sim`]: the kernel — integer time, the event queue, seeded streams, distributions,
//!   the engine (generic over its handler; PHOLD runs on it bare).
//! - [`history`]: what a run records — register operations, the general history (a
//!   `Call` and its `Reply`: reads, writes, compare-and-set, list appends and reads,
//!   transactions), the fault log, observations, violations.
//! - [`process`]: the sans-IO `Process` trait and the `Context` trait its callbacks get
//!   (`NodeContext`, the world's root one; `Scoped`, a view in a component's own types);
//!   a node's clock and disk.
//! - [`world`]: nodes, the network, the fault plan; the kernel's handler.
//! - [`workload`]: clients, arrivals, keys, timeouts, retries; its `Driver` is a component.
//! - [`components`]: pieces a process hosts through a scoped context (`heartbeat`: a
//!   pacemaker and a failure detector).
//! - [`systems`]: one folder per system (`kv`, `raft`, `failover`), each behind the
//!   `System` trait (its config, validation, roles, properties, monitor, judge, report
//!   sections), and the one list `systems!` that names them. Nothing in `scenario`,
//!   `simulation`, `check`, `report`, `sweep` or `cli` names a particular system.
//! - [`protocols`]: the kernel benchmark's model (`phold`).
//! - [`scenario`]: RON scenario files, generic over the `system:` section, validated with
//!   positioned errors; typed names (roles, properties, sometimes events) checked against
//!   the system's declarations.
//! - [`simulation`]: one run, from scenario to result.
//! - [`metrics`]: latency, availability, RTO/RPO from the history; [`check`]: checkers
//!   (durability, register linearizability, model-based linearizability in `check::model`)
//!   and expectations; [`report`]: JSON, Markdown, SVG and HTML renderings of a result.
//! - [`sweep`]: many seeds of many scenarios in parallel, judged as one (`check`), with
//!   JSON, JUnit and Markdown summaries, shards joined by `merge`, and shrinking.
//! - [`bench`]: benchmarks of the kernel and of systems (`bench phold`, `bench raft`).
//! - [`cli`]: the command line (the only module that knows about the terminal).
//!
//! Imports run one way, down this order: `cli` → `bench`, `sweep` → `report` →
//! `simulation` → `systems` → `check`, `components`, `workload`, `world` → `metrics`,
//! `process` → `history`, `scenario`, `protocols` → `sim`. No import runs back up: a
//! cycle is a defect.
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

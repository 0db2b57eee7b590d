//! What a run records: client operations, the fault log and protocol observations.
//!
//! Client operations come in two forms. Register reads and writes, which every system so
//! far records and which the specialised linearizability search checks, are [`OpRecord`]s
//! (small, one per logical operation). Everything else — compare-and-set, list appends and
//! reads, multi-key transactions — is the general history: [`Operation`]s of a [`Call`] and
//! the [`Reply`] the client saw, checked against a system's sequential specification
//! (`check::model`).
//!
//! The history is the omniscient observer's record: every time in it is true simulated
//! time, never a node's local clock. Metrics and checkers are plain functions of it.

use crate::sim::SimTime;
use serde::Serialize;

/// A client's identity in the history (its index among the workload's clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Read,
    Write,
}

/// How a logical operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Acknowledged by the system.
    Ok,
    /// Refused or failed, with no retry left.
    Failed,
    /// The last attempt's timeout expired; the operation may or may not have taken effect.
    TimedOut,
    /// Still in flight when the run ended; neither counted as success nor as failure.
    Incomplete,
}

/// One logical client operation (all its attempts together).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpRecord {
    pub client: ClientId,
    pub kind: OpKind,
    pub key: u64,
    /// The value written, or the value a successful read returned (`None`: key absent).
    pub value: Option<u64>,
    pub invoke: SimTime,
    /// When the outcome became known (the run's end for `Incomplete`).
    pub complete: SimTime,
    pub outcome: Outcome,
    pub attempts: u32,
}

/// The kinds of fault action, as the fault log and reports name them (`"crash"`,
/// `"one_way_partition"`). Declared once here; the world maps its actions onto them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultName {
    Crash,
    Restart,
    Partition,
    OneWayPartition,
    Isolate,
    Heal,
    Cut,
    ClockStep,
    ClockDrift,
    DiskIoError,
    DiskFull,
    Slow,
    Pause,
    Corrupt,
    Flaky,
    Clog,
}

impl FaultName {
    /// The name as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultName::Crash => "crash",
            FaultName::Restart => "restart",
            FaultName::Partition => "partition",
            FaultName::OneWayPartition => "one_way_partition",
            FaultName::Isolate => "isolate",
            FaultName::Heal => "heal",
            FaultName::Cut => "cut",
            FaultName::ClockStep => "clock_step",
            FaultName::ClockDrift => "clock_drift",
            FaultName::DiskIoError => "disk_io_error",
            FaultName::DiskFull => "disk_full",
            FaultName::Slow => "slow",
            FaultName::Pause => "pause",
            FaultName::Corrupt => "corrupt",
            FaultName::Flaky => "flaky",
            FaultName::Clog => "clog",
        }
    }

    /// Whether a fault of this kind is an incident (it can degrade the service); repairs
    /// and clock steps are not.
    pub fn is_incident(self) -> bool {
        !matches!(self, FaultName::Restart | FaultName::Heal | FaultName::ClockStep)
    }

    /// Whether it can take a node out of service (crash it, cut it off, stop or slow it).
    pub fn removes_nodes(self) -> bool {
        use FaultName::*;
        matches!(self, Crash | Isolate | Partition | OneWayPartition | Cut | Pause | Slow)
    }
}

impl std::fmt::Display for FaultName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One client operation of any kind, as the client saw it: what it asked (`input`), what it
/// was told (`output`) and when. The rules a checker reads it by:
///
/// - `complete: Some(t)`: took effect exactly once, at some instant in `[invoke, t]`.
/// - `complete: None` (timed out, or in flight at the run's end): may or may not have taken
///   effect, at any instant from `invoke` on; its output is then unknown (`None`).
/// - `output: None` with a completion: took effect; what it returned is not known.
/// - An operation that surely did not take effect (refused) is not recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operation<I, O> {
    pub client: ClientId,
    pub input: I,
    pub output: Option<O>,
    pub invoke: SimTime,
    pub complete: Option<SimTime>,
}

/// A client's request in the general history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    Read {
        key: u64,
    },
    Write {
        key: u64,
        value: u64,
    },
    /// Sets `new` if the key holds `expected` (never if it is absent).
    Cas {
        key: u64,
        expected: u64,
        new: u64,
    },
    /// Appends `value` to the key's list.
    Append {
        key: u64,
        value: u64,
    },
    /// Reads the key's whole list.
    ReadList {
        key: u64,
    },
    /// An atomic multi-key transaction: its steps in program order.
    Txn(Vec<MicroOp>),
}

/// One step of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MicroOp {
    Read { key: u64 },
    Write { key: u64, value: u64 },
}

impl MicroOp {
    pub fn key(&self) -> u64 {
        match *self {
            MicroOp::Read { key } | MicroOp::Write { key, .. } => key,
        }
    }
}

/// What a client was told, in the general history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// A read's value (`None`: absent).
    Value(Option<u64>),
    /// A write or an append was applied.
    Done,
    /// Whether a compare-and-set swapped.
    Swapped(bool),
    /// A list read's list.
    List(Vec<u64>),
    /// A committed transaction's reads, one per read step, in order.
    Reads(Vec<Option<u64>>),
}

/// An operation of the general history.
pub type GeneralOp = Operation<Call, Reply>;

/// One fault action as it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// Index of the action in the scenario's fault plan.
    pub index: usize,
    pub kind: FaultName,
    /// The node names the action touched, resolved when it fired.
    pub targets: Vec<String>,
    pub start: SimTime,
    /// When its effect ended (a restart, a heal), if it did within the run.
    pub end: Option<SimTime>,
}

/// A protocol observation: something a model reports for metrics and checkers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub time: SimTime,
    pub node: u32,
    pub name: &'static str,
    pub value: i64,
}

/// A protocol property found broken by an online checker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub time: SimTime,
    pub node: u32,
    pub property: &'static str,
    pub detail: String,
}

/// Everything a run records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct History {
    /// Register reads and writes.
    pub ops: Vec<OpRecord>,
    /// Every other kind of client operation (see [`Operation`]).
    pub general: Vec<GeneralOp>,
    pub faults: Vec<FaultRecord>,
    pub observations: Vec<Observation>,
    pub violations: Vec<Violation>,
}

impl History {
    /// Counts of operations by outcome: (ok, failed, timed_out, incomplete).
    pub fn outcome_counts(&self) -> (u64, u64, u64, u64) {
        let mut c = (0, 0, 0, 0);
        for op in &self.ops {
            match op.outcome {
                Outcome::Ok => c.0 += 1,
                Outcome::Failed => c.1 += 1,
                Outcome::TimedOut => c.2 += 1,
                Outcome::Incomplete => c.3 += 1,
            }
        }
        c
    }
}

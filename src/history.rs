//! What a run records: client operations, the fault log and protocol observations.
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
    pub ops: Vec<OpRecord>,
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

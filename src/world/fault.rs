//! The fault plan: timed actions on the world, with static or dynamic targets.
//!
//! A target is resolved when its action fires: `Crashed` means the nodes down at that
//! moment, `Role` the nodes whose process claims the role then (e.g. the current leader),
//! the `Random…` targets draw from the faults' own stream over the *fault pool* (the
//! topology's nodes, never the workload's clients). An action with a duration undoes
//! itself after it: a crash for 5 s restarts the same incarnations, a partition for 10 s
//! lifts exactly the cuts it made, a drift change restores the old drift.

use crate::history::FaultName;
use crate::process::disk::DiskFault;
use crate::process::NodeId;
use crate::sim::{SimDuration, SimTime};
use serde::Serialize;

/// Which nodes an action touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Target {
    Node(NodeId),
    Nodes(Vec<NodeId>),
    /// Every node in the zone.
    Zone(String),
    /// Every node in the region.
    Region(String),
    /// Every node down when the action fires.
    Crashed,
    /// Every live node whose process has this role when the action fires.
    Role(String),
    /// One live node of the fault pool, drawn from the faults' stream.
    RandomNode,
    /// `floor((n - 1) / 2)` nodes of the pool of `n`, drawn from the faults' stream.
    RandomMinority,
    /// `floor(n / 2) + 1` nodes of the pool of `n`.
    RandomMajority,
    /// `k` nodes of the pool.
    RandomNodes(u32),
    /// The whole fault pool.
    All,
    /// One random live node with this role.
    OneWithRole(String),
    /// `floor((n - 1) / 2)` nodes of the pool, including every node with this role.
    MinorityWithRole(String),
}

/// What an action does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum FaultKind {
    Crash(Target),
    Restart(Target),
    /// Cuts every pair between different groups; `one_way` cuts only from the first group
    /// to the others.
    Partition {
        groups: Vec<Vec<NodeId>>,
        one_way: bool,
    },
    /// Cuts the target off from every other node, both ways (a zone or region isolated).
    Isolate(Target),
    /// Lifts every partition.
    Heal,
    /// Cuts every pair between the two targets' nodes (both ways, or only from the second
    /// to the first).
    Cut {
        target: Target,
        from: Target,
        one_way: bool,
    },
    /// Steps the targets' clocks by `by_ns` (negative: back).
    ClockStep {
        target: Target,
        by_ns: i64,
    },
    /// Sets the targets' drift (parts per billion); undone by restoring the old drift.
    ClockDrift {
        target: Target,
        ppb: i64,
    },
    /// The targets' disks fail.
    Disk {
        target: Target,
        fault: DiskFault,
    },
    /// Service times × `factor`; `latency` added to every message the targets send.
    Slow {
        target: Target,
        factor: f64,
        latency: SimDuration,
    },
    /// A stop-the-world pause of the targets (needs a duration).
    Pause(Target),
    /// Messages on the given ordered pairs (all pairs if `None`) are corrupted in flight.
    Corrupt {
        probability: f64,
        pairs: Option<Vec<(NodeId, NodeId)>>,
    },
    /// Gilbert–Elliott bursty loss on the given ordered pairs.
    Flaky {
        pairs: Vec<(NodeId, NodeId)>,
        p_enter: f64,
        p_exit: f64,
        loss: f64,
    },
    /// Messages on the given ordered pairs are held until the action ends (needs a duration).
    Clog {
        pairs: Vec<(NodeId, NodeId)>,
    },
}

impl FaultKind {
    pub fn name(&self) -> FaultName {
        match self {
            FaultKind::Crash(_) => FaultName::Crash,
            FaultKind::Restart(_) => FaultName::Restart,
            FaultKind::Partition { one_way: false, .. } => FaultName::Partition,
            FaultKind::Partition { one_way: true, .. } => FaultName::OneWayPartition,
            FaultKind::Isolate(_) => FaultName::Isolate,
            FaultKind::Heal => FaultName::Heal,
            FaultKind::Cut { .. } => FaultName::Cut,
            FaultKind::ClockStep { .. } => FaultName::ClockStep,
            FaultKind::ClockDrift { .. } => FaultName::ClockDrift,
            FaultKind::Disk { fault: DiskFault::IoError, .. } => FaultName::DiskIoError,
            FaultKind::Disk { fault: DiskFault::Full, .. } => FaultName::DiskFull,
            FaultKind::Slow { .. } => FaultName::Slow,
            FaultKind::Pause(_) => FaultName::Pause,
            FaultKind::Corrupt { .. } => FaultName::Corrupt,
            FaultKind::Flaky { .. } => FaultName::Flaky,
            FaultKind::Clog { .. } => FaultName::Clog,
        }
    }

    /// Whether the action's effect lasts until undone (so its record has an end).
    pub fn lasts(&self) -> bool {
        !matches!(self, FaultKind::Restart(_) | FaultKind::Heal | FaultKind::ClockStep { .. })
    }
}

/// One timed action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultAction {
    pub at: SimTime,
    /// Undo the action after this long.
    pub duration: Option<SimDuration>,
    pub kind: FaultKind,
}

/// What must be done to undo a fired action with a duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undo {
    /// Restart each node if it is still in the incarnation the crash left it in (a node
    /// restarted and crashed again since belongs to a later fault).
    Restart(Vec<(NodeId, u32)>),
    Unblock(Vec<(NodeId, NodeId)>),
    /// Restore each node's drift.
    Drift(Vec<(NodeId, i64)>),
    /// Lift the disk faults.
    Disk(Vec<NodeId>),
    /// Back to normal speed.
    Slow(Vec<NodeId>),
    /// End the pause of these incarnations.
    Resume(Vec<(NodeId, u32)>),
    /// Drop the network rule with this id (corruption, flaky links, clogs).
    Rule(u32),
}

/// The ordered pairs a partition cuts.
pub fn partition_pairs(groups: &[Vec<NodeId>], one_way: bool) -> Vec<(NodeId, NodeId)> {
    let mut pairs = Vec::new();
    for (i, gi) in groups.iter().enumerate() {
        for (j, gj) in groups.iter().enumerate() {
            if i == j || (one_way && i != 0) {
                continue;
            }
            for &a in gi {
                for &b in gj {
                    if a != b {
                        pairs.push((a, b));
                    }
                }
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_way_partition_cuts_one_direction() {
        let g = vec![vec![NodeId(0)], vec![NodeId(1), NodeId(2)]];
        assert_eq!(partition_pairs(&g, true), vec![(NodeId(0), NodeId(1)), (NodeId(0), NodeId(2))]);
        let both = partition_pairs(&g, false);
        assert_eq!(both.len(), 4);
        assert!(both.contains(&(NodeId(2), NodeId(0))));
    }
}

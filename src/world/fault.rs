//! The fault plan: timed actions on the world, with static or dynamic targets.
//!
//! A target is resolved when its action fires: `Crashed` means the nodes down at that
//! moment, `Role` the nodes whose process claims the role then (e.g. the current leader).
//! An action with a duration undoes itself after it: a crash for 5 s restarts the same
//! nodes, a partition for 10 s lifts exactly the cuts it made.

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
    /// Every node down when the action fires.
    Crashed,
    /// Every live node whose process has this role when the action fires.
    Role(String),
    /// One live node drawn uniformly from the faults' stream.
    RandomNode,
}

/// What an action does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FaultKind {
    Crash(Target),
    Restart(Target),
    /// Cuts every pair between different groups; `one_way` cuts only from the first group
    /// to the others.
    Partition {
        groups: Vec<Vec<NodeId>>,
        one_way: bool,
    },
    /// Lifts every partition.
    Heal,
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash(_) => "crash",
            FaultKind::Restart(_) => "restart",
            FaultKind::Partition { one_way: false, .. } => "partition",
            FaultKind::Partition { one_way: true, .. } => "one_way_partition",
            FaultKind::Heal => "heal",
        }
    }
}

/// One timed action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
        assert_eq!(
            partition_pairs(&g, true),
            vec![(NodeId(0), NodeId(1)), (NodeId(0), NodeId(2))]
        );
        let both = partition_pairs(&g, false);
        assert_eq!(both.len(), 4);
        assert!(both.contains(&(NodeId(2), NodeId(0))));
    }
}

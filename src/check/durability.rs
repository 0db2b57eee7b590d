//! Ground truth at the end of a run: the acknowledged writes a system's authoritative
//! state no longer holds, and the key-by-key checks of a key-value history (wrong reads,
//! linearizability). A system's judge calls these with its own notion of "present".

use super::expect::PropertyResult;
use crate::history::{History, OpKind, Outcome};
use crate::sim::SimTime;
use serde::Serialize;

/// Acknowledged writes checked against the system's state after the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durability {
    pub acknowledged_writes: u64,
    pub lost_acknowledged_writes: u64,
    /// Up to five lost writes, as (key, value), for a first look.
    pub lost_examples: Vec<(u64, u64)>,
    /// Successful reads that returned a value never written to their key (silent corruption).
    pub wrong_reads: u64,
    /// Corruptions the system detected itself (checksum mismatches).
    pub detected_corruptions: u64,
    /// When each lost write was acknowledged (for RPO).
    #[serde(skip)]
    pub lost_acks: Vec<SimTime>,
}

/// Every acknowledged write of `history`, checked with `present(key, value)` against the
/// system's authoritative state.
pub fn durability(history: &History, present: impl Fn(u64, u64) -> bool) -> Durability {
    let mut d = Durability::default();
    for op in history.ops.iter().filter(|o| o.kind == OpKind::Write && o.outcome == Outcome::Ok) {
        d.acknowledged_writes += 1;
        let value = op.value.expect("an acknowledged write has its value");
        if !present(op.key, value) {
            d.lost_acknowledged_writes += 1;
            d.lost_acks.push(op.complete);
            if d.lost_examples.len() < 5 {
                d.lost_examples.push((op.key, value));
            }
        }
    }
    assert!(d.lost_acknowledged_writes <= d.acknowledged_writes, "only acknowledged writes are lost");
    assert_eq!(
        d.lost_acks.len() as u64,
        d.lost_acknowledged_writes,
        "one acknowledgement time per lost write"
    );
    d
}

/// The checks of a key-value history that go key by key, on one grouping of its
/// operations: the wrong reads, and the linearizability verdict as a property.
pub fn key_checks(history: &History) -> (u64, PropertyResult) {
    use super::linearizability::{check_by_key, ByKey, Config, Verdict};
    let by_key = ByKey::new(&history.ops);
    let report = check_by_key(&history.ops, &by_key, &Config::default());
    let (holds, detail) = match report.verdict {
        Verdict::Linearizable => (Some(true), format!("{} keys checked", report.keys_checked)),
        // The checker's own text already names the key.
        Verdict::NotLinearizable { detail, .. } => (Some(false), detail),
        Verdict::Unknown { reason, .. } => (None, reason),
    };
    (by_key.wrong_reads(), PropertyResult { name: "linearizable".to_string(), holds, detail })
}

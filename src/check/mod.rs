//! Checkers: properties of a run's history.
//!
//! History checkers are plain functions of the history, run after the run; `expect`
//! evaluates a scenario's expectations. The two linearizability searches (`linearizability`,
//! for a register per key, and `model`, for any model) share their entry list, linearized set
//! and memo (`search_parts`).

pub mod durability;
pub mod expect;
pub mod linearizability;
pub mod model;
mod search_parts;

use crate::history::History;

/// Successful reads that returned a value no client ever tried to write to that key —
/// silent corruption reaching a client. Values written are unique per write, so a read of
/// a value outside the key's attempted writes cannot be explained by any ordering.
/// Writes that timed out or failed count as attempted (they may have been applied).
pub fn wrong_reads(history: &History) -> u64 {
    linearizability::ByKey::new(&history.ops).wrong_reads()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{ClientId, OpKind, OpRecord, Outcome};
    use crate::sim::SimTime;

    fn op(kind: OpKind, key: u64, value: Option<u64>, outcome: Outcome) -> OpRecord {
        OpRecord {
            client: ClientId(0),
            kind,
            key,
            value,
            invoke: SimTime(0),
            complete: SimTime(1),
            outcome,
            attempts: 1,
        }
    }

    #[test]
    fn a_read_of_a_value_never_written_is_wrong() {
        let mut h = History::default();
        h.ops.push(op(OpKind::Write, 1, Some(10), Outcome::Ok));
        h.ops.push(op(OpKind::Write, 2, Some(20), Outcome::TimedOut));
        h.ops.push(op(OpKind::Read, 1, Some(10), Outcome::Ok)); // fine
        h.ops.push(op(OpKind::Read, 2, Some(20), Outcome::Ok)); // a timed-out write may apply
        h.ops.push(op(OpKind::Read, 1, None, Outcome::Ok)); // absent: not a corruption
        h.ops.push(op(OpKind::Read, 1, Some(20), Outcome::Ok)); // another key's value: wrong
        h.ops.push(op(OpKind::Read, 3, Some(11), Outcome::Ok)); // never written: wrong
        h.ops.push(op(OpKind::Read, 3, Some(12), Outcome::Failed)); // not returned
        assert_eq!(wrong_reads(&h), 2);
    }

    proptest::proptest! {
        #[test]
        fn wrong_reads_are_those_of_the_definition(
            ops in proptest::collection::vec(
                (proptest::bool::ANY, proptest::prop_oneof![0u64..4, proptest::strategy::Just(u64::MAX)], 0u64..5, 0usize..3),
                0..80,
            ),
        ) {
            let outcomes = [Outcome::Ok, Outcome::Failed, Outcome::TimedOut];
            let mut h = History::default();
            for &(write, key, v, o) in &ops {
                let kind = if write { OpKind::Write } else { OpKind::Read };
                h.ops.push(op(kind, key, (v > 0).then_some(v), outcomes[o]));
            }
            let naive = h.ops.iter().filter(|r| {
                r.kind == OpKind::Read && r.outcome == Outcome::Ok && r.value.is_some()
                    && !h.ops.iter().any(|w| w.kind == OpKind::Write && w.key == r.key && w.value == r.value)
            });
            proptest::prop_assert_eq!(wrong_reads(&h), naive.count() as u64);
        }
    }
}

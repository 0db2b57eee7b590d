//! [`TxnKv`]: multi-key transactions over a key-value store, for 2PC, sagas and the like.
//!
//! A transaction is a list of micro-operations (read a key, write a key) applied as one
//! atomic step, reads seeing the transaction's own earlier writes. Linearizability of
//! transactions taken as single operations is strict serializability: one serial order,
//! consistent with real time, in which every read sees the latest write. So the model
//! catches lost updates, write skew, fractured reads and stale reads alike.
//!
//! Partitioned by the connected components of the keys touched: two transactions that share
//! a key are in the same part, and a part is linearizable on its own iff the whole is
//! (each component is one object to Herlihy and Wing's locality). The state is the part's
//! keys with a value (absent keys are not stored, so a state has one form).
//!
//! Limit: the output must say what every read returned (`TxnOutput::reads`); a transaction
//! whose reads are partly known is given with no output (any reads accepted).

use super::{mix64, show, Model, ModelOp};
pub use crate::history::MicroOp;
use std::collections::{BTreeMap, BTreeSet};

/// A transaction: its micro-operations in program order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnInput {
    pub ops: Vec<MicroOp>,
}

impl TxnInput {
    fn reads(&self) -> usize {
        self.ops.iter().filter(|m| matches!(m, MicroOp::Read { .. })).count()
    }
}

/// What a committed transaction returned: one value per read micro-operation, in order
/// (`None`: the key was absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOutput {
    pub reads: Vec<Option<u64>>,
}

/// A key-value store under atomic transactions; every key initially absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct TxnKv;

impl Model for TxnKv {
    type State = BTreeMap<u64, u64>;
    type Input = TxnInput;
    type Output = TxnOutput;

    fn init(&self) -> BTreeMap<u64, u64> {
        BTreeMap::new()
    }

    fn step(
        &self,
        state: &BTreeMap<u64, u64>,
        input: &TxnInput,
        output: Option<&TxnOutput>,
    ) -> Option<BTreeMap<u64, u64>> {
        if let Some(out) = output {
            assert_eq!(
                out.reads.len(),
                input.reads(),
                "a transaction's output has one value per read: {input:?}"
            );
        }
        let mut after = state.clone();
        let mut seen = output.map(|o| o.reads.iter());
        for m in &input.ops {
            match *m {
                MicroOp::Read { key } => {
                    let expected = seen.as_mut().map(|s| *s.next().expect("one output value per read"));
                    if expected.is_some_and(|v| v != after.get(&key).copied()) {
                        return None;
                    }
                }
                MicroOp::Write { key, value } => {
                    after.insert(key, value);
                }
            }
        }
        Some(after)
    }

    fn partition(&self, ops: &[ModelOp<Self>]) -> Vec<Vec<usize>> {
        partition_by_components(ops)
    }

    fn fingerprint(&self, state: &BTreeMap<u64, u64>) -> u64 {
        state.iter().fold(state.len() as u64, |h, (&k, &v)| mix64(mix64(h ^ k) ^ v))
    }

    fn describe_part(&self, ops: &[ModelOp<Self>], part: &[usize]) -> String {
        const SHOWN: usize = 8;
        let keys: BTreeSet<u64> =
            part.iter().flat_map(|&i| ops[i].input.ops.iter().map(MicroOp::key)).collect();
        if keys.is_empty() {
            return "transactions touching no key".to_string();
        }
        let shown: Vec<String> = keys.iter().take(SHOWN).map(u64::to_string).collect();
        match keys.len().saturating_sub(SHOWN) {
            0 => format!("keys {{{}}}", shown.join(", ")),
            more => format!("keys {{{}, and {more} more}}", shown.join(", ")),
        }
    }

    fn describe_op(&self, input: &TxnInput, output: Option<&TxnOutput>) -> String {
        let mut seen = output.map(|o| o.reads.iter());
        let steps: Vec<String> = input
            .ops
            .iter()
            .map(|m| match *m {
                MicroOp::Write { key, value } => format!("write {key} = {value}"),
                MicroOp::Read { key } => match seen.as_mut().and_then(Iterator::next) {
                    Some(v) => format!("read {key} -> {}", show(*v)),
                    None => format!("read {key} -> ?"),
                },
            })
            .collect();
        format!("txn [{}]", steps.join(", "))
    }
}

/// The transactions grouped by the connected components of the keys they touch: parts in
/// the order of their smallest key, each in history order; transactions touching no key
/// form one last part.
fn partition_by_components(ops: &[ModelOp<TxnKv>]) -> Vec<Vec<usize>> {
    let keys: Vec<u64> = {
        let set: BTreeSet<u64> = ops.iter().flat_map(|o| o.input.ops.iter().map(MicroOp::key)).collect();
        set.into_iter().collect()
    };
    let id = |key: u64| keys.binary_search(&key).expect("every touched key is listed");
    // Union-find whose root is always the smallest id (the smallest key) of its component.
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for op in ops {
        let mut touched = op.input.ops.iter().map(|m| id(m.key()));
        if let Some(first) = touched.next() {
            for other in touched {
                let (a, b) = (root(&mut parent, first), root(&mut parent, other));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let part = op.input.ops.first().map_or(usize::MAX, |m| root(&mut parent, id(m.key())));
        parts.entry(part).or_default().push(i);
    }
    let parts: Vec<Vec<usize>> = parts.into_values().collect();
    assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), ops.len(), "each transaction is in one part");
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::testing::{brute_force, done, history, pending, shape, unknown, Shape};
    use crate::check::model::{check, Config, PartResult, Verdict};
    use proptest::prelude::*;

    fn txn(client: u32, ops: &[MicroOp], reads: &[Option<u64>], span: (u64, u64)) -> ModelOp<TxnKv> {
        let output = TxnOutput { reads: reads.to_vec() };
        done(client, TxnInput { ops: ops.to_vec() }, output, span.0, span.1)
    }

    fn r(key: u64) -> MicroOp {
        MicroOp::Read { key }
    }

    fn w(key: u64, value: u64) -> MicroOp {
        MicroOp::Write { key, value }
    }

    fn serializable(ops: &[ModelOp<TxnKv>]) -> bool {
        let report = check(&TxnKv, ops, &Config::default());
        assert!(!matches!(report.verdict, Verdict::Unknown { .. }), "{report:#?}");
        report.verdict == Verdict::Linearizable
    }

    #[test]
    fn serial_transactions_and_reads_of_own_writes() {
        let ops = [
            txn(0, &[w(1, 1), w(2, 1)], &[], (0, 10)),
            txn(1, &[r(1), w(1, 2), r(1), r(2)], &[Some(1), Some(2), Some(1)], (20, 30)),
            txn(2, &[r(1), r(3)], &[Some(2), None], (40, 50)),
        ];
        assert!(serializable(&ops));
    }

    #[test]
    fn a_lost_update_is_caught() {
        // Both read x absent and write it: whichever goes second must have seen the first.
        let ops = [txn(0, &[r(1), w(1, 1)], &[None], (0, 10)), txn(1, &[r(1), w(1, 2)], &[None], (0, 10))];
        let report = check(&TxnKv, &ops, &Config::default());
        match &report.parts[..] {
            [p] => match &p.result {
                PartResult::NotLinearizable(c) => {
                    assert_eq!(p.label, "keys {1}");
                    assert!(c.detail.contains("txn [read 1 -> absent, write 1 = 2]"), "{}", c.detail);
                }
                other => panic!("expected a counterexample, got {other:?}"),
            },
            other => panic!("expected one bad part, got {other:#?}"),
        }
        // Done one after the other, the second seeing the first, it is fine.
        let ops = [txn(0, &[r(1), w(1, 1)], &[None], (0, 10)), txn(1, &[r(1), w(1, 2)], &[Some(1)], (0, 10))];
        assert!(serializable(&ops));
    }

    #[test]
    fn write_skew_is_caught() {
        // Each reads both keys absent and writes one: no serial order explains both reads.
        let ops = [
            txn(0, &[r(1), r(2), w(1, 1)], &[None, None], (0, 10)),
            txn(1, &[r(1), r(2), w(2, 1)], &[None, None], (0, 10)),
        ];
        assert!(!serializable(&ops));
    }

    #[test]
    fn fractured_and_stale_reads_are_caught() {
        let writer = txn(0, &[w(1, 1), w(2, 1)], &[], (0, 10));
        // Half of an atomic write, read concurrently.
        assert!(!serializable(&[writer.clone(), txn(1, &[r(1), r(2)], &[Some(1), None], (5, 15))]));
        assert!(serializable(&[writer.clone(), txn(1, &[r(1), r(2)], &[None, None], (5, 15))]));
        // Serializable but not strict: the read began after the write committed.
        assert!(!serializable(&[writer, txn(1, &[r(1)], &[None], (20, 30))]));
    }

    #[test]
    fn a_timed_out_transaction_may_commit_late_or_never() {
        let late = || pending(0, TxnInput { ops: vec![w(1, 7), w(2, 7)] }, 0);
        assert!(serializable(&[
            late(),
            txn(1, &[r(1)], &[None], (20, 30)),
            txn(1, &[r(1), r(2)], &[Some(7), Some(7)], (40, 50))
        ]));
        assert!(serializable(&[late(), txn(1, &[r(1), r(2)], &[None, None], (40, 50))]));
        // Seen, then unseen.
        assert!(!serializable(&[
            late(),
            txn(1, &[r(2)], &[Some(7)], (20, 30)),
            txn(1, &[r(2)], &[None], (40, 50))
        ]));
        // One that committed with unknown reads still applied its writes.
        let committed = unknown(0, TxnInput { ops: vec![r(1), w(1, 3)] }, 0, 10);
        assert!(!serializable(&[committed, txn(1, &[r(1)], &[None], (20, 30))]));
    }

    #[test]
    fn parts_are_the_connected_components_of_keys() {
        let ops = [
            txn(0, &[w(5, 1)], &[], (0, 1)),
            txn(0, &[w(3, 1), w(2, 1)], &[], (0, 1)),
            txn(0, &[], &[], (0, 1)),
            txn(0, &[r(4), r(3)], &[None, None], (0, 1)),
            txn(0, &[w(9, 1), w(5, 2)], &[], (0, 1)),
            txn(0, &[r(7)], &[None], (0, 1)),
        ];
        assert_eq!(TxnKv.partition(&ops), vec![vec![1, 3], vec![0, 4], vec![5], vec![2]]);
        let labels: Vec<String> =
            TxnKv.partition(&ops).iter().map(|p| TxnKv.describe_part(&ops, p)).collect();
        assert_eq!(labels, ["keys {2, 3, 4}", "keys {5, 9}", "keys {7}", "transactions touching no key"]);
    }

    fn exec_txn(s: &BTreeMap<u64, u64>, input: &TxnInput) -> (BTreeMap<u64, u64>, TxnOutput) {
        let mut s = s.clone();
        let mut reads = Vec::new();
        for m in &input.ops {
            match *m {
                MicroOp::Read { key } => reads.push(s.get(&key).copied()),
                MicroOp::Write { key, value } => {
                    s.insert(key, value);
                }
            }
        }
        (s, TxnOutput { reads })
    }

    fn txn_spec() -> impl Strategy<Value = (Shape, TxnInput, TxnOutput)> {
        let micro = prop_oneof![(0u64..3).prop_map(r), (0u64..3, 1u64..3).prop_map(|(k, v)| w(k, v))];
        let junk = prop::collection::vec(prop::option::of(1u64..3), 3);
        (shape(), prop::collection::vec(micro, 1..=3), junk).prop_map(|(s, ops, junk)| {
            let input = TxnInput { ops };
            let junk = TxnOutput { reads: junk[..input.reads()].to_vec() };
            (s, input, junk)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn txn_kv_agrees_with_brute_force(specs in prop::collection::vec(txn_spec(), 0..=7), noise in 0u8..8) {
            let ops = history(&specs, noise, BTreeMap::new(), exec_txn);
            let expected = brute_force(&ops, BTreeMap::new(), exec_txn);
            prop_assert!(expected || noise > 0, "an executed history is strictly serializable: {:?}", ops);
            prop_assert_eq!(serializable(&ops), expected, "{:?}", ops);
        }
    }
}

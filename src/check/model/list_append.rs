//! [`ListAppend`]: Jepsen's list-append, one operation at a time. Each key holds a list,
//! initially empty; an append adds a value at its end, a read returns the whole list.
//!
//! A read shows the order of every append before it, so one read that misses an
//! acknowledged append, or two reads that disagree on an order, convict. Partitioned by key
//! (locality); the state is one key's list. Jepsen's transactional form (several appends
//! and reads in one transaction) is [`TxnKv`](super::TxnKv)'s business, not this model's.

use super::{mix64, partition_by_key, Model, ModelOp};

/// A list-append operation on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListInput {
    Append { key: u64, value: u64 },
    Read { key: u64 },
}

impl ListInput {
    pub fn key(&self) -> u64 {
        match *self {
            ListInput::Append { key, .. } | ListInput::Read { key } => key,
        }
    }
}

/// What a list-append operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListOutput {
    Appended,
    Read(Vec<u64>),
}

/// A list per key, initially empty. The state is one key's list.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListAppend;

impl Model for ListAppend {
    type State = Vec<u64>;
    type Input = ListInput;
    type Output = ListOutput;

    fn init(&self) -> Vec<u64> {
        Vec::new()
    }

    fn step(&self, state: &Vec<u64>, input: &ListInput, output: Option<&ListOutput>) -> Option<Vec<u64>> {
        match (input, output) {
            (ListInput::Append { value, .. }, None | Some(ListOutput::Appended)) => {
                let mut after = Vec::with_capacity(state.len() + 1);
                after.extend_from_slice(state);
                after.push(*value);
                Some(after)
            }
            (ListInput::Read { .. }, None) => Some(state.clone()),
            (ListInput::Read { .. }, Some(ListOutput::Read(seen))) => (seen == state).then(|| state.clone()),
            (input, Some(output)) => {
                panic!("a list-append output answers its input: {input:?} got {output:?}")
            }
        }
    }

    fn partition(&self, ops: &[ModelOp<Self>]) -> Vec<Vec<usize>> {
        partition_by_key(ops, ListInput::key)
    }

    fn fingerprint(&self, state: &Vec<u64>) -> u64 {
        state.iter().fold(state.len() as u64, |h, &v| mix64(h ^ v))
    }

    fn describe_part(&self, ops: &[ModelOp<Self>], part: &[usize]) -> String {
        format!("key {}", ops[part[0]].input.key())
    }

    fn describe_op(&self, input: &ListInput, output: Option<&ListOutput>) -> String {
        match (input, output) {
            (ListInput::Append { value, .. }, _) => format!("append {value}"),
            (ListInput::Read { .. }, Some(ListOutput::Read(seen))) => format!("read -> {seen:?}"),
            (ListInput::Read { .. }, _) => "read -> ?".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::testing::{brute_force, done, history, pending, shape, Shape};
    use crate::check::model::{check, Config, PartResult, Verdict};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn append(client: u32, key: u64, value: u64, invoke: u64, complete: u64) -> ModelOp<ListAppend> {
        done(client, ListInput::Append { key, value }, ListOutput::Appended, invoke, complete)
    }

    fn read(client: u32, key: u64, seen: &[u64], invoke: u64, complete: u64) -> ModelOp<ListAppend> {
        done(client, ListInput::Read { key }, ListOutput::Read(seen.to_vec()), invoke, complete)
    }

    fn linearizable(ops: &[ModelOp<ListAppend>]) -> bool {
        let report = check(&ListAppend, ops, &Config::default());
        assert!(!matches!(report.verdict, Verdict::Unknown { .. }), "{report:#?}");
        report.verdict == Verdict::Linearizable
    }

    #[test]
    fn a_read_missing_an_acknowledged_append_is_caught() {
        let ops = [append(0, 1, 1, 0, 10), append(0, 1, 2, 20, 30), read(1, 1, &[1], 40, 50)];
        let report = check(&ListAppend, &ops, &Config::default());
        match &report.parts[0].result {
            PartResult::NotLinearizable(c) => {
                assert_eq!((c.state.as_str(), c.blocked), ("[1, 2]", 2));
                assert!(
                    c.detail.contains("client 1 read -> [1] [40 ns, 50 ns] must take effect by 50 ns"),
                    "{}",
                    c.detail
                );
            }
            other => panic!("expected a counterexample, got {other:?}"),
        }
        // Read while the second append was in flight, it is fine.
        assert!(linearizable(&[append(0, 1, 1, 0, 10), append(0, 1, 2, 20, 45), read(1, 1, &[1], 40, 50)]));
    }

    #[test]
    fn concurrent_appends_land_in_either_order_but_one_order() {
        for seen in [[1, 2], [2, 1]] {
            assert!(linearizable(&[
                append(0, 1, 1, 0, 10),
                append(1, 1, 2, 0, 10),
                read(2, 1, &seen, 20, 30)
            ]));
        }
        // Two reads that disagree on the order cannot both be right.
        let ops = [
            append(0, 1, 1, 0, 10),
            append(1, 1, 2, 0, 10),
            read(2, 1, &[1, 2], 20, 30),
            read(3, 1, &[2, 1], 20, 30),
        ];
        assert!(!linearizable(&ops));
        // A value seen twice was appended twice, or the read is wrong.
        assert!(!linearizable(&[append(0, 1, 1, 0, 10), read(1, 1, &[1, 1], 20, 30)]));
    }

    #[test]
    fn keys_are_independent_and_a_timed_out_append_may_land_late() {
        let ops = [
            append(0, 1, 1, 0, 10),
            append(0, 2, 1, 0, 10),
            pending(1, ListInput::Append { key: 2, value: 2 }, 5),
            read(2, 1, &[1], 20, 30),
            read(2, 2, &[1], 20, 30),
            read(2, 2, &[1, 2], 100, 110),
        ];
        let report = check(&ListAppend, &ops, &Config::default());
        assert_eq!((report.verdict, report.parts_checked), (Verdict::Linearizable, 2));
        // A prefix can grow, never shrink.
        let mut shrinks = ops.to_vec();
        shrinks.push(read(2, 2, &[1], 120, 130));
        assert!(!linearizable(&shrinks));
    }

    fn exec_list(s: &BTreeMap<u64, Vec<u64>>, input: &ListInput) -> (BTreeMap<u64, Vec<u64>>, ListOutput) {
        let mut s = s.clone();
        match *input {
            ListInput::Append { key, value } => {
                s.entry(key).or_default().push(value);
                (s, ListOutput::Appended)
            }
            ListInput::Read { key } => {
                let seen = s.get(&key).cloned().unwrap_or_default();
                (s, ListOutput::Read(seen))
            }
        }
    }

    fn list_spec() -> impl Strategy<Value = (Shape, ListInput, ListOutput)> {
        let input = prop_oneof![
            (0u64..2).prop_map(|key| ListInput::Read { key }),
            (0u64..2, 1u64..4).prop_map(|(key, value)| ListInput::Append { key, value }),
        ];
        (shape(), input, prop::collection::vec(1u64..4, 0..3)).prop_map(|(s, input, junk)| {
            let junk = match input {
                ListInput::Read { .. } => ListOutput::Read(junk),
                ListInput::Append { .. } => ListOutput::Appended,
            };
            (s, input, junk)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn list_append_agrees_with_brute_force(specs in prop::collection::vec(list_spec(), 0..=7), noise in 0u8..8) {
            let ops = history(&specs, noise, BTreeMap::new(), exec_list);
            let expected = brute_force(&ops, BTreeMap::new(), exec_list);
            prop_assert!(expected || noise > 0, "an executed history is linearizable: {:?}", ops);
            prop_assert_eq!(linearizable(&ops), expected, "{:?}", ops);
        }
    }
}

//! Registers: [`Register`] (read and write a value per key) and [`CasRegister`] (and
//! compare-and-set), and [`register_operations`], which reads a run's register history.
//!
//! Both partition by key (locality) and keep one key's value as their state: they rely on
//! the checker running each part alone.

use super::{partition_by_key, show, Model, ModelOp, Operation};
use crate::history::{OpKind, OpRecord, Outcome};

/// A register operation on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterInput {
    Read {
        key: u64,
    },
    /// `value: None` empties the key (no recorded history writes it; it is there so that
    /// every `OpRecord` converts).
    Write {
        key: u64,
        value: Option<u64>,
    },
}

impl RegisterInput {
    pub fn key(&self) -> u64 {
        match *self {
            RegisterInput::Read { key } | RegisterInput::Write { key, .. } => key,
        }
    }
}

/// What a register operation returned: a read's value (`None`: absent), or a write's ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    Read(Option<u64>),
    Written,
}

/// A register per key, initially absent. The state is one key's value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Model for Register {
    type State = Option<u64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(
        &self,
        state: &Option<u64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<u64>> {
        match (input, output) {
            (RegisterInput::Read { .. }, None) => Some(*state),
            (RegisterInput::Read { .. }, Some(RegisterOutput::Read(v))) => (v == state).then_some(*state),
            (RegisterInput::Write { value, .. }, None | Some(RegisterOutput::Written)) => Some(*value),
            (input, Some(output)) => panic!("a register output answers its input: {input:?} got {output:?}"),
        }
    }

    fn partition(&self, ops: &[ModelOp<Self>]) -> Vec<Vec<usize>> {
        partition_by_key(ops, RegisterInput::key)
    }

    fn fingerprint(&self, state: &Option<u64>) -> u64 {
        state.map_or(0, |v| v.wrapping_add(1))
    }

    fn describe_part(&self, ops: &[ModelOp<Self>], part: &[usize]) -> String {
        format!("key {}", ops[part[0]].input.key())
    }

    fn describe_op(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        match (input, output) {
            (RegisterInput::Write { value, .. }, _) => format!("write {}", show(*value)),
            (RegisterInput::Read { .. }, Some(RegisterOutput::Read(v))) => format!("read -> {}", show(*v)),
            (RegisterInput::Read { .. }, _) => "read -> ?".to_string(),
        }
    }

    fn describe_state(&self, state: &Option<u64>) -> String {
        show(*state)
    }
}

/// Operations converted from records, with where each came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted<I, O> {
    pub ops: Vec<Operation<I, O>>,
    /// For each operation, its index in the records.
    pub source: Vec<usize>,
    /// Records left out: failed operations, and reads that returned nothing.
    pub dropped: u64,
}

/// A run's register records as [`Register`] operations, by the rules of
/// [`crate::check::linearizability`]: `Ok` keeps its interval and result; a `Failed` one is
/// dropped (it did not take effect); a `TimedOut` or `Incomplete` read is dropped (it
/// returned nothing); a `TimedOut` or `Incomplete` write is kept without completion.
pub fn register_operations(records: &[OpRecord]) -> Converted<RegisterInput, RegisterOutput> {
    let mut out = Converted { ops: Vec::new(), source: Vec::new(), dropped: 0 };
    for (i, r) in records.iter().enumerate() {
        assert!(r.complete >= r.invoke, "a record completes no earlier than its invoke (record {i})");
        let (input, output, complete) = match (r.kind, r.outcome) {
            (_, Outcome::Failed) | (OpKind::Read, Outcome::TimedOut | Outcome::Incomplete) => {
                out.dropped += 1;
                continue;
            }
            (OpKind::Read, Outcome::Ok) => {
                (RegisterInput::Read { key: r.key }, Some(RegisterOutput::Read(r.value)), Some(r.complete))
            }
            (OpKind::Write, Outcome::Ok) => (
                RegisterInput::Write { key: r.key, value: r.value },
                Some(RegisterOutput::Written),
                Some(r.complete),
            ),
            (OpKind::Write, Outcome::TimedOut | Outcome::Incomplete) => {
                (RegisterInput::Write { key: r.key, value: r.value }, None, None)
            }
        };
        out.ops.push(Operation { client: r.client, input, output, invoke: r.invoke, complete });
        out.source.push(i);
    }
    assert_eq!(out.ops.len() as u64 + out.dropped, records.len() as u64, "every record is kept or dropped");
    out
}

/// A compare-and-set register operation on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CasInput {
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
}

impl CasInput {
    pub fn key(&self) -> u64 {
        match *self {
            CasInput::Read { key } | CasInput::Write { key, .. } | CasInput::Cas { key, .. } => key,
        }
    }
}

/// What a compare-and-set register operation returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CasOutput {
    Read(Option<u64>),
    Written,
    /// Whether the compare-and-set found `expected` (and set `new`).
    Cas(bool),
}

/// A compare-and-set register per key, initially absent. The state is one key's value.
#[derive(Clone, Copy, Debug, Default)]
pub struct CasRegister;

impl Model for CasRegister {
    type State = Option<u64>;
    type Input = CasInput;
    type Output = CasOutput;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(&self, state: &Option<u64>, input: &CasInput, output: Option<&CasOutput>) -> Option<Option<u64>> {
        match (*input, output) {
            (CasInput::Read { .. }, None) => Some(*state),
            (CasInput::Read { .. }, Some(CasOutput::Read(v))) => (v == state).then_some(*state),
            (CasInput::Write { value, .. }, None | Some(CasOutput::Written)) => Some(Some(value)),
            (CasInput::Cas { expected, new, .. }, None | Some(CasOutput::Cas(_))) => {
                let swapped = *state == Some(expected);
                if output.is_some_and(|o| *o != CasOutput::Cas(swapped)) {
                    return None;
                }
                Some(if swapped { Some(new) } else { *state })
            }
            (input, Some(output)) => {
                panic!("a compare-and-set output answers its input: {input:?} got {output:?}")
            }
        }
    }

    fn partition(&self, ops: &[ModelOp<Self>]) -> Vec<Vec<usize>> {
        partition_by_key(ops, CasInput::key)
    }

    fn fingerprint(&self, state: &Option<u64>) -> u64 {
        state.map_or(0, |v| v.wrapping_add(1))
    }

    fn describe_part(&self, ops: &[ModelOp<Self>], part: &[usize]) -> String {
        format!("key {}", ops[part[0]].input.key())
    }

    fn describe_op(&self, input: &CasInput, output: Option<&CasOutput>) -> String {
        let out = |o: Option<&CasOutput>| match o {
            None => "?".to_string(),
            Some(CasOutput::Read(v)) => show(*v),
            Some(CasOutput::Written) => "ok".to_string(),
            Some(CasOutput::Cas(true)) => "swapped".to_string(),
            Some(CasOutput::Cas(false)) => "not swapped".to_string(),
        };
        match *input {
            CasInput::Read { .. } => format!("read -> {}", out(output)),
            CasInput::Write { value, .. } => format!("write {value}"),
            CasInput::Cas { expected, new, .. } => format!("cas {expected} to {new} -> {}", out(output)),
        }
    }

    fn describe_state(&self, state: &Option<u64>) -> String {
        show(*state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linearizability;
    use crate::check::model::testing::{brute_force, done, history, pending, shape, unknown, Shape};
    use crate::check::model::{check, Config, PartReport, PartResult, Verdict};
    use crate::history::ClientId;
    use crate::sim::SimTime;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn w(client: u32, key: u64, value: u64, invoke: u64, complete: u64) -> ModelOp<Register> {
        done(
            client,
            RegisterInput::Write { key, value: Some(value) },
            RegisterOutput::Written,
            invoke,
            complete,
        )
    }

    fn r(client: u32, key: u64, value: Option<u64>, invoke: u64, complete: u64) -> ModelOp<Register> {
        done(client, RegisterInput::Read { key }, RegisterOutput::Read(value), invoke, complete)
    }

    fn linearizable<M: Model>(model: &M, ops: &[ModelOp<M>]) -> bool {
        let report = check(model, ops, &Config::default());
        assert!(!matches!(report.verdict, Verdict::Unknown { .. }), "{report:#?}");
        report.verdict == Verdict::Linearizable
    }

    #[test]
    fn register_sequential_and_concurrent_histories() {
        assert!(linearizable(
            &Register,
            &[r(0, 1, None, 0, 5), w(0, 1, 1, 10, 20), r(1, 1, Some(1), 30, 40)]
        ));
        // A read concurrent with a write sees the old or the new value.
        for seen in [Some(1), Some(2)] {
            assert!(linearizable(&Register, &[w(0, 1, 1, 0, 10), w(0, 1, 2, 20, 40), r(1, 1, seen, 25, 35)]));
        }
        // Once a read saw the new value, a later one cannot see the old (flip-flop).
        let flip_flop =
            [w(0, 1, 1, 0, 10), w(0, 1, 2, 20, 100), r(1, 1, Some(2), 30, 40), r(1, 1, Some(1), 50, 60)];
        assert!(!linearizable(&Register, &flip_flop));
    }

    #[test]
    fn register_stale_read_after_a_write_completes_is_caught() {
        let ops = [w(0, 1, 1, 0, 10), w(0, 1, 2, 20, 30), r(1, 1, Some(1), 40, 50)];
        assert!(!linearizable(&Register, &ops));
        // On another key the same values are fine: keys are independent.
        let ops = [w(0, 1, 1, 0, 10), w(0, 2, 2, 20, 30), r(1, 1, Some(1), 40, 50)];
        assert!(linearizable(&Register, &ops));
    }

    #[test]
    fn register_intervals_are_closed() {
        assert!(linearizable(&Register, &[w(0, 1, 1, 0, 10), r(1, 1, None, 10, 20)]));
        assert!(!linearizable(&Register, &[w(0, 1, 1, 0, 10), r(1, 1, None, 11, 20)]));
    }

    #[test]
    fn register_timed_out_write_may_apply_late_or_never() {
        let late = || pending(0, RegisterInput::Write { key: 1, value: Some(2) }, 20);
        // Seen long after its timeout, after a read that did not see it yet.
        assert!(linearizable(
            &Register,
            &[w(0, 1, 1, 0, 10), late(), r(1, 1, Some(1), 40, 50), r(1, 1, Some(2), 60, 70)]
        ));
        // Never seen.
        assert!(linearizable(&Register, &[w(0, 1, 1, 0, 10), late(), r(1, 1, Some(1), 40, 50)]));
        // Seen, then not: it cannot be undone.
        assert!(!linearizable(
            &Register,
            &[w(0, 1, 1, 0, 10), late(), r(1, 1, Some(2), 40, 50), r(1, 1, Some(1), 60, 70)]
        ));
        // Seen before it was invoked.
        assert!(!linearizable(&Register, &[w(0, 1, 1, 0, 10), r(1, 1, Some(2), 12, 15), late()]));
        // A read that completed with an unknown result constrains nothing.
        assert!(linearizable(
            &Register,
            &[w(0, 1, 1, 0, 10), unknown(1, RegisterInput::Read { key: 1 }, 20, 30)]
        ));
    }

    fn record(kind: OpKind, key: u64, value: Option<u64>, span: (u64, u64), outcome: Outcome) -> OpRecord {
        OpRecord {
            client: ClientId(3),
            kind,
            key,
            value,
            invoke: SimTime(span.0),
            complete: SimTime(span.1),
            outcome,
            attempts: 1,
        }
    }

    #[test]
    fn records_convert_by_the_outcome_rules() {
        let records = [
            record(OpKind::Write, 1, Some(1), (0, 10), Outcome::Ok),
            record(OpKind::Write, 1, Some(2), (5, 15), Outcome::Failed),
            record(OpKind::Read, 1, Some(1), (20, 30), Outcome::Ok),
            record(OpKind::Read, 1, Some(9), (20, 30), Outcome::TimedOut),
            record(OpKind::Write, 2, Some(3), (40, 50), Outcome::TimedOut),
            record(OpKind::Read, 2, None, (40, 90), Outcome::Incomplete),
            record(OpKind::Write, 2, Some(4), (60, 90), Outcome::Incomplete),
        ];
        let c = register_operations(&records);
        assert_eq!((c.source.clone(), c.dropped), (vec![0, 2, 4, 6], 3));
        let shape: Vec<_> =
            c.ops.iter().map(|o| (o.client, o.input, o.output, o.invoke, o.complete)).collect();
        assert_eq!(
            shape,
            [
                (
                    ClientId(3),
                    RegisterInput::Write { key: 1, value: Some(1) },
                    Some(RegisterOutput::Written),
                    SimTime(0),
                    Some(SimTime(10))
                ),
                (
                    ClientId(3),
                    RegisterInput::Read { key: 1 },
                    Some(RegisterOutput::Read(Some(1))),
                    SimTime(20),
                    Some(SimTime(30))
                ),
                (ClientId(3), RegisterInput::Write { key: 2, value: Some(3) }, None, SimTime(40), None),
                (ClientId(3), RegisterInput::Write { key: 2, value: Some(4) }, None, SimTime(60), None),
            ]
        );
    }

    fn cas(client: u32, expected: u64, new: u64, swapped: bool, span: (u64, u64)) -> ModelOp<CasRegister> {
        done(client, CasInput::Cas { key: 1, expected, new }, CasOutput::Cas(swapped), span.0, span.1)
    }

    fn cw(client: u32, value: u64, span: (u64, u64)) -> ModelOp<CasRegister> {
        done(client, CasInput::Write { key: 1, value }, CasOutput::Written, span.0, span.1)
    }

    fn cr(client: u32, value: Option<u64>, span: (u64, u64)) -> ModelOp<CasRegister> {
        done(client, CasInput::Read { key: 1 }, CasOutput::Read(value), span.0, span.1)
    }

    #[test]
    fn cas_that_succeeds_twice_from_the_same_value_is_caught() {
        let ops = [cw(0, 0, (0, 10)), cas(1, 0, 1, true, (20, 30)), cas(2, 0, 2, true, (20, 30))];
        let report = check(&CasRegister, &ops, &Config::default());
        match &report.parts[..] {
            [PartReport { result: PartResult::NotLinearizable(c), .. }] => {
                assert!(
                    c.detail.contains("must take effect by 30 ns, but it does not fit that state"),
                    "{}",
                    c.detail
                );
                assert!(c.detail.contains("cas 0 to"), "{}", c.detail);
            }
            other => panic!("expected one counterexample, got {other:#?}"),
        }
        // One wins, the other sees the winner's value and fails; then the value is the winner's.
        let ops = [
            cw(0, 0, (0, 10)),
            cas(1, 0, 1, true, (20, 30)),
            cas(2, 0, 2, false, (20, 30)),
            cr(3, Some(1), (40, 50)),
        ];
        assert!(linearizable(&CasRegister, &ops));
        let ops = [
            cw(0, 0, (0, 10)),
            cas(1, 0, 1, true, (20, 30)),
            cas(2, 0, 2, false, (20, 30)),
            cr(3, Some(2), (40, 50)),
        ];
        assert!(!linearizable(&CasRegister, &ops));
    }

    #[test]
    fn cas_failures_and_unknown_outcomes() {
        // A cas on an absent key fails; a failed cas changes nothing.
        assert!(linearizable(&CasRegister, &[cas(0, 0, 1, false, (0, 10)), cr(1, None, (20, 30))]));
        assert!(!linearizable(&CasRegister, &[cas(0, 0, 1, true, (0, 10))]));
        // A failed cas while the expected value was surely there is impossible.
        assert!(!linearizable(&CasRegister, &[cw(0, 5, (0, 10)), cas(1, 5, 6, false, (20, 30))]));
        // A timed-out cas may apply late: the read sees its value long after.
        let late = pending(1, CasInput::Cas { key: 1, expected: 5, new: 6 }, 20);
        assert!(linearizable(
            &CasRegister,
            &[cw(0, 5, (0, 10)), late, cr(2, Some(5), (40, 50)), cr(2, Some(6), (60, 70))]
        ));
        // But only if the value it expects is there when it applies.
        let late = pending(1, CasInput::Cas { key: 1, expected: 5, new: 6 }, 20);
        let ops = [cw(0, 5, (0, 10)), late, cw(0, 7, (30, 35)), cr(2, Some(6), (40, 50))];
        assert!(!linearizable(&CasRegister, &ops));
    }

    fn exec_register(
        s: &BTreeMap<u64, Option<u64>>,
        input: &RegisterInput,
    ) -> (BTreeMap<u64, Option<u64>>, RegisterOutput) {
        let mut s = s.clone();
        match *input {
            RegisterInput::Read { key } => {
                let v = s.get(&key).copied().flatten();
                (s, RegisterOutput::Read(v))
            }
            RegisterInput::Write { key, value } => {
                s.insert(key, value);
                (s, RegisterOutput::Written)
            }
        }
    }

    fn exec_cas(s: &BTreeMap<u64, u64>, input: &CasInput) -> (BTreeMap<u64, u64>, CasOutput) {
        let mut s = s.clone();
        match *input {
            CasInput::Read { key } => {
                let v = s.get(&key).copied();
                (s, CasOutput::Read(v))
            }
            CasInput::Write { key, value } => {
                s.insert(key, value);
                (s, CasOutput::Written)
            }
            CasInput::Cas { key, expected, new } => {
                let swapped = s.get(&key) == Some(&expected);
                if swapped {
                    s.insert(key, new);
                }
                (s, CasOutput::Cas(swapped))
            }
        }
    }

    fn register_spec() -> impl Strategy<Value = (Shape, RegisterInput, RegisterOutput)> {
        let input = prop_oneof![
            (0u64..2).prop_map(|key| RegisterInput::Read { key }),
            (0u64..2, 1u64..4).prop_map(|(key, v)| RegisterInput::Write { key, value: Some(v) }),
        ];
        (shape(), input, prop::option::of(1u64..4)).prop_map(|(s, input, junk)| {
            let junk = match input {
                RegisterInput::Read { .. } => RegisterOutput::Read(junk),
                RegisterInput::Write { .. } => RegisterOutput::Written,
            };
            (s, input, junk)
        })
    }

    fn cas_spec() -> impl Strategy<Value = (Shape, CasInput, CasOutput)> {
        let input = prop_oneof![
            (0u64..2).prop_map(|key| CasInput::Read { key }),
            (0u64..2, 0u64..3).prop_map(|(key, value)| CasInput::Write { key, value }),
            (0u64..2, 0u64..3, 0u64..3).prop_map(|(key, expected, new)| CasInput::Cas { key, expected, new }),
        ];
        (shape(), input, prop::option::of(0u64..3)).prop_map(|(s, input, junk)| {
            let junk = match input {
                CasInput::Read { .. } => CasOutput::Read(junk),
                CasInput::Write { .. } => CasOutput::Written,
                CasInput::Cas { .. } => CasOutput::Cas(junk.is_some()),
            };
            (s, input, junk)
        })
    }

    /// A register record of a small random history: any values, any outcome.
    fn random_record() -> impl Strategy<Value = OpRecord> {
        let outcome = prop_oneof![
            6 => Just(Outcome::Ok),
            1 => Just(Outcome::Failed),
            2 => Just(Outcome::TimedOut),
            1 => Just(Outcome::Incomplete),
        ];
        (0u64..2, any::<bool>(), 0u64..4, 0u64..10, 0u64..6, outcome).prop_map(
            |(key, write, v, invoke, len, outcome)| {
                let value = if v == 0 && !write { None } else { Some(v.max(1)) };
                let kind = if write { OpKind::Write } else { OpKind::Read };
                record(kind, key, value, (invoke, invoke + len), outcome)
            },
        )
    }

    /// A register record of a history executed by a real register, then made noisy.
    fn executed_records(specs: &[(Shape, RegisterInput, RegisterOutput)], noise: u8) -> Vec<OpRecord> {
        let ops = history(specs, noise, BTreeMap::new(), exec_register);
        let to_record = |(i, o): (usize, &ModelOp<Register>)| {
            let (kind, value) = match (o.input, o.output) {
                (RegisterInput::Write { value, .. }, _) => (OpKind::Write, value),
                (RegisterInput::Read { .. }, Some(RegisterOutput::Read(v))) => (OpKind::Read, v),
                (RegisterInput::Read { .. }, _) => (OpKind::Read, Some(77)),
            };
            let outcome = match (o.complete, o.output) {
                (None, _) if i % 2 == 0 => Outcome::TimedOut,
                (None, _) => Outcome::Incomplete,
                // A completed read whose result is unknown constrains nothing: as a timed-out one.
                (Some(_), None) if kind == OpKind::Read => Outcome::TimedOut,
                (Some(_), _) => Outcome::Ok,
            };
            let complete = o.complete.unwrap_or(o.invoke).0 + 3 * u64::from(o.complete.is_none());
            record(kind, o.input.key(), value, (o.invoke.0, complete), outcome)
        };
        ops.iter().enumerate().map(to_record).collect()
    }

    fn agree_with_specialised(records: &[OpRecord]) -> Result<(), TestCaseError> {
        let special = linearizability::check(records, &linearizability::Config::default());
        let converted = register_operations(records);
        let generic = check(&Register, &converted.ops, &Config::default());
        let unknown = matches!(special.verdict, linearizability::Verdict::Unknown { .. })
            || matches!(generic.verdict, Verdict::Unknown { .. });
        prop_assume!(!unknown);
        let special_ok = special.verdict == linearizability::Verdict::Linearizable;
        prop_assert_eq!(
            special_ok,
            generic.verdict == Verdict::Linearizable,
            "{:#?}\n{:#?}",
            special,
            generic
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn register_agrees_with_brute_force(specs in prop::collection::vec(register_spec(), 0..=7), noise in 0u8..8) {
            let ops = history(&specs, noise, BTreeMap::new(), exec_register);
            let expected = brute_force(&ops, BTreeMap::new(), exec_register);
            prop_assert!(expected || noise > 0, "an executed history is linearizable: {:?}", ops);
            prop_assert_eq!(linearizable(&Register, &ops), expected, "{:?}", ops);
        }

        #[test]
        fn cas_register_agrees_with_brute_force(specs in prop::collection::vec(cas_spec(), 0..=7), noise in 0u8..8) {
            let ops = history(&specs, noise, BTreeMap::new(), exec_cas);
            let expected = brute_force(&ops, BTreeMap::new(), exec_cas);
            prop_assert!(expected || noise > 0, "an executed history is linearizable: {:?}", ops);
            prop_assert_eq!(linearizable(&CasRegister, &ops), expected, "{:?}", ops);
        }

        #[test]
        fn register_agrees_with_the_specialised_search_on_random_histories(
            records in prop::collection::vec(random_record(), 0..14),
        ) {
            agree_with_specialised(&records)?;
        }

        #[test]
        fn register_agrees_with_the_specialised_search_on_executed_histories(
            specs in prop::collection::vec(register_spec(), 0..40),
            noise in 0u8..3,
        ) {
            agree_with_specialised(&executed_records(&specs, noise))?;
        }
    }
}

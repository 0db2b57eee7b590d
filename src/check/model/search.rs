//! The search behind [`check`]: Wing and Gong's depth-first search over call and return
//! entries, with Lowe's memo of (linearized set, state), as Porcupine does it.
//!
//! # Algorithm
//!
//! Per part, the operations' call and return entries are put in time order in a doubly
//! linked list (an operation without a completion has a call entry only). A cursor walks
//! the list from its head. At a call, the model steps the operation from the current state;
//! if that is possible and the pair (linearized set with it, new state) is not in the memo,
//! the operation is placed: its entries are lifted out of the list and the cursor goes back
//! to the head. At a return, the operation it belongs to had to be placed before anything
//! later: the last placement is taken back, and the cursor resumes after its call. The part
//! is linearizable once every operation with a completion is placed (the others never took
//! effect); it is not if the search backs out of the root.
//!
//! Why it is sound: a placed set with a state is a configuration; its future depends on
//! nothing else, so one explored without success never needs exploring again (Lowe). The
//! memo compares sets and states exactly. The entry list, the placed set and the memo are
//! those of the register search, in `check/search_parts.rs`.
//!
//! # Counterexample
//!
//! The deepest dead end reached (the first at its depth): the prefix placed there, the state
//! after it, the operation whose return the cursor met, and the other operations that could
//! have gone next. None of those fits that state: one that did would have been placed, or
//! was in the memo, and either way a dead end deeper still was reached. This is asserted.

use super::{describe_operation, Model, ModelOp};
use crate::check::search_parts::{Entries, Linearized, Memo, NIL};
use crate::sim::SimTime;
use serde::Serialize;

/// Limits on the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Search steps allowed per part (a step tries one entry under the cursor); past it the
    /// part is `Unknown`.
    pub max_steps_per_part: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { max_steps_per_part: 1_000_000 }
    }
}

/// The judgement on the whole history. A violation outranks an unknown part; among parts of
/// the same standing the first in the model's order is named. `part` indexes the model's
/// partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable { part: usize, detail: String },
    Unknown { part: usize, reason: String },
}

/// What [`check`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Parts with at least one operation.
    pub parts_checked: u64,
    pub ops_checked: u64,
    /// Search steps over all parts.
    pub steps: u64,
    /// The parts that are not linearizable or unknown, in the model's order.
    pub parts: Vec<PartReport>,
}

/// One part that is not (known to be) linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartReport {
    /// Index into the model's partition.
    pub part: usize,
    /// The model's name for it (`"key 3"`).
    pub label: String,
    pub ops: u64,
    pub steps: u64,
    pub result: PartResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartResult {
    NotLinearizable(Counterexample),
    Unknown { reason: String },
}

/// Why a part is not linearizable. Indices point into the slice given to [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// The deepest consistent prefix the search reached, in linearization order.
    pub prefix: Vec<usize>,
    /// The state after `prefix`, as the model describes it.
    pub state: String,
    /// The operation that had to go next (its return came before any call left) but does
    /// not fit `state`.
    pub blocked: usize,
    /// `blocked`'s completion.
    pub must_by: SimTime,
    /// The other operations that could have gone next; none fits `state` either.
    pub others: Vec<usize>,
    /// The explanation, for humans.
    pub detail: String,
}

/// Checks `ops` (any order) against `model`, part by part.
///
/// Panics if an operation completes before it is invoked, has an output but no completion,
/// or if the model's partition is not a partition of `0..ops.len()`: these are bugs of the caller.
/// The models here panic too on an output that cannot answer its input (a write's
/// acknowledgement for a read, a transaction's output with the wrong number of reads).
pub fn check<M: Model>(model: &M, ops: &[ModelOp<M>], config: &Config) -> Report {
    for (i, op) in ops.iter().enumerate() {
        match op.complete {
            Some(c) => assert!(c >= op.invoke, "an operation completes no earlier than its invoke (op {i})"),
            None => {
                assert!(op.output.is_none(), "an operation without a completion has no known output (op {i})")
            }
        }
    }
    let parts = model.partition(ops);
    assert_partition(&parts, ops.len());
    let mut report = Report {
        verdict: Verdict::Linearizable,
        parts_checked: 0,
        ops_checked: 0,
        steps: 0,
        parts: Vec::new(),
    };
    for (p, part) in parts.iter().enumerate().filter(|(_, part)| !part.is_empty()) {
        report.parts_checked += 1;
        report.ops_checked += part.len() as u64;
        let label = model.describe_part(ops, part);
        let (steps, result) = check_part(model, ops, part, &label, config);
        report.steps += steps;
        if let Some(result) = result {
            report.parts.push(PartReport { part: p, label, ops: part.len() as u64, steps, result });
        }
    }
    assert_eq!(report.ops_checked, ops.len() as u64, "every operation is checked once");
    report.verdict = verdict_of(&report.parts);
    report
}

fn assert_partition(parts: &[Vec<usize>], n: usize) {
    let mut seen = vec![false; n];
    for &i in parts.iter().flatten() {
        assert!(i < n, "a part holds indices of the operations (got {i} of {n})");
        assert!(!seen[i], "an operation is in one part only (op {i})");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s), "every operation is in a part");
}

fn verdict_of(parts: &[PartReport]) -> Verdict {
    let violation = parts.iter().find_map(|p| match &p.result {
        PartResult::NotLinearizable(c) => {
            Some(Verdict::NotLinearizable { part: p.part, detail: c.detail.clone() })
        }
        PartResult::Unknown { .. } => None,
    });
    let unknown = || {
        parts.iter().find_map(|p| match &p.result {
            PartResult::Unknown { reason } => Some(Verdict::Unknown { part: p.part, reason: reason.clone() }),
            PartResult::NotLinearizable(_) => None,
        })
    };
    violation.or_else(unknown).unwrap_or(Verdict::Linearizable)
}

/// Searches one part: the steps taken, and what is wrong with it if anything.
fn check_part<M: Model>(
    model: &M,
    ops: &[ModelOp<M>],
    part: &[usize],
    label: &str,
    config: &Config,
) -> (u64, Option<PartResult>) {
    let mut order = part.to_vec();
    order.sort_unstable_by_key(|&i| (ops[i].invoke, i));
    let mut search = Search::new(model, ops, &order);
    let end = search.run(config.max_steps_per_part);
    let steps = search.steps;
    assert!(steps <= config.max_steps_per_part, "the search keeps to its budget");
    let result = match end {
        SearchEnd::Linearizable => None,
        SearchEnd::Violation(dead_end) => {
            Some(PartResult::NotLinearizable(counterexample(model, ops, &order, dead_end, label)))
        }
        SearchEnd::OutOfBudget { deepest } => Some(PartResult::Unknown {
            reason: format!(
                "{label}: the search budget of {} steps ran out with at most {deepest} of {} operations \
                 linearized; raise 'max_steps_per_part'",
                config.max_steps_per_part,
                order.len()
            ),
        }),
    };
    (steps, result)
}

/// The entry list for operations `(invoke, complete)` in search order: an operation
/// without a completion has a call entry only. Calls sort before returns at equal times
/// (closed intervals).
fn entries(spans: impl ExactSizeIterator<Item = (SimTime, Option<SimTime>)>) -> Entries {
    let ops = spans.len();
    let mut order: Vec<(SimTime, bool, u32)> = Vec::new();
    let mut pending = 0;
    for (i, (invoke, complete)) in spans.enumerate() {
        let i = u32::try_from(i).expect("a part's operations fit u32 indices");
        order.push((invoke, false, i));
        order.extend(complete.map(|c| (c, true, i)));
        pending += usize::from(complete.is_none());
    }
    order.sort_unstable();
    let mut list = Entries::default();
    let without_return = list.fill(ops, order.iter().map(|&(_, is_return, op)| (is_return, op)));
    assert_eq!(without_return, pending, "an operation has a return entry iff it has a completion");
    list
}

enum SearchEnd<S> {
    Linearizable,
    Violation(DeadEnd<S>),
    OutOfBudget { deepest: usize },
}

/// A return met by the cursor: the placed prefix, the state after it, the operation whose
/// return it is, and the other operations whose calls came before it. Operations are
/// numbered in search order.
struct DeadEnd<S> {
    prefix: Vec<u32>,
    state: S,
    blocked: u32,
    others: Vec<u32>,
}

struct Search<'a, M: Model> {
    model: &'a M,
    /// The part's operations in search order.
    ops: Vec<&'a ModelOp<M>>,
    list: Entries,
    linearized: Linearized,
    memo: Memo<M::State>,
    /// The placed calls, in order, with the state before each.
    stack: Vec<(u32, M::State)>,
    state: M::State,
    /// Operations with a completion not placed yet.
    finite_left: usize,
    deepest: Option<DeadEnd<M::State>>,
    depth_max: usize,
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, ops: &'a [ModelOp<M>], order: &[usize]) -> Self {
        let ops: Vec<&ModelOp<M>> = order.iter().map(|&i| &ops[i]).collect();
        let list = entries(ops.iter().map(|o| (o.invoke, o.complete)));
        Search {
            model,
            finite_left: ops.iter().filter(|o| o.complete.is_some()).count(),
            linearized: Linearized::new(ops.len(), Vec::new()),
            ops,
            list,
            memo: Memo::default(),
            stack: Vec::new(),
            state: model.init(),
            deepest: None,
            depth_max: 0,
            steps: 0,
        }
    }

    /// Runs until every operation with a completion is placed, the root is backed out of, or
    /// the budget is spent. A step looks at the entry under the cursor.
    fn run(&mut self, budget: u64) -> SearchEnd<M::State> {
        let mut entry = self.list.first();
        while self.finite_left > 0 {
            if self.steps == budget {
                return SearchEnd::OutOfBudget { deepest: self.depth_max };
            }
            self.steps += 1;
            assert!(entry != NIL, "while an operation with a completion is left, a return is ahead");
            if self.list.is_call(entry) {
                entry = if self.try_place(entry) { self.list.first() } else { self.list.next(entry) };
                continue;
            }
            self.note_dead_end(entry);
            match self.unplace() {
                Some(call) => entry = self.list.next(call),
                None => {
                    let end = self.deepest.take().expect("a failed search met a dead end");
                    return SearchEnd::Violation(end);
                }
            }
        }
        assert!(self.stack.len() <= self.ops.len(), "each operation is placed at most once");
        assert!(self.depth_max >= self.stack.len(), "the deepest point is tracked");
        SearchEnd::Linearizable
    }

    /// Places the operation of `call` if it fits the state and leads somewhere new.
    fn try_place(&mut self, call: u32) -> bool {
        let i = self.list.op(call) as usize;
        let op = self.ops[i];
        let Some(after) = self.model.step(&self.state, &op.input, op.output.as_ref()) else {
            return false;
        };
        self.linearized.set(i);
        if !self.memo.insert(&self.linearized, &after, self.model.fingerprint(&after)) {
            self.linearized.clear(i);
            return false;
        }
        let before = std::mem::replace(&mut self.state, after);
        self.stack.push((call, before));
        self.depth_max = self.depth_max.max(self.stack.len());
        self.list.lift(call);
        self.finite_left -= usize::from(op.complete.is_some());
        true
    }

    /// Takes back the last placement; its call, or `None` at the root.
    fn unplace(&mut self) -> Option<u32> {
        let (call, before) = self.stack.pop()?;
        let i = self.list.op(call) as usize;
        self.linearized.clear(i);
        self.list.unlift(call);
        self.state = before;
        self.finite_left += usize::from(self.ops[i].complete.is_some());
        assert!(self.finite_left <= self.ops.len(), "no more operations are left than there are");
        Some(call)
    }

    /// The cursor met return `ret`: remember the dead end if it is the deepest so far.
    fn note_dead_end(&mut self, ret: u32) {
        if self.deepest.as_ref().is_some_and(|d| self.stack.len() <= d.prefix.len()) {
            return;
        }
        let (blocked, others) = self.list.blocked_at(ret);
        let prefix: Vec<u32> = self.stack.iter().map(|&(call, _)| self.list.op(call)).collect();
        assert_eq!(prefix.len(), self.stack.len(), "the recorded prefix is the stack");
        self.deepest = Some(DeadEnd { prefix, state: self.state.clone(), blocked, others });
    }
}

/// The counterexample from the deepest dead end, in the checked slice's indices.
fn counterexample<M: Model>(
    model: &M,
    ops: &[ModelOp<M>],
    order: &[usize],
    end: DeadEnd<M::State>,
    label: &str,
) -> Counterexample {
    let index = |k: u32| order[k as usize];
    let fits = |k: u32| {
        let op = &ops[index(k)];
        model.step(&end.state, &op.input, op.output.as_ref()).is_some()
    };
    assert!(!fits(end.blocked), "at the deepest dead end the operation that had to go next does not fit");
    assert!(end.others.iter().all(|&k| !fits(k)), "at the deepest dead end nothing else fits either");
    let mut c = Counterexample {
        prefix: end.prefix.iter().map(|&k| index(k)).collect(),
        state: model.describe_state(&end.state),
        blocked: index(end.blocked),
        must_by: ops[index(end.blocked)].complete.expect("an operation with a return entry completes"),
        others: end.others.iter().map(|&k| index(k)).collect(),
        detail: String::new(),
    };
    c.detail = explain(model, ops, label, order.len(), &c);
    c
}

fn explain<M: Model>(
    model: &M,
    ops: &[ModelOp<M>],
    label: &str,
    searched: usize,
    c: &Counterexample,
) -> String {
    const SHOWN: usize = 3;
    let list = |indices: &[usize]| {
        let shown: Vec<String> =
            indices.iter().take(SHOWN).map(|&i| describe_operation(model, &ops[i])).collect();
        match indices.len().saturating_sub(SHOWN) {
            0 => shown.join("; "),
            more => format!("{}; and {more} more", shown.join("; ")),
        }
    };
    let tail = &c.prefix[c.prefix.len().saturating_sub(SHOWN)..];
    let elided = if c.prefix.len() > SHOWN { "...; " } else { "" };
    let placed = if tail.is_empty() { String::new() } else { format!(" ({elided}{})", list(tail)) };
    let mut detail = format!(
        "{label}: not linearizable: the search's deepest consistent prefix places {} of {searched} operations\
         {placed}, after which the state is {}; then {} must take effect by {} ns, but it does not fit that state",
        c.prefix.len(),
        c.state,
        describe_operation(model, &ops[c.blocked]),
        c.must_by.0,
    );
    if !c.others.is_empty() {
        detail += &format!("; nor do the other operations that may go next ({})", list(&c.others));
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::testing::{done, pending, unknown};
    use crate::check::model::{Register, RegisterInput, RegisterOutput};

    fn w(client: u32, value: u64, invoke: u64, complete: u64) -> ModelOp<Register> {
        done(
            client,
            RegisterInput::Write { key: 1, value: Some(value) },
            RegisterOutput::Written,
            invoke,
            complete,
        )
    }

    fn r(client: u32, value: Option<u64>, invoke: u64, complete: u64) -> ModelOp<Register> {
        done(client, RegisterInput::Read { key: 1 }, RegisterOutput::Read(value), invoke, complete)
    }

    fn on_key(mut op: ModelOp<Register>, key: u64) -> ModelOp<Register> {
        op.input = match op.input {
            RegisterInput::Read { .. } => RegisterInput::Read { key },
            RegisterInput::Write { value, .. } => RegisterInput::Write { key, value },
        };
        op
    }

    fn counterexample_of(ops: &[ModelOp<Register>]) -> Counterexample {
        let report = check(&Register, ops, &Config::default());
        match &report.parts[..] {
            [PartReport { result: PartResult::NotLinearizable(c), .. }] => c.clone(),
            other => panic!("expected one counterexample, got {other:#?}"),
        }
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        let report = check(&Register, &[], &Config::default());
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!((report.parts_checked, report.ops_checked, report.steps), (0, 0, 0));
    }

    #[test]
    fn a_stale_read_is_explained_in_plain_words() {
        let ops = [w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, Some(1), 40, 50)];
        let c = counterexample_of(&ops);
        assert_eq!(
            (c.prefix.clone(), c.state.as_str(), c.blocked, c.must_by),
            (vec![0, 1], "2", 2, SimTime(50))
        );
        let expected = "key 1: not linearizable: the search's deepest consistent prefix places 2 of 3 \
            operations (client 0 write 1 [0 ns, 10 ns]; client 0 write 2 [20 ns, 30 ns]), after which \
            the state is 2; then client 1 read -> 1 [40 ns, 50 ns] must take effect by 50 ns, but it \
            does not fit that state";
        assert_eq!(c.detail, expected);
    }

    #[test]
    fn the_other_candidates_are_named_and_none_fits() {
        // After the write of 1, both reads must go before the write of 3 is invoked; neither fits.
        let ops = [w(0, 1, 0, 10), r(1, Some(2), 20, 30), r(2, None, 20, 40), w(0, 3, 50, 60)];
        let c = counterexample_of(&ops);
        assert_eq!((c.prefix.clone(), c.blocked, c.others.clone()), (vec![0], 1, vec![2]));
        assert!(
            c.detail.ends_with(
                "nor do the other operations that may go next (client 2 read -> absent [20 ns, 40 ns])"
            ),
            "{}",
            c.detail
        );
    }

    #[test]
    fn the_verdict_names_the_first_bad_part_and_a_violation_outranks_unknown() {
        let mut ops = Vec::new();
        for key in [3, 1, 2] {
            ops.push(on_key(w(0, 10 * key, 0, 10), key));
            ops.push(on_key(w(1, 10 * key + 1, 20, 30), key));
            let seen = if key == 1 { 10 * key } else { 10 * key + 1 };
            ops.push(on_key(r(2, Some(seen), 40, 50), key));
        }
        let report = check(&Register, &ops, &Config::default());
        assert_eq!(report.parts_checked, 3);
        match &report.verdict {
            // Parts are keys ascending: key 1 is part 0.
            Verdict::NotLinearizable { part: 0, detail } => {
                assert!(detail.starts_with("key 1: "), "{detail}")
            }
            other => panic!("expected a violation on key 1, got {other:?}"),
        }
        ops.extend(hard_key(0, 6));
        let report = check(&Register, &ops, &Config { max_steps_per_part: 2_000 });
        assert!(matches!(report.verdict, Verdict::NotLinearizable { part: 1, .. }), "{:?}", report.verdict);
        let labels: Vec<&str> = report.parts.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["key 0", "key 1"]);
        assert!(matches!(report.parts[0].result, PartResult::Unknown { .. }));
    }

    /// Two writes each of 1..=n, all concurrent, then reads that see 1, 2, ..., n and 1 again:
    /// not linearizable, but with every value written twice exponentially many
    /// configurations stand between the search and that answer.
    fn hard_key(key: u64, n: u64) -> Vec<ModelOp<Register>> {
        let writes = (1..=2 * n).map(|c| on_key(w(c as u32, c.div_ceil(2), 0, 100), key));
        let mut ops: Vec<ModelOp<Register>> = writes.collect();
        for (i, seen) in (1..=n).chain([1]).enumerate() {
            ops.push(on_key(r(0, Some(seen), 200 + 20 * i as u64, 210 + 20 * i as u64), key));
        }
        ops
    }

    #[test]
    fn a_search_past_its_budget_is_unknown_not_a_hang() {
        let report = check(&Register, &hard_key(4, 40), &Config { max_steps_per_part: 10_000 });
        match &report.verdict {
            Verdict::Unknown { part: 0, reason } => {
                assert!(reason.starts_with("key 4: the search budget of 10000 steps ran out"), "{reason}");
                assert!(reason.ends_with("raise 'max_steps_per_part'"), "{reason}");
            }
            other => panic!("expected unknown, got {other:?}"),
        }
        assert_eq!(report.steps, 10_000);
        let report = check(&Register, &hard_key(4, 3), &Config::default());
        assert!(matches!(report.verdict, Verdict::NotLinearizable { part: 0, .. }), "{:?}", report.verdict);
    }

    #[test]
    fn the_memo_tells_states_of_one_set_apart() {
        // Both writes placed, in the order tried first, leave 2; the read needs the other order.
        assert_eq!(
            check(&Register, &[w(0, 1, 0, 10), w(1, 2, 0, 10), r(2, Some(1), 20, 30)], &Config::default())
                .verdict,
            Verdict::Linearizable
        );
    }

    #[test]
    fn pending_operations_have_no_return_and_need_not_take_effect() {
        let late = pending(0, RegisterInput::Write { key: 1, value: Some(2) }, 20);
        // Its only entry is a call: the history is done once the others are placed.
        let report =
            check(&Register, &[w(0, 1, 0, 10), late.clone(), r(1, Some(1), 40, 50)], &Config::default());
        assert_eq!(report.verdict, Verdict::Linearizable);
        let c = counterexample_of(&[w(0, 1, 0, 10), late, r(1, Some(2), 40, 50), r(1, Some(1), 60, 70)]);
        assert_eq!(c.blocked, 3);
        assert!(c.detail.contains("client 0 write 2 [20 ns, pending]"), "{}", c.detail);
    }

    #[test]
    fn the_report_is_deterministic() {
        let mut ops = hard_key(2, 4);
        ops.extend(hard_key(7, 3));
        ops.push(unknown(9, RegisterInput::Read { key: 1 }, 0, 5));
        let a = check(&Register, &ops, &Config::default());
        assert_eq!(a, check(&Register, &ops, &Config::default()));
        assert_eq!(a.parts.len(), 2);
    }

    /// The register, with a partition that puts every operation in two parts.
    struct TwicePartitioned;

    impl Model for TwicePartitioned {
        type State = Option<u64>;
        type Input = RegisterInput;
        type Output = RegisterOutput;

        fn init(&self) -> Option<u64> {
            None
        }

        fn step(
            &self,
            s: &Option<u64>,
            i: &RegisterInput,
            o: Option<&RegisterOutput>,
        ) -> Option<Option<u64>> {
            Register.step(s, i, o)
        }

        fn partition(&self, ops: &[ModelOp<Self>]) -> Vec<Vec<usize>> {
            vec![(0..ops.len()).collect(), (0..ops.len()).collect()]
        }
    }

    #[test]
    #[should_panic(expected = "an operation is in one part only (op 0)")]
    fn a_partition_that_is_not_one_is_a_bug() {
        check(&TwicePartitioned, &[w(0, 1, 0, 10)], &Config::default());
    }

    #[test]
    #[should_panic(expected = "an operation without a completion has no known output")]
    fn a_pending_operation_with_an_output_is_a_bug() {
        let mut op = w(0, 1, 0, 10);
        op.complete = None;
        check(&Register, &[op], &Config::default());
    }
}

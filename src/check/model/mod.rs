//! Model-based linearizability: one search for any system whose sequential specification
//! can be written down (a [`Model`]), where [`crate::check::linearizability`] knows only a
//! register per key.
//!
//! # What it owns
//!
//! - [`Model`], a system's sequential specification, as Porcupine's `Model` and stateright's
//!   `SequentialSpec`: an initial state, a step that says whether an operation's output is
//!   possible from a state (and the state after it), and a partition of a history into parts
//!   that are checked apart.
//! - [`Operation`] (the history's), one client operation of any system, with what the
//!   client saw of it; [`general`] reads the general history's calls into each model's.
//! - [`check`]: Wing and Gong's search with Lowe's memo, per part (the algorithm and why it
//!   is sound are set out in `search.rs`).
//! - Four models: [`Register`] and [`CasRegister`] (a value per key), [`ListAppend`]
//!   (Jepsen's list-append, a list per key) and [`TxnKv`] (multi-key transactions, whose
//!   linearizability is strict serializability).
//! - [`register_operations`]: a run's register [`OpRecord`](crate::history::OpRecord)s
//!   as operations of [`Register`].
//!
//! # How an operation is read
//!
//! The same rules as [`crate::check::linearizability`], stated on [`Operation`]:
//!
//! - `complete: Some(t)`: took effect exactly once, at some instant in `[invoke, t]`.
//! - `complete: None` (timed out, or in flight when the run ended): may or may not have taken
//!   effect; if it did, at any instant from `invoke` on, however late. Its output is unknown.
//! - `output: None` with a completion: took effect, but what it returned is not known (or not
//!   read by the checker); the model accepts any output for it.
//! - Operations that did not take effect (failed) are not given to the checker at all.
//! - Intervals are closed: at equal times calls sort before returns, so an operation
//!   invoked at the nanosecond another completes may be ordered either way.
//!
//! # Registers go through the specialised search
//!
//! Register histories are checked by [`crate::check::linearizability::check`], several times
//! faster than this search on the same histories (exact reductions that only a register
//! allows). [`Register`] is here as the reference the specialised search is tested against,
//! and for register histories mixed with other operations; the runs' own checks use the
//! specialised one. On 5,000 operations of 8 clients over 100 keys the two take about the
//! same time; with 32 clients on 10 keys and one stale read this search takes about ten
//! times as long, and on 2 keys it runs out of its budget where the specialised one decides
//! in under 2 ms (`cargo bench --bench model`).
//!
//! # Guarantees and limits
//!
//! - Deterministic: parts are searched in the model's order, operations numbered in
//!   `(invoke, index)` order, entries sorted by a total key; the memo is only asked
//!   membership, so no hash value can reach an output.
//! - Sound and complete when it answers: the memo compares sets and states exactly, and a
//!   fingerprint only chooses where to look. `NotLinearizable` names the deepest consistent
//!   prefix and the operation that had to go next but fit no state the search could reach.
//! - Exponential in the worst case (NP-complete). A part whose search takes more than
//!   `max_steps_per_part` steps is `Unknown`, never a hang; the memo grows by at most one
//!   entry per step.
//! - Models are deterministic: from a state, an input and an output there is at most one
//!   next state. A model that needs nondeterminism must fold it into its state.

pub mod general;
mod list_append;
mod register;
mod search;
mod txn;

#[cfg(test)]
mod testing;

pub use list_append::{ListAppend, ListInput, ListOutput};
pub use register::{
    register_operations, CasInput, CasOutput, CasRegister, Converted, Register, RegisterInput, RegisterOutput,
};
pub use search::{check, Config, Counterexample, PartReport, PartResult, Report, Verdict};
pub use txn::{MicroOp, TxnInput, TxnKv, TxnOutput};

use crate::check::search_parts::mix64;
pub use crate::history::Operation;
use crate::sim::SimTime;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

/// An operation of model `M`.
pub type ModelOp<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// A system's sequential specification.
///
/// The checker runs each part of [`partition`](Model::partition) on its own, from
/// [`init`](Model::init): a model may rely on that (the register's state is one key's value).
pub trait Model {
    /// Compared exactly by the memo; [`fingerprint`](Model::fingerprint) only spreads it.
    type State: Clone + Eq + Hash + Debug;
    type Input: Debug;
    type Output: Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` from `state`, or `None` if `output` is impossible there.
    /// `output: None` means the output is unknown: any output is accepted.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Independent parts of `ops` (indices into it; every index in exactly one part), each
    /// linearizable on its own iff the whole is. Must be a deterministic function of `ops`;
    /// the parts are checked, and reported, in the order given. Default: one part.
    fn partition(&self, ops: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..ops.len()).collect()]
    }

    /// A cheap hash of a state for the memo's table. It never decides membership, and no
    /// output depends on it. Default: the state's `Hash` through a fixed FNV-1a hasher.
    fn fingerprint(&self, state: &Self::State) -> u64 {
        fingerprint_of(state)
    }

    /// A part's name in reports (`"key 3"`). Default: its size.
    fn describe_part(&self, ops: &[Operation<Self::Input, Self::Output>], part: &[usize]) -> String {
        let _ = ops;
        format!("a part of {} operations", part.len())
    }

    /// An operation's input and output for counterexamples (`"read -> 3"`).
    fn describe_op(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(o) => format!("{input:?} -> {o:?}"),
            None => format!("{input:?} -> ?"),
        }
    }

    /// A state for counterexamples.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// FNV-1a over the bytes `Hash` feeds it: fixed, unlike std's randomly keyed hasher.
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// [`Model::fingerprint`]'s default: a value's `Hash`, through FNV-1a with its standard basis.
pub fn fingerprint_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = Fnv1a(0xcbf2_9ce4_8422_2325);
    value.hash(&mut h);
    mix64(h.finish())
}

/// Operations grouped by `key_of` their input: keys ascending, each part in history order.
/// Sound for any model whose keys are independent objects (locality, Herlihy and Wing).
pub fn partition_by_key<I, O>(ops: &[Operation<I, O>], key_of: impl Fn(&I) -> u64) -> Vec<Vec<usize>> {
    let mut parts: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        parts.entry(key_of(&op.input)).or_default().push(i);
    }
    let parts: Vec<Vec<usize>> = parts.into_values().collect();
    assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), ops.len(), "each operation is in one part");
    parts
}

/// `"[20 ns, 30 ns]"`, or `"[20 ns, pending]"` for an operation without a completion.
fn describe_interval(invoke: SimTime, complete: Option<SimTime>) -> String {
    match complete {
        Some(c) => format!("[{} ns, {} ns]", invoke.0, c.0),
        None => format!("[{} ns, pending]", invoke.0),
    }
}

/// An operation in full for counterexamples: `"client 1 read -> 3 [40 ns, 50 ns]"`.
pub fn describe_operation<M: Model>(model: &M, op: &ModelOp<M>) -> String {
    format!(
        "client {} {} {}",
        op.client.0,
        model.describe_op(&op.input, op.output.as_ref()),
        describe_interval(op.invoke, op.complete)
    )
}

/// `"absent"` or the number.
fn show(value: Option<u64>) -> String {
    value.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ClientId;

    #[test]
    fn fingerprints_are_fixed_numbers() {
        // Pinned: the default fingerprint must not change from run to run or build to build.
        assert_eq!(fingerprint_of(&0u64), fingerprint_of(&0u64));
        assert_ne!(fingerprint_of(&Some(1u64)), fingerprint_of(&Some(2u64)));
    }

    #[test]
    fn partition_by_key_orders_keys_and_keeps_history_order() {
        let op = |key: u64| Operation {
            client: ClientId(0),
            input: key,
            output: None::<()>,
            invoke: SimTime(0),
            complete: None,
        };
        let ops: Vec<Operation<u64, ()>> = [5, 1, 5, 3, 1].into_iter().map(op).collect();
        assert_eq!(partition_by_key(&ops, |&k| k), vec![vec![1, 4], vec![3], vec![0, 2]]);
        assert!(partition_by_key(&ops[..0], |&k| k).is_empty());
    }
}

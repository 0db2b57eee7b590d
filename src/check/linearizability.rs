//! Linearizability of key-value histories: is there one sequential order of the client
//! operations, consistent with real time, in which every read returns the latest write?
//!
//! # What it owns
//!
//! [`check`] judges a run's [`OpRecord`]s against a register per key (initial value absent;
//! a write sets its value; a read returns the current value). It is generic over the models:
//! Raft, replication and leases all record the same operations.
//!
//! # How the history is read
//!
//! - `Ok`: took effect exactly once, at some instant in `[invoke, complete]`.
//! - `TimedOut`, `Incomplete`: may or may not have taken effect. A write may take effect at
//!   any instant from its invoke on, even after its timeout or the run's end (its completion
//!   counts as +∞). Such a read returned nothing to the client: it is dropped.
//! - `Failed`: dropped, on the assumption that a model answers `Failed` only when it did not
//!   apply the operation. A model that can fail an operation after applying it must report
//!   `TimedOut` instead, or a read of that value is flagged here.
//! - Intervals are closed. An operation invoked at the very nanosecond another completes
//!   overlaps it, and either may be ordered first (at equal times, calls sort before
//!   returns). So a violation is never reported that a finer clock could explain; the price is
//!   that an order fixed within one nanosecond of simulated time is not checked.
//!
//! # Algorithm
//!
//! A history is linearizable iff each key's sub-history is (locality, Herlihy and Wing), so
//! keys are checked one at a time, in key order. Per key: Wing and Gong's depth-first search
//! over call and return entries ordered by time, with Lowe's memo of (set of linearized
//! operations, register value) — the scheme Porcupine uses (the entry list, the set and the
//! memo are shared with the model-based search: `check/search_parts.rs`). Exact reductions
//! on top, each argued where it is made:
//!
//! - before the search, a pending write whose value no successful read returned is dropped,
//!   and one whose value no other write carries gets the earliest completion among the reads
//!   of it instead of +∞ (`prepare_key`);
//! - values no read returned are one value to the search: no read can tell them apart;
//! - an operation that changes nothing observable (a read that fits) is placed alone; of the
//!   writes of unread values, one is tried; writes come most urgent first; and no write is
//!   tried while a read of the register's value is left and no write of it (`open_node`).
//!
//! # Guarantees and limits
//!
//! - Deterministic: operations are numbered in `(invoke, index)` order, entries sorted by a
//!   total key, and the memo is only ever asked membership; nothing depends on hash order
//!   or the clock.
//! - Sound and complete when it answers. `NotLinearizable` comes with the deepest consistent
//!   prefix the search reached and the operation that had to go next but could not.
//! - Exponential in the worst case (the problem is NP-complete; values written twice bring it
//!   back). A key whose search takes more than `max_steps_per_key` steps is `Unknown`, never a
//!   hang; the memo grows by at most one entry per step, each holding only the window of the
//!   linearized set that is neither all done nor all pending.

use crate::check::search_parts::{Entries, Linearized, Memo, NIL};
use crate::history::{OpKind, OpRecord, Outcome};
use serde::Serialize;

/// Limits on the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Search steps allowed per key (a step opens a search node or tries one operation in
    /// it); past it the key is `Unknown`. A step costs well under a microsecond.
    pub max_steps_per_key: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { max_steps_per_key: 1_000_000 }
    }
}

/// The judgement on the whole history. A violation outranks an unknown key; among keys of
/// the same standing the lowest key is named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable { key: u64, detail: String },
    Unknown { key: u64, reason: String },
}

/// What [`check`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub keys_checked: u64,
    /// Operations that entered the search.
    pub ops_searched: u64,
    /// Failed operations, reads without a result and pending writes nobody read.
    pub ops_dropped: u64,
    /// Search steps over all keys.
    pub steps: u64,
    /// The keys that are not linearizable or unknown, in key order.
    pub keys: Vec<KeyReport>,
}

/// One key that is not (known to be) linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    pub key: u64,
    pub ops_searched: u64,
    pub steps: u64,
    pub result: KeyResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyResult {
    NotLinearizable(Counterexample),
    Unknown { reason: String },
}

/// Why a key is not linearizable. Indices point into the slice given to [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// The deepest consistent prefix the search reached, in linearization order.
    pub prefix: Vec<usize>,
    /// The register's value after `prefix`.
    pub state: Option<u64>,
    /// The operation that had to go next (everything invoked after `must_by_ns` follows it)
    /// but could not: a read that returned a value other than `state`, or, with `stranded`,
    /// a write.
    pub blocked: usize,
    /// When `blocked` had to take effect: its completion (for a pending write, the first
    /// completion of a read of its value).
    pub must_by_ns: u64,
    /// A read invoked after `must_by_ns` that returned `state`, of which no write is left:
    /// no write may go next without hiding that value from it.
    pub stranded: Option<usize>,
    /// The other operations that could have gone next; none fits.
    pub others: Vec<usize>,
    /// The explanation, for humans.
    pub detail: String,
}

/// Checks `ops` (a run's client operations, any order) for linearizability, key by key.
pub fn check(ops: &[OpRecord], config: &Config) -> Report {
    check_by_key(ops, &ByKey::new(ops), config)
}

/// [`check`], with the operations already grouped (`by_key` is `ByKey::new(ops)`).
pub fn check_by_key(ops: &[OpRecord], by_key: &ByKey, config: &Config) -> Report {
    let gathered = &by_key.0;
    assert_eq!(gathered.len(), ops.len(), "the grouping is of these operations");
    let mut report = Report {
        verdict: Verdict::Linearizable,
        keys_checked: 0,
        ops_searched: 0,
        ops_dropped: 0,
        steps: 0,
        keys: Vec::new(),
    };
    // Buffers reused from key to key: most keys have a handful of operations.
    let (mut prep, mut kept, mut spare) = (Prep::default(), Vec::new(), Spare::default());
    for group in gathered.chunk_by(|a, b| a.key == b.key) {
        let key = group[0].key;
        report.keys_checked += 1;
        let initial = prepare_key(group, &mut prep, &mut kept);
        report.ops_searched += kept.len() as u64;
        report.ops_dropped += (group.len() - kept.len()) as u64;
        let mut search = Search::new(&kept, initial, spare);
        let end = search.run(config.max_steps_per_key);
        assert!(search.steps <= config.max_steps_per_key, "the search keeps to its budget");
        report.steps += search.steps;
        let steps = search.steps;
        spare = search.into_spare();
        let result = match end {
            SearchEnd::Linearizable => continue,
            SearchEnd::Violation(mut c) => {
                let last_write = c.prefix.iter().rev().find(|&&i| ops[i].kind == OpKind::Write);
                c.state = last_write.and_then(|&i| ops[i].value);
                c.detail = explain(ops, key, kept.len(), &c);
                KeyResult::NotLinearizable(c)
            }
            SearchEnd::OutOfBudget { deepest } => KeyResult::Unknown {
                reason: format!(
                    "key {key}: the search budget of {} steps ran out with at most {deepest} of {} \
                     operations linearized; raise 'max_steps_per_key'",
                    config.max_steps_per_key,
                    kept.len()
                ),
            },
        };
        report.keys.push(KeyReport { key, ops_searched: kept.len() as u64, steps, result });
    }
    assert_eq!(report.ops_searched + report.ops_dropped, ops.len() as u64, "every operation is counted once");
    report.verdict = verdict_of(&report.keys);
    report
}

/// What `prepare_key` reads of an operation, gathered so that each key's operations lie
/// together (the history itself is in completion order: read key by key, it would be read
/// at random).
#[derive(Clone, Copy, Debug)]
struct Gathered {
    /// Index into the checked slice.
    index: usize,
    key: u64,
    kind: OpKind,
    outcome: Outcome,
    value: Option<u64>,
    invoke: u64,
    complete: u64,
}

/// A history's operations grouped by key (keys ascending, each key's in history order),
/// for the checks that go key by key: made once, read by each.
pub struct ByKey(Vec<Gathered>);

impl ByKey {
    pub fn new(ops: &[OpRecord]) -> Self {
        for (i, op) in ops.iter().enumerate() {
            assert!(op.complete >= op.invoke, "an operation completes no earlier than its invoke (op {i})");
        }
        ByKey(by_key(ops))
    }

    /// Successful reads that returned a value no operation tried to write to their key
    /// (see [`crate::check::wrong_reads`]).
    pub fn wrong_reads(&self) -> u64 {
        let mut written: Vec<u64> = Vec::new();
        let mut wrong = 0;
        for group in self.0.chunk_by(|a, b| a.key == b.key) {
            written.clear();
            written.extend(group.iter().filter(|o| o.kind == OpKind::Write).filter_map(|o| o.value));
            written.sort_unstable();
            let ok_reads = group.iter().filter(|o| o.kind == OpKind::Read && o.outcome == Outcome::Ok);
            wrong += ok_reads.filter(|o| o.value.is_some_and(|v| written.binary_search(&v).is_err())).count();
        }
        wrong as u64
    }
}

/// [`ByKey`]'s order. Keys are counted into place when they are small (the workloads' key
/// spaces), else sorted.
fn by_key(ops: &[OpRecord]) -> Vec<Gathered> {
    let gather = |index: usize| {
        let o = &ops[index];
        let (key, kind, outcome, value) = (o.key, o.kind, o.outcome, o.value);
        Gathered { index, key, kind, outcome, value, invoke: o.invoke.0, complete: o.complete.0 }
    };
    let Some(max) = ops.iter().map(|o| o.key).max() else { return Vec::new() };
    if max >= (4 * ops.len() as u64).max(1 << 12) {
        let mut order: Vec<(u64, usize)> = ops.iter().enumerate().map(|(i, o)| (o.key, i)).collect();
        order.sort_unstable();
        return order.iter().map(|&(_, i)| gather(i)).collect();
    }
    // A counting sort: stable, so history order within a key, as the sort gives.
    let mut next = vec![0usize; max as usize + 2];
    for o in ops {
        next[o.key as usize + 1] += 1;
    }
    for k in 1..next.len() {
        next[k] += next[k - 1];
    }
    let mut out = vec![gather(0); ops.len()];
    for i in 0..ops.len() {
        let at = &mut next[ops[i].key as usize];
        out[*at] = gather(i);
        *at += 1;
    }
    out
}

fn verdict_of(keys: &[KeyReport]) -> Verdict {
    let violation = keys.iter().find_map(|k| match &k.result {
        KeyResult::NotLinearizable(c) => {
            Some(Verdict::NotLinearizable { key: k.key, detail: c.detail.clone() })
        }
        KeyResult::Unknown { .. } => None,
    });
    let unknown = || {
        keys.iter().find_map(|k| match &k.result {
            KeyResult::Unknown { reason } => Some(Verdict::Unknown { key: k.key, reason: reason.clone() }),
            KeyResult::NotLinearizable(_) => None,
        })
    };
    violation.or_else(unknown).unwrap_or(Verdict::Linearizable)
}

/// A register value as the search sees it: `UNREAD` for every value no successful read
/// returned (no read can tell them apart), else a distinct number per value read.
type Val = u32;
const UNREAD: Val = 0;

/// One operation as the search sees it.
#[derive(Clone, Copy, Debug)]
struct KeyOp {
    /// Index into the checked slice.
    index: usize,
    write: bool,
    value: Val,
    invoke: u64,
    /// `None`: a pending write that may take effect at any time after `invoke`.
    complete: Option<u64>,
    /// For the search's order only: the completion, or for a write the first completion of
    /// a read of its value if earlier.
    deadline: u64,
}

/// `prepare_key`'s buffers.
#[derive(Default)]
struct Prep {
    reads: Vec<(Option<u64>, u64)>,
    writers: Vec<Option<u64>>,
}

/// The key's operations that enter the search, numbered in `(invoke, index)` order (into
/// `kept`), and the register's initial value (absent).
fn prepare_key(ops: &[Gathered], prep: &mut Prep, kept: &mut Vec<KeyOp>) -> Val {
    // The earliest completion of a successful read of each value, and how many writes that
    // may have been applied carry each value.
    // Sorted (value, completion) of the successful reads, then the earliest per value; and
    // the sorted values of the writes. Sorted vectors, not maps: this runs for every key.
    let Prep { reads, writers } = prep;
    reads.clear();
    writers.clear();
    for op in ops {
        match (op.kind, op.outcome) {
            (_, Outcome::Failed) | (OpKind::Read, Outcome::TimedOut | Outcome::Incomplete) => {}
            (OpKind::Read, Outcome::Ok) => reads.push((op.value, op.complete)),
            (OpKind::Write, _) => writers.push(op.value),
        }
    }
    reads.sort_unstable();
    reads.dedup_by_key(|r| r.0); // keeps the first, the earliest completion
    writers.sort_unstable();
    // A value's place among the read values: its id is its rank, from 1 (`UNREAD` if no
    // read returned it), and the place holds its first read's completion.
    let place = |v: Option<u64>| reads.binary_search_by_key(&v, |r| r.0).ok();
    let val = |at: Option<usize>| at.map_or(UNREAD, |i| i as Val + 1);
    let writers_of =
        |v: Option<u64>| writers.partition_point(|&w| w <= v) - writers.partition_point(|&w| w < v);
    kept.clear();
    for op in ops {
        let skipped = matches!(
            (op.kind, op.outcome),
            (_, Outcome::Failed) | (OpKind::Read, Outcome::TimedOut | Outcome::Incomplete)
        );
        if skipped {
            continue;
        }
        let at = place(op.value);
        let first_read = at.map(|i| reads[i].1);
        let complete = match (op.kind, op.outcome) {
            (_, Outcome::Ok) => Some(op.complete),
            _ => match first_read {
                // A write that may or may not have taken effect (the only kind left).
                None => continue,
                Some(t) if writers_of(op.value) == 1 => Some(t.max(op.invoke)),
                Some(_) => None,
            },
        };
        let write = op.kind == OpKind::Write;
        let read_by = if write { first_read } else { None };
        let deadline = complete.unwrap_or(u64::MAX).min(read_by.unwrap_or(u64::MAX));
        let index = op.index;
        kept.push(KeyOp { index, write, value: val(at), invoke: op.invoke, complete, deadline });
    }
    kept.sort_by_key(|o| (o.invoke, o.index));
    assert!(kept.iter().all(|o| o.write || o.value != UNREAD), "every read's value is a read value");
    assert!(kept.len() < NIL as usize / 2, "a key's operations fit the entry list's u32 indices");
    val(place(None))
}

/// An entry's place in time order: (pending, time, is_return, op). Calls sort before
/// returns at equal times (closed intervals).
type EntryKey = (bool, u64, bool, u32);

/// Rebuilds `list` for `ops`, sorting the entries in `order` (reused). A pending write's
/// return is an entry at +∞, after every finite one: every operation has a return.
fn fill_entries(list: &mut Entries, order: &mut Vec<EntryKey>, ops: &[KeyOp]) {
    order.clear();
    for (i, o) in ops.iter().enumerate() {
        order.push((false, o.invoke, false, i as u32));
        order.push((o.complete.is_none(), o.complete.unwrap_or(0), true, i as u32));
    }
    order.sort_unstable();
    let without_return = list.fill(ops.len(), order.iter().map(|&(_, _, is_return, op)| (is_return, op)));
    assert_eq!(without_return, 0, "every operation has a return entry (a pending write's at +∞)");
}

enum SearchEnd {
    Linearizable,
    /// Indices are into the checked slice; `state` and `detail` are left to the caller.
    Violation(Counterexample),
    OutOfBudget {
        deepest: usize,
    },
}

/// A node where nothing could go next, as [`Counterexample`] describes it (indices are
/// the search's). `stranding`: writes were barred because a read of `state` is left.
struct DeadEnd {
    blocked: u32,
    state: Val,
    others: Vec<u32>,
    stranding: bool,
}

/// The deepest dead end so far, with the stack's operations then, kept up to date by
/// copying only the part of the stack that changed since (`shared` entries still agree).
#[derive(Default)]
struct Deepest {
    prefix: Vec<u32>,
    shared: usize,
    dead_end: Option<DeadEnd>,
    depth_max: usize,
}

/// A node of the search: its candidates, `cands[start..end]` in the order they are tried,
/// the next one to try, and the first return entry (whose operation must go before any later
/// call).
struct Node {
    start: usize,
    end: usize,
    next: usize,
    ret: u32,
    /// Writes were left out because a read of the register's value is left (see `open_node`).
    stranding: bool,
}

struct Search<'a> {
    ops: &'a [KeyOp],
    list: Entries,
    /// `fill_entries`' scratch, kept for the next key.
    order: Vec<EntryKey>,
    linearized: Linearized,
    memo: Memo<Val>,
    /// The placed calls, in order, with the register's value before each.
    stack: Vec<(u32, Val)>,
    /// The open nodes: one more than placed calls.
    nodes: Vec<Node>,
    /// The candidates of every open node, end to end.
    cands: Vec<u32>,
    /// The register after the placed operations.
    state: Val,
    /// Operations with a finite completion not placed yet.
    finite_left: usize,
    /// Reads and writes not placed yet, by value.
    reads_left: Vec<u32>,
    writes_left: Vec<u32>,
    deepest: Deepest,
    steps: u64,
}

/// The register: the value after applying `op` to `state`, or `None` if a read disagrees.
fn apply(state: Val, op: &KeyOp) -> Option<Val> {
    if op.write {
        Some(op.value)
    } else {
        (op.value == state).then_some(state)
    }
}

/// A search's memory, handed from one key's search to the next.
#[derive(Default)]
struct Spare {
    list: Entries,
    order: Vec<EntryKey>,
    words: Vec<u64>,
    memo: Memo<Val>,
    stack: Vec<(u32, Val)>,
    nodes: Vec<Node>,
    cands: Vec<u32>,
    reads_left: Vec<u32>,
    writes_left: Vec<u32>,
    prefix: Vec<u32>,
}

impl<'a> Search<'a> {
    fn new(ops: &'a [KeyOp], initial: Val, spare: Spare) -> Self {
        let Spare {
            mut list,
            mut order,
            words,
            mut memo,
            mut stack,
            mut nodes,
            mut cands,
            mut reads_left,
            mut writes_left,
            mut prefix,
        } = spare;
        let vals = ops.iter().map(|o| o.value).max().unwrap_or(UNREAD).max(initial) as usize + 1;
        for left in [&mut reads_left, &mut writes_left] {
            left.clear();
            left.resize(vals, 0);
        }
        for o in ops {
            let left = if o.write { &mut writes_left } else { &mut reads_left };
            left[o.value as usize] += 1;
        }
        fill_entries(&mut list, &mut order, ops);
        memo.clear();
        stack.clear();
        nodes.clear();
        cands.clear();
        prefix.clear();
        Search {
            ops,
            list,
            order,
            linearized: Linearized::new(ops.len(), words),
            memo,
            stack,
            nodes,
            cands,
            state: initial,
            finite_left: ops.iter().filter(|o| o.complete.is_some()).count(),
            reads_left,
            writes_left,
            deepest: Deepest { prefix, shared: 0, dead_end: None, depth_max: 0 },
            steps: 0,
        }
    }

    /// The memory, for the next key's search.
    fn into_spare(self) -> Spare {
        Spare {
            list: self.list,
            order: self.order,
            words: self.linearized.into_words(),
            memo: self.memo,
            stack: self.stack,
            nodes: self.nodes,
            cands: self.cands,
            reads_left: self.reads_left,
            writes_left: self.writes_left,
            prefix: self.deepest.prefix,
        }
    }

    /// Wing and Gong's search with Lowe's memo: place, one at a time, an operation invoked
    /// before the first pending return; back up when none fits. Success once every
    /// operation with a finite completion is placed: pending writes left over never took
    /// effect. A step opens a node or tries one candidate.
    fn run(&mut self, budget: u64) -> SearchEnd {
        while self.finite_left > 0 {
            if self.steps == budget {
                return SearchEnd::OutOfBudget { deepest: self.deepest.depth_max };
            }
            self.steps += 1;
            if self.nodes.len() == self.stack.len() {
                self.open_node();
                continue;
            }
            let node = self.nodes.last_mut().expect("a node is open");
            if node.next == node.end {
                self.close_node();
                if self.nodes.is_empty() {
                    return self.violation();
                }
                self.unplace();
                continue;
            }
            let call = self.cands[node.next];
            node.next += 1;
            let i = self.list.op(call) as usize;
            let after = apply(self.state, &self.ops[i]).expect("every candidate fits the register");
            self.linearized.set(i);
            if !self.memo.insert(&self.linearized, &after, u64::from(after)) {
                self.linearized.clear(i);
                continue;
            }
            self.stack.push((call, self.state));
            self.deepest.depth_max = self.deepest.depth_max.max(self.stack.len());
            self.state = after;
            self.list.lift(call);
            self.finite_left -= usize::from(self.ops[i].complete.is_some());
            *self.left_mut(i) -= 1;
        }
        assert!(self.stack.len() <= self.ops.len(), "each operation is placed at most once");
        assert!(self.deepest.depth_max >= self.stack.len(), "the deepest point is tracked");
        SearchEnd::Linearizable
    }

    /// Lists the node's candidates among the calls before the first return. An operation
    /// that changes nothing observable (a read that fits the register; an unread write while
    /// the register holds an unread value) is the only one: any completion stays valid with
    /// it moved to the front. Nothing left completed before it was invoked, and taken from
    /// its old place it changes nothing: a read never does, and no read followed the unread
    /// write before the next write, or that read would have returned its value. So if placing
    /// it fails, the node fails. Otherwise the candidates are the writes, most urgent first
    /// (earliest completion or first read of their value), but only one of those whose value
    /// nobody read: after any of them the others are forced, so all lead to the same place.
    /// Reads that disagree never fit. And no write at all if a read of the register's value
    /// is left but no write of it: after any write that read could never see it.
    fn open_node(&mut self) {
        let (ops, start) = (self.ops, self.cands.len());
        let urgency = |list: &Entries, c: u32| {
            let i = list.op(c);
            (ops[i as usize].deadline, i)
        };
        let (mut forced, mut unread) = (None, None);
        let mut node = self.list.first();
        while node != NIL && self.list.is_call(node) {
            let op = &ops[self.list.op(node) as usize];
            if forced.is_none() && op.value == self.state && (!op.write || op.value == UNREAD) {
                forced = Some(node);
            } else if op.write && op.value == UNREAD {
                if unread.is_none_or(|u| urgency(&self.list, node) < urgency(&self.list, u)) {
                    unread = Some(node);
                }
            } else if op.write {
                self.cands.push(node);
            }
            node = self.list.next(node);
        }
        assert!(node != NIL, "with operations left to place, a finite return is pending");
        let s = self.state as usize;
        let stranding = forced.is_none()
            && self.state != UNREAD
            && self.reads_left[s] > 0
            && self.writes_left[s] == 0
            && (self.cands.len() > start || unread.is_some());
        if let Some(op) = forced {
            self.cands.truncate(start);
            self.cands.push(op);
        } else if stranding {
            self.cands.truncate(start);
        } else {
            self.cands.extend(unread);
            let list = &self.list;
            self.cands[start..].sort_unstable_by_key(|&c| urgency(list, c));
        }
        self.nodes.push(Node { start, end: self.cands.len(), next: start, ret: node, stranding });
        assert_eq!(self.nodes.len(), self.stack.len() + 1, "one node per placed operation, and the root");
    }

    /// Every candidate of the innermost node failed: note the dead end and drop the node.
    fn close_node(&mut self) {
        let node = self.nodes.pop().expect("a node is open");
        assert_eq!(self.cands.len(), node.end, "the innermost node owns the end of the candidates");
        self.cands.truncate(node.start);
        self.note_dead_end(node.ret, node.stranding);
    }

    fn left_mut(&mut self, i: usize) -> &mut u32 {
        let o = &self.ops[i];
        let left = if o.write { &mut self.writes_left } else { &mut self.reads_left };
        &mut left[o.value as usize]
    }

    /// Takes back the last placed operation, returning to its node.
    fn unplace(&mut self) {
        let (call, before) = self.stack.pop().expect("a closed node below the root had a placement");
        self.deepest.shared = self.deepest.shared.min(self.stack.len());
        let j = self.list.op(call) as usize;
        self.linearized.clear(j);
        self.list.unlift(call);
        self.finite_left += usize::from(self.ops[j].complete.is_some());
        *self.left_mut(j) += 1;
        assert!(
            apply(before, &self.ops[j]) == Some(self.state),
            "the stack records the register before each op"
        );
        self.state = before;
    }

    /// At a node where nothing fits (`ret` is its first return, whose operation had to go
    /// next): remember it if it is the deepest.
    fn note_dead_end(&mut self, ret: u32, stranding: bool) {
        let d = &mut self.deepest;
        if d.dead_end.is_some() && self.stack.len() <= d.prefix.len() {
            return;
        }
        d.prefix.truncate(d.shared);
        d.prefix.extend(self.stack[d.shared..].iter().map(|&(call, _)| self.list.op(call)));
        d.shared = self.stack.len();
        let (blocked, others) = self.list.blocked_at(ret);
        d.dead_end = Some(DeadEnd { blocked, state: self.state, others, stranding });
        assert_eq!(d.prefix.len(), self.stack.len(), "the recorded prefix is the stack");
    }

    /// The counterexample from the deepest dead end. There, whatever fit would have led
    /// deeper: so the blocked operation and the others are reads that disagree with the
    /// register, or writes barred by a stranded read.
    fn violation(&mut self) -> SearchEnd {
        assert!(self.stack.is_empty() && self.cands.is_empty(), "the root failed last");
        let end = self.deepest.dead_end.take().expect("a failed search met a dead end");
        let ops = self.ops;
        let unfit = |op: &u32| {
            let o = &ops[*op as usize];
            (o.write && end.stranding) || (!o.write && o.value != end.state)
        };
        assert!(unfit(&end.blocked), "the blocked operation does not fit");
        assert!(end.others.iter().all(unfit), "no other operation that may go next fits");
        let stranded = end.stranding.then(|| {
            let mut placed = vec![false; ops.len()];
            self.deepest.prefix.iter().for_each(|&i| placed[i as usize] = true);
            let left = (0..ops.len()).filter(|&i| !placed[i] && !ops[i].write && ops[i].value == end.state);
            let first = left.min_by_key(|&i| (ops[i].invoke, i)).expect("a stranded read is left");
            ops[first].index
        });
        SearchEnd::Violation(Counterexample {
            prefix: self.deepest.prefix.iter().map(|&i| ops[i as usize].index).collect(),
            state: None,
            blocked: ops[end.blocked as usize].index,
            must_by_ns: ops[end.blocked as usize].complete.expect("a blocked operation completes"),
            stranded,
            others: end.others.iter().map(|&i| ops[i as usize].index).collect(),
            detail: String::new(),
        })
    }
}

fn show(value: Option<u64>) -> String {
    value.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

fn describe(op: &OpRecord) -> String {
    let what = match op.kind {
        OpKind::Write => format!("write {}", show(op.value)),
        OpKind::Read => format!("read -> {}", show(op.value)),
    };
    let outcome = match op.outcome {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
        Outcome::TimedOut => "timed out",
        Outcome::Incomplete => "incomplete",
    };
    format!("client {} {what} [{} ns, {} ns] {outcome}", op.client.0, op.invoke.0, op.complete.0)
}

fn explain(ops: &[OpRecord], key: u64, searched: usize, c: &Counterexample) -> String {
    const SHOWN: usize = 3;
    let list = |indices: &[usize]| {
        let shown: Vec<String> = indices.iter().take(SHOWN).map(|&i| describe(&ops[i])).collect();
        let more = indices.len().saturating_sub(SHOWN);
        if more > 0 {
            format!("{}; and {more} more", shown.join("; "))
        } else {
            shown.join("; ")
        }
    };
    let tail: Vec<usize> = c.prefix.iter().rev().take(SHOWN).rev().copied().collect();
    let elided = if c.prefix.len() > SHOWN { "...; " } else { "" };
    let placed = if tail.is_empty() { String::new() } else { format!(" ({elided}{})", list(&tail)) };
    let (b, state) = (&ops[c.blocked], show(c.state));
    let mut detail = format!(
        "key {key}: not linearizable: the search's deepest consistent prefix places {} of {searched} \
         operations{placed}, after which the register holds {state}; then {} must take effect by {} ns",
        c.prefix.len(),
        describe(b),
        c.must_by_ns,
    );
    if b.kind == OpKind::Write && b.outcome != Outcome::Ok {
        detail += " (when the first read of its value completed)";
    }
    let stranded = c.stranded.map(|i| describe(&ops[i]));
    match (b.kind, &stranded) {
        (OpKind::Write, Some(r)) => {
            detail +=
                &format!(", but that would hide {state} from {r}, invoked later, and no write of it is left")
        }
        (OpKind::Read, Some(r)) => {
            detail += &format!(
                " but it returned {}, and no write may go first: {r}, invoked later, must still see {state}",
                show(b.value)
            )
        }
        (OpKind::Read, None) => detail += &format!(" but it returned {}", show(b.value)),
        (OpKind::Write, None) => unreachable!("a write is blocked only by a stranded read"),
    }
    if !c.others.is_empty() {
        let kind = if stranded.is_some() { "" } else { "reads that disagree too: " };
        detail +=
            &format!("; the other operations that may go next do not fit either ({kind}{})", list(&c.others));
    }
    let writes: Vec<&OpRecord> =
        ops.iter().filter(|o| o.key == key && o.kind == OpKind::Write && o.value == b.value).collect();
    if b.kind == OpKind::Read && b.value.is_some() && writes.is_empty() {
        detail += &format!("; no operation ever wrote {} to this key", show(b.value));
    } else if b.kind == OpKind::Read
        && !writes.is_empty()
        && writes.iter().all(|o| o.outcome == Outcome::Failed)
    {
        detail +=
            &format!("; only failed writes wrote {} (a failed write is taken as not applied)", show(b.value));
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ClientId;
    use crate::sim::{RngStream, SimTime};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn op(
        client: u32,
        kind: OpKind,
        key: u64,
        value: Option<u64>,
        span: (u64, u64),
        outcome: Outcome,
    ) -> OpRecord {
        OpRecord {
            client: ClientId(client),
            kind,
            key,
            value,
            invoke: SimTime(span.0),
            complete: SimTime(span.1),
            outcome,
            attempts: 1,
        }
    }

    fn w(client: u32, value: u64, invoke: u64, complete: u64) -> OpRecord {
        op(client, OpKind::Write, 1, Some(value), (invoke, complete), Outcome::Ok)
    }

    fn r(client: u32, value: Option<u64>, invoke: u64, complete: u64) -> OpRecord {
        op(client, OpKind::Read, 1, value, (invoke, complete), Outcome::Ok)
    }

    fn ended(mut o: OpRecord, outcome: Outcome) -> OpRecord {
        o.outcome = outcome;
        o
    }

    fn on_key(mut o: OpRecord, key: u64) -> OpRecord {
        o.key = key;
        o
    }

    fn verdict(ops: &[OpRecord]) -> Verdict {
        check(ops, &Config::default()).verdict
    }

    fn assert_linearizable(ops: &[OpRecord]) {
        let report = check(ops, &Config::default());
        assert_eq!(report.verdict, Verdict::Linearizable, "{report:#?}");
    }

    /// The counterexample of the only failing key.
    fn counterexample(ops: &[OpRecord]) -> Counterexample {
        let report = check(ops, &Config::default());
        assert!(matches!(report.verdict, Verdict::NotLinearizable { .. }), "{report:#?}");
        assert_eq!(report.keys.len(), 1);
        match report.keys[0].result.clone() {
            KeyResult::NotLinearizable(c) => c,
            other => panic!("expected a counterexample, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        let report = check(&[], &Config::default());
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!((report.keys_checked, report.ops_searched, report.steps), (0, 0, 0));
    }

    #[test]
    fn a_sequential_history_is_linearizable() {
        assert_linearizable(&[r(0, None, 0, 5), w(0, 1, 10, 20), r(1, Some(1), 30, 40), w(1, 2, 50, 60)]);
        assert_linearizable(&[w(0, 1, 0, 10), r(0, Some(1), 20, 30), w(0, 2, 40, 50), r(0, Some(2), 60, 70)]);
    }

    #[test]
    fn a_read_after_concurrent_writes_may_see_either() {
        for seen in [1, 2] {
            assert_linearizable(&[w(0, 1, 0, 100), w(1, 2, 10, 90), r(2, Some(seen), 200, 300)]);
        }
        // But once one is seen after both completed, the other cannot come back.
        let ops = [w(0, 1, 0, 100), w(1, 2, 10, 90), r(2, Some(2), 200, 300), r(2, Some(1), 400, 500)];
        let c = counterexample(&ops);
        // Explained from the other side: once 2 is there, writing 1 would hide it from the
        // read of 2, invoked after the write of 1 completed.
        assert_eq!((c.prefix.clone(), c.state, c.blocked, c.stranded), (vec![1], Some(2), 0, Some(2)));
    }

    #[test]
    fn a_read_concurrent_with_a_write_may_see_old_or_new() {
        for seen in [Some(1), Some(2)] {
            assert_linearizable(&[w(0, 1, 0, 10), w(0, 2, 20, 40), r(1, seen, 25, 35)]);
        }
        assert_linearizable(&[w(0, 1, 0, 10), r(1, None, 5, 15)]);
        // Both readers may see the new value while the write is still in flight.
        assert_linearizable(&[w(0, 1, 0, 100), r(1, Some(1), 10, 20), r(2, None, 5, 50)]);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not_linearizable() {
        let ops = [w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, Some(1), 40, 50)];
        let c = counterexample(&ops);
        assert_eq!((c.prefix.clone(), c.state, c.blocked, c.stranded), (vec![0], Some(1), 1, Some(2)));
        assert_eq!(c.must_by_ns, 30);
        let expected = "key 1: not linearizable: the search's deepest consistent prefix places 1 of 3 \
            operations (client 0 write 1 [0 ns, 10 ns] ok), after which the register holds 1; then \
            client 0 write 2 [20 ns, 30 ns] ok must take effect by 30 ns, but that would hide 1 from \
            client 1 read -> 1 [40 ns, 50 ns] ok, invoked later, and no write of it is left";
        assert_eq!(c.detail, expected);
    }

    #[test]
    fn a_flip_flop_read_is_not_linearizable() {
        // The write of 2 is in flight throughout, but once a read saw 2 a later one cannot see 1.
        let ops = [w(0, 1, 0, 10), w(0, 2, 20, 100), r(1, Some(2), 30, 40), r(1, Some(1), 50, 60)];
        let c = counterexample(&ops);
        assert_eq!((c.prefix.clone(), c.state, c.blocked, c.stranded), (vec![0], Some(1), 2, Some(3)));
        assert!(c.detail.contains("but it returned 2, and no write may go first"), "{}", c.detail);
        // Reversed (old, then new) it is fine.
        assert_linearizable(&[
            w(0, 1, 0, 10),
            w(0, 2, 20, 100),
            r(1, Some(1), 30, 40),
            r(1, Some(2), 50, 60),
        ]);
    }

    #[test]
    fn a_read_of_a_value_never_written_is_not_linearizable() {
        let c = counterexample(&[w(0, 1, 0, 10), r(1, Some(7), 20, 30)]);
        assert_eq!(c.blocked, 1);
        assert!(c.detail.contains("no operation ever wrote 7 to this key"), "{}", c.detail);
        // Seeing absent after a completed write is a stale read, not a corruption.
        let c = counterexample(&[w(0, 1, 0, 10), r(1, None, 20, 30)]);
        assert!(!c.detail.contains("ever wrote"), "{}", c.detail);
    }

    #[test]
    fn intervals_are_closed_so_touching_operations_overlap() {
        // The read is invoked at the instant the write completes: either order is allowed.
        assert_linearizable(&[w(0, 1, 0, 10), r(1, None, 10, 20)]);
        assert_linearizable(&[r(1, Some(1), 0, 10), w(0, 1, 10, 20)]);
        // One nanosecond apart they are ordered.
        let c = counterexample(&[w(0, 1, 0, 10), r(1, None, 11, 20)]);
        assert_eq!((c.blocked, c.stranded), (0, Some(1)));
        assert_eq!(counterexample(&[r(1, Some(1), 0, 10), w(0, 1, 11, 20)]).blocked, 0);
        // Zero-length operations at the same instant overlap as well.
        assert_linearizable(&[r(1, Some(1), 5, 5), w(0, 1, 5, 5), r(2, None, 5, 5)]);
    }

    #[test]
    fn a_timed_out_write_may_take_effect_later_or_never() {
        let timed_out = ended(w(0, 2, 20, 30), Outcome::TimedOut);
        // Seen, even long after its timeout, and after a read that did not see it yet.
        assert_linearizable(&[
            w(0, 1, 0, 10),
            timed_out.clone(),
            r(1, Some(1), 40, 50),
            r(1, Some(2), 60, 70),
        ]);
        // Never seen.
        assert_linearizable(&[
            w(0, 1, 0, 10),
            timed_out.clone(),
            r(1, Some(1), 40, 50),
            r(1, Some(1), 60, 70),
        ]);
        // Seen, then not seen, with no other write: it cannot be undone.
        let ops = [w(0, 1, 0, 10), timed_out, r(1, Some(2), 40, 50), r(1, Some(1), 60, 70)];
        let c = counterexample(&ops);
        // It had to land by the read of 2 (50 ns), hiding 1 from the read after.
        assert_eq!((c.state, c.blocked, c.must_by_ns, c.stranded), (Some(1), 1, 50, Some(3)));
        // Seen before it was invoked: impossible.
        let ops = [w(0, 1, 0, 10), r(1, Some(2), 12, 15), ended(w(0, 2, 20, 30), Outcome::TimedOut)];
        assert_eq!(counterexample(&ops).blocked, 1);
    }

    #[test]
    fn a_pending_write_with_a_shared_value_may_take_effect_after_its_twin() {
        // Two writes of 5: the first read of 5 may see the first, and the timed-out one may
        // land after the write of 6, long after that read.
        let ops = [
            w(0, 5, 0, 10),
            ended(w(0, 5, 20, 30), Outcome::TimedOut),
            r(1, Some(5), 32, 35),
            w(0, 6, 40, 50),
            r(1, Some(5), 60, 70),
        ];
        assert_linearizable(&ops);
        // With a unique value, the timed-out write must land before the first read of it.
        let unique = [
            ended(w(0, 5, 20, 30), Outcome::TimedOut),
            r(1, Some(5), 32, 35),
            w(0, 6, 40, 50),
            r(1, Some(5), 60, 70),
        ];
        let c = counterexample(&unique);
        assert_eq!((c.state, c.blocked, c.stranded), (Some(5), 2, Some(3)));
        let ok_twin = [w(0, 5, 0, 10), w(0, 5, 20, 30), w(0, 6, 40, 50), r(1, Some(5), 60, 70)];
        let c = counterexample(&ok_twin);
        assert_eq!((c.state, c.blocked, c.stranded), (Some(5), 2, Some(3)));
    }

    #[test]
    fn a_write_of_the_value_the_register_holds_is_not_forced_first() {
        // The second write of 5 must land after the read of 6, though 5 is already there.
        let ops = [
            w(0, 5, 0, 10),
            w(1, 5, 20, 100),
            w(2, 6, 20, 100),
            r(3, Some(6), 30, 40),
            r(3, Some(5), 110, 120),
        ];
        assert_linearizable(&ops);
    }

    #[test]
    fn concurrent_writes_nobody_read_are_cheap() {
        // 40 concurrent writes whose values nobody read, beside the write of 7 that was read.
        let mut ops: Vec<OpRecord> = (1..=40).map(|v| w(v, 100 + u64::from(v), 0, 100)).collect();
        ops.push(w(0, 7, 0, 100));
        ops.push(r(0, Some(7), 200, 210));
        let budget = Config { max_steps_per_key: 1_000 };
        assert_eq!(check(&ops, &budget).verdict, Verdict::Linearizable);
        ops.push(r(0, None, 220, 230));
        let report = check(&ops, &budget);
        match &report.keys[..] {
            [KeyReport { result: KeyResult::NotLinearizable(c), .. }] => {
                assert_eq!((c.prefix.len(), c.state, c.blocked, c.stranded), (0, None, 0, Some(42)))
            }
            other => panic!("expected one counterexample, got {other:?}"),
        }
    }

    #[test]
    fn incomplete_operations_are_pending() {
        let incomplete_write = ended(w(0, 2, 20, 1_000), Outcome::Incomplete);
        assert_linearizable(&[w(0, 1, 0, 10), incomplete_write.clone(), r(1, Some(2), 30, 40)]);
        assert_linearizable(&[w(0, 1, 0, 10), incomplete_write.clone(), r(1, Some(1), 30, 40)]);
        // An incomplete or timed-out read returned nothing: its recorded value is ignored.
        let lost_reads = [
            w(0, 1, 0, 10),
            ended(r(1, Some(99), 20, 1_000), Outcome::Incomplete),
            ended(r(2, None, 20, 30), Outcome::TimedOut),
        ];
        let report = check(&lost_reads, &Config::default());
        assert_eq!((report.verdict, report.ops_searched, report.ops_dropped), (Verdict::Linearizable, 1, 2));
        // A pending write nobody read is dropped before the search.
        let unread = [w(0, 1, 0, 10), incomplete_write, r(1, Some(1), 30, 40)];
        assert_eq!(check(&unread, &Config::default()).ops_dropped, 1);
    }

    #[test]
    fn a_failed_write_whose_value_is_read_is_not_linearizable() {
        let ops = [w(0, 1, 0, 10), ended(w(0, 2, 20, 30), Outcome::Failed), r(1, Some(2), 40, 50)];
        let c = counterexample(&ops);
        assert_eq!(c.blocked, 2);
        assert!(c.detail.contains("only failed writes wrote 2"), "{}", c.detail);
        // A failed write nobody read is harmless, and a failed read is ignored.
        assert_linearizable(&[
            w(0, 1, 0, 10),
            ended(w(0, 2, 20, 30), Outcome::Failed),
            r(1, Some(1), 40, 50),
            ended(r(1, Some(42), 60, 70), Outcome::Failed),
        ]);
    }

    #[test]
    fn the_verdict_names_the_only_bad_key() {
        let mut ops = Vec::new();
        for key in [3, 1, 2] {
            ops.push(on_key(w(0, 10 * key, 0, 10), key));
            ops.push(on_key(w(1, 10 * key + 1, 20, 30), key));
            let seen = if key == 2 { 10 * key } else { 10 * key + 1 };
            ops.push(on_key(r(2, Some(seen), 40, 50), key));
        }
        let report = check(&ops, &Config::default());
        assert_eq!(report.keys_checked, 3);
        assert_eq!(report.keys.len(), 1);
        assert_eq!(report.keys[0].key, 2);
        match &report.verdict {
            Verdict::NotLinearizable { key, detail } => {
                assert_eq!(*key, 2);
                assert!(detail.starts_with("key 2: not linearizable"), "{detail}");
            }
            other => panic!("expected a violation on key 2, got {other:?}"),
        }
        // A violation outranks an unknown key, and both are listed.
        ops.extend(hard_key(9, 12));
        let report = check(&ops, &Config { max_steps_per_key: 5_000 });
        assert!(matches!(report.verdict, Verdict::NotLinearizable { key: 2, .. }), "{:?}", report.verdict);
        assert_eq!(report.keys.iter().map(|k| k.key).collect::<Vec<_>>(), vec![2, 9]);
    }

    /// Two writes each of 1..=n, all concurrent, then reads that see 1, 2, ..., n and 1 again:
    /// not linearizable, but with every value written twice the search tries exponentially
    /// many (set, last write) pairs to find out.
    fn hard_key(key: u64, n: u64) -> Vec<OpRecord> {
        let writes = (1..=2 * n).map(|c| on_key(w(c as u32, c.div_ceil(2), 0, 100), key));
        let mut ops: Vec<OpRecord> = writes.collect();
        for (i, seen) in (1..=n).chain([1]).enumerate() {
            ops.push(on_key(r(0, Some(seen), 200 + 20 * i as u64, 210 + 20 * i as u64), key));
        }
        ops
    }

    #[test]
    fn a_search_past_its_budget_is_unknown_not_a_hang() {
        let ops = hard_key(4, 40);
        let report = check(&ops, &Config { max_steps_per_key: 10_000 });
        match &report.verdict {
            Verdict::Unknown { key, reason } => {
                assert_eq!(*key, 4);
                assert!(reason.contains("raise 'max_steps_per_key'"), "{reason}");
            }
            other => panic!("expected unknown, got {other:?}"),
        }
        assert_eq!(report.steps, 10_000);
        // A small instance of the same shape is decided.
        let report = check(&hard_key(4, 4), &Config::default());
        assert!(matches!(report.verdict, Verdict::NotLinearizable { key: 4, .. }), "{:?}", report.verdict);
    }

    #[test]
    fn the_report_is_deterministic() {
        let ops = register_history(&specs_from_seed(7, 600, 8, 10));
        assert_eq!(check(&ops, &Config::default()), check(&ops, &Config::default()));
    }

    #[test]
    fn five_thousand_operations_over_a_hundred_keys_are_linearizable() {
        // Timed by running this test alone in release mode; the test asserts only the verdict.
        let ops = register_history(&specs_from_seed(42, 5_000, 8, 100));
        let report = check(&ops, &Config::default());
        assert_eq!(report.verdict, Verdict::Linearizable, "{report:#?}");
        assert_eq!(report.keys_checked, 100);
    }

    /// One operation of a generated history: who, what, and where in time it takes effect.
    #[derive(Clone, Debug)]
    struct Spec {
        client: u32,
        key: u64,
        write: bool,
        gap: u64,
        duration: u64,
        /// Where in its interval the op takes effect, in percent (up to 200 for a timed-out
        /// write, which may take effect after its timeout).
        effect_pct: u64,
        /// 0: failed; 1: timed out, applied; 2: timed out, not applied; 3: incomplete,
        /// applied; 4: incomplete, not applied; otherwise ok.
        fate: u8,
    }

    fn specs_from_seed(seed: u64, n: usize, clients: u64, keys: u64) -> Vec<Spec> {
        let mut rng = RngStream::new(seed, "linearizability-test");
        (0..n)
            .map(|_| Spec {
                client: rng.below(clients) as u32,
                key: rng.below(keys),
                write: rng.chance(0.4),
                gap: rng.below(20),
                duration: rng.below(100),
                effect_pct: rng.below(201),
                fate: rng.below(30) as u8,
            })
            .collect()
    }

    /// A history of a real linearizable register: each client runs its operations one after
    /// another, and each takes effect at one instant inside its interval.
    fn register_history(specs: &[Spec]) -> Vec<OpRecord> {
        let mut cursor: BTreeMap<u32, u64> = BTreeMap::new();
        let mut ops = Vec::with_capacity(specs.len());
        let mut effects: Vec<(u64, usize)> = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let invoke = cursor.get(&s.client).copied().unwrap_or(0) + s.gap;
            let complete = invoke + s.duration;
            cursor.insert(s.client, complete);
            let (outcome, applied) = match s.fate {
                0 => (Outcome::Failed, false),
                1 => (Outcome::TimedOut, true),
                2 => (Outcome::TimedOut, false),
                3 => (Outcome::Incomplete, true),
                4 => (Outcome::Incomplete, false),
                _ => (Outcome::Ok, true),
            };
            let kind = if s.write { OpKind::Write } else { OpKind::Read };
            let value = if s.write { Some(i as u64 + 1) } else { Some(999_999) };
            ops.push(op(s.client, kind, s.key, value, (invoke, complete), outcome));
            let late = s.write && outcome != Outcome::Ok;
            let pct = if late { s.effect_pct } else { s.effect_pct.min(100) };
            if applied && (s.write || outcome == Outcome::Ok) {
                effects.push((invoke + s.duration * pct / 100, i));
            }
        }
        effects.sort_unstable();
        let mut register: BTreeMap<u64, u64> = BTreeMap::new();
        for (_, i) in effects {
            let o = &mut ops[i];
            match o.kind {
                OpKind::Write => {
                    register.insert(o.key, o.value.expect("generated writes carry a value"));
                }
                OpKind::Read => o.value = register.get(&o.key).copied(),
            }
        }
        ops
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (0u32..4, 0u64..3, any::<bool>(), 0u64..4, 0u64..6, 0u64..=200, 0u8..10).prop_map(
            |(client, key, write, gap, duration, effect_pct, fate)| Spec {
                client,
                key,
                write,
                gap,
                duration,
                effect_pct,
                fate,
            },
        )
    }

    /// A reference: tries every order of the key's operations (pending writes may be left out).
    fn brute_force(ops: &[OpRecord]) -> bool {
        // (write, value, invoke, complete; None: pending)
        let kept: Vec<(bool, Option<u64>, u64, Option<u64>)> = ops
            .iter()
            .filter_map(|o| match (o.kind, o.outcome) {
                (_, Outcome::Failed) | (OpKind::Read, Outcome::TimedOut | Outcome::Incomplete) => None,
                (kind, Outcome::Ok) => Some((kind == OpKind::Write, o.value, o.invoke.0, Some(o.complete.0))),
                (OpKind::Write, _) => Some((true, o.value, o.invoke.0, None)),
            })
            .collect();
        fn go(
            ops: &[(bool, Option<u64>, u64, Option<u64>)],
            left: &mut Vec<usize>,
            state: Option<u64>,
        ) -> bool {
            if left.iter().all(|&i| ops[i].3.is_none()) {
                return true;
            }
            for k in 0..left.len() {
                let x = ops[left[k]];
                let must_wait = left.iter().any(|&y| y != left[k] && ops[y].3.is_some_and(|c| c < x.2));
                if must_wait || (!x.0 && x.1 != state) {
                    continue;
                }
                let taken = left.remove(k);
                let ok = go(ops, left, if x.0 { x.1 } else { state });
                left.insert(k, taken);
                if ok {
                    return true;
                }
            }
            false
        }
        go(&kept, &mut (0..kept.len()).collect(), None)
    }

    fn small_op() -> impl Strategy<Value = OpRecord> {
        let outcome = prop_oneof![
            6 => Just(Outcome::Ok),
            1 => Just(Outcome::Failed),
            2 => Just(Outcome::TimedOut),
            1 => Just(Outcome::Incomplete),
        ];
        (any::<bool>(), 0u64..4, 0u64..8, 0u64..5, outcome).prop_map(|(write, v, invoke, len, outcome)| {
            let value = if v == 0 && !write { None } else { Some(v.max(1)) };
            let kind = if write { OpKind::Write } else { OpKind::Read };
            op(0, kind, 1, value, (invoke, invoke + len), outcome)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn a_real_register_is_always_linearizable(specs in prop::collection::vec(spec(), 0..40)) {
            let ops = register_history(&specs);
            prop_assert_eq!(verdict(&ops), Verdict::Linearizable);
        }

        #[test]
        fn a_read_of_a_value_never_written_is_always_caught(
            specs in prop::collection::vec(spec(), 1..40),
            pick in any::<prop::sample::Index>(),
        ) {
            let mut ops = register_history(&specs);
            let reads: Vec<usize> = (0..ops.len())
                .filter(|&i| ops[i].kind == OpKind::Read && ops[i].outcome == Outcome::Ok)
                .collect();
            prop_assume!(!reads.is_empty());
            let i = reads[pick.index(reads.len())];
            ops[i].value = Some(u64::MAX);
            let report = check(&ops, &Config::default());
            let is_violation = matches!(report.verdict, Verdict::NotLinearizable { key, .. } if key == ops[i].key);
            prop_assert!(is_violation, "{:?}", report.verdict);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Counting keys into place (small keys) and sorting them (any key) group alike:
        /// keys ascending, each key's operations in history order.
        #[test]
        fn grouping_by_key_is_sorting_by_key_then_history(
            keys in prop::collection::vec(prop_oneof![0u64..6, Just(u64::MAX), 1u64 << 40..(1u64 << 40) + 3], 0..60),
        ) {
            let ops: Vec<OpRecord> =
                keys.iter().map(|&k| on_key(w(0, 1, 0, 1), k)).collect();
            let mut expected: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
            expected.sort_unstable();
            let expected: Vec<usize> = expected.iter().map(|&(_, i)| i).collect();
            let order = |ops: &[OpRecord]| by_key(ops).iter().map(|g| g.index).collect::<Vec<_>>();
            prop_assert_eq!(order(&ops), expected.clone());
            // The same keys folded small take the counting path, and group the same way.
            let small: Vec<OpRecord> = ops
                .iter()
                .map(|o| on_key(o.clone(), match o.key { k if k < 6 => k, u64::MAX => 9, k => 6 + (k & 3) }))
                .collect();
            prop_assert_eq!(order(&small), expected);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        #[test]
        fn small_histories_agree_with_brute_force(ops in prop::collection::vec(small_op(), 0..10)) {
            let expected = brute_force(&ops);
            let report = check(&ops, &Config::default());
            prop_assert_eq!(report.verdict == Verdict::Linearizable, expected, "{:#?}", report);
        }
    }
}

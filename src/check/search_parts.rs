//! The parts of a Wing and Gong search with Lowe's memo that do not depend on what is
//! searched, shared by the register search ([`crate::check::linearizability`]) and the
//! model-based one ([`crate::check::model`]).
//!
//! # What it owns
//!
//! - [`Entries`]: the call and return entries of one part's operations as a doubly linked
//!   list in time order, from which a placed operation's entries are lifted and put back.
//!   An operation may have no return entry ([`NO_RETURN`]): the model search gives none to
//!   an operation that may never have taken effect, where the register search gives it a
//!   return at +∞ (and asserts that every operation has one).
//! - [`Linearized`]: the set of placed operations, a bitset with an incremental hash and
//!   the window of words that are neither all placed nor all pending.
//! - [`Memo`]: Lowe's memo of the (placed set, state) pairs already explored, over any
//!   state type that can be compared exactly.
//! - [`mix64`]: the fixed hash the set and the memo (and the models' fingerprints) use.
//!
//! # Guarantees
//!
//! - Deterministic: nothing here depends on hash order, addresses or the clock. The memo
//!   is only asked membership, and compares sets and states exactly: a hash chooses where
//!   to look, never the answer.
//! - Misuse is a bug and asserts: lifting an entry that is not linked, putting entries back
//!   in any order but the reverse of lifting, placing an operation twice or taking back one
//!   that is not placed.
//! - The searches' inner loops run through [`Entries::lift`], [`Entries::unlift`],
//!   [`Linearized::set`], [`Linearized::clear`] and [`Memo::insert`]: they and the
//!   accessors are `#[inline]`, and nothing here is a trait object.
//!
//! # Limits
//!
//! Entries and operations are numbered in `u32` (asserted when the list is built); the
//! memo's arena too.

/// The list's head node: before every entry.
pub(crate) const HEAD: u32 = 0;
/// No node: after the last entry, and the return of a return entry.
pub(crate) const NIL: u32 = u32::MAX;
/// The return of an operation without a return entry.
pub(crate) const NO_RETURN: u32 = u32::MAX - 1;

/// The call and return entries as a doubly linked list (node 0 is the head), from which a
/// placed operation's entries are lifted and later put back, in reverse order. Operations
/// are numbered `0..n` in the caller's search order; nodes `1..` are the entries in time
/// order.
#[derive(Default)]
pub(crate) struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of each node (unused for the head).
    op: Vec<u32>,
    /// For a call node its return node (`NO_RETURN` if none); `NIL` for a return node.
    ret: Vec<u32>,
    /// `fill`'s scratch: each operation's call node.
    call_node: Vec<u32>,
}

impl Entries {
    /// Rebuilds the list, reusing its memory, from `order`: the entries of operations
    /// `0..ops` in time order, each `(is_return, op)`. Every operation has one call entry,
    /// and at most one return entry, after its call. Returns how many have no return entry.
    pub(crate) fn fill(&mut self, ops: usize, order: impl ExactSizeIterator<Item = (bool, u32)>) -> usize {
        let len = order.len() + 1;
        assert!(len < NO_RETURN as usize, "a part's entries fit u32 indices");
        self.next.clear();
        self.next.extend((1..=len as u32).map(|n| if n as usize == len { NIL } else { n }));
        self.prev.clear();
        self.prev.extend((0..len as u32).map(|n| n.wrapping_sub(1)));
        for v in [&mut self.op, &mut self.ret] {
            v.clear();
            v.resize(len, NIL);
        }
        self.call_node.clear();
        self.call_node.resize(ops, NIL);
        let (mut calls, mut returns) = (0, 0);
        for (k, (is_return, op)) in order.enumerate() {
            let node = k as u32 + 1;
            self.op[node as usize] = op;
            let call = self.call_node[op as usize];
            if is_return {
                assert!(call != NIL, "an operation's call entry precedes its return entry");
                assert_eq!(self.ret[call as usize], NO_RETURN, "an operation has one return entry");
                self.ret[call as usize] = node;
                returns += 1;
            } else {
                assert_eq!(call, NIL, "an operation has one call entry");
                self.call_node[op as usize] = node;
                self.ret[node as usize] = NO_RETURN;
                calls += 1;
            }
        }
        assert_eq!(calls, ops, "every operation has a call entry");
        calls - returns
    }

    /// The first entry, `NIL` if none is linked.
    #[inline]
    pub(crate) fn first(&self) -> u32 {
        self.next[HEAD as usize]
    }

    /// The entry after `node`, `NIL` if it is the last.
    #[inline]
    pub(crate) fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    /// The operation of entry `node`.
    #[inline]
    pub(crate) fn op(&self, node: u32) -> u32 {
        self.op[node as usize]
    }

    #[inline]
    pub(crate) fn is_call(&self, node: u32) -> bool {
        self.ret[node as usize] != NIL
    }

    #[inline]
    fn unlink(&mut self, node: u32) {
        let (p, x) = (self.prev[node as usize], self.next[node as usize]);
        assert_eq!(self.next[p as usize], node, "only a linked entry is lifted");
        self.next[p as usize] = x;
        if x != NIL {
            self.prev[x as usize] = p;
        }
    }

    #[inline]
    fn relink(&mut self, node: u32) {
        let (p, x) = (self.prev[node as usize], self.next[node as usize]);
        assert_eq!(self.next[p as usize], x, "entries are put back in the reverse order of lifting");
        self.next[p as usize] = node;
        if x != NIL {
            self.prev[x as usize] = node;
        }
    }

    /// Takes the operation of `call` out of the list: its call entry and its return entry.
    #[inline]
    pub(crate) fn lift(&mut self, call: u32) {
        let ret = self.ret[call as usize];
        assert!(ret != NIL, "an operation is lifted by its call entry");
        self.unlink(call);
        if ret != NO_RETURN {
            self.unlink(ret);
        }
    }

    /// Puts back the operation of `call`, the last one lifted and not yet put back.
    #[inline]
    pub(crate) fn unlift(&mut self, call: u32) {
        let ret = self.ret[call as usize];
        if ret != NO_RETURN {
            self.relink(ret);
        }
        self.relink(call);
    }

    /// At a dead end whose first linked return is `ret`: the operation that had to go next
    /// (`ret`'s), and the others whose calls come before `ret`, in list order.
    pub(crate) fn blocked_at(&self, ret: u32) -> (u32, Vec<u32>) {
        let blocked = self.op(ret);
        let mut others = Vec::new();
        let mut node = self.first();
        while node != ret {
            assert!(self.is_call(node), "every entry before the first return is a call");
            if self.op(node) != blocked {
                others.push(self.op(node));
            }
            node = self.next(node);
        }
        (blocked, others)
    }
}

/// The set of placed operations: a bitset with an incremental hash, and the window
/// `[lo, hi)` of words outside of which every word is all ones (below) or zero (above).
pub(crate) struct Linearized {
    words: Vec<u64>,
    hash: u64,
    lo: usize,
    hi: usize,
}

impl Linearized {
    /// The empty set over `n` operations, in `words` (reused).
    pub(crate) fn new(n: usize, mut words: Vec<u64>) -> Self {
        words.clear();
        words.resize(n.div_ceil(64), 0);
        Linearized { words, hash: 0, lo: 0, hi: 0 }
    }

    /// The memory, for the next set.
    pub(crate) fn into_words(self) -> Vec<u64> {
        self.words
    }

    #[inline]
    pub(crate) fn set(&mut self, i: usize) {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        assert!(self.words[w] & bit == 0, "an operation is placed at most once");
        self.words[w] |= bit;
        self.hash ^= mix64(i as u64);
        while self.lo < self.words.len() && self.words[self.lo] == u64::MAX {
            self.lo += 1;
        }
        self.hi = self.hi.max(w + 1);
        assert!(self.lo <= self.hi, "the window is never inverted");
    }

    #[inline]
    pub(crate) fn clear(&mut self, i: usize) {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        assert!(self.words[w] & bit != 0, "only a placed operation is taken back");
        self.words[w] &= !bit;
        self.hash ^= mix64(i as u64);
        self.lo = self.lo.min(w);
        while self.hi > 0 && self.words[self.hi - 1] == 0 {
            self.hi -= 1;
        }
        assert!(self.lo <= self.hi, "the window is never inverted");
    }

    #[inline]
    fn window(&self) -> &[u64] {
        &self.words[self.lo..self.hi]
    }
}

/// A configuration in the memo: its table hash, its state, and where its set's window
/// (`lo`, and the words from `lo` to the last nonzero) lies in the arena.
struct Seen<S> {
    hash: u64,
    state: S,
    lo: u32,
    start: u32,
    len: u32,
}

/// Lowe's memo: the (placed set, state) pairs already explored. An open-addressing table
/// over an arena of set windows: one allocation per growth, not one per step. Only
/// membership is ever asked, never an order, so the layout cannot leak into any output.
pub(crate) struct Memo<S> {
    /// Index + 1 into `seen`; 0 is empty. A power of two long, at most half full.
    slots: Vec<u32>,
    seen: Vec<Seen<S>>,
    words: Vec<u64>,
}

impl<S> Default for Memo<S> {
    fn default() -> Self {
        Memo { slots: Vec::new(), seen: Vec::new(), words: Vec::new() }
    }
}

impl<S: Clone + Eq> Memo<S> {
    /// Records the pair; false if it was already there. `fingerprint` is a hash of `state`
    /// (equal states, equal fingerprints): it only chooses where to look.
    #[inline]
    pub(crate) fn insert(&mut self, set: &Linearized, state: &S, fingerprint: u64) -> bool {
        if 2 * (self.seen.len() + 1) > self.slots.len() {
            self.grow();
        }
        let window = set.window();
        let hash = set.hash ^ mix64(fingerprint).rotate_left(29);
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            let e = &self.seen[self.slots[at] as usize - 1];
            let (start, len) = (e.start as usize, e.len as usize);
            if e.hash == hash
                && e.state == *state
                && e.lo as usize == set.lo
                && self.words[start..start + len] == *window
            {
                return false;
            }
            at = (at + 1) & mask;
        }
        let start = u32::try_from(self.words.len()).expect("the memo's arena fits u32 indices");
        self.words.extend_from_slice(window);
        let lo = u32::try_from(set.lo).expect("windows start within u32");
        self.seen.push(Seen { hash, state: state.clone(), lo, start, len: window.len() as u32 });
        self.slots[at] = u32::try_from(self.seen.len()).expect("the memo's entries fit u32 indices");
        true
    }

    /// Empties the memo, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.seen.clear();
        self.words.clear();
    }

    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(64);
        self.slots.clear();
        self.slots.resize(size, 0);
        let mask = size - 1;
        for (i, e) in self.seen.iter().enumerate() {
            let mut at = e.hash as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = i as u32 + 1;
        }
        assert!(2 * self.seen.len() < size, "the table stays at most half full");
    }
}

/// SplitMix64's finalizer: a fixed, portable mix of a `u64`.
#[inline]
pub(crate) fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries of `spans` (`(invoke, complete)`, `None` for no return), calls before
    /// returns at equal times.
    fn list(spans: &[(u64, Option<u64>)]) -> (Entries, usize) {
        let mut order: Vec<(u64, bool, u32)> = Vec::new();
        for (i, &(invoke, complete)) in spans.iter().enumerate() {
            order.push((invoke, false, i as u32));
            order.extend(complete.map(|c| (c, true, i as u32)));
        }
        order.sort_unstable();
        let mut entries = Entries::default();
        let without = entries.fill(spans.len(), order.iter().map(|&(_, r, op)| (r, op)));
        (entries, without)
    }

    fn walk(e: &Entries) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        let mut node = e.first();
        while node != NIL {
            out.push((e.op(node), e.is_call(node)));
            node = e.next(node);
        }
        out
    }

    #[test]
    fn lifting_and_putting_back_restores_the_list() {
        let (mut e, without) = list(&[(0, Some(10)), (5, None), (6, Some(8))]);
        assert_eq!(without, 1);
        let all = vec![(0, true), (1, true), (2, true), (2, false), (0, false)];
        assert_eq!(walk(&e), all);
        let calls: Vec<u32> = (1..=3).collect();
        e.lift(calls[2]);
        assert_eq!(walk(&e), [(0, true), (1, true), (0, false)]);
        e.lift(calls[1]);
        assert_eq!(walk(&e), [(0, true), (0, false)]);
        assert_eq!(e.blocked_at(5), (0, vec![]));
        e.unlift(calls[1]);
        assert_eq!(e.blocked_at(5), (0, vec![1]));
        e.unlift(calls[2]);
        assert_eq!(walk(&e), all);
        // Refilled from a longer list, nothing of the old one is left.
        let (short, _) = list(&[(0, Some(1))]);
        e.fill(1, [(false, 0), (true, 0)].into_iter());
        assert_eq!(walk(&e), walk(&short));
    }

    #[test]
    #[should_panic(expected = "entries are put back in the reverse order of lifting")]
    fn putting_back_out_of_order_is_a_bug() {
        let (mut e, _) = list(&[(0, Some(10)), (1, Some(10))]);
        e.lift(1);
        e.lift(2);
        e.unlift(1);
    }

    #[test]
    #[should_panic(expected = "an operation's call entry precedes its return entry")]
    fn a_return_before_its_call_is_a_bug() {
        Entries::default().fill(1, [(true, 0), (false, 0)].into_iter());
    }

    #[test]
    fn the_set_keeps_its_window_and_hash() {
        let mut set = Linearized::new(130, vec![7; 9]);
        assert_eq!((set.words.len(), set.window(), set.hash), (3, &[][..], 0));
        for i in 0..64 {
            set.set(i);
        }
        set.set(129);
        assert_eq!((set.lo, set.hi), (1, 3));
        set.clear(129);
        assert_eq!((set.lo, set.hi), (1, 1));
        set.clear(3);
        assert_eq!((set.lo, set.hi), (0, 1));
        set.set(3);
        assert_eq!(set.window(), &[] as &[u64]);
        for i in 0..64 {
            set.clear(i);
        }
        assert_eq!((set.hash, set.lo, set.hi), (0, 0, 0));
    }

    #[test]
    fn the_memo_compares_sets_and_states_exactly() {
        let mut memo: Memo<u32> = Memo::default();
        let mut set = Linearized::new(200, Vec::new());
        set.set(150);
        assert!(memo.insert(&set, &1, 0));
        assert!(!memo.insert(&set, &1, 0));
        // The same fingerprint does not make states equal.
        assert!(memo.insert(&set, &2, 0));
        set.set(0);
        assert!(memo.insert(&set, &1, 0));
        // Past many growths every pair is still found.
        for i in 1..100 {
            set.set(i);
            assert!(memo.insert(&set, &(i as u32), u64::from(i as u32)));
        }
        assert!(!memo.insert(&set, &99, 99));
        memo.clear();
        assert!(memo.insert(&set, &99, 99));
    }

    #[test]
    fn mix64_is_a_fixed_function() {
        // Pinned: fingerprints and the memo's layout must not change from build to build.
        assert_eq!(mix64(0), 0xe220_a839_7b1d_cdaf);
    }
}

//! The event queue: a total, reproducible order over pending events.
//!
//! Events are ordered by `(time, seq)`, where `seq` is a counter stamped at insertion, so two
//! events at the same instant leave in the order they were scheduled. The ordering structure
//! holds only small keys ([`Key`]: time, seq and a slot index); payloads live out of line in
//! a slab ([`EventQueue`]), so moving keys around never moves a payload.
//!
//! Two key structures implement [`KeyQueue`]: [`HeapKeys`] (std's binary heap, the
//! reference) and [`CalendarKeys`] (a calendar queue after Brown 1988, the default). On
//! PHOLD (`benches/phold.rs`) the engine on the calendar handles events about twice as fast
//! as a bare loop over std's heap with 10^4 pending events, about three times with 10^6.
//! Both pop exactly the same keys for any sequence of pushes and pops (a property test).

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the ordering structure stores for one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub time: u64,
    pub seq: u64,
    pub slot: u32,
}

/// An ordering structure over keys: pops the smallest `(time, seq)` first.
///
/// The contract, kept by [`EventQueue`] and asserted by [`CalendarKeys`]: `seq` increases
/// strictly from push to push (so a tie in time pops in push order), and a slot belongs to
/// at most one queued key. Pushes may come in any time order; the engine never pushes
/// before the last popped time, but may push before a time it has only peeked at.
pub trait KeyQueue: Default {
    fn push(&mut self, key: Key);
    fn pop(&mut self) -> Option<Key>;
    fn peek_time(&mut self) -> Option<u64>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The reference ordering: std's binary heap over keys.
#[derive(Default, Debug)]
pub struct HeapKeys {
    heap: BinaryHeap<Reverse<Key>>,
}

impl KeyQueue for HeapKeys {
    #[inline]
    fn push(&mut self, key: Key) {
        self.heap.push(Reverse(key));
    }
    #[inline]
    fn pop(&mut self) -> Option<Key> {
        self.heap.pop().map(|Reverse(k)| k)
    }
    fn peek_time(&mut self) -> Option<u64> {
        self.heap.peek().map(|Reverse(k)| k.time)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

/// Fewest buckets the calendar shrinks to.
const MIN_BUCKETS: usize = 16;
/// Keys sampled from the front of the queue to estimate the day width (Brown uses 25).
const WIDTH_SAMPLE: usize = 25;
/// The day width, in mean separations of the sampled keys (Brown's choice).
const WIDTH_GAPS: f64 = 3.0;
/// Work (empty days skipped, later keys passed over, keys moved) allowed per key taken
/// into a day before the calendar re-estimates its day width.
const COST_PER_KEY: i64 = 4;
/// End of a list.
const NIL: u32 = u32::MAX;
/// `next` of a slot's node when the slot is not queued.
const VACANT: u32 = u32::MAX - 1;
/// `next` of a slot's node when its key is in `today`.
const IN_TODAY: u32 = u32::MAX - 2;

/// The key queued at a slot, and the next slot in its bucket's list.
#[derive(Clone, Copy, Debug)]
struct Node {
    time: u64,
    seq: u64,
    next: u32,
}

const VACANT_NODE: Node = Node { time: 0, seq: 0, next: VACANT };

/// A calendar queue (Brown 1988) over keys.
///
/// Time is cut into days of `2^shift` ns; day `d` belongs to bucket `d mod nbuckets`, so
/// a bucket holds the keys of its day in every "year" (`nbuckets` days). The keys of the
/// cursor's day sit sorted in `today`; every other key waits, unsorted, in its bucket's
/// list.
///
/// - A push after the cursor's day prepends to its bucket's list: O(1), no comparison
///   and no branch on the bucket's state. A push into the cursor's day is a sorted insertion into `today` (an
///   append for the usual latest-yet key, or for a tie, whose `seq` is always the
///   largest). A push before the cursor's day moves the cursor back (today's keys return
///   to their list), so any sequence of pushes and pops is exact.
/// - A pop takes `today`'s next key. When `today` runs out, the cursor walks the
///   following days; at the first bucket whose list holds keys of the day looked at, it
///   unlinks them into `today` and sorts them by `(time, seq)`. If a whole year passes
///   without one, it finds the earliest day directly (one pass over every list).
///
/// A list links nodes indexed by slot (unique among queued keys, asserted), so a push
/// allocates nothing once its slot has been seen, and a bucket is one `u32`.
///
/// Resizing follows Brown: the bucket count doubles when the population exceeds twice the
/// count and halves when it falls below half, and each rebuild re-estimates the day width
/// from the separations of the earliest [`WIDTH_SAMPLE`] keys ([`WIDTH_GAPS`] times their
/// mean, after dropping separations above twice the mean), rounded to a power of two.
/// Brown's scheme never revisits the width while the population holds steady, so the queue
/// also counts its own work and rebuilds when it exceeds [`COST_PER_KEY`] per key; a
/// rebuild that leaves the width unchanged doubles the allowance before the next one, so a
/// distribution that no width suits costs at most a constant factor in rebuilds.
///
/// Known limits: a skewed distribution (a dense cluster plus a sparse tail) can cost up to
/// O(n) per pop between recalibrations (a direct search); the order is exact regardless.
#[derive(Debug)]
pub struct CalendarKeys {
    /// Indexed by slot.
    nodes: Vec<Node>,
    /// The first slot of each bucket's list.
    heads: Vec<u32>,
    /// The cursor day's keys, ascending by `(time, seq)`, from `today_head` on (the ones
    /// before it have been popped).
    today: Vec<Key>,
    today_head: usize,
    /// `heads.len() - 1`; the bucket count is a power of two.
    mask: usize,
    /// A day is `2^shift` ns.
    shift: u32,
    /// The cursor: `today` holds this day's keys, the lists hold later days' keys.
    day: u64,
    len: usize,
    /// Rebuild with twice the buckets above this population, with half below the other.
    grow_len: usize,
    shrink_len: usize,
    /// The least `seq` the next push may carry: seqs increase strictly, push to push.
    next_seq: u64,
    /// Work still allowed before a recalibration, and the allowance a rebuild grants.
    credit: i64,
    allowance: i64,
    /// Reused buffer for rebuilds.
    scratch: Vec<Key>,
}

impl Default for CalendarKeys {
    fn default() -> Self {
        let mut q = CalendarKeys {
            nodes: Vec::new(),
            heads: Vec::new(),
            today: Vec::new(),
            today_head: 0,
            mask: 0,
            shift: 0,
            day: 0,
            len: 0,
            grow_len: 0,
            shrink_len: 0,
            next_seq: 0,
            credit: 0,
            allowance: 0,
            scratch: Vec::new(),
        };
        q.rebuild(MIN_BUCKETS);
        q
    }
}

impl CalendarKeys {
    #[inline]
    fn day_of(&self, time: u64) -> u64 {
        time >> self.shift
    }

    #[inline]
    fn bucket_of(&self, day: u64) -> usize {
        (day as usize) & self.mask
    }

    /// Prepends `slot` (its node's time and seq set) to the list of `day`.
    #[inline]
    fn link(&mut self, slot: u32, day: u64) {
        let b = self.bucket_of(day);
        self.nodes[slot as usize].next = std::mem::replace(&mut self.heads[b], slot);
    }

    /// Every push but the common one: into the cursor's day or before it, into an empty
    /// calendar, a slot not seen yet, or one that grows the calendar.
    #[inline(never)]
    fn push_slow(&mut self, key: Key) {
        assert!(key.seq >= self.next_seq, "seqs increase strictly from push to push");
        self.next_seq = key.seq + 1;
        let at = key.slot as usize;
        assert!(key.slot < IN_TODAY, "slots lie below the list markers");
        if at >= self.nodes.len() {
            self.nodes.resize(at + 1, VACANT_NODE);
        }
        assert_eq!(self.nodes[at].next, VACANT, "a slot is queued at most once");
        self.nodes[at].time = key.time;
        self.nodes[at].seq = key.seq;
        let day = self.day_of(key.time);
        if self.len == 0 {
            self.today.clear();
            self.today_head = 0;
            self.day = day;
            self.push_today(key);
        } else if day > self.day {
            self.link(key.slot, day);
        } else {
            if day < self.day {
                self.rewind(day);
            }
            self.push_today(key);
        }
        self.len += 1;
        if self.len > self.grow_len {
            self.rebuild(2 * self.heads.len());
        } else if self.credit < 0 {
            self.recalibrate();
        }
    }

    /// Inserts `key` (of the cursor's day) into `today`, after every key not later.
    fn push_today(&mut self, key: Key) {
        self.nodes[key.slot as usize].next = IN_TODAY;
        if self.today_head >= 64 && 2 * self.today_head >= self.today.len() {
            // A day that never ends (zero delays) must not keep its popped keys.
            self.today.drain(..self.today_head);
            self.today_head = 0;
        }
        let n = self.today.len();
        let pos = match self.today.last() {
            Some(last) if last.time > key.time => {
                self.today_head + self.today[self.today_head..].partition_point(|k| k.time <= key.time)
            }
            _ => n,
        };
        self.today.insert(pos, key);
        self.credit -= (n - pos) as i64;
    }

    /// Moves the cursor back to `day`, before its current day: today's keys return to
    /// their list.
    fn rewind(&mut self, day: u64) {
        assert!(day < self.day, "rewinding goes back");
        for i in self.today_head..self.today.len() {
            self.link(self.today[i].slot, self.day);
        }
        self.credit -= (self.today.len() - self.today_head) as i64;
        self.today.clear();
        self.today_head = 0;
        self.day = day;
    }

    /// Fills `today` (exhausted) with the keys of the earliest listed day; the lists are
    /// not empty.
    #[inline(never)]
    fn advance(&mut self) {
        assert!(self.len > 0, "advance needs listed keys");
        let mut day = self.day;
        for _ in 0..self.heads.len() {
            day += 1;
            let b = self.bucket_of(day);
            if self.heads[b] != NIL && self.take_day(day) {
                self.credit -= (day - self.day - 1) as i64;
                self.day = day;
                if self.credit < 0 {
                    self.recalibrate();
                }
                return;
            }
        }
        self.advance_direct();
    }

    /// Moves the keys of `day` from its bucket's list into `today` (exhausted), sorted;
    /// returns whether there were any.
    fn take_day(&mut self, day: u64) -> bool {
        assert!(self.today_head == self.today.len(), "a day is taken once the last is done");
        self.today.clear();
        self.today_head = 0;
        let b = self.bucket_of(day);
        let (shift, nodes, today) = (self.shift, &mut self.nodes, &mut self.today);
        let mut cur = self.heads[b];
        let mut kept = NIL;
        let mut passed = 0;
        while cur != NIL {
            let node = nodes[cur as usize];
            // Takes a key of `day`, relinks any other, without a branch on which.
            let taken = node.time >> shift == day;
            nodes[cur as usize].next = if taken { IN_TODAY } else { kept };
            kept = if taken { kept } else { cur };
            if taken {
                today.push(Key { time: node.time, seq: node.seq, slot: cur });
            } else {
                assert!(node.time >> shift > day, "lists hold only days after the cursor");
                passed += 1;
            }
            cur = node.next;
        }
        self.heads[b] = kept;
        self.credit += COST_PER_KEY * self.today.len() as i64 - passed;
        sort_keys(&mut self.today);
        !self.today.is_empty()
    }

    /// A whole year held nothing: find the earliest day by looking at every listed key.
    #[cold]
    fn advance_direct(&mut self) {
        let mut min = u64::MAX;
        for &head in &self.heads {
            let mut cur = head;
            while cur != NIL {
                let node = &self.nodes[cur as usize];
                min = min.min(node.time);
                cur = node.next;
            }
        }
        let day = self.day_of(min);
        assert!(day > self.day, "the lists hold only days after the cursor");
        assert!(self.take_day(day), "the earliest listed day has a key");
        self.day = day;
        self.credit -= (2 * self.heads.len() + self.len) as i64;
        if self.credit < 0 {
            self.recalibrate();
        }
    }

    /// Rebuilds with a fresh day width; doubles the allowance if the width stays.
    #[cold]
    fn recalibrate(&mut self) {
        let shift = self.shift;
        let allowance = self.allowance;
        self.rebuild(self.heads.len());
        if self.shift == shift {
            self.allowance = allowance.saturating_mul(2);
            self.credit = self.allowance;
        }
    }

    /// Redistributes every key over `nbuckets` buckets with a re-estimated day width.
    #[cold]
    fn rebuild(&mut self, nbuckets: usize) {
        assert!(nbuckets.is_power_of_two() && nbuckets >= MIN_BUCKETS);
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        keys.extend_from_slice(&self.today[self.today_head..]);
        for &head in &self.heads {
            let mut cur = head;
            while cur != NIL {
                let node = self.nodes[cur as usize];
                keys.push(Key { time: node.time, seq: node.seq, slot: cur });
                cur = node.next;
            }
        }
        assert_eq!(keys.len(), self.len, "a rebuild keeps every key");
        self.heads.clear();
        self.heads.resize(nbuckets, NIL);
        self.mask = nbuckets - 1;
        self.grow_len = 2 * nbuckets;
        self.shrink_len = if nbuckets > MIN_BUCKETS { nbuckets / 2 } else { 0 };
        self.allowance = (2 * nbuckets + self.len) as i64;
        self.credit = self.allowance;
        if let Some(shift) = estimate_shift(&mut keys) {
            self.shift = shift;
        }
        // `estimate_shift` leaves the earliest key first.
        if let Some(first) = keys.first() {
            self.day = self.day_of(first.time);
        }
        self.today.clear();
        self.today_head = 0;
        for &k in &keys {
            let day = self.day_of(k.time);
            if day == self.day {
                self.nodes[k.slot as usize].next = IN_TODAY;
                self.today.push(k);
            } else {
                self.link(k.slot, day);
            }
        }
        sort_keys(&mut self.today);
        keys.clear();
        self.scratch = keys;
        #[cfg(debug_assertions)]
        self.check();
    }
}

#[cfg(any(test, debug_assertions))]
impl CalendarKeys {
    /// Checks every structural invariant; returns the number of listed keys. O(n): tests,
    /// and debug builds after each rebuild (itself O(n)).
    fn check(&self) -> usize {
        let live = &self.today[self.today_head..];
        assert!(live.windows(2).all(|w| order(&w[0]) < order(&w[1])), "today is sorted");
        for k in live {
            assert_eq!(self.day_of(k.time), self.day, "today holds the cursor's day");
            assert_eq!(self.nodes[k.slot as usize].next, IN_TODAY, "today's nodes are marked");
        }
        let mut listed = 0;
        for (b, &head) in self.heads.iter().enumerate() {
            let mut cur = head;
            while cur != NIL {
                let node = &self.nodes[cur as usize];
                assert!(self.day_of(node.time) > self.day, "lists hold later days");
                assert_eq!(self.bucket_of(self.day_of(node.time)), b, "a key sits in its bucket");
                listed += 1;
                assert!(listed <= self.len, "lists are acyclic");
                cur = node.next;
            }
        }
        assert_eq!(listed + live.len(), self.len, "every key is listed or today");
        assert!(self.len <= self.grow_len && self.len >= self.shrink_len, "the size fits the buckets");
        listed
    }
}

/// Brown's width estimate as a shift: [`WIDTH_GAPS`] times the mean separation of the
/// earliest keys, ignoring separations above twice the mean, rounded to a power of two.
/// Leaves the earliest key at `keys[0]`. `None` when the keys give no information (fewer
/// than two, or all at one time).
fn estimate_shift(keys: &mut [Key]) -> Option<u32> {
    let n = keys.len().min(WIDTH_SAMPLE);
    if n == 0 {
        return None;
    }
    if keys.len() > n {
        keys.select_nth_unstable(n - 1);
    }
    keys[..n].sort_unstable();
    let gaps = || keys[..n].windows(2).map(|w| w[1].time - w[0].time);
    let mut gap = mean(gaps());
    if gap > 0.0 {
        gap = mean(gaps().filter(|&g| g as f64 <= 2.0 * gap));
    }
    if gap <= 0.0 {
        // The front is one instant (ties): fall back on the mean separation overall.
        let max = keys.iter().map(|k| k.time).max()?;
        gap = (max - keys[0].time) as f64 / keys.len() as f64;
    }
    if gap <= 0.0 {
        return None;
    }
    let width = WIDTH_GAPS * gap;
    Some((width.log2().round().max(0.0) as u32).min(63))
}

fn mean(values: impl Iterator<Item = u64>) -> f64 {
    let (sum, count) = values.fold((0f64, 0u64), |(s, c), v| (s + v as f64, c + 1));
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

/// `(time, seq)` as one integer: a single comparison orders two keys.
#[inline]
fn order(k: &Key) -> u128 {
    (u128::from(k.time) << 64) | u128::from(k.seq)
}

/// Sorts a day's keys by `(time, seq)`. A day holds a handful.
#[inline]
fn sort_keys(keys: &mut [Key]) {
    if keys.len() > 1 {
        sort_keys_few(keys);
    }
}

/// Puts `keys[i]` and `keys[j]` in order, without a branch.
#[inline(always)]
fn order_pair(keys: &mut [Key], i: usize, j: usize) {
    let (a, b) = (keys[i], keys[j]);
    let mask = 0u64.wrapping_sub(u64::from(order(&a) > order(&b)));
    let pick = |x: u64, y: u64| x ^ ((x ^ y) & mask);
    keys[i] = Key {
        time: pick(a.time, b.time),
        seq: pick(a.seq, b.seq),
        slot: pick(u64::from(a.slot), u64::from(b.slot)) as u32,
    };
    keys[j] = Key {
        time: pick(b.time, a.time),
        seq: pick(b.seq, a.seq),
        slot: pick(u64::from(b.slot), u64::from(a.slot)) as u32,
    };
}

/// Sorting networks (branch-free) up to four keys, insertion up to sixteen.
#[inline(never)]
fn sort_keys_few(keys: &mut [Key]) {
    match keys.len() {
        0 | 1 => {}
        2 => order_pair(keys, 0, 1),
        3 => {
            order_pair(keys, 0, 1);
            order_pair(keys, 1, 2);
            order_pair(keys, 0, 1);
        }
        4 => {
            order_pair(keys, 0, 1);
            order_pair(keys, 2, 3);
            order_pair(keys, 0, 2);
            order_pair(keys, 1, 3);
            order_pair(keys, 1, 2);
        }
        5..=16 => {
            for i in 1..keys.len() {
                let k = keys[i];
                let o = order(&k);
                let mut j = i;
                while j > 0 && order(&keys[j - 1]) > o {
                    keys[j] = keys[j - 1];
                    j -= 1;
                }
                keys[j] = k;
            }
        }
        _ => keys.sort_unstable_by_key(order),
    }
}

impl KeyQueue for CalendarKeys {
    #[inline]
    fn push(&mut self, key: Key) {
        let day = self.day_of(key.time);
        let at = key.slot as usize;
        if day > self.day
            && self.len != 0
            && self.len < self.grow_len
            && key.seq >= self.next_seq
            && at < self.nodes.len()
        {
            // The common push: a later day, a slot seen before.
            let b = self.bucket_of(day);
            let node = &mut self.nodes[at];
            assert_eq!(node.next, VACANT, "a slot is queued at most once");
            *node =
                Node { time: key.time, seq: key.seq, next: std::mem::replace(&mut self.heads[b], key.slot) };
            self.next_seq = key.seq + 1;
            self.len += 1;
        } else {
            self.push_slow(key);
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Key> {
        if self.today_head == self.today.len() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        let key = self.today[self.today_head];
        debug_assert!(key.time >> self.shift == self.day, "today holds only the cursor's day");
        self.today_head += 1;
        let node = &mut self.nodes[key.slot as usize];
        assert_eq!(node.next, IN_TODAY, "a popped key comes from today");
        node.next = VACANT;
        self.len -= 1;
        if self.len < self.shrink_len {
            self.rebuild(self.heads.len() / 2);
        }
        Some(key)
    }

    #[inline]
    fn peek_time(&mut self) -> Option<u64> {
        if self.today_head == self.today.len() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        Some(self.today[self.today_head].time)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Pending events: keys in a [`KeyQueue`], payloads in a slab indexed by the key's slot.
#[derive(Debug)]
pub struct EventQueue<E, K: KeyQueue = CalendarKeys> {
    keys: K,
    payloads: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E, K: KeyQueue> Default for EventQueue<E, K> {
    fn default() -> Self {
        EventQueue { keys: K::default(), payloads: Vec::new(), free: Vec::new(), next_seq: 0 }
    }
}

impl<E, K: KeyQueue> EventQueue<E, K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `payload` at `time`; returns the sequence number it was stamped with.
    #[inline]
    pub fn push(&mut self, time: SimTime, payload: E) -> u64 {
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.payloads[slot as usize].is_none(), "a free slot holds no payload");
                self.payloads[slot as usize] = Some(payload);
                slot
            }
            None => {
                let slot = u32::try_from(self.payloads.len()).expect("fewer than 2^32 pending events");
                self.payloads.push(Some(payload));
                slot
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.keys.push(Key { time: time.0, seq, slot });
        debug_assert_eq!(
            self.keys.len() + self.free.len(),
            self.payloads.len(),
            "every slot is queued or free"
        );
        seq
    }

    /// Removes and returns the earliest event: `(time, seq, payload)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        let key = self.keys.pop()?;
        let payload =
            self.payloads[key.slot as usize].take().expect("every queued key points at a live payload");
        debug_assert!(key.seq < self.next_seq, "a popped key was stamped by a push");
        self.free.push(key.slot);
        debug_assert_eq!(
            self.keys.len() + self.free.len(),
            self.payloads.len(),
            "every slot is queued or free"
        );
        Some((SimTime(key.time), key.seq, payload))
    }

    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.keys.peek_time().map(SimTime)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks the slab against the keys: every slot either holds a payload and is queued,
    /// or is free (listed once) and empty. O(slots): tests and debug builds only.
    pub fn check_invariants(&self) {
        let live = self.payloads.iter().filter(|p| p.is_some()).count();
        assert_eq!(live, self.keys.len(), "every live payload is queued, once");
        assert_eq!(live + self.free.len(), self.payloads.len(), "every slot is queued or free");
        let mut free = vec![false; self.payloads.len()];
        for &slot in &self.free {
            assert!(self.payloads[slot as usize].is_none(), "a free slot holds no payload");
            assert!(!std::mem::replace(&mut free[slot as usize], true), "a slot is freed once");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain<K: KeyQueue>(q: &mut EventQueue<u32, K>) -> Vec<(u64, u64, u32)> {
        std::iter::from_fn(|| q.pop().map(|(t, s, p)| (t.0, s, p))).collect()
    }

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut q: EventQueue<u32> = EventQueue::new();
        q.push(SimTime(5), 0);
        q.push(SimTime(1), 1);
        q.push(SimTime(5), 2);
        q.push(SimTime(3), 3);
        q.push(SimTime(1), 4);
        let order: Vec<u32> = drain(&mut q).into_iter().map(|(_, _, p)| p).collect();
        assert_eq!(order, vec![1, 4, 3, 0, 2]);
        assert!(q.is_empty());
    }

    #[test]
    fn slots_are_reused() {
        let mut q: EventQueue<u32> = EventQueue::new();
        for round in 0..10u64 {
            q.push(SimTime(round), 7);
            assert_eq!(q.pop().map(|(_, _, p)| p), Some(7));
        }
        assert_eq!(q.payloads.len(), 1);
    }

    /// Drives a calendar and the reference heap through the same operations, comparing
    /// every pop and peek and checking the calendar's invariants as it goes.
    struct Twin {
        cal: CalendarKeys,
        heap: HeapKeys,
        free: Vec<u32>,
        slots: u32,
        seq: u64,
        last_popped: u64,
        ops: u64,
    }

    impl Twin {
        fn new() -> Self {
            Twin {
                cal: CalendarKeys::default(),
                heap: HeapKeys::default(),
                free: Vec::new(),
                slots: 0,
                seq: 0,
                last_popped: 0,
                ops: 0,
            }
        }

        fn push(&mut self, time: u64) {
            let slot = self.free.pop().unwrap_or_else(|| {
                self.slots += 1;
                self.slots - 1
            });
            let key = Key { time, seq: self.seq, slot };
            self.seq += 1;
            self.cal.push(key);
            self.heap.push(key);
            self.tick();
        }

        fn pop(&mut self) -> Option<Key> {
            assert_eq!(self.cal.peek_time(), self.heap.peek_time(), "peeks agree");
            let key = self.cal.pop();
            assert_eq!(key, self.heap.pop(), "pops agree");
            if let Some(k) = key {
                self.free.push(k.slot);
                self.last_popped = k.time;
            }
            self.tick();
            key
        }

        fn tick(&mut self) {
            assert_eq!(self.cal.len(), self.heap.len());
            self.ops += 1;
            if self.ops % 97 == 0 || self.cal.len() < 40 {
                self.cal.check();
            }
        }

        fn drain(&mut self) {
            while self.pop().is_some() {}
            assert!(self.cal.is_empty());
        }
    }

    /// A small deterministic generator for the pattern tests (not a simulation stream).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 11
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn exp(&mut self, mean: f64) -> u64 {
            let u = (self.next() + 1) as f64 / (1u64 << 53) as f64;
            (-mean * u.ln()) as u64
        }
    }

    /// Hold-model runs (pop one, push one later) from a filled queue, then a drain.
    fn hold(n: usize, steps: usize, mut delay: impl FnMut(&mut Lcg) -> u64) {
        let mut rng = Lcg(n as u64 ^ steps as u64);
        let mut t = Twin::new();
        for _ in 0..n {
            let d = delay(&mut rng);
            t.push(d);
        }
        for _ in 0..steps {
            let now = t.pop().expect("hold keeps the queue full").time;
            let d = delay(&mut rng);
            t.push(now.saturating_add(d));
        }
        t.drain();
    }

    #[test]
    fn calendar_matches_heap_on_exponential_delays() {
        hold(1_000, 20_000, |r| 100_000 + r.exp(1e6));
        hold(10, 5_000, |r| r.exp(50.0));
    }

    #[test]
    fn calendar_matches_heap_on_ties_and_constant_delays() {
        // Every key at one instant: one day holds them all, in push order.
        hold(20_000, 20_000, |_| 0);
        // A constant delay: FIFO.
        hold(5_000, 20_000, |_| 1_000_000);
        // Few distinct times.
        hold(2_000, 20_000, |r| 1_000 * r.below(3));
    }

    #[test]
    fn calendar_matches_heap_on_huge_and_skewed_spreads() {
        hold(2_000, 10_000, |r| r.below(u64::MAX / 2));
        // A dense cluster and a sparse far tail.
        hold(2_000, 20_000, |r| if r.below(100) == 0 { 1 << 50 | r.below(1 << 50) } else { r.below(1_000) });
        // Spreads that change scale in the middle of a run.
        let mut step = 0u64;
        hold(1_000, 30_000, move |r| {
            step += 1;
            let scale = if step % 20_000 < 10_000 { 10 } else { 1 << 40 };
            r.below(scale)
        });
    }

    #[test]
    fn calendar_grows_and_shrinks() {
        let mut rng = Lcg(5);
        let mut t = Twin::new();
        for _ in 0..50_000 {
            let at = t.last_popped + rng.exp(1e3);
            t.push(at);
        }
        assert!(t.cal.heads.len() >= 16_384, "the calendar grew");
        for _ in 0..49_990 {
            t.pop();
        }
        assert!(t.cal.heads.len() <= 64, "the calendar shrank");
        t.drain();
        // Reusable once empty, far from where it was.
        t.push(u64::MAX);
        t.push(0);
        t.push(u64::MAX);
        t.drain();
    }

    #[test]
    fn pushes_into_and_before_the_cursor_day_are_ordered() {
        let mut t = Twin::new();
        for i in 0..100 {
            t.push(1_000_000 * i);
        }
        // Zero and tiny delays land in the cursor's day, among its sorted keys.
        for _ in 0..50 {
            let now = t.pop().expect("keys remain").time;
            t.push(now + 1);
            t.push(now);
            t.push(now + 3_000_000);
            t.pop();
        }
        t.drain();
        // A peek moves the cursor to the next key's day; a push before that day (as the
        // engine makes after stopping at a horizon) moves the cursor back.
        t.push(0);
        t.push(1 << 40);
        t.pop();
        assert_eq!(t.cal.peek_time(), Some(1 << 40));
        t.push(5);
        t.push(1 << 39);
        t.push(5);
        t.drain();
        assert_eq!(t.cal.pop(), None);
        assert_eq!(t.cal.peek_time(), None);
    }

    #[test]
    fn a_day_that_never_ends_keeps_no_popped_keys() {
        let mut t = Twin::new();
        t.push(7);
        for _ in 0..10_000 {
            let now = t.pop().expect("one key circulates").time;
            t.push(now);
        }
        assert!(t.cal.today.len() < 200, "today holds {} keys", t.cal.today.len());
        t.drain();
    }

    #[test]
    fn extreme_times() {
        let mut t = Twin::new();
        for time in [u64::MAX, 0, u64::MAX - 1, 1, u64::MAX / 2, u64::MAX, 0] {
            t.push(time);
        }
        t.drain();
    }

    #[test]
    fn the_slab_accounts_for_every_slot() {
        let mut q: EventQueue<u32> = EventQueue::new();
        for t in [5, 1, 9, 3] {
            q.push(SimTime(t), 0);
            q.check_invariants();
        }
        q.pop();
        q.pop();
        q.check_invariants();
        q.push(SimTime(7), 1);
        q.check_invariants();
    }

    #[test]
    #[should_panic(expected = "a slot is freed once")]
    fn a_slot_freed_twice_is_caught() {
        let mut q: EventQueue<u32> = EventQueue::new();
        q.push(SimTime(1), 0);
        q.push(SimTime(2), 1);
        q.pop();
        // Corrupt the slab: the freed slot listed a second time, and a live one dropped.
        let freed = q.free[0];
        q.free.push(freed);
        q.payloads.push(None);
        q.check_invariants();
    }

    #[test]
    #[should_panic(expected = "every live payload is queued")]
    fn a_payload_without_a_key_is_caught() {
        let mut q: EventQueue<u32> = EventQueue::new();
        q.push(SimTime(1), 0);
        q.payloads.push(Some(9));
        q.check_invariants();
    }

    #[test]
    #[should_panic(expected = "lists hold later days")]
    fn a_calendar_key_listed_before_the_cursor_is_caught() {
        let mut q = CalendarKeys::default();
        q.push(Key { time: 1, seq: 0, slot: 0 });
        q.push(Key { time: 1 << 40, seq: 1, slot: 1 });
        q.check();
        // Corrupt: the listed key's time moved into the cursor's day.
        q.nodes[1].time = 1;
        q.check();
    }

    #[test]
    #[should_panic(expected = "seqs increase strictly")]
    fn a_repeated_seq_is_a_bug() {
        let mut q = CalendarKeys::default();
        q.push(Key { time: 1, seq: 3, slot: 0 });
        q.push(Key { time: 2, seq: 3, slot: 1 });
    }

    #[test]
    #[should_panic(expected = "queued at most once")]
    fn a_slot_queued_twice_is_a_bug() {
        let mut q = CalendarKeys::default();
        q.push(Key { time: 1, seq: 0, slot: 0 });
        q.push(Key { time: 2, seq: 1, slot: 1 });
        q.push(Key { time: 5, seq: 2, slot: 0 });
    }

    /// One step of a generated run: a push at some distance from a base time, or a pop.
    #[derive(Clone, Debug)]
    enum Op {
        Push { delta: u64, from_last_pop: bool },
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        let delta = prop_oneof![Just(0u64), 0u64..16, 0u64..100_000, 0u64..(u64::MAX / 4),];
        prop_oneof![
            3 => (delta, prop::bool::weighted(0.9)).prop_map(|(delta, from_last_pop)| Op::Push { delta, from_last_pop }),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// For any pushes and pops, the calendar pops exactly the keys the heap pops.
        #[test]
        fn calendar_pops_what_the_heap_pops(ops in prop::collection::vec(op(), 0..2_000)) {
            let mut t = Twin::new();
            for op in ops {
                match op {
                    // Mostly at or after the last popped time, as the engine schedules; the
                    // rest anywhere from zero.
                    Op::Push { delta, from_last_pop } => {
                        let base = if from_last_pop { t.last_popped } else { 0 };
                        t.push(base.saturating_add(delta));
                    }
                    Op::Pop => {
                        t.pop();
                    }
                }
            }
            t.drain();
        }

        /// Scheduling never before the last popped time, the event queue pops in strictly
        /// increasing `(time, seq)` order, every payload exactly once.
        #[test]
        fn event_queue_pops_in_time_then_seq_order(ops in prop::collection::vec(op(), 0..2_000)) {
            let mut q: EventQueue<u64> = EventQueue::new();
            let (mut now, mut last) = (0u64, None);
            let (mut pushed, mut popped) = (0u64, Vec::new());
            let mut check = |time: SimTime, seq: u64, payload: u64, now: &mut u64| {
                assert!(last < Some((time.0, seq)), "pops are in (time, seq) order");
                last = Some((time.0, seq));
                *now = time.0;
                popped.push(payload);
            };
            for op in ops {
                match op {
                    Op::Push { delta, .. } => {
                        let seq = q.push(SimTime(now.saturating_add(delta)), pushed);
                        assert_eq!(seq, pushed);
                        pushed += 1;
                    }
                    Op::Pop => {
                        if let Some((time, seq, payload)) = q.pop() {
                            check(time, seq, payload, &mut now);
                        }
                    }
                }
            }
            while let Some((time, seq, payload)) = q.pop() {
                check(time, seq, payload, &mut now);
            }
            popped.sort_unstable();
            assert_eq!(popped, (0..pushed).collect::<Vec<_>>(), "every payload once");
        }
    }
}

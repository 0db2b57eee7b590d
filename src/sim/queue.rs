//! The event queue: a total, reproducible order over pending events.
//!
//! Events are ordered by `(time, seq)`, where `seq` is a counter stamped at insertion, so two
//! events at the same instant leave in the order they were scheduled. The ordering structure
//! holds only small keys ([`Key`]: time, seq and a slot index); payloads live out of line in
//! a slab ([`EventQueue`]), so moving keys around never moves a payload.
//!
//! Two key structures implement [`KeyQueue`]: [`HeapKeys`] (std's binary heap, the
//! reference) and [`CalendarKeys`] (a calendar queue after Brown 1988, the default).

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

/// Placeholder until the calendar queue lands: the heap under another name.
pub type CalendarKeys = HeapKeys;

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
        seq
    }

    /// Removes and returns the earliest event: `(time, seq, payload)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        let key = self.keys.pop()?;
        let payload =
            self.payloads[key.slot as usize].take().expect("every queued key points at a live payload");
        self.free.push(key.slot);
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

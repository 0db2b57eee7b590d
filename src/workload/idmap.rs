//! A map from growing ids to state: clients' requests by request id, a Raft leader's
//! waiting writes by log index.
//!
//! The ids only grow, and few are open at once, so a vector sorted by id beats a B-tree: a
//! new id is a push at the end, a lookup a short binary search over a few entries, and
//! iteration is in id order, as a `BTreeMap`'s would be.

/// Entries ascending by id.
#[derive(Clone, Debug)]
pub struct IdMap<V> {
    entries: Vec<(u64, V)>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap { entries: Vec::new() }
    }
}

impl<V> IdMap<V> {
    fn find(&self, id: u64) -> Result<usize, usize> {
        // The newest requests are the ones asked about most: look at the end first.
        match self.entries.last() {
            Some(&(last, _)) if last == id => Ok(self.entries.len() - 1),
            Some(&(last, _)) if last < id => Err(self.entries.len()),
            _ => self.entries.binary_search_by_key(&id, |&(k, _)| k),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<&V> {
        self.find(id).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        self.find(id).ok().map(|i| &mut self.entries[i].1)
    }

    /// Sets the value of `id`, replacing any earlier one.
    pub fn insert(&mut self, id: u64, value: V) {
        match self.find(id) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (id, value)),
        }
    }

    /// The value of `id`, inserted first as `V::default()` if absent.
    pub fn get_or_default(&mut self, id: u64) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(id) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (id, V::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn remove(&mut self, id: u64) -> Option<V> {
        self.find(id).ok().map(|i| self.entries.remove(i).1)
    }

    /// Every entry, ascending by id, leaving the map empty.
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.entries.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of operations gives what a `BTreeMap` gives.
        #[test]
        fn behaves_as_a_btree_map(ops in proptest::collection::vec((0u8..4, 0u64..40, any::<u16>()), 0..300)) {
            let mut m = IdMap::default();
            let mut reference = BTreeMap::new();
            for (op, id, v) in ops {
                match op {
                    0 => {
                        m.insert(id, v);
                        reference.insert(id, v);
                    }
                    1 => prop_assert_eq!(m.remove(id), reference.remove(&id)),
                    2 => {
                        *m.get_or_default(id) += 1;
                        *reference.entry(id).or_default() += 1;
                    }
                    _ => {
                        if let Some(x) = m.get_mut(id) {
                            *x = x.wrapping_mul(3);
                        }
                        if let Some(x) = reference.get_mut(&id) {
                            *x = x.wrapping_mul(3);
                        }
                    }
                }
                prop_assert_eq!(m.get(id), reference.get(&id));
                prop_assert_eq!(m.len(), reference.len());
            }
            let all: Vec<_> = m.drain().collect();
            prop_assert_eq!(all, reference.into_iter().collect::<Vec<_>>());
            prop_assert!(m.is_empty());
        }
    }
}

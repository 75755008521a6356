//! Lists of earlier chunks of a replay, emptied, to fill again.
//!
//! Why: a replay allocates the same lists chunk after chunk (a chunk's bytes, its tuples, the
//! shard of each tuple), and new lists were fresh memory every time: the page faults to
//! map it, and the allocator's trimming to give it back, were a tenth of a replay's time
//! (`perf record`, 2026-12-07). What is kept is bounded: a number of lists, each no longer than
//! a bound, so a list grown by one very large record is freed.

use std::sync::Mutex;

/// Emptied lists, shared between threads; see the module docs.
#[derive(Debug)]
pub struct Recycled<T> {
    lists: Mutex<Vec<Vec<T>>>,
    /// The most lists kept.
    most: usize,
    /// The longest list kept (its capacity, in items).
    longest: usize,
}

impl<T> Recycled<T> {
    /// Keeps at most `most` lists of at most `longest` items' capacity each.
    pub fn new(most: usize, longest: usize) -> Recycled<T> {
        Recycled { lists: Mutex::new(Vec::new()), most, longest }
    }

    /// An empty list with room for `capacity` items: one given back, or a new one.
    pub fn take(&self, capacity: usize) -> Vec<T> {
        let list = self.lists.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut list = list.unwrap_or_default();
        list.reserve(capacity);
        list
    }

    /// Keeps `lists` (emptied) for [`Recycled::take`], as many as the bounds allow.
    pub fn give_back(&self, lists: impl IntoIterator<Item = Vec<T>>) {
        let mut kept = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        for mut list in lists {
            if kept.len() < self.most && list.capacity() <= self.longest {
                list.clear();
                kept.push(list);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_come_back_empty_with_their_room_within_the_bounds() {
        let r: Recycled<u8> = Recycled::new(2, 100);
        let mut a = r.take(50);
        a.extend_from_slice(&[1, 2, 3]);
        let room = a.capacity();
        r.give_back([a, Vec::with_capacity(1000), Vec::with_capacity(10), Vec::with_capacity(10)]);
        // The long list was freed, and only two were kept.
        assert_eq!(r.lists.lock().map(|l| l.len()).unwrap_or(0), 2);
        let b = r.take(0);
        assert!(b.is_empty());
        assert_eq!(b.capacity(), 10);
        let c = r.take(0);
        assert!(c.is_empty());
        assert_eq!(c.capacity(), room, "the first list given back comes last");
        assert!(r.take(7).capacity() >= 7);
    }
}

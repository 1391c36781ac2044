//! The serial-range index: per namespace, a sorted array of `(start, end, record, role)` with a
//! running maximum of `end` (so every block that can reach a query is found by one binary
//! search), plus a small ordered delta of blocks added since the array was last rebuilt.
//!
//! One indexed block takes [`ENTRY_BYTES`] bytes in the array.

use std::collections::BTreeMap;

/// What a block does to its units, for the overlap rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Role {
    /// Units issued.
    Issuance = 0,
    /// Units retired, cancelled or converted: used.
    Use = 1,
    /// Units held, buffered or transferred: still active.
    Held = 2,
}

/// One indexed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// First unit, inclusive.
    pub start: u64,
    /// Last unit, inclusive.
    pub end: u64,
    /// The largest `end` of this entry and every entry before it in the array.
    pub max_end: u64,
    /// The record the block belongs to.
    pub rec: u32,
    /// Its role.
    pub role: Role,
}

/// Bytes one indexed block takes in the sorted array.
pub const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

// An indexed block must stay within 32 bytes: checked when compiling.
const _: () = assert!(ENTRY_BYTES <= 32);

/// A block found by a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// First unit.
    pub start: u64,
    /// Last unit.
    pub end: u64,
    /// Record.
    pub rec: u32,
    /// Role.
    pub role: Role,
}

/// The blocks of one namespace.
#[derive(Debug, Default, Clone)]
pub struct NsIndex {
    sorted: Vec<Entry>,
    /// Blocks added since the last rebuild, by (start, record) → (end, role).
    delta: BTreeMap<(u64, u32), (u64, Role)>,
    /// The longest block in `delta`, so a delta query starts `delta_len` before the query.
    delta_len: u64,
    /// Entries of `sorted` whose record was removed since the last rebuild.
    removed: u64,
}

impl NsIndex {
    /// Builds the index of `blocks` by sorting them.
    pub fn build(mut blocks: Vec<Entry>) -> NsIndex {
        blocks.sort_unstable_by_key(|e| (e.start, e.rec));
        let mut max = 0;
        for e in &mut blocks {
            max = max.max(e.end);
            e.max_end = max;
        }
        NsIndex {
            sorted: blocks,
            ..NsIndex::default()
        }
    }

    /// The sorted array (by start).
    pub fn sorted(&self) -> &[Entry] {
        &self.sorted
    }

    /// Number of blocks, removed ones included until the next rebuild.
    pub fn len(&self) -> usize {
        self.sorted.len() + self.delta.len()
    }

    /// Whether the index holds no block.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the blocks (array and delta).
    pub fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * ENTRY_BYTES + self.delta.len() * (8 + 4 + 8 + 1 + 3 + 16)
    }

    /// Adds a block in O(log n); the array is rebuilt when the delta grows past a fraction of it.
    pub fn insert(&mut self, start: u64, end: u64, rec: u32, role: Role) {
        self.delta.insert((start, rec), (end, role));
        self.delta_len = self.delta_len.max(end - start);
        let limit = 4_096usize.max(self.sorted.len() / 64);
        if self.delta.len() > limit {
            self.compact(|_| true);
        }
    }

    /// Forgets the block of `rec` starting at `start`.
    pub fn remove(&mut self, start: u64, rec: u32) {
        if self.delta.remove(&(start, rec)).is_none() {
            self.removed += 1;
        }
    }

    /// Rebuilds the array from the array and the delta, keeping only blocks whose record
    /// `alive` accepts.
    pub fn compact(&mut self, alive: impl Fn(u32) -> bool) {
        let delta = std::mem::take(&mut self.delta);
        let mut blocks: Vec<Entry> = std::mem::take(&mut self.sorted)
            .into_iter()
            .filter(|e| alive(e.rec))
            .collect();
        blocks.extend(delta.into_iter().map(|((start, rec), (end, role))| Entry {
            start,
            end,
            max_end: 0,
            rec,
            role,
        }));
        *self = NsIndex::build(blocks);
    }

    /// Every block overlapping `start..=end`, in O(log n + k) for blocks of similar length.
    /// Blocks of removed records are included; callers skip them.
    pub fn query(&self, start: u64, end: u64, out: &mut Vec<Hit>) {
        // First entry whose running max end reaches `start`: nothing before it can overlap.
        let from = self.sorted.partition_point(|e| e.max_end < start);
        let to = self.sorted.partition_point(|e| e.start <= end);
        if from < to {
            for e in &self.sorted[from..to] {
                if e.end >= start {
                    out.push(Hit {
                        start: e.start,
                        end: e.end,
                        rec: e.rec,
                        role: e.role,
                    });
                }
            }
        }
        if !self.delta.is_empty() {
            let lo = (start.saturating_sub(self.delta_len), 0);
            for (&(s, rec), &(e, role)) in self.delta.range(lo..=(end, u32::MAX)) {
                if e >= start {
                    out.push(Hit {
                        start: s,
                        end: e,
                        rec,
                        role,
                    });
                }
            }
        }
    }

    /// Every overlapping pair of blocks in the array, by one sweep over the blocks sorted by
    /// start (the delta must be empty: call after [`NsIndex::build`]).
    pub fn sweep(&self, mut pair: impl FnMut(&Entry, &Entry)) {
        let mut open: Vec<usize> = Vec::new();
        for (i, e) in self.sorted.iter().enumerate() {
            open.retain(|&j| self.sorted[j].end >= e.start);
            for &j in &open {
                pair(&self.sorted[j], e);
            }
            open.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(start: u64, end: u64, rec: u32) -> Entry {
        Entry {
            start,
            end,
            max_end: 0,
            rec,
            role: Role::Issuance,
        }
    }

    #[test]
    fn queries_find_every_overlap_in_array_and_delta() {
        let mut index =
            NsIndex::build(vec![entry(1, 100, 0), entry(20, 30, 1), entry(200, 300, 2)]);
        index.insert(95, 210, 3, Role::Use);
        let mut hits = Vec::new();
        index.query(101, 199, &mut hits);
        let mut recs: Vec<u32> = hits.iter().map(|h| h.rec).collect();
        recs.sort();
        assert_eq!(recs, [3]);
        hits.clear();
        index.query(25, 25, &mut hits);
        let mut recs: Vec<u32> = hits.iter().map(|h| h.rec).collect();
        recs.sort();
        assert_eq!(recs, [0, 1]);
        hits.clear();
        index.query(101, 101, &mut hits);
        assert_eq!(hits.len(), 1);
        hits.clear();
        // Adjacent ranges do not overlap.
        index.query(301, 400, &mut hits);
        assert!(hits.is_empty());
    }

    #[test]
    fn the_sweep_finds_each_overlapping_pair_once() {
        let index = NsIndex::build(vec![
            entry(1, 100, 0),
            entry(20, 30, 1),
            entry(101, 200, 2),
            entry(150, 160, 3),
        ]);
        let mut pairs = Vec::new();
        index.sweep(|a, b| pairs.push((a.rec.min(b.rec), a.rec.max(b.rec))));
        pairs.sort();
        assert_eq!(pairs, [(0, 1), (2, 3)]);
    }
}

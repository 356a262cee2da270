//! Counters addressed by small integers: a [`Slot`] packs (family, dimension, interned segment)
//! into a `u32`, so a counter is `(slot, key)` and no lookup builds or compares a string.
//!
//! [`Cells`] is the frozen form: entries sorted by `(slot, key)`, so the counters of one
//! segment of one family are one contiguous slice (a run) found by binary search in the
//! runs' index, which alone holds the slots. [`Acc`] is the
//! accumulator every merge goes through: one run per slot, keys in `0..4096` (scores, ticket
//! flags, sketch buckets, stage positions) in a dense array indexed by the key, wider keys
//! (currencies, days, hashes) in a sorted vector. Merging a span of days adds each day's
//! entries into one accumulator and freezes it once.
use alloc::vec::Vec;

use super::family::{Dim, Family};
use super::segments::{SegId, Segments};
use super::Cell;

const SEG_BITS: u32 = 23;
const SEG_MASK: u32 = (1 << SEG_BITS) - 1;
const DIM_BITS: u32 = 3;

/// One (family, dimension, segment): ordering slots orders by family, then dimension, then
/// segment id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(u32);

impl Slot {
    /// The slot of a segment of a family (segment ids past 2^23 share the last slot: no
    /// tenant has eight million agents, and a report never holds that many names).
    pub fn new(family: Family, dim: Dim, seg: SegId) -> Slot {
        let seg = seg.0.min(SEG_MASK);
        Slot((family.id() as u32) << (SEG_BITS + DIM_BITS) | (dim.id() as u32) << SEG_BITS | seg)
    }

    /// The totals of a family.
    pub fn total(family: Family) -> Slot {
        Slot::new(family, Dim::All, SegId::NONE)
    }

    /// The family.
    pub fn family(self) -> Family {
        // Slots are only built from a `Family`, so the id is always known.
        Family::from_id(self.family_id() as u8).unwrap_or(Family::Nps)
    }

    /// The family's id, without looking the family up.
    fn family_id(self) -> u32 {
        self.0 >> (SEG_BITS + DIM_BITS)
    }

    /// The dimension.
    pub fn dim(self) -> Dim {
        Dim::from_id(((self.0 >> SEG_BITS) & ((1 << DIM_BITS) - 1)) as u8).unwrap_or(Dim::All)
    }

    /// The segment.
    pub fn seg(self) -> SegId {
        SegId(self.0 & SEG_MASK)
    }

    /// The same family and dimension with another segment.
    pub fn with_seg(self, seg: SegId) -> Slot {
        Slot((self.0 & !SEG_MASK) | seg.0.min(SEG_MASK))
    }

    /// This slot of a rollup whose segments are `from`, as a slot of one whose segments are
    /// `into`: its segment's name interned there.
    pub fn adopted(self, from: &Segments, into: &mut Segments) -> Slot {
        self.with_seg(into.intern(from.name(self.seg())))
    }
}

/// One counter of a run: its key and its value. Its family, dimension and segment are its
/// run's [`Slot`], kept once a run in the runs' index rather than in every counter: 24 bytes
/// a counter instead of 32, and a merge reads a quarter less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Family-specific key.
    pub key: i64,
    /// The counter.
    pub cell: Cell,
}

/// Counters sorted by `(slot, key)`, none of them zero, with where each slot's run starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cells {
    entries: Vec<Entry>,
    /// Each slot of `entries` with the index of its first entry, in slot order. A KPI looks
    /// up a handful of runs in each bucket it reads, and a merge walks every run: both go
    /// through this short dense list (8 bytes a run) instead of searching and scanning the
    /// 24-byte entries (a month bucket holds ~13 000 of them in ~400 runs).
    runs: Vec<(Slot, u32)>,
}

impl Cells {
    /// No counters.
    pub fn new() -> Self {
        Cells::default()
    }

    /// Number of counters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no counter.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `cell` at `(slot, key)` in place (a counter reaching zero goes), keeping the
    /// runs' index: one counter at a time, for rollups built a row at a time (a decoder, a
    /// day read from storage), which mostly append.
    pub(super) fn insert(&mut self, slot: Slot, key: i64, cell: Cell) {
        let found = self.runs.binary_search_by_key(&slot, |r| r.0);
        let j = match found {
            Ok(j) | Err(j) => j,
        };
        let start = self
            .runs
            .get(j)
            .map_or(self.entries.len(), |r| r.1 as usize);
        let end = match found {
            Ok(_) => self
                .runs
                .get(j + 1)
                .map_or(self.entries.len(), |r| r.1 as usize),
            Err(_) => start,
        };
        let run = self.entries.get(start..end).unwrap_or(&[]);
        // Moves the starts of the runs after the `j`th by one entry.
        let shift = |runs: &mut [(Slot, u32)], up: bool| {
            for r in runs {
                r.1 = if up { r.1 + 1 } else { r.1 - 1 };
            }
        };
        match run.binary_search_by_key(&key, |e| e.key) {
            Ok(k) => {
                let at = start + k;
                let Some(e) = self.entries.get_mut(at) else {
                    return;
                };
                e.cell = e.cell.add(cell);
                if !e.cell.is_zero() {
                    return;
                }
                self.entries.remove(at);
                shift(self.runs.get_mut(j + 1..).unwrap_or(&mut []), false);
                if end - start == 1 {
                    self.runs.remove(j);
                }
            }
            Err(k) if !cell.is_zero() => {
                self.entries.insert(start + k, Entry { key, cell });
                if found.is_err() {
                    self.runs.insert(j, (slot, start as u32));
                }
                shift(self.runs.get_mut(j + 1..).unwrap_or(&mut []), true);
            }
            Err(_) => {}
        }
    }

    /// Every counter in order, without its slot (see [`Cells::iter`]).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every counter with its slot, in `(slot, key)` order.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, &Entry)> + '_ {
        self.runs()
            .flat_map(|(slot, run)| run.iter().map(move |e| (slot, e)))
    }

    /// The entries of the `i`th run.
    fn run_at(&self, i: usize) -> &[Entry] {
        let start = self.runs.get(i).map_or(0, |r| r.1 as usize);
        let end = self
            .runs
            .get(i + 1)
            .map_or(self.entries.len(), |r| r.1 as usize);
        self.entries.get(start..end).unwrap_or(&[])
    }

    /// Every run: its slot and its counters, in slot order.
    pub fn runs(&self) -> impl Iterator<Item = (Slot, &[Entry])> + '_ {
        self.runs_in(0..self.runs.len())
    }

    /// The counters of one slot, in key order.
    pub fn run(&self, slot: Slot) -> &[Entry] {
        match self.runs.binary_search_by_key(&slot, |r| r.0) {
            Ok(i) => self.run_at(i),
            Err(_) => &[],
        }
    }

    /// The runs of one family (every dimension and segment), in slot order.
    pub fn family_runs(&self, family: Family) -> impl Iterator<Item = (Slot, &[Entry])> + '_ {
        let (first, last) = Cells::family_bounds(family);
        self.runs_in(self.run_range(first, last))
    }

    /// The runs of every segment of one family and dimension, in slot order.
    pub fn family_dim_runs(
        &self,
        family: Family,
        dim: Dim,
    ) -> impl Iterator<Item = (Slot, &[Entry])> + '_ {
        let first = Slot::new(family, dim, SegId::NONE);
        self.runs_in(self.run_range(first, first.with_seg(SegId(SEG_MASK))))
    }

    /// The indexes of the runs of the slots `first..=last`.
    fn run_range(&self, first: Slot, last: Slot) -> core::ops::Range<usize> {
        self.runs.partition_point(|r| r.0 < first)..self.runs.partition_point(|r| r.0 <= last)
    }

    /// The runs `range` (indexes into the runs' index): each slot and its counters.
    fn runs_in(
        &self,
        range: core::ops::Range<usize>,
    ) -> impl Iterator<Item = (Slot, &[Entry])> + '_ {
        let runs = self.runs.get(range.clone()).unwrap_or(&[]);
        runs.iter().zip(range).map(|(r, i)| (r.0, self.run_at(i)))
    }

    /// The first and the last slot a family can have.
    fn family_bounds(family: Family) -> (Slot, Slot) {
        let first = (family.id() as u32) << (SEG_BITS + DIM_BITS);
        (
            Slot(first),
            Slot(first | ((1 << (SEG_BITS + DIM_BITS)) - 1)),
        )
    }

    /// The counter at `(slot, key)` (zero when absent).
    pub fn get(&self, slot: Slot, key: i64) -> Cell {
        let run = self.run(slot);
        match run.binary_search_by_key(&key, |e| e.key) {
            Ok(i) => run[i].cell,
            Err(_) => Cell::default(),
        }
    }

    /// The sum of every counter of a slot.
    pub fn total(&self, slot: Slot) -> Cell {
        self.run(slot)
            .iter()
            .fold(Cell::default(), |a, e| a.add(e.cell))
    }

    /// Appends a run of `slot`, which sorts after every run already here.
    fn push_run(&mut self, slot: Slot, run: &[Entry]) {
        if !run.is_empty() {
            self.runs.push((slot, self.entries.len() as u32));
            self.entries.extend_from_slice(run);
        }
    }

    /// The counters of the given families only.
    pub fn restricted(&self, families: &[Family]) -> Cells {
        let mut ids: Vec<Family> = families.to_vec();
        ids.sort_unstable_by_key(|f| f.id());
        ids.dedup();
        let mut out = Cells::new();
        for (slot, run) in ids.iter().flat_map(|f| self.family_runs(*f)) {
            out.push_run(slot, run);
        }
        out
    }

    /// Builds from `(slot, key, cell)` already sorted by `(slot, key)` with no zero and no
    /// duplicate; `None` when they are not.
    pub fn from_sorted(counters: &[(Slot, i64, Cell)]) -> Option<Cells> {
        let ordered = counters
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1));
        if !ordered || counters.iter().any(|c| c.2.is_zero()) {
            return None;
        }
        let mut out = Cells::new();
        for &(slot, key, cell) in counters {
            if out.runs.last().is_none_or(|r| r.0 != slot) {
                out.runs.push((slot, out.entries.len() as u32));
            }
            out.entries.push(Entry { key, cell });
        }
        Some(out)
    }

    /// Builds from `(slot, key, cell)` in any order, adding duplicates and dropping zeros.
    pub fn collect(counters: impl IntoIterator<Item = (Slot, i64, Cell)>) -> Cells {
        let mut acc = Acc::new();
        for (slot, key, cell) in counters {
            acc.add(slot, key, cell);
        }
        acc.finish()
    }

    /// `self + other`.
    pub fn merged(&self, other: &Cells) -> Cells {
        let mut acc = Acc::new();
        acc.add_cells(self);
        acc.add_cells(other);
        acc.finish()
    }
}

/// Keys in `0..DENSE_KEYS` go to a run's dense array once the run is merged into.
const DENSE_KEYS: i64 = 4096;

/// The counters of one slot. A run filled by one stream in key order (a day read from
/// storage, a decoded rollup) stays a sorted vector: each key is a push. The first key that
/// comes out of order (a second day merged in) moves the keys of `0..DENSE_KEYS` to a dense
/// array over the range they span (a day's sketch buckets span ~700 keys, not 4096), where
/// every later add is an index.
#[derive(Debug, Clone)]
struct Run {
    slot: Slot,
    /// Cells of keys `base..base + dense.len()`, indexed by `key - base`; empty until the
    /// run is merged into.
    base: i64,
    dense: Vec<Cell>,
    /// Cells of the other keys, sorted by key: every key before the run turns dense, then
    /// the keys outside `0..DENSE_KEYS`.
    sparse: Vec<(i64, Cell)>,
}

impl Run {
    fn new(slot: Slot) -> Run {
        Run {
            slot,
            base: 0,
            dense: Vec::new(),
            sparse: Vec::new(),
        }
    }

    fn is_dense_key(key: i64) -> bool {
        (0..DENSE_KEYS).contains(&key)
    }

    /// Makes the dense array cover keys `lo..=hi` (both dense keys), moving the sparse
    /// vector's dense keys into it the first time.
    fn cover(&mut self, lo: i64, hi: i64) {
        if self.dense.is_empty() {
            let (mut from, mut to) = (lo, hi);
            for &(k, _) in self.sparse.iter().filter(|(k, _)| Run::is_dense_key(*k)) {
                from = from.min(k);
                to = to.max(k);
            }
            self.base = from;
            self.dense = alloc::vec![Cell::default(); (to - from + 1) as usize];
            let base = self.base;
            let dense = &mut self.dense;
            self.sparse.retain(|&(k, c)| {
                if Run::is_dense_key(k) {
                    dense[(k - base) as usize] = c;
                    false
                } else {
                    true
                }
            });
            return;
        }
        if lo < self.base {
            let grow = (self.base - lo) as usize;
            let mut dense = alloc::vec![Cell::default(); grow + self.dense.len()];
            dense[grow..].copy_from_slice(&self.dense);
            self.dense = dense;
            self.base = lo;
        }
        let end = (hi - self.base + 1) as usize;
        if end > self.dense.len() {
            self.dense.resize(end, Cell::default());
        }
    }

    /// The index of `key` in a dense array of `len` cells from `base`, when the array covers
    /// it. The offset is compared in 64 bits, unsigned (a key below the base wraps past any
    /// length): cast to a 32-bit `usize` first (wasm), a wide key would keep only its low bits
    /// and land in the cell of another key (a repeat order's key `20 << 32` in that of key 0).
    #[inline(always)]
    fn covered(base: i64, len: usize, key: i64) -> Option<usize> {
        let at = (key as u64).wrapping_sub(base as u64);
        (at < len as u64).then_some(at as usize)
    }

    /// The cell of `key` in the dense array, when the array covers it.
    #[inline]
    fn dense_mut(&mut self, key: i64) -> Option<&mut Cell> {
        let at = Run::covered(self.base, self.dense.len(), key)?;
        self.dense.get_mut(at)
    }

    /// Adds at a dense key, growing (or first making) the dense array to cover it.
    fn add_dense(&mut self, key: i64, cell: Cell) {
        if self.dense_mut(key).is_none() {
            self.cover(key, key);
        }
        if let Some(c) = self.dense_mut(key) {
            *c = c.add(cell);
        }
    }

    fn add(&mut self, key: i64, cell: Cell) {
        // A key the dense array covers (always a dense key: the array only covers them) is
        // an index, without touching the sparse vector: in a fold the run's cells are cold,
        // and reading the sparse vector's last key first costs a cache miss of its own.
        if let Some(c) = self.dense_mut(key) {
            *c = c.add(cell);
            return;
        }
        let in_order = self.sparse.last().is_none_or(|&(last, _)| key > last);
        if Run::is_dense_key(key) && (!self.dense.is_empty() || !in_order) {
            self.add_dense(key, cell);
        } else if in_order {
            self.sparse.push((key, cell));
        } else {
            match self.sparse.binary_search_by_key(&key, |(k, _)| *k) {
                Ok(i) => self.sparse[i].1 = self.sparse[i].1.add(cell),
                Err(i) => self.sparse.insert(i, (key, cell)),
            }
        }
    }

    /// Adds a chunk of entries of this slot, sorted by key with no duplicate.
    fn add_sorted(&mut self, chunk: &[Entry]) {
        let in_order = self.dense.is_empty()
            && match (self.sparse.last(), chunk.first()) {
                (Some(&(last, _)), Some(first)) => first.key > last,
                _ => true,
            };
        if in_order {
            self.sparse.extend(chunk.iter().map(|e| (e.key, e.cell)));
            return;
        }
        // One pass front to back, as the entries lie in memory: a key the dense array covers
        // is an index. The first dense key it does not cover makes it cover every dense key
        // left in the chunk (sorted: the last one bounds them), so the array grows at most
        // once a chunk; [`Run::add`] puts the rest (other keys go to the sparse vector).
        let mut i = 0;
        while i < chunk.len() {
            i += self.add_covered(chunk.get(i..).unwrap_or(&[]));
            let Some(e) = chunk.get(i) else {
                break;
            };
            if Run::is_dense_key(e.key) {
                let hi = chunk
                    .iter()
                    .skip(i)
                    .rev()
                    .map(|e| e.key)
                    .find(|k| Run::is_dense_key(*k))
                    .unwrap_or(e.key);
                self.cover(e.key, hi);
            }
            self.add(e.key, e.cell);
            i += 1;
        }
    }

    /// Adds the entries of `chunk` up to the first whose key the dense array does not cover,
    /// and returns how many it added: the merge's inner loop, with the array's base and
    /// length read once rather than again for each entry.
    #[inline(always)]
    fn add_covered(&mut self, chunk: &[Entry]) -> usize {
        let base = self.base;
        let dense = self.dense.as_mut_slice();
        let len = dense.len();
        for (i, e) in chunk.iter().enumerate() {
            let Some(c) = Run::covered(base, len, e.key).and_then(|at| dense.get_mut(at)) else {
                return i;
            };
            *c = c.add(e.cell);
        }
        chunk.len()
    }
}

/// The accumulator of merges and folds: add counters in any order, then [`Acc::finish`].
#[derive(Debug, Clone, Default)]
pub struct Acc {
    runs: Vec<Run>,
    /// Open addressing: slot → run index + 1 (0 = empty); a power-of-two length.
    index: Vec<u32>,
    /// The run of the last slot added to: entries of one slot come in a row.
    last: Option<(Slot, usize)>,
}

impl Acc {
    /// An empty accumulator.
    pub fn new() -> Self {
        Acc::default()
    }

    /// Fibonacci hashing: the high half of the product mixes every bit of the slot (family
    /// and dimension sit in its high bits, the segment in its low bits).
    fn hash(slot: Slot) -> usize {
        ((slot.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize
    }

    fn run_of(&mut self, slot: Slot) -> usize {
        if let Some((s, r)) = self.last {
            if s == slot {
                return r;
            }
        }
        if self.index.is_empty() {
            self.index = alloc::vec![0; 64];
        }
        let mask = self.index.len() - 1;
        let mut i = Acc::hash(slot) & mask;
        let r = loop {
            match self.index[i] {
                0 => {
                    self.runs.push(Run::new(slot));
                    let r = self.runs.len() - 1;
                    self.index[i] = r as u32 + 1;
                    if self.runs.len() * 2 > self.index.len() {
                        self.grow();
                    }
                    break r;
                }
                x if self.runs[x as usize - 1].slot == slot => break x as usize - 1,
                _ => i = (i + 1) & mask,
            }
        };
        self.last = Some((slot, r));
        r
    }

    fn grow(&mut self) {
        self.index = alloc::vec![0; self.index.len() * 2];
        let mask = self.index.len() - 1;
        for (r, run) in self.runs.iter().enumerate() {
            let mut i = Acc::hash(run.slot) & mask;
            while self.index[i] != 0 {
                i = (i + 1) & mask;
            }
            self.index[i] = r as u32 + 1;
        }
    }

    /// Adds `cell` at `(slot, key)`.
    #[inline]
    pub fn add(&mut self, slot: Slot, key: i64, cell: Cell) {
        let r = self.run_of(slot);
        self.runs[r].add(key, cell);
    }

    /// Adds the counters of one slot, `(key, cell)` (a stored line's cells): one run lookup
    /// for all of them, and room made once when the run is still a vector, where cells in
    /// key order are pushes.
    pub fn add_keys<I>(&mut self, slot: Slot, cells: I)
    where
        I: IntoIterator<Item = (i64, Cell)>,
        I::IntoIter: ExactSizeIterator,
    {
        let cells = cells.into_iter();
        let r = self.run_of(slot);
        let Some(run) = self.runs.get_mut(r) else {
            return;
        };
        if run.dense.is_empty() {
            run.sparse.reserve(cells.len());
        }
        for (key, cell) in cells {
            run.add(key, cell);
        }
    }

    /// Adds every counter of `cells`: one run lookup per slot, then keys straight into the
    /// run's dense array.
    pub fn add_cells(&mut self, cells: &Cells) {
        self.add_runs(cells.runs(), 1);
    }

    /// Adds (`sign` 1) or subtracts (`sign` -1) runs of a [`Cells`]: one run lookup per
    /// slot, then a sorted add, or each counter negated.
    fn add_runs<'c>(&mut self, runs: impl Iterator<Item = (Slot, &'c [Entry])>, sign: i64) {
        for (slot, chunk) in runs {
            let r = self.run_of(slot);
            let Some(run) = self.runs.get_mut(r) else {
                continue;
            };
            match sign {
                1 => run.add_sorted(chunk),
                _ => chunk
                    .iter()
                    .for_each(|e| run.add(e.key, e.cell.times(sign))),
            }
        }
    }

    /// Adds every run of `cells` times `sign` (1 or -1) under the slot `to` gives its slot,
    /// or not at all when it gives none: one call per run, not per counter.
    pub fn add_mapped(
        &mut self,
        cells: &Cells,
        sign: i64,
        mut to: impl FnMut(Slot) -> Option<Slot>,
    ) {
        self.add_runs(
            cells
                .runs()
                .filter_map(|(slot, run)| Some((to(slot)?, run))),
            sign,
        );
    }

    /// Subtracts every counter of `cells`.
    pub fn sub_cells(&mut self, cells: &Cells) {
        self.add_runs(cells.runs(), -1);
    }

    /// Adds (`sign` 1) or subtracts (`sign` -1) the counters of `cells` whose family is in
    /// `families` (distinct families: each one's counters are one slice of `cells`).
    pub fn add_families(&mut self, cells: &Cells, families: &[Family], sign: i64) {
        for f in families {
            self.add_runs(cells.family_runs(*f), sign);
        }
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The sum of everything added, sorted, zeros dropped.
    pub fn finish(mut self) -> Cells {
        self.runs.sort_unstable_by_key(|r| r.slot);
        let n: usize = self
            .runs
            .iter()
            .map(|r| r.dense.len() + r.sparse.len())
            .sum();
        let mut out = Vec::with_capacity(n);
        let mut runs: Vec<(Slot, u32)> = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let slot = run.slot;
            let start = out.len() as u32;
            let split = run.sparse.partition_point(|(k, _)| *k < 0);
            let push = |out: &mut Vec<Entry>, key: i64, cell: Cell| {
                if !cell.is_zero() {
                    out.push(Entry { key, cell });
                }
            };
            for &(k, c) in &run.sparse[..split] {
                push(&mut out, k, c);
            }
            for (i, c) in run.dense.iter().enumerate() {
                push(&mut out, run.base + i as i64, *c);
            }
            for &(k, c) in &run.sparse[split..] {
                push(&mut out, k, c);
            }
            if out.len() as u32 > start {
                runs.push((slot, start));
            }
        }
        Cells { entries: out, runs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The runs' index names every slot once, in order, and each run holds exactly the
    /// entries of its slot: `run` finds what a scan of the entries finds.
    fn assert_indexed(c: &Cells) {
        let mut joined: Vec<Entry> = Vec::new();
        let mut last: Option<Slot> = None;
        for (slot, run) in c.runs() {
            assert!(last.is_none_or(|l| l < slot), "runs out of order");
            assert!(!run.is_empty(), "an empty run");
            assert!(
                run.windows(2).all(|w| w[0].key < w[1].key),
                "keys out of order"
            );
            assert_eq!(c.run(slot), run);
            last = Some(slot);
            joined.extend_from_slice(run);
        }
        assert_eq!(joined, c.entries());
        assert!(c.run(Slot(u32::MAX)).is_empty());
    }

    /// Every counter of `c` as `(slot, key, cell)`.
    fn listed(c: &Cells) -> Vec<(Slot, i64, Cell)> {
        c.iter().map(|(s, e)| (s, e.key, e.cell)).collect()
    }

    proptest! {
        #[test]
        fn acc_equals_a_sorted_sum(items in prop::collection::vec(
            (0u8..39, 0u8..7, 0u32..5, prop_oneof![0i64..20, -5i64..0, 4090i64..4100, any::<i64>()], -3i64..4, -3i64..4), 0..300)) {
            let mut want: alloc::collections::BTreeMap<(Slot, i64), Cell> = Default::default();
            let mut acc = Acc::new();
            // The same counters, a slot's consecutive ones added as one line.
            let mut lines = Acc::new();
            let mut line: Vec<(i64, Cell)> = Vec::new();
            let mut line_slot: Option<Slot> = None;
            for (f, d, s, k, n, sum) in items {
                let Some(f) = Family::from_id(f) else { continue };
                let slot = Slot::new(f, Dim::ALL[d as usize], SegId(s));
                let c = Cell { n, sum };
                acc.add(slot, k, c);
                let e = want.entry((slot, k)).or_default();
                *e = e.add(c);
                if line_slot.is_some_and(|l| l != slot) {
                    lines.add_keys(line_slot.unwrap_or(slot), line.drain(..));
                }
                line_slot = Some(slot);
                line.push((k, c));
            }
            if let Some(l) = line_slot {
                lines.add_keys(l, line.drain(..));
            }
            let got = acc.finish();
            prop_assert_eq!(&lines.finish(), &got);
            assert_indexed(&got);
            let want: Vec<(Slot, i64, Cell)> = want
                .into_iter()
                .filter(|(_, c)| !c.is_zero())
                .map(|((slot, key), cell)| (slot, key, cell))
                .collect();
            prop_assert_eq!(listed(&got), want.clone());
            let decoded = Cells::from_sorted(&want);
            prop_assert_eq!(decoded.as_ref(), Some(&got));
            // Counters put one at a time into an empty set: the same counters, the same runs.
            let mut one_by_one = Cells::new();
            for &(slot, key, cell) in want.iter().rev() {
                one_by_one.insert(slot, key, cell);
            }
            assert_indexed(&one_by_one);
            prop_assert_eq!(&one_by_one, &got);
            if let Some(&(slot, key, cell)) = want.first() {
                one_by_one.insert(slot, key, cell.negate());
                assert_indexed(&one_by_one);
                prop_assert_eq!(one_by_one.len(), want.len() - 1);
            }
        }
    }

    proptest! {
        /// Merging sorted rollups (runs that start as vectors, then turn dense) equals a
        /// sorted sum, whatever the order and mix of `add` and `add_cells`.
        #[test]
        fn merging_sorted_cells_equals_a_sorted_sum(parts in prop::collection::vec(
            prop::collection::vec((0u8..3, 0u32..3, prop_oneof![0i64..40, -5i64..0, 700i64..760, 4090i64..4100], -3i64..4), 0..60), 0..6),
            loose in prop::collection::vec((0u8..3, 0u32..3, prop_oneof![0i64..40, 700i64..760, any::<i64>()], -3i64..4), 0..20)) {
            let mut want: alloc::collections::BTreeMap<(Slot, i64), Cell> = Default::default();
            let mut acc = Acc::new();
            let slot = |f: u8, s: u32| Family::from_id(f).map(|f| Slot::new(f, Dim::Channel, SegId(s)));
            for (i, part) in parts.iter().enumerate() {
                let cells = Cells::collect(part.iter().filter_map(|&(f, s, key, n)| {
                    Some((slot(f, s)?, key, Cell { n, sum: 3 * n }))
                }));
                for (s, e) in cells.iter() {
                    let w = want.entry((s, e.key)).or_default();
                    *w = w.add(e.cell);
                }
                acc.add_cells(&cells);
                if let Some(&(f, s, key, n)) = loose.get(i) {
                    let Some(sl) = slot(f, s) else { continue };
                    let c = Cell { n, sum: -n };
                    acc.add(sl, key, c);
                    let w = want.entry((sl, key)).or_default();
                    *w = w.add(c);
                }
            }
            let want: Vec<(Slot, i64, Cell)> = want
                .into_iter()
                .filter(|(_, c)| !c.is_zero())
                .map(|((slot, key), cell)| (slot, key, cell))
                .collect();
            let got = acc.finish();
            assert_indexed(&got);
            prop_assert_eq!(listed(&got), want.clone());
            // A family's counters are one slice; restricting keeps exactly those families.
            let fams = [Family::Csat5, Family::Nps];
            let kept: Vec<(Slot, i64, Cell)> = want.iter().filter(|c| fams.contains(&c.0.family())).copied().collect();
            let restricted = got.restricted(&fams);
            assert_indexed(&restricted);
            prop_assert_eq!(listed(&restricted), kept.clone());
            let mut acc = Acc::new();
            acc.add_families(&got, &fams, 1);
            prop_assert_eq!(&acc.finish(), &restricted);
            let mut acc = Acc::new();
            acc.add_families(&got, &fams, -1);
            let negated: Vec<(Slot, i64, Cell)> = kept.iter().map(|&(s, k, c)| (s, k, c.negate())).collect();
            let subtracted = acc.finish();
            prop_assert_eq!(listed(&subtracted), negated.clone());
            let mut acc = Acc::new();
            acc.sub_cells(&restricted);
            prop_assert_eq!(acc.finish(), subtracted);
        }
    }

    #[test]
    fn slots_pack_and_order() {
        let a = Slot::new(Family::Nps, Dim::Channel, SegId(3));
        assert_eq!(a.family(), Family::Nps);
        assert_eq!(a.dim(), Dim::Channel);
        assert_eq!(a.seg(), SegId(3));
        assert!(Slot::total(Family::Nps) < a);
        assert!(a < Slot::total(Family::Csat5));
        assert_eq!(a.with_seg(SegId(9)).seg(), SegId(9));
    }
}

//! Per-day rollups: integer counters keyed by (family, dimension, segment, key).
//!
//! A rollup is a commutative monoid under pointwise addition, so the rollup of any period is
//! the merge of its days, and a storage layer keeps each counter as one row updated atomically
//! (`n = n + ?`). Integers only: merging is exact and gives the same bits on every target.
//!
//! Facts hand their counters to a [`Sink`] ([`CellKey`]s with the segment as text, as stored
//! beside a raw row in its `contrib`); inside, a counter is addressed by small integers
//! ([`cells`]: a [`Slot`] of family, dimension and interned segment, plus the key) and merges go
//! through one accumulator ([`Acc`]).
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::Channel;

pub mod cells;
mod family;
pub mod segments;

pub use cells::{Acc, Cells, Entry, Slot};
pub use family::{key, Dim, Family};
pub use segments::{SegId, Segments};

/// Where a counter sits, with its segment as text: what a fact contributes and what a raw
/// row stores.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    /// What is counted.
    pub family: Family,
    /// Breakdown dimension.
    pub dim: Dim,
    /// Segment value within the dimension (`""` for `Dim::All`).
    pub segment: String,
    /// Family-specific key (a score, a sketch bucket, an event type…).
    pub key: i64,
}

impl CellKey {
    /// A key.
    pub fn new(family: Family, dim: Dim, segment: &str, key: i64) -> Self {
        CellKey {
            family,
            dim,
            segment: String::from(segment),
            key,
        }
    }

    /// A key of the totals (`Dim::All`).
    pub fn total(family: Family, key: i64) -> Self {
        CellKey::new(family, Dim::All, "", key)
    }
}

/// Where a fact's counters go: a rollup being folded, a list of [`CellKey`]s, the JSON of a
/// raw row. A fact names each of its segments once ([`Sink::segment`]) and then adds
/// counters by id, so folding builds no string per counter.
pub trait Sink {
    /// The id the following [`Sink::put`] calls use for segment `name`.
    fn segment(&mut self, name: &str) -> SegId;
    /// [`Sink::segment`] of a channel's name: every answer and ticket names one, so a sink
    /// may keep their ids rather than look the name up each time.
    fn channel(&mut self, channel: Channel) -> SegId {
        self.segment(channel.as_str())
    }
    /// Adds `cell` at `key` of `family` in segment `seg` of `dim` (`SegId::NONE` for `All`).
    fn put(&mut self, family: Family, dim: Dim, seg: SegId, key: i64, cell: Cell);
}

/// A [`Sink`] collecting [`CellKey`]s.
#[derive(Debug, Default)]
pub struct Collect {
    names: Vec<String>,
    /// The contributions, in the order they were put.
    pub out: Vec<(CellKey, Cell)>,
}

impl Sink for Collect {
    fn segment(&mut self, name: &str) -> SegId {
        match self.names.iter().position(|n| n == name) {
            Some(i) => SegId(i as u32 + 1),
            None => {
                self.names.push(String::from(name));
                SegId(self.names.len() as u32)
            }
        }
    }

    fn put(&mut self, family: Family, dim: Dim, seg: SegId, key: i64, cell: Cell) {
        let segment = match seg.0 {
            0 => "",
            i => self.names.get(i as usize - 1).map_or("", String::as_str),
        };
        self.out
            .push((CellKey::new(family, dim, segment, key), cell));
    }
}

/// Appends `s` as the body of a JSON string, escaped as SQLite's `json_array` escapes it.
fn json_str(out: &mut String, s: &str) {
    use core::fmt::Write;
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// The contribution of one raw record as stored beside it (the worker's `contrib` column):
/// `[[family_id,dim_id,"segment",key,n,sum],…]`, compact JSON as SQLite's `json_array`
/// writes it. The D1 triggers add and retract rollup counters from it; `cargo xtask bench`
/// seeds D1 with it. One writer, so the two cannot drift.
pub fn contrib_json(cells: &[(CellKey, Cell)]) -> String {
    use core::fmt::Write;
    let mut out = String::with_capacity(2 + cells.len() * 24);
    out.push('[');
    for (i, (k, c)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{},{},\"", k.family.id(), k.dim.id());
        json_str(&mut out, &k.segment);
        let _ = write!(out, "\",{},{},{}]", k.key, c.n, c.sum);
    }
    out.push(']');
    out
}

/// A counter: how many facts, and the sum of an integer quantity they carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Number of facts.
    pub n: i64,
    /// Sum of the facts' quantity (milliseconds, minor currency units…), 0 when none.
    pub sum: i64,
}

impl Cell {
    /// Pointwise addition, saturating rather than wrapping on absurd input.
    // Saturating, so deliberately not `std::ops::Add` (which would promise wrapping or panics).
    #[allow(clippy::should_implement_trait)]
    #[inline(always)]
    pub fn add(self, other: Cell) -> Cell {
        Cell {
            n: self.n.saturating_add(other.n),
            sum: self.sum.saturating_add(other.sum),
        }
    }

    /// The inverse, for retracting a fact.
    #[inline(always)]
    pub fn negate(self) -> Cell {
        Cell {
            n: self.n.saturating_neg(),
            sum: self.sum.saturating_neg(),
        }
    }

    /// `k` facts like this one (an aggregated count), saturating.
    #[inline(always)]
    pub fn times(self, k: i64) -> Cell {
        Cell {
            n: self.n.saturating_mul(k),
            sum: self.sum.saturating_mul(k),
        }
    }

    /// True when both counters are zero.
    #[inline(always)]
    pub fn is_zero(self) -> bool {
        self.n == 0 && self.sum == 0
    }
}

/// A standalone rollup: counters with their own table of segment names. Days, facts folded
/// for tests and benchmarks, and decoded rollups are `Rollup`s; a report re-interns the ones
/// it reads into one table ([`crate::report::Span`]) so that merging them compares no string.
#[derive(Debug, Clone, Default)]
pub struct Rollup {
    segs: Segments,
    cells: Cells,
}

impl PartialEq for Rollup {
    fn eq(&self, other: &Rollup) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Eq for Rollup {}

impl Serialize for Rollup {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Rollup {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rollup, D::Error> {
        let v: Vec<(CellKey, Cell)> = Vec::deserialize(d)?;
        let mut r = Rollup::new();
        r.extend(v);
        Ok(r)
    }
}

impl Sink for Rollup {
    fn segment(&mut self, name: &str) -> SegId {
        self.segs.intern(name)
    }

    fn put(&mut self, family: Family, dim: Dim, seg: SegId, key: i64, cell: Cell) {
        self.insert(Slot::new(family, dim, seg), key, cell);
    }
}

/// A [`Sink`] that folds many facts into one rollup through the accumulator. Puts wait in a
/// buffer and go into the accumulator [`PENDING`] at a time. When facts come in no order of
/// day, into a builder a day (the criterion fold: 31 days of ~450 KB of dense cells each),
/// a put added at once lands on a line of its day that the other days' puts have evicted; a
/// batch that large touches each of those lines several times while it is in cache. Each
/// counter still takes its puts in the order they came, so the rollup is the same,
/// saturation included.
#[derive(Debug, Default)]
pub struct Builder {
    segs: Segments,
    acc: Acc,
    /// Each channel's segment id + 1 once interned (0: not yet).
    channels: [u32; Channel::ALL.len()],
    /// Puts not yet in `acc`, in the order they came.
    pending: Vec<(Slot, i64, Cell)>,
}

/// Puts a [`Builder`] keeps before adding them (1 MiB): fewer bring the day's cells back from
/// memory for each batch (2 048 folded the 31 days of the criterion bench no faster than
/// one at a time), more gain nothing (65 536: the same as 32 768).
const PENDING: usize = 32_768;

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Adds the waiting puts to the accumulator.
    fn flush(&mut self) {
        for (slot, key, cell) in self.pending.drain(..) {
            self.acc.add(slot, key, cell);
        }
    }

    /// The rollup of everything put.
    pub fn finish(mut self) -> Rollup {
        self.flush();
        Rollup {
            segs: self.segs,
            cells: self.acc.finish(),
        }
    }
}

impl Sink for Builder {
    fn segment(&mut self, name: &str) -> SegId {
        self.segs.intern(name)
    }

    fn channel(&mut self, channel: Channel) -> SegId {
        let i = channel as usize;
        match self.channels.get(i) {
            Some(&id) if id > 0 => SegId(id - 1),
            _ => {
                let id = self.segs.intern(channel.as_str());
                if let Some(c) = self.channels.get_mut(i) {
                    *c = id.0 + 1;
                }
                id
            }
        }
    }

    #[inline]
    fn put(&mut self, family: Family, dim: Dim, seg: SegId, key: i64, cell: Cell) {
        self.pending.push((Slot::new(family, dim, seg), key, cell));
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }
}

impl Rollup {
    /// The empty rollup.
    pub fn new() -> Self {
        Rollup::default()
    }

    /// A rollup of `cells` whose segment ids are those of `segs`.
    pub fn from_parts(segs: Segments, cells: Cells) -> Rollup {
        Rollup { segs, cells }
    }

    /// The segment table.
    pub fn segs(&self) -> &Segments {
        &self.segs
    }

    /// The counters.
    pub fn cells(&self) -> &Cells {
        &self.cells
    }

    fn insert(&mut self, slot: Slot, key: i64, cell: Cell) {
        self.cells.insert(slot, key, cell);
    }

    /// Adds `cell` to the counter at `key`; counters that reach zero disappear so that equal
    /// totals compare equal however they were reached.
    pub fn add(&mut self, key: CellKey, cell: Cell) {
        let seg = self.segs.intern(&key.segment);
        self.insert(Slot::new(key.family, key.dim, seg), key.key, cell);
    }

    /// Adds a list of contributions, as produced by a fact.
    pub fn extend(&mut self, contributions: impl IntoIterator<Item = (CellKey, Cell)>) {
        let mut acc = Acc::new();
        acc.add_cells(&self.cells);
        for (k, c) in contributions {
            let seg = self.segs.intern(&k.segment);
            acc.add(Slot::new(k.family, k.dim, seg), k.key, c);
        }
        self.cells = acc.finish();
    }

    /// Adds `other`'s counters, times `sign`, into `acc` under this rollup's segment ids.
    fn remap_into(&mut self, other: &Rollup, acc: &mut Acc, sign: i64) {
        acc.add_mapped(&other.cells, sign, |slot| {
            Some(slot.adopted(&other.segs, &mut self.segs))
        });
    }

    /// Adds every counter of `other` (the monoid operation).
    pub fn merge(&mut self, other: &Rollup) {
        let mut acc = Acc::new();
        acc.add_cells(&self.cells);
        self.remap_into(other, &mut acc, 1);
        self.cells = acc.finish();
    }

    /// Subtracts every counter of `other` (`self − other`).
    pub fn subtract(&mut self, other: &Rollup) {
        let mut acc = Acc::new();
        acc.add_cells(&self.cells);
        self.remap_into(other, &mut acc, -1);
        self.cells = acc.finish();
    }

    fn slot(&self, family: Family, dim: Dim, segment: &str) -> Option<Slot> {
        self.segs
            .find(segment)
            .map(|seg| Slot::new(family, dim, seg))
    }

    /// The counter at `key` (zero when absent).
    pub fn get(&self, key: &CellKey) -> Cell {
        self.at(key.family, key.dim, &key.segment, key.key)
    }

    /// The counter at one key of one segment of one family.
    pub fn at(&self, family: Family, dim: Dim, segment: &str, key: i64) -> Cell {
        self.slot(family, dim, segment)
            .map_or(Cell::default(), |s| self.cells.get(s, key))
    }

    /// The counters of one segment of one family, as (key, cell), in key order.
    pub fn keyed(
        &self,
        family: Family,
        dim: Dim,
        segment: &str,
    ) -> impl Iterator<Item = (i64, Cell)> + '_ {
        let run = match self.slot(family, dim, segment) {
            Some(s) => self.cells.run(s),
            None => &[],
        };
        run.iter().map(|e| (e.key, e.cell))
    }

    /// The sum of every counter of one segment of one family (all keys).
    pub fn total(&self, family: Family, dim: Dim, segment: &str) -> Cell {
        self.keyed(family, dim, segment)
            .fold(Cell::default(), |a, (_, c)| a.add(c))
    }

    /// The distinct segment values present for a family and dimension.
    pub fn segments(&self, family: Family, dim: Dim) -> Vec<String> {
        self.cells
            .family_dim_runs(family, dim)
            .map(|(slot, _)| String::from(self.segs.name(slot.seg())))
            .collect()
    }

    /// The counters of the given families only.
    pub fn restricted(&self, families: &[Family]) -> Rollup {
        Rollup {
            segs: self.segs.clone(),
            cells: self.cells.restricted(families),
        }
    }

    /// Number of counters.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True when no counter is non-zero.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Every counter with its key spelled out.
    pub fn iter(&self) -> impl Iterator<Item = (CellKey, Cell)> + '_ {
        self.cells.iter().map(|(slot, e)| {
            (
                CellKey::new(slot.family(), slot.dim(), self.segs.name(slot.seg()), e.key),
                e.cell,
            )
        })
    }

    /// Every counter in the order of its spelled-out key: equal rollups give equal lists
    /// whatever ids their segments got.
    pub fn canonical(&self) -> Vec<(CellKey, Cell)> {
        let mut v: Vec<(CellKey, Cell)> = self.iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[cfg(test)]
mod tests;

//! What a formula reads: the counters of one span (a period, its previous period or one
//! series point) seen through one segment, with the stocks at the span's end, the span
//! before it and the span's days. Every lookup is a binary search over small integers.
use super::options::ReportOptions;
use crate::money::Currency;
use crate::period::CivilDate;
use crate::rollup::{Cell, Cells, Dim, Entry, Family, SegId, Segments, Slot};

/// One segment of one span's counters, and what stands beside them.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// The span's counters (flows summed over its days).
    pub(crate) cells: &'a Cells,
    /// The names behind the segment ids of every counter set here.
    pub(crate) segs: &'a Segments,
    /// The dimension viewed (`All` for the totals).
    pub(crate) dim: Dim,
    /// The segment viewed (`SegId::NONE` for the totals).
    pub(crate) seg: SegId,
    /// Its name (`""` for the totals).
    pub(crate) name: &'a str,
    /// Stock families summed over every day before the span's end; `None` leaves stock KPIs
    /// without a value rather than a wrong one.
    pub(crate) to_date: Option<&'a Cells>,
    /// The span before this one (sales growth).
    pub(crate) previous: Option<&'a Cells>,
    /// First day of the span (the window of distinct-customer KPIs).
    pub(crate) from: Option<CivilDate>,
    /// The day after the span (where stocks are read).
    pub(crate) to: Option<CivilDate>,
    /// The report's options.
    pub(crate) opts: &'a ReportOptions,
}

impl<'a> View<'a> {
    /// The counters of `family` in the viewed segment.
    pub(crate) fn run(&self, family: Family) -> &'a [Entry] {
        self.cells.run(Slot::new(family, self.dim, self.seg))
    }

    /// The counters of `family` in the totals, whatever segment is viewed.
    pub(crate) fn totals(&self, family: Family) -> &'a [Entry] {
        self.cells.run(Slot::total(family))
    }

    /// The count at `key` of `family`.
    pub(crate) fn at(&self, family: Family, key: i64) -> i64 {
        self.cells.get(Slot::new(family, self.dim, self.seg), key).n
    }

    /// The sum of every counter of `family`.
    pub(crate) fn total(&self, family: Family) -> Cell {
        sum(self.run(family))
    }

    /// True when `family` has a counter in the viewed segment.
    pub(crate) fn has(&self, family: Family) -> bool {
        !self.run(family).is_empty()
    }

    /// The counter of `family` in currency `cur`.
    pub(crate) fn money(&self, family: Family, cur: Currency) -> Cell {
        self.cells
            .get(Slot::new(family, self.dim, self.seg), cur.key())
    }

    /// The same segment over other counters.
    pub(crate) fn with(&self, cells: &'a Cells) -> View<'a> {
        View { cells, ..*self }
    }

    /// The viewed segment's name (`""` for the totals).
    pub(crate) fn seg_name(&self) -> &'a str {
        self.name
    }

    /// The id of segment `name`, if any counter names it.
    pub(crate) fn seg_id(&self, name: &str) -> Option<SegId> {
        self.segs.find(name)
    }
}

/// The sum of a run of counters.
pub(crate) fn sum(run: &[Entry]) -> Cell {
    run.iter().fold(Cell::default(), |a, e| a.add(e.cell))
}

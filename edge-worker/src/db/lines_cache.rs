//! Closed months' and years' lines (`lines_month`, `lines_year`, migration 0015) and the open
//! month's before today (`lines_prefix`, `lines_days`, migrations 0017 and 0018) kept in this
//! isolate's memory once read, so that a dashboard read again asks D1 only for today and
//! the marks. A kept copy is used only while the tenant's snapshot generation
//! (`snapshot_gens`, migration 0016) is the one it was read at: every batch that rebuilds a
//! snapshot or a prefix moves it (`cells::rebuild`), and a read's own statement compares it
//! before skipping the lines (`cells::span`), so a copy is never used after its snapshot
//! changed. A month marked stale since is read from its days like any stale month: the
//! marks come with every read. A prefix unbuilt since (a change to one of its days deletes
//! its `month_prefixes` row without a rebuild) is read from its days, and the read drops
//! that family's kept lines: which families are built comes with every read too.
//! Closed buckets summed from kept lines alone are kept too ([`KeptBuckets`]), with the
//! segment table their ids name: a read made of the very same kept copies (the same `Rc`s,
//! so the same generation and the same lines) takes them whole, without adding the lines
//! or finishing the sums again.
//! Bounded: past [`CAP_BYTES`] of lines, the cache starts afresh; past [`SUMS_CAP_BYTES`]
//! of sums, the sums do.
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use kpi_core::report::PartSum;
use kpi_core::rollup::{Cells, Entry, Segments};

/// Bytes of lines kept, over every tenant.
const CAP_BYTES: usize = 8 << 20;

/// Bytes of buckets' sums kept, over every tenant.
const SUMS_CAP_BYTES: usize = 8 << 20;

/// Shapes of read (their kept parts and buckets) whose sums a tenant keeps: the widget's
/// few presets and periods.
const BUCKET_SHAPES: usize = 4;

/// The SQL value of tenant `?1`'s snapshot generation (0 before its first rebuild).
pub const GEN_SQL: &str = "(SELECT coalesce(max(gen), 0) FROM snapshot_gens WHERE tenant_id = ?1)";

/// What one part of a read asks for: the lines of `families` × `dims` × `periods` in
/// `table`. A period is its digits: `20261005` for `2026-10-05`, `202610` for `2026-10`, `2026`
/// for `2026`.
#[derive(Debug, Clone)]
pub struct Key {
    /// `lines_month`, `lines_year`, `lines_prefix` or `lines_days`.
    pub table: &'static str,
    /// Family ids.
    pub families: Vec<u8>,
    /// Dimension ids.
    pub dims: Vec<u8>,
    /// Periods, as [`period_id`] writes them.
    pub periods: Vec<u32>,
}

impl Key {
    /// The lines of `families` × `dims` × `periods` in `table`.
    pub fn new(table: &'static str, families: &[u8], dims: &[u8], periods: &[u32]) -> Key {
        Key {
            table,
            families: families.to_vec(),
            dims: dims.to_vec(),
            periods: periods.to_vec(),
        }
    }

    /// The table's place in a [`slot`], named once per key rather than per lookup. A prefix
    /// is dated by its month like the month's snapshot, so tables count apart.
    fn table_code(&self) -> u64 {
        match self.table {
            "lines_year" => 1,
            "lines_prefix" => 2,
            "lines_days" => 3,
            _ => 0,
        }
    }

    /// The slot of every (family, dimension, period) of the key.
    fn slots(&self) -> impl Iterator<Item = u64> + '_ {
        let table = self.table_code();
        self.families.iter().flat_map(move |&f| {
            self.dims
                .iter()
                .flat_map(move |&d| self.periods.iter().map(move |&p| slot(table, f, d, p)))
        })
    }
}

/// A period (`YYYY-MM` or `YYYY`) as its digits.
pub fn period_id(s: &str) -> Option<u32> {
    let mut v: u32 = 0;
    for c in s.bytes().filter(|c| *c != b'-') {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

/// One kept line: a (family, dimension, period, segment) of a snapshot with its cells as
/// `[key, n, sum]`, parsed once when it was read, so a read again neither copies nor parses
/// its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub family: u8,
    pub dim: u8,
    pub date: Box<str>,
    pub segment: Box<str>,
    pub cells: Box<[[i64; 3]]>,
}

impl Line {
    /// What keeping it costs, roughly.
    fn bytes(&self) -> usize {
        40 + self.date.len() + self.segment.len() + 24 * self.cells.len()
    }
}

/// The lines of one (table, family, dimension, period): shared by every read that uses them.
pub type Kept = Rc<[Line]>;

/// One (table, family, dimension, period) as one ordered number: no string hashed per
/// lookup (a year read of every KPI looks up thousands).
fn slot(table: u64, family: u8, dim: u8, period: u32) -> u64 {
    table << 56 | u64::from(family) << 48 | u64::from(dim) << 40 | u64::from(period)
}

/// The buckets one read summed from kept lines alone: what it added (each part's kept
/// copies, in order, and the grain its dates name) into which buckets (first and next
/// day), the segment table after those lines, and each bucket's sum of them.
pub struct KeptBuckets {
    /// Per part: its grain's code and its kept copies.
    pub parts: Vec<(u8, Vec<Kept>)>,
    /// Each bucket's first day and the day after its last.
    pub bounds: Vec<(String, String)>,
    /// The segment table after the kept lines, which the sums' ids name.
    pub segs: Segments,
    /// Per bucket, the sum of the kept lines in it.
    pub cells: Vec<Rc<Cells>>,
    /// The sum of the period's buckets that were these sums alone, when there were two or
    /// more (`kpi_core::report::Span::part_sum`).
    pub part_sum: Option<PartSum>,
}

impl KeptBuckets {
    /// Whether this is the sum of exactly `parts` into `bounds`: the same copies, by
    /// pointer (a copy read again, or read at another generation, is another `Rc`).
    fn is_of(&self, parts: &[(u8, &[Kept])], bounds: &[(String, String)]) -> bool {
        self.bounds == bounds
            && self.parts.len() == parts.len()
            && self
                .parts
                .iter()
                .zip(parts)
                .all(|((g, mine), (h, theirs))| {
                    g == h
                        && mine.len() == theirs.len()
                        && mine
                            .iter()
                            .zip(theirs.iter())
                            .all(|(a, b)| Rc::ptr_eq(a, b))
                })
    }

    /// What keeping it costs, roughly: its counters (the lines it sums are counted apart).
    fn bytes(&self) -> usize {
        let entries: usize = self
            .cells
            .iter()
            .map(|c| c.entries().len())
            .chain(self.part_sum.iter().map(|s| s.cells().entries().len()))
            .sum();
        entries * std::mem::size_of::<Entry>() + 64 * self.cells.len() + 32 * self.segs.len()
    }
}

#[derive(Default)]
struct TenantLines {
    gen: i64,
    /// Of its lines.
    bytes: usize,
    /// Of its buckets' sums.
    sums_bytes: usize,
    lines: BTreeMap<u64, Kept>,
    /// The latest shapes first.
    buckets: Vec<Rc<KeptBuckets>>,
}

#[derive(Default)]
struct Cache {
    tenants: HashMap<String, TenantLines>,
    /// Of every tenant's lines.
    bytes: usize,
    /// Of every tenant's buckets' sums.
    sums_bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The kept lines of every (family, dimension, period) of `key` and the generation they
/// were read at; `None` unless every one is kept.
pub fn get(tenant: &str, key: &Key) -> Option<(i64, Vec<Kept>)> {
    CACHE.with(|c| {
        let c = c.borrow();
        let t = c.tenants.get(tenant)?;
        // A (family, dimension)'s periods are neighbours in the map: one walk over their
        // range rather than a search per period (a month read of every KPI asks for
        // thousands). Periods come in order; out of order, the walk misses and D1 is read.
        let table = key.table_code();
        let (lo, hi) = match (key.periods.first(), key.periods.last()) {
            (Some(lo), Some(hi)) if lo <= hi => (*lo, *hi),
            (Some(_), Some(_)) => return None,
            _ => (0, 0),
        };
        let mut kept = Vec::with_capacity(key.families.len() * key.dims.len() * key.periods.len());
        for &f in &key.families {
            for &d in &key.dims {
                let mut range = t.lines.range(slot(table, f, d, lo)..=slot(table, f, d, hi));
                for &p in &key.periods {
                    let want = slot(table, f, d, p);
                    let (at, lines) = range.by_ref().find(|(at, _)| **at >= want)?;
                    if *at != want {
                        return None;
                    }
                    kept.push(lines.clone());
                }
            }
        }
        Some((t.gen, kept))
    })
}

/// Keeps `lines`, what a read of `key` returned at generation `gen`: each line under its
/// (family, dimension, period), and every other one of `key` as read empty. A generation
/// other than the kept one drops the tenant's copies first. Returns what [`get`] will give
/// for `key`, so the read that fetched them uses them as they are kept.
pub fn put(tenant: &str, gen: i64, key: &Key, lines: Vec<Line>) -> Vec<Kept> {
    let mut grouped: BTreeMap<u64, Vec<Line>> = super::keyed(key.slots().map(|s| (s, Vec::new())));
    let table = key.table_code();
    for line in lines {
        let Some(p) = period_id(&line.date) else {
            continue;
        };
        if let Some(kept) = grouped.get_mut(&slot(table, line.family, line.dim, p)) {
            kept.push(line);
        }
    }
    let grouped: Vec<(u64, Kept, usize)> = grouped
        .into_iter()
        .map(|(k, lines)| {
            let size = lines.iter().map(Line::bytes).sum();
            (k, lines.into(), size)
        })
        .collect();
    let size: usize = grouped.iter().map(|(_, _, b)| b).sum();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.bytes + size > CAP_BYTES {
            *c = Cache::default();
        }
        let Cache {
            tenants,
            bytes,
            sums_bytes,
        } = &mut *c;
        let t = tenants.entry(tenant.to_string()).or_default();
        if t.gen != gen {
            *bytes -= t.bytes;
            *sums_bytes -= t.sums_bytes;
            *t = TenantLines {
                gen,
                ..TenantLines::default()
            };
        }
        let mut out = Vec::with_capacity(grouped.len());
        for (k, new, add) in grouped {
            out.push(new.clone());
            if let Some(old) = t.lines.insert(k, new) {
                let old: usize = old.iter().map(Line::bytes).sum();
                t.bytes -= old;
                *bytes -= old;
                // Sums made of the copy replaced can never be taken again, and would keep it.
                *sums_bytes -= t.sums_bytes;
                t.sums_bytes = 0;
                t.buckets.clear();
            }
            t.bytes += add;
            *bytes += add;
        }
        out
    })
}

/// The buckets summed from exactly `parts` (grain code, kept copies) into `bounds`, if
/// this isolate keeps them.
pub fn buckets(
    tenant: &str,
    parts: &[(u8, &[Kept])],
    bounds: &[(String, String)],
) -> Option<Rc<KeptBuckets>> {
    CACHE.with(|c| {
        let c = c.borrow();
        let t = c.tenants.get(tenant)?;
        t.buckets.iter().find(|k| k.is_of(parts, bounds)).cloned()
    })
}

/// Keeps `kept` for the reads of its shape that follow, in place of the oldest shape
/// past [`BUCKET_SHAPES`]. Only while the tenant's lines are kept: the buckets hold their
/// copies, and go with them when the generation moves. Past [`SUMS_CAP_BYTES`], every
/// tenant's sums go first (never the lines: a sum is made again from them, a line costs D1).
pub fn keep_buckets(tenant: &str, kept: KeptBuckets) {
    let size = kept.bytes();
    if size > SUMS_CAP_BYTES {
        return;
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let Cache {
            tenants,
            sums_bytes,
            ..
        } = &mut *c;
        if *sums_bytes + size > SUMS_CAP_BYTES {
            for t in tenants.values_mut() {
                t.buckets.clear();
                t.sums_bytes = 0;
            }
            *sums_bytes = 0;
        }
        let Some(t) = tenants.get_mut(tenant) else {
            return;
        };
        t.buckets.insert(0, Rc::new(kept));
        t.sums_bytes += size;
        *sums_bytes += size;
        if t.buckets.len() > BUCKET_SHAPES {
            if let Some(old) = t.buckets.pop() {
                t.sums_bytes -= old.bytes();
                *sums_bytes -= old.bytes();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(periods: &[u32]) -> Key {
        Key {
            table: "lines_month",
            families: vec![0, 7],
            dims: vec![0, 1],
            periods: periods.to_vec(),
        }
    }

    fn line(family: u8, dim: u8, date: &str, segment: &str, cells: &[[i64; 3]]) -> Line {
        Line {
            family,
            dim,
            date: date.into(),
            segment: segment.into(),
            cells: cells.into(),
        }
    }

    fn lines(kept: &[Kept]) -> Vec<Line> {
        kept.iter().flat_map(|k| k.iter().cloned()).collect()
    }

    #[test]
    fn lines_are_kept_per_period_and_used_only_when_all_are_there() {
        assert_eq!(period_id("2026-10"), Some(202610));
        assert_eq!(period_id("2026"), Some(2026));
        assert_eq!(period_id("20x6"), None);
        let tenant = "lines-cache-test";
        assert!(get(tenant, &key(&[202609])).is_none());
        let sept = line(0, 0, "2026-09", "", &[[9, 3, 0], [10, 1, 0]]);
        let oct = line(7, 1, "2026-10", "chat", &[[4, 2, 900]]);
        // A line of a family, dimension or table not asked for is not kept.
        let stray = line(5, 0, "2026-09", "", &[[1, 1, 1]]);
        let both = key(&[202609, 202610]);
        let stored = put(tenant, 3, &both, vec![sept.clone(), oct.clone(), stray]);
        assert_eq!(lines(&stored), vec![sept.clone(), oct.clone()]);
        // Every (family, dim, period) asked for is kept, the empty ones too.
        let (gen, got) = get(tenant, &key(&[202609])).unwrap();
        assert_eq!((gen, lines(&got)), (3, vec![sept.clone()]));
        let (_, both) = get(tenant, &key(&[202609, 202610])).unwrap();
        assert_eq!(lines(&both), vec![sept.clone(), oct]);
        let years = Key {
            table: "lines_year",
            ..key(&[202609])
        };
        assert!(get(tenant, &years).is_none());
        // A period never read is not there, so the read asks D1.
        assert!(get(tenant, &key(&[202608, 202609])).is_none());
        // Another generation drops what was read at the old one.
        put(tenant, 4, &key(&[202608]), Vec::new());
        assert!(get(tenant, &key(&[202609])).is_none());
        let (gen, empty) = get(tenant, &key(&[202608])).unwrap();
        assert_eq!((gen, lines(&empty)), (4, Vec::new()));
        // A period missing between two kept ones is a miss, and so are periods out of order.
        let nov = line(0, 1, "2026-11", "zalo", &[[3, 1, 0]]);
        put(tenant, 4, &key(&[202610, 202611]), vec![nov.clone()]);
        assert!(get(tenant, &key(&[202608, 202609, 202611])).is_none());
        assert!(get(tenant, &key(&[202611, 202608])).is_none());
        let (_, kept) = get(tenant, &key(&[202608, 202611])).unwrap();
        assert_eq!(kept.len(), 2 * 2 * 2);
        assert_eq!(lines(&kept), vec![nov]);
    }

    #[test]
    fn bucket_sums_are_used_only_for_the_very_same_kept_copies_and_go_with_them() {
        let tenant = "bucket-sums-test";
        let k = key(&[202609]);
        let first = put(tenant, 5, &k, vec![line(0, 0, "2026-09", "", &[[9, 3, 0]])]);
        let bounds = vec![("2026-09-01".to_string(), "2026-10-01".to_string())];
        let mut segs = Segments::new();
        segs.intern("zalo");
        let sums = KeptBuckets {
            parts: vec![(1, first.clone())],
            bounds: bounds.clone(),
            segs,
            cells: vec![Rc::new(Cells::new())],
            part_sum: None,
        };
        keep_buckets(tenant, sums);
        let got = buckets(tenant, &[(1, &first)], &bounds).unwrap();
        assert_eq!(got.segs.len(), 2);
        // Another grain, other buckets, or other parts are other shapes.
        assert!(buckets(tenant, &[(2, &first)], &bounds).is_none());
        assert!(buckets(tenant, &[(1, &first)], &[]).is_none());
        assert!(buckets(tenant, &[(1, &first), (1, &first)], &bounds).is_none());
        // The same lines read again are other copies: their sums are made again, and the
        // sums of the copies they replace are dropped.
        let again = put(tenant, 5, &k, vec![line(0, 0, "2026-09", "", &[[9, 3, 0]])]);
        assert_eq!(lines(&again), lines(&first));
        assert!(buckets(tenant, &[(1, &again)], &bounds).is_none());
        assert!(buckets(tenant, &[(1, &first)], &bounds).is_none());
        // Only the latest shapes are kept.
        let parts = vec![(1, again.clone())];
        let shape = KeptBuckets {
            parts,
            bounds: bounds.clone(),
            segs: Segments::new(),
            cells: Vec::new(),
            part_sum: None,
        };
        keep_buckets(tenant, shape);
        assert!(buckets(tenant, &[(1, &again)], &bounds).is_some());
        for n in 0..BUCKET_SHAPES {
            let bounds = vec![(format!("2026-0{n}-01"), "2026-10-01".to_string())];
            let parts = vec![(1, again.clone())];
            keep_buckets(
                tenant,
                KeptBuckets {
                    parts,
                    bounds,
                    segs: Segments::new(),
                    cells: Vec::new(),
                    part_sum: None,
                },
            );
        }
        assert!(buckets(tenant, &[(1, &again)], &bounds).is_none());
        let newest = vec![(
            format!("2026-0{}-01", BUCKET_SHAPES - 1),
            "2026-10-01".to_string(),
        )];
        assert!(buckets(tenant, &[(1, &again)], &newest).is_some());
        // Another generation drops them with the lines.
        put(tenant, 6, &key(&[202608]), Vec::new());
        assert!(buckets(tenant, &[(1, &again)], &newest).is_none());
    }
}

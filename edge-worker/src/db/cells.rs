//! The rollup counters in D1 (migration 0005): day counters (`cells`), closed months and
//! years summed (`cells_month`, `cells_year`, rebuilt when `months_stale` or `years_stale`
//! says a day of them changed) with their cells as the lines a read returns (`lines_month`,
//! `lines_year`, migration 0015), the open month's days before today as such lines, summed
//! (`lines_prefix`, migration 0017) and day by day (`lines_days`, migration 0018), and the
//! stocks' running balances (`balances`). Triggers on
//! the raw tables keep the days, the marks and the balances; this module reads them,
//! rebuilds stale snapshots and adds counters that have no raw row (links issued). Owns the
//! SQL of the counters; the arithmetic is kpi-core's.
//!
//! A report's read is one D1 batch: the families and dimensions its KPIs declare, one seek
//! per (family, dimension) on the primary key; whole closed years and months from their
//! lines (one row per segment, built when the snapshot was; sent again only when the
//! tenant's snapshot generation moved since this isolate kept them, [`lines_cache`], which
//! keeps too the closed buckets' sums a read made of them, for a read again of the same);
//! the open month's days before today, when one bucket holds them, from its prefix's lines
//! (`lines_prefix`, migration 0017) while `month_prefixes` says it is built up to today,
//! and as days, in a daily series, from their day lines (`lines_days`) under the same row
//! (both kept by the isolate like the closed months' lines, and used for the families still
//! built);
//! other days from `cells`; stocks from `balances` minus the days after the period. Its
//! cost depends on the period and the KPIs asked for, not on the tenant's age.
use std::collections::BTreeMap;
use std::rc::Rc;

use kpi_core::period::{CivilDate, Period, PeriodKind};
use kpi_core::report::{Bucket, PartSum, Span};
use kpi_core::rollup::{Acc, Cell, CellKey, Cells, Dim, Family, Rollup, Segments, Slot};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::{lines_cache, stmt, Arg};
use crate::error::{ApiError, ApiResult};

mod rebuild;
mod text;
pub use rebuild::rebuild;
use text::{each_line, each_row, lines_part, part, LineRef, Sums};

/// What a read needs: (family, dimension) pairs, and which families are stocks.
#[derive(Debug, Clone, Default)]
pub struct Need {
    /// Every (family, dimension) read; `Dim::All` of each family at least.
    pub pairs: Vec<(Family, Dim)>,
    /// The families read as stocks.
    pub stocks: Vec<Family>,
    /// The families read over trailing years too (`Kpi::trailing_year`), in totals.
    pub trailing: Vec<Family>,
}

fn id_list(ids: impl IntoIterator<Item = u8>) -> String {
    let mut ids: Vec<u8> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

impl Need {
    /// Adds a pair once.
    pub fn add(&mut self, family: Family, dim: Dim) {
        if !self.pairs.contains(&(family, dim)) {
            self.pairs.push((family, dim));
        }
    }

    /// Families grouped by the set of dimensions read for them (family ids, dimension ids in
    /// order): one statement per group reads exactly the pairs, with one seek per pair.
    fn groups(&self, only: Option<&[Family]>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut groups: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut families: Vec<Family> = self.pairs.iter().map(|(f, _)| *f).collect();
        families.sort_unstable();
        families.dedup();
        for f in families {
            if only.is_some_and(|o| !o.contains(&f)) {
                continue;
            }
            let mut dims: Vec<u8> = self
                .pairs
                .iter()
                .filter(|(g, _)| *g == f)
                .map(|(_, d)| d.id())
                .collect();
            dims.sort_unstable();
            match groups.iter_mut().find(|(_, d)| *d == dims) {
                Some((fams, _)) => fams.push(f.id()),
                None => groups.push((vec![f.id()], dims)),
            }
        }
        groups
    }

    fn families_sql(&self) -> String {
        id_list(self.pairs.iter().map(|(f, _)| f.id()))
    }
}

/// What a read cost and found.
#[derive(Debug, Clone, Default)]
pub struct ReadStats {
    /// Rows D1 reports as read, over every statement.
    pub rows_read: u64,
    /// Closed months read from days because a day of them changed: (family, `YYYY-MM`),
    /// to rebuild once the response is out.
    pub stale: Vec<(Family, String)>,
    /// Closed years read from months because a month of them changed: (family, `YYYY`),
    /// to rebuild (after their months) once the response is out.
    pub stale_years: Vec<(Family, String)>,
    /// Families whose open month's days before today were read from their days because
    /// their prefix up to today (`YYYY-MM-DD`) is not built (migration 0017): to build once
    /// the response is out.
    pub prefixes: Vec<(Family, String)>,
}

impl ReadStats {
    /// Whether the read found snapshots or prefixes to rebuild.
    pub fn to_rebuild(&self) -> bool {
        !self.stale.is_empty() || !self.stale_years.is_empty() || !self.prefixes.is_empty()
    }

    /// Adds the figures of a second read: its rows, and the closed months and years it
    /// found stale that this one had not.
    pub fn absorb(&mut self, other: ReadStats) {
        self.rows_read += other.rows_read;
        for (mine, theirs) in [
            (&mut self.stale, other.stale),
            (&mut self.stale_years, other.stale_years),
            (&mut self.prefixes, other.prefixes),
        ] {
            for s in theirs {
                if !mine.contains(&s) {
                    mine.push(s);
                }
            }
        }
    }
}

/// Several parts read in one statement: one row whose column `cI` is part I's text (null
/// when it found nothing), and the rows D1 reports as read.
struct Query {
    parts: Vec<String>,
    binds: Vec<JsValue>,
}

impl Query {
    fn new(tenant: &str) -> Query {
        Query {
            parts: Vec::new(),
            binds: vec![tenant.js()],
        }
    }

    /// A bound parameter, as `?N`.
    fn bind(&mut self, v: &dyn Arg) -> String {
        self.binds.push(v.js());
        format!("?{}", self.binds.len())
    }

    fn add(&mut self, sql: String) -> usize {
        self.parts.push(sql);
        self.parts.len() - 1
    }

    fn statement(&self, db: &D1Database) -> ApiResult<D1PreparedStatement> {
        let cols: Vec<String> = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p} AS c{i}"))
            .collect();
        Ok(db
            .prepare(format!("SELECT {}", cols.join(", ")))
            .bind(&self.binds)?)
    }

    /// Runs the statement; the texts of its parts and the rows read.
    async fn run(&self, db: &D1Database) -> ApiResult<(Vec<String>, u64)> {
        let (texts, rows_read) = self.run_opt(db).await?;
        let texts = texts.into_iter().map(Option::unwrap_or_default).collect();
        Ok((texts, rows_read))
    }

    /// [`Query::run`], a null part as `None`. D1's result is read from its JS object
    /// ([`super::Done`]): the one row's `cI` texts and `meta.rows_read`, where workers-rs's
    /// `results()` and `meta()` would build a map of every column and the whole meta through
    /// serde_wasm_bindgen.
    async fn run_opt(&self, db: &D1Database) -> ApiResult<(Vec<Option<String>>, u64)> {
        if self.parts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let promise = self
            .statement(db)?
            .inner()
            .all()
            .map_err(worker::Error::from)?;
        let result = super::Done(
            js_sys::futures::JsFuture::from(promise)
                .await
                .map_err(worker::Error::from)?,
        );
        let rows_read = result.meta("rows_read") as u64;
        let texts = match result.first_row() {
            Some(row) => (0..self.parts.len())
                .map(|i| super::Done::field(&row, &format!("c{i}")).as_string())
                .collect(),
            None => vec![None; self.parts.len()],
        };
        Ok((texts, rows_read))
    }
}

/// Parts of a span of days by where they are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `cells`, days `[from, to)`.
    Days(CivilDate, CivilDate),
    /// `cells_month`, the whole months `[from, to)` (first days of months).
    Months(CivilDate, CivilDate),
    /// `cells_year`, the whole years `[from, to)` (first days of years).
    Years(CivilDate, CivilDate),
    /// The open month's days `[from, upto)` inside one bucket: `lines_prefix` for the
    /// families whose prefix up to `upto` is built, `cells` for the others.
    Prefix(CivilDate, CivilDate),
    /// Days `[from, to)` of the open month before `upto` (today), as days: `lines_days`
    /// for the families whose prefix up to `upto` is built, `cells` for the others.
    PrefixDays(CivilDate, CivilDate, CivilDate),
}

/// What one record's date names: a day, a month (`YYYY-MM`) or a year (`YYYY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Day,
    Month,
    Year,
}

impl Grain {
    /// As [`lines_cache::KeptBuckets`] records it.
    fn code(self) -> u8 {
        match self {
            Grain::Day => 0,
            Grain::Month => 1,
            Grain::Year => 2,
        }
    }
}

fn month_start(d: CivilDate) -> ApiResult<CivilDate> {
    Ok(Period::containing(PeriodKind::Month, d)?.from)
}

fn month_str(d: CivilDate) -> String {
    d.to_string()[..7].to_string()
}

fn year_str(d: CivilDate) -> String {
    d.to_string()[..4].to_string()
}

/// Splits buckets (contiguous, in day order) into whole years (when `years`) and whole
/// months closed before `open_from` that lie inside one bucket (read from their snapshots),
/// the open month's days before `prefix` (today) when one bucket holds them all, and the
/// other days; adjacent parts of one kind are joined. A month cut by a bucket boundary (a
/// month's daily series) is read as days, a year cut by one (a year's monthly series) as
/// months, so each row still lands in its own bucket. Days of the open month before
/// `prefix` read as days are read from their day lines when built (`PrefixDays`).
fn sources(
    buckets: &[Period],
    open_from: CivilDate,
    years: bool,
    prefix: Option<CivilDate>,
) -> ApiResult<Vec<Source>> {
    let mut out: Vec<Source> = Vec::new();
    // Days inside [open_from, prefix) as day lines, the others from `cells`.
    let split = |f: CivilDate, t: CivilDate| -> Vec<Source> {
        let Some(upto) = prefix.filter(|u| open_from < *u) else {
            return vec![Source::Days(f, t)];
        };
        let (lo, hi) = (f.max(open_from), t.min(upto));
        if lo >= hi {
            return vec![Source::Days(f, t)];
        }
        [
            (f < lo).then_some(Source::Days(f, lo)),
            Some(Source::PrefixDays(lo, hi, upto)),
            (hi < t).then_some(Source::Days(hi, t)),
        ]
        .into_iter()
        .flatten()
        .collect()
    };
    let mut push = |s: Source| match (out.last_mut(), s) {
        (Some(Source::Days(_, end)), Source::Days(f, t)) if *end == f => *end = t,
        (Some(Source::Months(_, end)), Source::Months(f, t)) if *end == f => *end = t,
        (Some(Source::Years(_, end)), Source::Years(f, t)) if *end == f => *end = t,
        (Some(Source::PrefixDays(_, end, _)), Source::PrefixDays(f, t, _)) if *end == f => *end = t,
        _ => out.push(s),
    };
    for b in buckets {
        let (from, to) = (b.from, b.to);
        let mut cur = from;
        while cur < to {
            let year = Period::containing(PeriodKind::Year, cur)?;
            if years && cur == year.from && year.to <= to && year.to <= open_from {
                push(Source::Years(cur, year.to));
                cur = year.to;
                continue;
            }
            let month = Period::containing(PeriodKind::Month, cur)?;
            if cur == month.from && month.to <= to && month.to <= open_from {
                push(Source::Months(cur, month.to));
                cur = month.to;
            } else if let Some(upto) = prefix.filter(|u| cur == open_from && cur < *u && *u <= to) {
                push(Source::Prefix(cur, upto));
                cur = upto;
            } else {
                let end = if month.to < to { month.to } else { to };
                for s in split(cur, end) {
                    push(s);
                }
                cur = end;
            }
        }
    }
    Ok(out)
}

/// Where the rows of one statement go.
enum Dest {
    /// Into the bucket holding the row's day (or month's, or year's, first day).
    Buckets { grain: Grain },
    /// Into a trailing year, whose own statement reads only its days.
    Window { index: usize, grain: Grain },
    /// Subtracted from the closing stocks (days after the period).
    After,
    /// Added to the closing stocks (balances).
    Balance,
}

struct Builder {
    segs: Segments,
    bounds: Vec<(String, String)>,
    buckets: Vec<Acc>,
    closing: Acc,
    windows: Vec<Acc>,
    /// The last record's slot (with its segment) and bucket (with its date): records come
    /// ordered by family, dimension and date, so most repeat them. The strings are
    /// rewritten in place: a read's lines change slot and date every few lines.
    last_slot: Option<(u8, u8, Slot)>,
    last_seg: String,
    last_bucket: Option<Option<usize>>,
    last_date: String,
    /// A month's or year's first day, written here to find its bucket.
    first_day: String,
}

impl Builder {
    fn new(segs: Segments, bounds: Vec<(String, String)>, windows: usize) -> Builder {
        Builder {
            segs,
            buckets: bounds.iter().map(|_| Acc::new()).collect(),
            bounds,
            closing: Acc::new(),
            windows: (0..windows).map(|_| Acc::new()).collect(),
            last_slot: None,
            last_seg: String::new(),
            last_bucket: None,
            last_date: String::new(),
            first_day: String::new(),
        }
    }

    fn slot(&mut self, family: u8, dim: u8, seg: &str) -> Option<Slot> {
        if let Some((f, d, slot)) = self.last_slot {
            if f == family && d == dim && self.last_seg == seg {
                return Some(slot);
            }
        }
        let slot = Slot::new(
            Family::from_id(family)?,
            Dim::from_id(dim)?,
            self.segs.intern(seg),
        );
        self.last_slot = Some((family, dim, slot));
        self.last_seg.clear();
        self.last_seg.push_str(seg);
        Some(slot)
    }

    /// The bucket of a record's date (a day, or a month or year read from its snapshot).
    fn bucket_of_date(&mut self, date: &str, grain: Grain) -> Option<usize> {
        if let Some(b) = self.last_bucket {
            if self.last_date == date {
                return b;
            }
        }
        self.first_day.clear();
        self.first_day.push_str(date);
        self.first_day.push_str(match grain {
            Grain::Day => "",
            Grain::Month => "-01",
            Grain::Year => "-01-01",
        });
        let b = self.bucket_of(&self.first_day);
        self.last_bucket = Some(b);
        self.last_date.clear();
        self.last_date.push_str(date);
        b
    }

    fn bucket_of(&self, day: &str) -> Option<usize> {
        let i = self
            .bounds
            .partition_point(|(from, _)| from.as_str() <= day);
        let (from, to) = self.bounds.get(i.checked_sub(1)?)?;
        (from.as_str() <= day && day < to.as_str()).then(|| i - 1)
    }

    /// Adds one line's cells where `into` says: its slot, its bucket and whether its month
    /// is stale are found once for the line, not for each cell.
    fn add_line(&mut self, into: &Dest, l: &LineRef, stale: &[(Family, String)]) {
        let Some(slot) = self.slot(l.family, l.dim, l.segment) else {
            return;
        };
        // Stale months are read again from their days; a year is read only when fresh.
        let is_stale = |grain: Grain| {
            grain == Grain::Month
                && !stale.is_empty()
                && stale
                    .iter()
                    .any(|(f, m)| f.id() == l.family && m.as_str() == l.date)
        };
        let cells = l.cells.iter().map(|&[key, n, sum]| (key, Cell { n, sum }));
        let acc = match into {
            Dest::Buckets { grain } => {
                if is_stale(*grain) {
                    return;
                }
                match self.bucket_of_date(l.date, *grain) {
                    Some(b) => &mut self.buckets[b],
                    None => return,
                }
            }
            Dest::Window { index, grain } => {
                if is_stale(*grain) {
                    return;
                }
                match self.windows.get_mut(*index) {
                    Some(w) => w,
                    None => return,
                }
            }
            Dest::After => {
                let negated = cells.map(|(key, cell)| (key, cell.negate()));
                self.closing.add_keys(slot, negated);
                return;
            }
            Dest::Balance => &mut self.closing,
        };
        acc.add_keys(slot, cells);
    }
}

/// The parts of a read of the stocks: their balances (backlog keys, resolution days, from
/// `from` on: a ticket resolved earlier is open at no end on or after `from`) and the days
/// from `after` on, to subtract.
fn stock_parts(
    q: &mut Query,
    need: &Need,
    from: CivilDate,
    after: CivilDate,
) -> Vec<(usize, Dest)> {
    let mut out = Vec::new();
    let open_until = Family::TicketOpenUntil.id();
    for (stocks, dims) in need.groups(Some(&need.stocks)) {
        let key = q.bind(&from.days_since_epoch());
        // Backlog keys only from `from` on, each dimension on its own: in the total the
        // segment is one (''), so the primary key (…, dim, segment, key) seeks the first key
        // instead of reading every day a ticket was resolved since the tenant began.
        let (open, others): (Vec<u8>, Vec<u8>) = stocks.iter().partition(|f| **f == open_until);
        let (total, split): (Vec<u8>, Vec<u8>) = dims.iter().partition(|d| **d == Dim::All.id());
        let balances = [
            (others, dims.clone(), String::new()),
            (
                open.clone(),
                total,
                format!("AND segment = '' AND key >= {key}"),
            ),
            (open, split, format!("AND key >= {key}")),
        ];
        for (fams, dims, cond) in balances {
            if fams.is_empty() || dims.is_empty() {
                continue;
            }
            let balance = part("balances", "''", &fams, &dims, &cond, Sums::Each, None);
            out.push((q.add(balance), Dest::Balance));
        }
        let day = q.bind(&after.to_string());
        let later = part(
            "cells",
            "day",
            &stocks,
            &dims,
            &format!("AND day >= {day}"),
            Sums::Each,
            None,
        );
        out.push((q.add(later), Dest::After));
    }
    out
}

/// Reads the span a report over `period` (and its previous period when `compare`) needs:
/// [`kpi_core::report::buckets`] filled from day, month and year counters, and the stocks at
/// the period's end, in one statement (two when a month it read turned out stale; when a
/// closed year it read has changed since it was summed, the read is made again with that
/// year's months). `today` (tenant-local) decides which months and years are closed.
pub async fn span(
    db: &D1Database,
    tenant: &str,
    today: CivilDate,
    period: Period,
    compare: bool,
    need: &Need,
) -> ApiResult<(Span, ReadStats)> {
    let buckets = kpi_core::report::buckets(period, compare);
    let Some(first) = buckets.first() else {
        return Ok((Span::default(), ReadStats::default()));
    };
    let open_from = month_start(today)?;
    let windows = match need.trailing.is_empty() {
        true => Vec::new(),
        false => kpi_core::report::windows(period, compare, today.add_days(1)?),
    };
    let groups = need.groups(None);
    // The open month's days before today, summed once a day (migration 0017).
    let prefix = (today > open_from).then_some(today);
    let mut earlier = ReadStats::default();
    for years in [true, false] {
        let mut q = Query::new(tenant);
        let mut dest = Vec::new();
        // Months and years read from snapshots, and by whom: the buckets (`None`) or a
        // trailing year.
        let mut months_read: Vec<(CivilDate, CivilDate, Option<usize>)> = Vec::new();
        let mut years_read: Vec<(CivilDate, CivilDate, Option<usize>)> = Vec::new();
        // Lines parts answered from this isolate's copies unless the generation moved
        // (part, key, the copy), and lines parts read from D1, to keep (part, key).
        let mut cached: Vec<(usize, lines_cache::Key, Vec<lines_cache::Kept>)> = Vec::new();
        let mut fills: Vec<(usize, lines_cache::Key)> = Vec::new();
        // Families whose open month's days before today this read takes from their prefix
        // when it is built, and today's date bound once for every prefix part.
        let mut prefixed: Vec<u8> = Vec::new();
        // The parts of built prefixes' lines: a kept copy of one holds the families built when
        // it was read, and is used for those still built now.
        let mut prefix_parts: Vec<usize> = Vec::new();
        let mut upto_at: Option<String> = None;
        let mut read = |q: &mut Query,
                        within: &[Period],
                        groups: &[(Vec<u8>, Vec<u8>)],
                        window: Option<usize>,
                        to: &dyn Fn(Grain) -> Dest|
         -> ApiResult<()> {
            for s in sources(within, open_from, years, prefix)? {
                // Days from their cells; closed months and years from their stored lines.
                let (table, col, from, until, grain, periods) = match s {
                    Source::Days(f, t) => (
                        "cells",
                        "day",
                        f.to_string(),
                        t.to_string(),
                        Grain::Day,
                        Vec::new(),
                    ),
                    Source::Months(f, t) => {
                        months_read.push((f, t, window));
                        let periods = period_ids(f, t, PeriodKind::Month)?;
                        let (f, t) = (month_str(f), month_str(t));
                        ("lines_month", "month", f, t, Grain::Month, periods)
                    }
                    Source::Years(f, t) => {
                        years_read.push((f, t, window));
                        let periods = period_ids(f, t, PeriodKind::Year)?;
                        let (f, t) = (year_str(f), year_str(t));
                        ("lines_year", "year", f, t, Grain::Year, periods)
                    }
                    Source::Prefix(f, today) | Source::PrefixDays(f, _, today) => {
                        // Built families from their stored lines (the sum dated by the month,
                        // or each day's), the others from their days: one statement, whichever
                        // a family is.
                        let (table, grain, t) = match s {
                            Source::PrefixDays(_, t, _) => ("lines_days", Grain::Day, t),
                            _ => ("lines_prefix", Grain::Month, today),
                        };
                        let upto = upto_at
                            .get_or_insert_with(|| q.bind(&today.to_string()))
                            .clone();
                        let from = q.bind(&f.to_string());
                        let until = match t == today {
                            true => upto.clone(),
                            false => q.bind(&t.to_string()),
                        };
                        let within = format!("AND day >= {from} AND day < {until}");
                        let built = built_sql(&upto);
                        let dated = match grain {
                            Grain::Day => within.as_str(),
                            _ => "",
                        };
                        // The lines a read of this part gets, by (family, dimension, date).
                        let periods = match grain {
                            Grain::Day => period_ids(f, t, PeriodKind::Day)?,
                            _ => period_ids(f, t, PeriodKind::Month)?,
                        };
                        for (fams, dims) in groups {
                            let cond = format!("AND family IN ({built}) {dated}");
                            let key = lines_cache::Key::new(table, fams, dims, &periods);
                            let at = kept_or_read(q, tenant, key, &cond, &mut cached, &mut fills);
                            prefix_parts.push(at);
                            dest.push((at, to(grain)));
                            let sums = Sums::SketchTotals;
                            let days =
                                part("cells", "day", fams, dims, &within, sums, Some(&built));
                            dest.push((q.add(days), to(Grain::Day)));
                            prefixed.extend(fams.iter().copied());
                        }
                        continue;
                    }
                };
                let (from, until) = (q.bind(&from), q.bind(&until));
                for (fams, dims) in groups {
                    let cond = format!("AND {col} >= {from} AND {col} < {until}");
                    if grain == Grain::Day {
                        let sql = part(table, col, fams, dims, &cond, Sums::SketchTotals, None);
                        dest.push((q.add(sql), to(grain)));
                        continue;
                    }
                    let key = lines_cache::Key::new(table, fams, dims, &periods);
                    let at = kept_or_read(q, tenant, key, &cond, &mut cached, &mut fills);
                    dest.push((at, to(grain)));
                }
            }
            Ok(())
        };
        read(&mut q, &buckets, &groups, None, &|grain| Dest::Buckets {
            grain,
        })?;
        let trailing = [(
            need.trailing.iter().map(|f| f.id()).collect::<Vec<u8>>(),
            vec![Dim::All.id()],
        )];
        for (index, w) in windows.iter().enumerate() {
            read(&mut q, &[*w], &trailing, Some(index), &|grain| {
                Dest::Window { index, grain }
            })?;
        }
        dest.extend(stock_parts(&mut q, need, first.from, period.to));
        // Whether `reader` read the month holding `day` from its snapshot.
        let from_snapshot = |day: CivilDate, reader: Option<usize>| {
            months_read
                .iter()
                .any(|(f, t, r)| *r == reader && *f <= day && day < *t)
        };
        let stale_at = marks_part(
            &mut q,
            need,
            "months_stale",
            "month",
            &months_read,
            month_str,
        );
        let years_stale_at = marks_part(&mut q, need, "years_stale", "year", &years_read, year_str);
        let built_at = upto_at.as_deref().map(|upto| {
            q.add(format!(
                "(SELECT group_concat(family) FROM ({}))",
                built_sql(upto)
            ))
        });
        let gen_at = (!cached.is_empty() || !fills.is_empty())
            .then(|| q.add(format!("(CAST({} AS TEXT))", lines_cache::GEN_SQL)));
        let (texts, rows_read) = q.run_opt(db).await?;
        let gen = gen_at
            .and_then(|i| texts.get(i)?.as_deref()?.parse::<i64>().ok())
            .unwrap_or(0);
        // Parts answered by this isolate's kept lines, already parsed.
        let mut kept: Vec<Option<Vec<lines_cache::Kept>>> = vec![None; texts.len()];
        // Lines D1 sent are parsed once, kept, and used as kept.
        let keep = |at: usize, key: &lines_cache::Key| -> ApiResult<Vec<lines_cache::Kept>> {
            let mut lines = Vec::new();
            let text = texts.get(at).and_then(|t| t.as_deref()).unwrap_or("");
            each_line(text, |l| lines.push(l.to_owned()))?;
            Ok(lines_cache::put(tenant, gen, key, lines))
        };
        for (at, key, copy) in cached {
            match texts.get(at) {
                // The generation the copy was read at: D1 sent nothing.
                Some(None) => kept[at] = Some(copy),
                Some(Some(_)) => kept[at] = Some(keep(at, &key)?),
                None => {}
            }
        }
        for (at, key) in fills {
            if let Some(k) = kept.get_mut(at) {
                *k = Some(keep(at, &key)?);
            }
        }
        let texts: Vec<String> = texts.into_iter().map(Option::unwrap_or_default).collect();
        let built: Vec<u8> = built_at
            .and_then(|i| texts.get(i))
            .map(|t| t.split(',').filter_map(|f| f.parse().ok()).collect())
            .unwrap_or_default();
        prefixed.sort_unstable();
        prefixed.dedup();
        let prefixes = prefixed
            .iter()
            .filter(|f| !built.contains(f))
            .filter_map(|f| Some((Family::from_id(*f)?, today.to_string())))
            .collect();
        let marks = |at: Option<usize>| -> Vec<(Family, String)> {
            let text = at.and_then(|i| texts.get(i)).map_or("", |t| t.as_str());
            text.split('\n')
                .filter_map(|rec| rec.split_once(','))
                .filter_map(|(f, m)| Some((Family::from_id(f.parse().ok()?)?, m.to_string())))
                .collect()
        };
        // A stale year counts when this read took that family from its snapshot: the buckets
        // read every family, a trailing year only its own.
        let mut stale_years = marks(years_stale_at);
        stale_years.retain(|(family, year)| {
            years_read.iter().any(|(f, t, reader)| {
                let covers =
                    year_str(*f).as_str() <= year.as_str() && year.as_str() < year_str(*t).as_str();
                covers && (reader.is_none() || need.trailing.contains(family))
            })
        });
        let mut stats = ReadStats {
            rows_read,
            stale: marks(stale_at),
            stale_years,
            prefixes,
        };
        if years && !stats.stale_years.is_empty() {
            // Read again without year snapshots; that read's stale months are the ones to rebuild.
            earlier = stats;
            continue;
        }
        stats.rows_read += earlier.rows_read;
        stats.stale_years = earlier.stale_years;
        let mut b = Builder::new(
            Segments::new(),
            buckets
                .iter()
                .map(|p| (p.from.to_string(), p.to.to_string()))
                .collect(),
            windows.len(),
        );
        // The buckets' parts from kept lines of closed months and years (not a prefix's, whose
        // counted families each read learns), summed apart: a read again of the same copies
        // takes their sums as this isolate keeps them (`lines_cache::buckets`), with the
        // segment table they were interned in, and adds only the rest. Not while a month is
        // stale: its lines are skipped, and its days read after.
        let summed: Vec<(usize, Grain, &[lines_cache::Kept])> = match stats.stale.is_empty() {
            false => Vec::new(),
            true => dest
                .iter()
                .filter_map(|(i, d)| match d {
                    Dest::Buckets { grain } if !prefix_parts.contains(i) => {
                        Some((*i, *grain, kept.get(*i)?.as_deref()?))
                    }
                    _ => None,
                })
                .collect(),
        };
        // The sums kept before, or made now and kept once the span is built, with the total
        // of the period's buckets that are such sums as they are (`Span::part_sum`).
        let (mut matched, mut to_keep) = (None, None);
        let kept_sums: Option<Vec<Rc<Cells>>> = match summed.is_empty() {
            true => None,
            false => {
                let parts: Vec<(u8, &[lines_cache::Kept])> =
                    summed.iter().map(|(_, g, p)| (g.code(), *p)).collect();
                match lines_cache::buckets(tenant, &parts, &b.bounds) {
                    Some(k) => {
                        b.segs = k.segs.clone();
                        let sums = k.cells.clone();
                        matched = Some(k);
                        Some(sums)
                    }
                    None => {
                        for (_, grain, copies) in &summed {
                            let d = Dest::Buckets { grain: *grain };
                            for line in copies.iter().flat_map(|p| p.iter()) {
                                b.add_line(&d, &line.as_ref(), &[]);
                            }
                        }
                        let fresh = b.buckets.iter().map(|_| Acc::new()).collect();
                        let sums: Vec<Rc<Cells>> = std::mem::replace(&mut b.buckets, fresh)
                            .into_iter()
                            .map(|acc| Rc::new(acc.finish()))
                            .collect();
                        let parts = parts.iter().map(|(g, p)| (*g, p.to_vec())).collect();
                        to_keep = Some(lines_cache::KeptBuckets {
                            parts,
                            bounds: b.bounds.clone(),
                            segs: b.segs.clone(),
                            cells: sums.clone(),
                            part_sum: None,
                        });
                        Some(sums)
                    }
                }
            }
        };
        for (i, d) in &dest {
            if kept_sums.is_some() && summed.iter().any(|(at, _, _)| at == i) {
                continue;
            }
            match kept.get(*i).and_then(Option::as_ref) {
                Some(parts) => {
                    // A prefix unbuilt since (a change to one of its days) is read from its
                    // days; its kept lines no longer count.
                    let prefix = prefix_parts.contains(i);
                    let counts = |l: &lines_cache::Line| !prefix || built.contains(&l.family);
                    for line in parts.iter().flat_map(|p| p.iter()).filter(|l| counts(l)) {
                        b.add_line(d, &line.as_ref(), &stats.stale);
                    }
                }
                None => each_line(&texts[*i], |l| b.add_line(d, l, &stats.stale))?,
            }
        }
        // Stale months: their days instead, read now; the months are rebuilt after the reply.
        // One pair of bound dates per month (D1 binds at most 100 parameters a statement).
        // Only for the readers that took the month from its snapshot: the buckets read the days
        // of the months they cut, and a trailing year reads only its own families.
        let reread: Vec<(Family, String)> = stats
            .stale
            .iter()
            .filter(|(family, month)| {
                CivilDate::parse(&format!("{month}-01")).is_ok_and(|first| {
                    from_snapshot(first, None)
                        || (need.trailing.contains(family)
                            && (0..windows.len()).any(|i| from_snapshot(first, Some(i))))
                })
            })
            .cloned()
            .collect();
        let months = by_period(&reread);
        for chunk in months.chunks(40) {
            let mut q = Query::new(tenant);
            let mut parts = Vec::new();
            for (month, families) in chunk {
                let (from, to) = month_days(month)?;
                let (from, to) = (q.bind(&from), q.bind(&to));
                for (fams, dims) in need.groups(Some(families)) {
                    let cond = format!("AND day >= {from} AND day < {to}");
                    let sql = part(
                        "cells",
                        "day",
                        &fams,
                        &dims,
                        &cond,
                        Sums::SketchTotals,
                        None,
                    );
                    parts.push(q.add(sql));
                }
            }
            let (texts, rows) = q.run(db).await?;
            stats.rows_read += rows;
            for i in parts {
                each_line(&texts[i], |l| {
                    let Ok(day) = CivilDate::parse(l.date) else {
                        return;
                    };
                    let trailing = l.dim == 0
                        && Family::from_id(l.family).is_some_and(|f| need.trailing.contains(&f));
                    for index in 0..windows.len() {
                        if trailing && from_snapshot(day, Some(index)) {
                            let grain = Grain::Day;
                            b.add_line(&Dest::Window { index, grain }, l, &[]);
                        }
                    }
                    if from_snapshot(day, None) {
                        b.add_line(&Dest::Buckets { grain: Grain::Day }, l, &[])
                    }
                })?;
            }
        }
        let mut whole = Vec::new();
        let mut span = Span {
            segs: b.segs,
            buckets: buckets
                .iter()
                .zip(b.buckets)
                .enumerate()
                .map(|(k, (p, mut acc))| {
                    // A bucket's kept sum as it is, or with the rest of its counters added.
                    let cells = match kept_sums.as_ref().and_then(|s| s.get(k)) {
                        Some(sum) if acc.is_empty() => {
                            // An empty one (a month to come, the open month before its first
                            // fact) adds nothing, and would not stay as it is.
                            if period.contains(p.from) && !sum.is_empty() {
                                whole.push(k);
                            }
                            Rc::clone(sum)
                        }
                        Some(sum) => {
                            acc.add_cells(sum);
                            Rc::new(acc.finish())
                        }
                        None => Rc::new(acc.finish()),
                    };
                    Bucket {
                        from: p.from,
                        to: p.to,
                        cells,
                    }
                })
                .collect(),
            closing: b.closing.finish(),
            windows: windows
                .iter()
                .zip(b.windows)
                .map(|(p, acc)| Bucket {
                    from: p.from,
                    to: p.to,
                    cells: Rc::new(acc.finish()),
                })
                .collect(),
            part_sum: None,
        };
        // The period's buckets that are kept sums as they are (a year's closed months):
        // their total, kept with them, so that a report adds it and the open month rather
        // than every month again. Made again, not kept, if the kept sums are found with
        // another such set of buckets.
        if whole.len() > 1 {
            let kept = matched
                .as_ref()
                .and_then(|k| k.part_sum.as_ref())
                .filter(|s| s.indexes().eq(whole.iter().copied()));
            span.part_sum = Some(match kept {
                Some(s) => s.clone(),
                None => PartSum::of(&span, &whole),
            });
        }
        if let Some(mut kept) = to_keep {
            kept.part_sum = span.part_sum.clone();
            lines_cache::keep_buckets(tenant, kept);
        }
        return Ok((span, stats));
    }
    Err(ApiError::Internal(
        "reading counters: a read without year snapshots found one stale".into(),
    ))
}

/// The families whose open-month prefix is built up to the date bound at `upto` (migration
/// 0017), as one column of SQL.
fn built_sql(upto: &str) -> String {
    format!("SELECT family FROM month_prefixes WHERE tenant_id = ?1 AND upto = {upto}")
}

/// The part listing the marks of `table` (`months_stale`, `years_stale`, whose period column
/// is `col`, written by `fmt`) over the snapshots `read`, as `family,period` lines.
fn marks_part(
    q: &mut Query,
    need: &Need,
    table: &str,
    col: &str,
    read: &[(CivilDate, CivilDate, Option<usize>)],
    fmt: fn(CivilDate) -> String,
) -> Option<usize> {
    let from = fmt(read.iter().map(|m| m.0).min()?);
    let to = fmt(read.iter().map(|m| m.1).max()?);
    let (from, to) = (q.bind(&from), q.bind(&to));
    Some(q.add(format!(
        "(SELECT group_concat(family || ',' || {col}, char(10)) FROM {table} \
         WHERE tenant_id = ?1 AND family IN ({}) AND {col} >= {from} AND {col} < {to})",
        need.families_sql()
    )))
}

/// A part of stored lines (`key`, under `cond`): from this isolate's copy when it keeps
/// one, with D1 sending them only if a rebuild has moved the generation since (`cached`),
/// else from D1, to keep (`fills`). Returns the part's index.
fn kept_or_read(
    q: &mut Query,
    tenant: &str,
    key: lines_cache::Key,
    cond: &str,
    cached: &mut Vec<(usize, lines_cache::Key, Vec<lines_cache::Kept>)>,
    fills: &mut Vec<(usize, lines_cache::Key)>,
) -> usize {
    let sql = lines_part(key.table, &key.families, &key.dims, cond);
    match lines_cache::get(tenant, &key) {
        Some((gen, copy)) => {
            let at = q.add(format!(
                "(CASE WHEN {} = {gen} THEN NULL ELSE coalesce({sql}, '') END)",
                lines_cache::GEN_SQL
            ));
            cached.push((at, key, copy));
            at
        }
        None => {
            let at = q.add(sql);
            fills.push((at, key));
            at
        }
    }
}

/// The days, months or years `[from, to)` as [`lines_cache::period_id`] writes them:
/// `YYYYMMDD`, `YYYYMM`, `YYYY`.
fn period_ids(from: CivilDate, to: CivilDate, kind: PeriodKind) -> ApiResult<Vec<u32>> {
    let mut out = Vec::new();
    let mut cur = from;
    while cur < to {
        let p = Period::containing(kind, cur)?;
        let year = u32::try_from(p.from.year)
            .map_err(|_| ApiError::Internal(format!("year {}", p.from.year)))?;
        out.push(match kind {
            PeriodKind::Year => year,
            PeriodKind::Day => (year * 100 + u32::from(p.from.month)) * 100 + u32::from(p.from.day),
            _ => year * 100 + u32::from(p.from.month),
        });
        cur = p.to;
    }
    Ok(out)
}

/// Groups (family, period) marks by period: each period with its families.
fn by_period(marks: &[(Family, String)]) -> Vec<(&str, Vec<Family>)> {
    let mut out: Vec<(&str, Vec<Family>)> = Vec::new();
    for (family, at) in marks {
        match out.iter_mut().find(|(m, _)| *m == at.as_str()) {
            Some((_, fams)) => fams.push(*family),
            None => out.push((at.as_str(), vec![*family])),
        }
    }
    out
}

/// A month's days, `[first, next month's first)`, for `YYYY-MM`.
fn month_days(month: &str) -> ApiResult<(String, String)> {
    let first = CivilDate::parse(&format!("{month}-01"))?;
    let next = Period::containing(PeriodKind::Month, first)?.to;
    Ok((first.to_string(), next.to_string()))
}

/// The day counters of `need` for days `[from, to)`, one rollup a day, and the stocks before
/// `from` (balances minus the days from `from` on): what `GET /v1/rollups` serves.
pub async fn days(
    db: &D1Database,
    tenant: &str,
    from: CivilDate,
    to: CivilDate,
    need: &Need,
) -> ApiResult<(BTreeMap<String, Rollup>, Rollup, ReadStats)> {
    let mut q = Query::new(tenant);
    let (f, t) = (q.bind(&from.to_string()), q.bind(&to.to_string()));
    let mut dest = Vec::new();
    for (fams, dims) in need.groups(None) {
        let sql = part(
            "cells",
            "day",
            &fams,
            &dims,
            &format!("AND day >= {f} AND day < {t}"),
            Sums::Each,
            None,
        );
        dest.push((q.add(sql), Dest::Buckets { grain: Grain::Day }));
    }
    dest.extend(stock_parts(&mut q, need, from, from));
    let (texts, rows_read) = q.run(db).await?;
    let mut by_day: BTreeMap<String, Rollup> = BTreeMap::new();
    let mut opening = Rollup::new();
    for (i, d) in &dest {
        each_row(&texts[*i], |r| {
            let (Some(family), Some(dim)) = (Family::from_id(r.family), Dim::from_id(r.dim)) else {
                return;
            };
            let k = CellKey::new(family, dim, r.segment, r.key);
            let cell = Cell { n: r.n, sum: r.sum };
            match d {
                Dest::Buckets { .. } | Dest::Window { .. } => {
                    by_day.entry(r.date.to_string()).or_default().add(k, cell)
                }
                Dest::Balance => opening.add(k, cell),
                Dest::After => opening.add(k, cell.negate()),
            }
        })?;
    }
    let stats = ReadStats {
        rows_read,
        ..ReadStats::default()
    };
    Ok((by_day, opening, stats))
}

/// The statement adding `cells` on `day` directly: counters with no raw row (links issued).
pub fn add(
    db: &D1Database,
    tenant: &str,
    day: &str,
    cells: &[(CellKey, Cell)],
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum) \
         SELECT ?1, j.value->>0, j.value->>1, ?2, j.value->>2, j.value->>3, j.value->>4, \
                j.value->>5 FROM json_each(?3) j WHERE true \
         ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum",
        &[&tenant, &day, &kpi_core::rollup::contrib_json(cells)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> CivilDate {
        CivilDate::parse(s).unwrap()
    }

    #[test]
    fn period_ids_name_periods_as_the_kept_lines_do() {
        let months = period_ids(d("2025-11-01"), d("2026-02-01"), PeriodKind::Month).unwrap();
        let heads = ["2025-11", "2025-12", "2026-01"].map(lines_cache::period_id);
        assert_eq!(months, heads.map(Option::unwrap).to_vec());
        let years = period_ids(d("2024-01-01"), d("2026-01-01"), PeriodKind::Year).unwrap();
        assert_eq!(years, vec![2024, 2025]);
    }

    fn p(kind: PeriodKind, at: &str) -> Period {
        Period::parse_at(kind, at).unwrap()
    }

    /// Sources as `kind from..to` items, for one-line expectations.
    fn show(sources: &[Source]) -> String {
        let item = |kind: &str, f: &CivilDate, t: &CivilDate| format!("{kind} {f}..{t}");
        let items: Vec<String> = sources
            .iter()
            .map(|s| match s {
                Source::Days(f, t) => item("days", f, t),
                Source::Months(f, t) => item("months", f, t),
                Source::Years(f, t) => item("years", f, t),
                Source::Prefix(f, t) => item("prefix", f, t),
                Source::PrefixDays(f, t, upto) => format!("{} to {upto}", item("day lines", f, t)),
            })
            .collect();
        items.join(", ")
    }

    #[test]
    fn closed_years_and_months_inside_one_bucket_are_read_whole_and_the_rest_as_days() {
        let open = d("2026-11-01");
        let year = kpi_core::report::buckets(p(PeriodKind::Year, "2026"), true);
        let last = kpi_core::report::buckets(p(PeriodKind::Year, "2025"), true);
        let march = kpi_core::report::buckets(p(PeriodKind::Month, "2026-03"), true);
        let years = [Period::range(d("2023-01-01"), d("2026-11-30")).unwrap()];
        let range = [Period::range(d("2026-09-15"), d("2026-11-01")).unwrap()];
        let cases: [(&[Period], bool, &str); 6] = [
            // A year with the previous year, without year snapshots: closed months, open days.
            (&year, false, "months 2025-01-01..2026-11-01, days 2026-11-01..2027-01-01"),
            // With them: the previous year whole, this year's series by month.
            (&year, true, "years 2025-01-01..2026-01-01, months 2026-01-01..2026-11-01, days 2026-11-01..2027-01-01"),
            // A closed year's own series is months; its previous year one snapshot.
            (&last, true, "years 2024-01-01..2025-01-01, months 2025-01-01..2026-01-01"),
            // A range over whole years reads them as years; an open year never is one.
            (&years, true, "years 2023-01-01..2026-01-01, months 2026-01-01..2026-11-01, days 2026-11-01..2026-11-30"),
            // A closed month with its previous month: the previous whole, the series as days.
            (&march, true, "months 2026-02-01..2026-03-01, days 2026-03-01..2026-04-01"),
            // A range cutting a month reads that month's days.
            (&range, true, "days 2026-09-15..2026-10-01, months 2026-10-01..2026-11-01"),
        ];
        for (buckets, with_years, want) in cases {
            assert_eq!(
                show(&sources(buckets, open, with_years, None).unwrap()),
                want
            );
        }
    }

    #[test]
    fn the_open_months_days_before_today_are_a_prefix_only_inside_one_bucket() {
        let open = d("2026-11-01");
        let today = Some(d("2026-11-20"));
        let year = kpi_core::report::buckets(p(PeriodKind::Year, "2026"), true);
        let month = kpi_core::report::buckets(p(PeriodKind::Month, "2026-11"), true);
        let trailing = [Period::range(d("2025-11-21"), d("2026-11-21")).unwrap()];
        let week = kpi_core::report::buckets(p(PeriodKind::Week, "2026-10-29"), true);
        let cases: [(&[Period], Option<CivilDate>, &str); 6] = [
            // A year's November bucket: its days before today summed, today's and later days.
            (&year, today, "years 2025-01-01..2026-01-01, months 2026-01-01..2026-11-01, prefix 2026-11-01..2026-11-20, days 2026-11-20..2027-01-01"),
            // The open month's daily series: every day is its own bucket, those before today
            // from their day lines.
            (&month, today, "months 2026-10-01..2026-11-01, day lines 2026-11-01..2026-11-20 to 2026-11-20, days 2026-11-20..2026-12-01"),
            // A week across the month's start: October's days from cells, November's before
            // today from their lines.
            (&week, today, "days 2026-10-19..2026-11-01, day lines 2026-11-01..2026-11-02 to 2026-11-20"),
            // The same daily series on the first: no day before today.
            (&month, Some(open), "months 2026-10-01..2026-11-01, days 2026-11-01..2026-12-01"),
            // A trailing year ending tomorrow.
            (&trailing, today, "days 2025-11-21..2025-12-01, months 2025-12-01..2026-11-01, prefix 2026-11-01..2026-11-20, days 2026-11-20..2026-11-21"),
            // On the first of the month there is no day before today.
            (&year, None, "years 2025-01-01..2026-01-01, months 2026-01-01..2026-11-01, days 2026-11-01..2027-01-01"),
        ];
        for (buckets, prefix, want) in cases {
            assert_eq!(show(&sources(buckets, open, true, prefix).unwrap()), want);
        }
    }
}

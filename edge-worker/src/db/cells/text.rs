//! The text of a read: the SQL that makes SQLite send counters as lines (one per family,
//! dimension, date and segment, its cells as lists), and the worker's parser of it. The
//! snapshot lines of migration 0015 are this text, stored.
use kpi_core::rollup::Family;

use super::id_list;
use crate::db::lines_cache::Line;
use crate::error::{ApiError, ApiResult};

/// One counter as a read returns it: family, dim, day (or month, or nothing for a balance),
/// key, n, sum, segment.
pub(super) struct Row<'a> {
    pub family: u8,
    pub dim: u8,
    pub date: &'a str,
    pub key: i64,
    pub n: i64,
    pub sum: i64,
    pub segment: &'a str,
}

/// The separators of a read's text: lines of one (family, dimension, date, segment) each:
/// the head `family,dim,date,segment`, then its cells as three lists, keys, `n`s and `sum`s,
/// separated by tabs, their items by commas. A segment is validated text without control
/// characters (`kpi_core::fact::check_text`), so it holds no tab or newline; it is the last
/// field of the head, so a comma in it is its own. Tabs and newlines travel in D1's JSON as
/// two bytes (the ASCII separators would take six).
///
/// Why lists, not `key,n,sum` per cell: SQLite builds this text, inside the worker's CPU
/// time when D1 runs locally, and a `group_concat` of one column converts numbers in place
/// while `key || ',' || n || ',' || sum` allocates four strings a cell; on a dense tenant's
/// compared year the lists took half the time (sqlite3: 8.5 against 16 ms a statement).
/// (Summing several months in D1 instead of here was tried too: SQLite's GROUP BY sorter
/// read every row twice and cost more CPU than the text it saved.)
///
/// A report's read sends a duration sketch's `sum`s as their total over the cells with
/// `n > 0`, written `=total`: the mean is all a sketch's `sum` serves
/// ([`Family::is_sketch`]), and per-bucket milliseconds were most of a read's bytes.
/// `GET /v1/rollups` serves cells as stored, so its read keeps every `sum`.
const LINE: u8 = b'\n';
const LIST: u8 = b'\t';
const ITEM: u8 = b',';

/// How a part sends its cells' `sum`s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sums {
    /// Every cell's.
    Each,
    /// A sketch line's as its total (what reports read).
    SketchTotals,
}

/// The SQL text of one line (see [`LINE`]) over a group of cells of one (family, dimension,
/// `date`, segment), its `sum`s written by `sums`.
pub(super) fn line_sql(date: &str, sums: &str) -> String {
    format!(
        "family || ',' || dim || ',' || {date} || ',' || segment || char(9) || \
         group_concat(key) || char(9) || group_concat(n) || char(9) || {sums}"
    )
}

/// `families` split by how a line writes their `sum`s, each with that SQL: every cell's
/// (`Sums::Each`, or a family that is no sketch), or a sketch's total.
pub(super) fn by_sums(families: &[u8], sums: Sums) -> Vec<(String, &'static str)> {
    let each = "group_concat(sum)";
    if sums == Sums::Each {
        return vec![(id_list(families.iter().copied()), each)];
    }
    let (sketches, others): (Vec<u8>, Vec<u8>) = families
        .iter()
        .partition(|id| Family::from_id(**id).is_some_and(Family::is_sketch));
    let total = "'=' || sum(CASE WHEN n > 0 THEN sum ELSE 0 END)";
    [(others, each), (sketches, total)]
        .into_iter()
        .filter(|(ids, _)| !ids.is_empty())
        .map(|(ids, sql)| (id_list(ids), sql))
        .collect()
}

/// The SQL of one part of a read: the counters of `families` in `table` as one text value,
/// without the families `except` selects (SQL of one column of family ids) if given. The
/// families kept are then the `IN` list's own subquery, so SQLite seeks only their rows: a
/// `NOT IN` beside the list would read every row of the families left out, and D1 would
/// count them.
pub(super) fn part(
    table: &str,
    date: &str,
    families: &[u8],
    dims: &[u8],
    cond: &str,
    sums: Sums,
    except: Option<&str>,
) -> String {
    let dims = id_list(dims.iter().copied());
    let lines = by_sums(families, sums)
        .into_iter()
        .map(|(fams, sums)| {
            let fams = match except {
                None => fams,
                Some(except) => format!(
                    "SELECT column1 FROM (VALUES ({})) EXCEPT {except}",
                    fams.replace(',', "), (")
                ),
            };
            format!(
                "coalesce((SELECT group_concat(g, char(10)) FROM (SELECT {} AS g FROM {table} \
                 WHERE tenant_id = ?1 AND family IN ({fams}) AND dim IN ({dims}) {cond} \
                 AND (n != 0 OR sum != 0) GROUP BY family, dim, {date}, segment)), '')",
                line_sql(date, sums)
            )
        })
        .collect::<Vec<_>>();
    format!("({})", lines.join(" || char(10) || "))
}

/// The SQL of one part of a read from the stored lines of snapshots (`lines_month`,
/// `lines_year`, migration 0015).
pub(super) fn lines_part(table: &str, families: &[u8], dims: &[u8], cond: &str) -> String {
    let dims = id_list(dims.iter().copied());
    format!(
        "(SELECT group_concat(line, char(10)) FROM {table} WHERE tenant_id = ?1 \
         AND family IN ({}) AND dim IN ({dims}) {cond})",
        id_list(families.iter().copied())
    )
}

/// The byte positions of the first `N` occurrences of `sep` in `b`.
fn cuts<const N: usize>(b: &[u8], sep: u8) -> Option<[usize; N]> {
    let mut out = [0usize; N];
    let mut found = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == sep {
            out[found] = i;
            found += 1;
            if found == N {
                return Some(out);
            }
        }
    }
    None
}

/// The integers of one comma-separated list, read from its bytes: a read's text is most of
/// a report's work in the worker, and `str::split` with `str::parse` decoded every character
/// twice (a fifth of a year read's isolate time in `bench profile`).
struct Ints<'a> {
    b: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Ints<'a> {
    fn new(b: &'a [u8]) -> Ints<'a> {
        Ints {
            b,
            at: 0,
            done: false,
        }
    }

    /// The next integer; `Ok(None)` after the last; `Err` for anything but an optional `-`
    /// and digits that fit an `i64` (an empty item too).
    fn next(&mut self) -> Result<Option<i64>, ()> {
        if self.done {
            return Ok(None);
        }
        let neg = self.b.get(self.at) == Some(&b'-');
        let mut i = self.at + usize::from(neg);
        let start = i;
        let mut v: i64 = 0;
        while let Some(&c) = self.b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            let d = i64::from(c - b'0');
            v = v
                .checked_mul(10)
                .and_then(|v| {
                    if neg {
                        v.checked_sub(d)
                    } else {
                        v.checked_add(d)
                    }
                })
                .ok_or(())?;
            i += 1;
        }
        if i == start {
            return Err(());
        }
        match self.b.get(i) {
            None => self.done = true,
            Some(&ITEM) => self.at = i + 1,
            Some(_) => return Err(()),
        }
        Ok(Some(v))
    }

    /// The one integer that is the whole list.
    fn only(b: &[u8]) -> Result<i64, ()> {
        let mut it = Ints::new(b);
        match (it.next()?, it.next()?) {
            (Some(v), None) => Ok(v),
            _ => Err(()),
        }
    }
}

/// One line of a part's text as parsed: its head, and its cells as `[key, n, sum]` in the
/// order the text lists them (a sketch's `=total` on its first cell with `n > 0`).
pub(super) struct LineRef<'a> {
    pub family: u8,
    pub dim: u8,
    pub date: &'a str,
    pub segment: &'a str,
    pub cells: &'a [[i64; 3]],
}

impl LineRef<'_> {
    /// The line as an isolate keeps it.
    pub fn to_owned(&self) -> Line {
        Line {
            family: self.family,
            dim: self.dim,
            date: self.date.into(),
            segment: self.segment.into(),
            cells: self.cells.into(),
        }
    }
}

impl Line {
    /// The kept line, as the parser gives it.
    pub(super) fn as_ref(&self) -> LineRef<'_> {
        LineRef {
            family: self.family,
            dim: self.dim,
            date: &self.date,
            segment: &self.segment,
            cells: &self.cells,
        }
    }
}

/// Calls `each` with every line of one part's text, parsed.
pub(super) fn each_line(text: &str, mut each: impl FnMut(&LineRef)) -> ApiResult<()> {
    let bad = |_| ApiError::Internal("reading counters: malformed record".into());
    let mut cells: Vec<[i64; 3]> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        // Separators are ASCII, so every cut below is a character boundary.
        let end = text.as_bytes()[start..]
            .iter()
            .position(|&c| c == LINE)
            .map_or(text.len(), |i| start + i);
        let line = text.get(start..end).ok_or(()).map_err(bad)?;
        start = end + 1;
        if line.is_empty() {
            continue;
        }
        let bytes = line.as_bytes();
        let [h, k, n] = cuts::<3>(bytes, LIST).ok_or(()).map_err(bad)?;
        let [a, b, c] = cuts::<3>(&bytes[..h], ITEM).ok_or(()).map_err(bad)?;
        let id = |s: &[u8]| Ints::only(s).and_then(|v| u8::try_from(v).map_err(|_| ()));
        let family = id(&bytes[..a]).map_err(bad)?;
        let dim = id(&bytes[a + 1..b]).map_err(bad)?;
        let (date, segment) = (&line[b + 1..c], &line[c + 1..h]);
        let sums = &bytes[n + 1..];
        let mut total = match sums.strip_prefix(b"=") {
            Some(t) => Some(Ints::only(t).map_err(bad)?),
            None => None,
        };
        let mut sums = Ints::new(sums);
        if total.is_some() {
            sums.done = true;
        }
        let (mut keys, mut ns) = (Ints::new(&bytes[h + 1..k]), Ints::new(&bytes[k + 1..n]));
        cells.clear();
        while let Some(key) = keys.next().map_err(bad)? {
            let n = ns.next().map_err(bad)?.ok_or(()).map_err(bad)?;
            let sum = match &mut total {
                Some(t) if n > 0 => core::mem::take(t),
                Some(_) => 0,
                None => sums.next().map_err(bad)?.ok_or(()).map_err(bad)?,
            };
            cells.push([key, n, sum]);
        }
        if ns.next().map_err(bad)?.is_some() || sums.next().map_err(bad)?.is_some() {
            return Err(bad(()));
        }
        each(&LineRef {
            family,
            dim,
            date,
            segment,
            cells: &cells,
        });
    }
    Ok(())
}

/// Calls `each` with every cell of one part's text; a line's `=total` goes to its first cell
/// with `n > 0`, the others' `sum` is 0.
pub(super) fn each_row(text: &str, mut each: impl FnMut(Row)) -> ApiResult<()> {
    each_line(text, |l| {
        for &[key, n, sum] in l.cells {
            each(Row {
                family: l.family,
                dim: l.dim,
                date: l.date,
                key,
                n,
                sum,
                segment: l.segment,
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_text_gives_back_every_cell_and_segments_keep_their_commas() {
        let text = "0,1,2026-11-02,email\t9,10\t3,1\t0,1\n\
                    31,3,2026-11,Tết, sale, 2027\t4674900\t2\t500\n11,0,,\t9223372036854775807\t1\t0\n\
                    \n7,0,2026-11-03,\t70,80,90\t0,2,1\t=9000";
        let mut got = Vec::new();
        each_row(text, |r| {
            got.push((
                r.family,
                r.dim,
                r.date.to_string(),
                r.key,
                r.n,
                r.sum,
                r.segment.to_string(),
            ))
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                (0, 1, "2026-11-02".into(), 9, 3, 0, "email".into()),
                (0, 1, "2026-11-02".into(), 10, 1, 1, "email".into()),
                (
                    31,
                    3,
                    "2026-11".into(),
                    4674900,
                    2,
                    500,
                    "Tết, sale, 2027".into()
                ),
                (11, 0, "".into(), i64::MAX, 1, 0, "".into()),
                // A sketch's total: on the first cell with n > 0.
                (7, 0, "2026-11-03".into(), 70, 0, 0, "".into()),
                (7, 0, "2026-11-03".into(), 80, 2, 9000, "".into()),
                (7, 0, "2026-11-03".into(), 90, 1, 0, "".into()),
            ]
        );
        for bad in [
            "0,1,d\t9\t3\t0",
            "0,1,d,x\t9\tx\t0",
            "0,1,d,x\t9\t3",
            "0,1,d,x\t9,10\t3\t0,1",
            "0,1,d,x\t9\t3,4\t0",
            "0,1,d,x\t9\t3\t0,1",
            "7,0,d,x\t9\t3\t=x",
            "0,1,d,x\t9\t3\t9223372036854775808",
            "0,1,d,x\t9,\t3,4\t0,1",
            "0,1,d,x\t9\t+3\t0",
            "0,1,d,x\t9\t3 \t0",
            "256,1,d,x\t9\t3\t0",
        ] {
            assert!(each_row(bad, |_| {}).is_err(), "{bad:?}");
        }
        assert!(each_row("", |_| {}).is_ok());
        let mut extremes = Vec::new();
        each_row("0,1,d,x\t-9\t-3\t-9223372036854775808", |r| {
            extremes.push((r.key, r.n, r.sum))
        })
        .unwrap();
        assert_eq!(extremes, vec![(-9, -3, i64::MIN)]);
    }
}

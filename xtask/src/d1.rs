//! The local D1 database of a `wrangler dev --persist-to` state directory (a SQLite file),
//! read and written with Debian's `sqlite3` while the worker is stopped: seeding for `bench`,
//! and the "rollups equal a recomputation from the rows" check for `chaos`.
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kpi_core::rollup::Dim;
use kpi_core::{Cell, CellKey, Channel, Family, SurveyKind, SurveyResponse};

use crate::sh::Result;

/// A counter's place: `(day, family, dim, segment, key)`, the family and dimension by their
/// codes (the `cells` table stores their ids).
pub type CellAt = (String, String, String, String, i64);
/// Counters by place: `(n, sum)`.
pub type Cells = BTreeMap<CellAt, (i64, i64)>;

/// The D1 database file under `persist` (the one holding our schema).
pub fn db_file(persist: &Path) -> Result<PathBuf> {
    let dir = persist.join("v3/d1/miniflare-D1DatabaseObject");
    let rd = std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_name().is_some_and(|n| n != "metadata.sqlite")
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected one D1 database in {}, found {found:?}",
            dir.display()
        )),
    }
}

/// Runs `script` with `sqlite3` on `db`; returns its output, fields separated by `\x1f`.
pub fn sql(db: &Path, script: &str) -> Result<String> {
    let mut child = Command::new("sqlite3")
        .args(["-batch", "-bail", "-separator", "\x1f"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting sqlite3: {e}"))?;
    // Written from a thread: a large script and a large output would otherwise deadlock.
    let mut stdin = child.stdin.take().ok_or("sqlite3 stdin")?;
    let script = script.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("sqlite3: {e}"))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(format!(
            "sqlite3 on {}: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Streams SQL produced by `write` into `sqlite3` on `db` (for scripts too large to build
/// in memory, such as a million inserts).
pub fn sql_stream(
    db: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let mut child = Command::new("sqlite3")
        .args(["-batch", "-bail"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting sqlite3: {e}"))?;
    let stdin = child.stdin.take().ok_or("sqlite3 stdin")?;
    let mut w = BufWriter::with_capacity(1 << 20, stdin);
    let written = write(&mut w).and_then(|_| w.flush());
    drop(w);
    let out = child
        .wait_with_output()
        .map_err(|e| format!("sqlite3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "sqlite3 on {}: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    written.map_err(|e| format!("writing SQL to sqlite3: {e}"))
}

/// A string as an SQL literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The `contrib` JSON of a raw row: kpi-core's writer, the one the worker uses.
pub fn encode_contrib(cells: &[(CellKey, Cell)]) -> String {
    kpi_core::rollup::contrib_json(cells)
}

/// The codes of a stored family and dimension id.
fn codes(family: &str, dim: &str) -> Result<(String, String)> {
    let id = |s: &str| s.parse::<u8>().map_err(|_| format!("not an id: {s:?}"));
    let f = Family::from_id(id(family)?).ok_or_else(|| format!("unknown family {family}"))?;
    let d = Dim::from_id(id(dim)?).ok_or_else(|| format!("unknown dimension {dim}"))?;
    Ok((f.as_str().to_string(), d.as_str().to_string()))
}

/// Adds `cells` on `day` to `into`.
pub fn add_cells(into: &mut Cells, day: &str, cells: &[(CellKey, Cell)]) {
    for (k, c) in cells {
        let e = into
            .entry((
                day.to_string(),
                k.family.as_str().to_string(),
                k.dim.as_str().to_string(),
                k.segment.clone(),
                k.key,
            ))
            .or_default();
        e.0 += c.n;
        e.1 += c.sum;
    }
}

/// A survey answer's contribution, computed by kpi-core exactly as the worker does.
pub fn response_contrib(
    survey: &str,
    scale: u8,
    score: i64,
    channel: &str,
    has_comment: bool,
) -> Result<Vec<(CellKey, Cell)>> {
    let kind = SurveyKind::parse(survey, Some(scale)).map_err(|e| e.to_string())?;
    let channel = Channel::parse(channel).map_err(|e| e.to_string())?;
    let fact = SurveyResponse::new(kind, score, channel, has_comment).map_err(|e| e.to_string())?;
    Ok(fact.contributions())
}

fn fields(line: &str) -> Vec<&str> {
    line.split('\x1f').collect()
}

fn num(s: &str) -> Result<i64> {
    // sqlite prints REAL sums as `3.0`.
    s.parse::<i64>()
        .or_else(|_| s.parse::<f64>().map(|f| f as i64))
        .map_err(|_| format!("not a number from sqlite3: {s:?}"))
}

/// The counters of `tenant` in `table` (`cells`, `cells_month` or `cells_year` with the
/// month or year as the day, or `balances` with an empty day); zero counters left by retractions omitted.
pub fn stored(db: &Path, tenant: &str, table: &str) -> Result<Cells> {
    let date = match table {
        "cells" => "day",
        "cells_month" => "month",
        "cells_year" => "year",
        _ => "''",
    };
    let out = sql(
        db,
        &format!(
            "SELECT {date}, family, dim, segment, key, n, sum FROM {table} \
             WHERE tenant_id = {} AND (n != 0 OR sum != 0);",
            lit(tenant)
        ),
    )?;
    let mut cells = Cells::new();
    for line in out.lines() {
        let f = fields(line);
        if f.len() != 7 {
            return Err(format!("unexpected counter row {line:?}"));
        }
        let (family, dim) = codes(f[1], f[2])?;
        cells.insert(
            (f[0].into(), family, dim, f[3].into(), num(f[4])?),
            (num(f[5])?, num(f[6])?),
        );
    }
    Ok(cells)
}

/// The cells of `tenant`'s snapshot lines in `table` (`lines_month`, `lines_year`, migration
/// 0015), each line `family,dim,period,segment` then keys, `n`s and `sum`s (a sketch's as
/// `=total`), as [`report_form`] writes cells.
pub fn stored_lines(db: &Path, tenant: &str, table: &str) -> Result<Cells> {
    let out = sql(
        db,
        &format!(
            "SELECT replace(replace(line, char(9), char(30)), char(10), '') FROM {table} \
             WHERE tenant_id = {};",
            lit(tenant)
        ),
    )?;
    let mut cells = Cells::new();
    for line in out.lines() {
        let bad = || format!("malformed line in {table}: {line:?}");
        let parts: Vec<&str> = line.split('\x1e').collect();
        let [head, keys, ns, sums] = parts[..] else {
            return Err(bad());
        };
        let mut h = head.splitn(4, ',');
        let (Some(family), Some(dim), Some(at), Some(segment)) =
            (h.next(), h.next(), h.next(), h.next())
        else {
            return Err(bad());
        };
        let (family, dim) = codes(family, dim)?;
        let (keys, ns): (Vec<&str>, Vec<&str>) =
            (keys.split(',').collect(), ns.split(',').collect());
        let total = sums.strip_prefix('=');
        let sums: Vec<&str> = match total {
            Some(_) => Vec::new(),
            None => sums.split(',').collect(),
        };
        if keys.len() != ns.len() || (total.is_none() && sums.len() != keys.len()) {
            return Err(bad());
        }
        let mut total = total.map(num).transpose()?;
        for (i, (k, n)) in keys.iter().zip(&ns).enumerate() {
            let n = num(n)?;
            let sum = match (&mut total, sums.get(i)) {
                (Some(t), _) if n > 0 => std::mem::take(t),
                (Some(_), _) => 0,
                (None, Some(s)) => num(s)?,
                (None, None) => return Err(bad()),
            };
            let at = (
                at.to_string(),
                family.clone(),
                dim.clone(),
                segment.to_string(),
                num(k)?,
            );
            cells.insert(at, (n, sum));
        }
    }
    Ok(report_form(&cells))
}

/// `cells` as a report's read sends them (`db/cells.rs`): a duration sketch's `sum`s as
/// their total over the cells with `n > 0`, on the first of them by key; zeros left out.
pub fn report_form(cells: &Cells) -> Cells {
    let sketch = |family: &str| Family::parse(family).is_some_and(Family::is_sketch);
    let mut out = Cells::new();
    // The first cell with n > 0 of each sketch's (period, family, dim, segment), and its total.
    let mut firsts: BTreeMap<(String, String, String, String), (i64, i64)> = BTreeMap::new();
    for ((at, family, dim, seg, key), (n, sum)) in cells {
        if !sketch(family) {
            out.insert(
                (at.clone(), family.clone(), dim.clone(), seg.clone(), *key),
                (*n, *sum),
            );
            continue;
        }
        out.insert(
            (at.clone(), family.clone(), dim.clone(), seg.clone(), *key),
            (*n, 0),
        );
        if *n > 0 {
            let e = firsts
                .entry((at.clone(), family.clone(), dim.clone(), seg.clone()))
                .or_insert((*key, 0));
            e.1 += sum;
        }
    }
    for ((at, family, dim, seg), (key, total)) in firsts {
        if let Some(c) = out.get_mut(&(at, family, dim, seg, key)) {
            c.1 = total;
        }
    }
    out.retain(|_, v| *v != (0, 0));
    out
}

/// The stored day counters of `tenant`.
pub fn stored_cells(db: &Path, tenant: &str) -> Result<Cells> {
    stored(db, tenant, "cells")
}

/// What the day counters make of the snapshot and balance tables, as [`derived`] gives it.
pub struct Derived {
    /// The sums of the months no `months_stale` row marks (their snapshots must equal them).
    pub months: Cells,
    /// The sums of the years no `years_stale` row marks.
    pub years: Cells,
    /// The stock balances.
    pub balances: Cells,
    /// Stale (family, month) pairs.
    pub stale_months: Vec<(String, String)>,
    /// Stale (family, year) pairs.
    pub stale_years: Vec<(String, String)>,
}

/// The (family, period) marks of `tenant` in a stale table (`months_stale`, `years_stale`).
fn marks(db: &Path, tenant: &str, table: &str, col: &str) -> Result<Vec<(String, String)>> {
    let out = sql(
        db,
        &format!(
            "SELECT family, {col} FROM {table} WHERE tenant_id = {};",
            lit(tenant)
        ),
    )?;
    let mut stale = Vec::new();
    for line in out.lines() {
        let f = fields(line);
        if f.len() != 2 {
            return Err(format!("unexpected stale row {line:?}"));
        }
        stale.push((codes(f[0], "0")?.0, f[1].to_string()));
    }
    Ok(stale)
}

/// What the day counters `cells` make of the other tables: the sums of the months and
/// years no stale row marks (the snapshots must equal them), the stock balances, and the
/// stale marks.
pub fn derived(db: &Path, tenant: &str, cells: &Cells) -> Result<Derived> {
    let stale_months = marks(db, tenant, "months_stale", "month")?;
    let stale_years = marks(db, tenant, "years_stale", "year")?;
    let stocks = ["ticket_open_until", "pipeline", "customers", "mrr"];
    let (mut months, mut years, mut balances) = (Cells::new(), Cells::new(), Cells::new());
    for ((day, family, dim, seg, key), (n, sum)) in cells {
        for (sums, len, stale) in [
            (&mut months, 7, &stale_months),
            (&mut years, 4, &stale_years),
        ] {
            let at = day.get(..len).unwrap_or_default().to_string();
            if !stale.iter().any(|(f, m)| f == family && *m == at) {
                let e = sums
                    .entry((at, family.clone(), dim.clone(), seg.clone(), *key))
                    .or_default();
                e.0 += n;
                e.1 += sum;
            }
        }
        if stocks.contains(&family.as_str()) {
            let e = balances
                .entry((
                    String::new(),
                    family.clone(),
                    dim.clone(),
                    seg.clone(),
                    *key,
                ))
                .or_default();
            e.0 += n;
            e.1 += sum;
        }
    }
    for sums in [&mut months, &mut years, &mut balances] {
        sums.retain(|_, v| *v != (0, 0));
    }
    Ok(Derived {
        months,
        years,
        balances,
        stale_months,
        stale_years,
    })
}

/// What a recomputation from the raw rows of `tenant` gives: responses recomputed by
/// kpi-core from their fields (and their stored `contrib` checked against that), tickets and
/// events from the `contrib` each row stored.
pub struct Recomputed {
    /// The counters the rows add up to.
    pub cells: Cells,
    /// Response rows.
    pub responses: usize,
    /// Response rows whose stored `contrib` differs from kpi-core's recomputation.
    pub bad_contrib: usize,
    /// Ticket and event rows.
    pub other_rows: usize,
}

/// Recomputes the rollups of `tenant` from its raw rows.
pub fn recompute(db: &Path, tenant: &str) -> Result<Recomputed> {
    let t = lit(tenant);
    let out = sql(
        db,
        &format!(
            "SELECT day, survey, scale, score, channel, comment IS NOT NULL, contrib \
             FROM responses WHERE tenant_id = {t};"
        ),
    )?;
    let mut r = Recomputed {
        cells: Cells::new(),
        responses: 0,
        bad_contrib: 0,
        other_rows: 0,
    };
    for line in out.lines() {
        let f = fields(line);
        if f.len() != 7 {
            return Err(format!("unexpected response row {line:?}"));
        }
        let scale = num(f[2])? as u8;
        let cells = response_contrib(f[1], scale, num(f[3])?, f[4], f[5] == "1")?;
        if encode_contrib(&cells) != f[6] {
            r.bad_contrib += 1;
        }
        add_cells(&mut r.cells, f[0], &cells);
        r.responses += 1;
    }
    for table in ["tickets", "events"] {
        let out = sql(
            db,
            &format!(
                "SELECT r.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3, \
                 j.value->>4, j.value->>5 FROM {table} r, json_each(r.contrib) j \
                 WHERE r.tenant_id = {t}; SELECT count(*) FROM {table} WHERE tenant_id = {t};"
            ),
        )?;
        for line in out.lines() {
            let f = fields(line);
            if f.len() == 1 {
                r.other_rows += num(f[0])? as usize;
                continue;
            }
            if f.len() != 7 {
                return Err(format!("unexpected {table} contrib row {line:?}"));
            }
            let (family, dim) = codes(f[1], f[2])?;
            let e = r
                .cells
                .entry((f[0].into(), family, dim, f[3].into(), num(f[4])?))
                .or_default();
            e.0 += num(f[5])?;
            e.1 += num(f[6])?;
        }
    }
    r.cells.retain(|_, v| *v != (0, 0));
    Ok(r)
}

/// The counters on which `a` and `b` differ, as readable lines (at most `max`).
pub fn diff(a: &Cells, b: &Cells, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
        let (x, y) = (a.get(k), b.get(k));
        if x != y {
            out.push(format!("{k:?}: {x:?} vs {y:?}"));
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

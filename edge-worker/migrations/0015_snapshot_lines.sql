-- Closed months and years as the text a report reads (issue 10): one row per (family,
-- dimension, period, segment) holding the line `db/cells.rs` would build from the snapshot's
-- cells (`family,dim,period,segment`, then keys, `n`s and `sum`s, a duration sketch's `sum`s
-- as their total). A dense year read 14–18 k snapshot rows and SQLite built their text at
-- every read (6–11 ms of the worker's CPU under `wrangler dev`); it now reads ~170 lines a
-- month, built once when the snapshot is. A line is written in the batch that rebuilds its
-- snapshot, so it is used under the same mark: only while `months_stale` (`years_stale`) does
-- not say the period changed.
CREATE TABLE lines_month (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  month TEXT NOT NULL,                    -- YYYY-MM
  segment TEXT NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, month, segment)
) WITHOUT ROWID;
CREATE TABLE lines_year (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  year TEXT NOT NULL,                     -- YYYY
  segment TEXT NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, year, segment)
) WITHOUT ROWID;

-- Snapshots summed before this migration have no lines: marked, they are read from their
-- days until the next read that needs them rebuilds them with their lines (the mark on a
-- month marks its year, `month_marked` of 0014).
INSERT INTO months_stale (tenant_id, family, month)
SELECT DISTINCT tenant_id, family, month FROM cells_month
WHERE NOT EXISTS (SELECT 1 FROM months_stale s WHERE s.tenant_id = cells_month.tenant_id
                  AND s.family = cells_month.family AND s.month = cells_month.month);
INSERT INTO years_stale (tenant_id, family, year)
SELECT DISTINCT tenant_id, family, year FROM cells_year
WHERE NOT EXISTS (SELECT 1 FROM years_stale s WHERE s.tenant_id = cells_year.tenant_id
                  AND s.family = cells_year.family AND s.year = cells_year.year);

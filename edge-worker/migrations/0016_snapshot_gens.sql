-- A tenant's snapshot generation (issue 10): moved by every batch that rebuilds a month or
-- year snapshot and its lines (`db/cells.rs` `rebuild`). An isolate keeps the closed
-- months' and years' lines it has read (`db/lines_cache.rs`); a read's statement sends them
-- again only when the generation is no longer the one they were read at, so a dashboard read
-- again costs its open days and the marks, not its whole year.
CREATE TABLE snapshot_gens (
  tenant_id TEXT PRIMARY KEY,
  gen INTEGER NOT NULL
) WITHOUT ROWID;

-- The open month's closed days, summed (issue 10): a read whose bucket holds the whole open
-- month (a year's monthly series, a trailing year) took every day of it from `cells`, 3.5 k
-- rows on a dense tenant's 30th. Now it takes the days before `upto` (the tenant's today
-- when it was built) as stored lines, the text of migration 0015, one row per (family,
-- dimension, segment), and only the days from `upto` on from `cells`.
--
-- One prefix per (tenant, family). `month_prefixes` says which is built; `db/cells.rs`
-- `rebuild` writes it with its lines in one batch, from the cells as they are then. A change
-- to a counter of a day the prefix sums deletes its row (the triggers below): readers read
-- that family's days again until the next rebuild. Answers land on today, on or after
-- `upto`, so they delete nothing and write no more rows than before.
CREATE TABLE month_prefixes (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  upto TEXT NOT NULL,                      -- YYYY-MM-DD, the first day not summed
  PRIMARY KEY (tenant_id, family)
) WITHOUT ROWID;

CREATE TABLE lines_prefix (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  segment TEXT NOT NULL,
  line TEXT NOT NULL,                      -- the read's text, dated by the month (YYYY-MM)
  PRIMARY KEY (tenant_id, family, dim, segment)
) WITHOUT ROWID;

CREATE TRIGGER cells_added_prefix AFTER INSERT ON cells BEGIN
  DELETE FROM month_prefixes WHERE tenant_id = NEW.tenant_id AND family = NEW.family
    AND upto > NEW.day AND substr(upto, 1, 7) = substr(NEW.day, 1, 7);
END;
CREATE TRIGGER cells_changed_prefix AFTER UPDATE ON cells BEGIN
  DELETE FROM month_prefixes WHERE tenant_id = NEW.tenant_id AND family = NEW.family
    AND upto > NEW.day AND substr(upto, 1, 7) = substr(NEW.day, 1, 7);
END;

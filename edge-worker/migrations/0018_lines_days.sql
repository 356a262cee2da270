-- The open month's closed days, day by day (issue 10): a month's daily series took each day
-- before today from `cells`, one row per counter (8.4 k rows on a dense tenant's 30th; 2.8–
-- 3.5 ms of SQLite for the 54 KPIs' totals, against 0.2–0.4 ms from one line per day). Now
-- it takes them as stored lines, the text of migration 0015 dated by the day, one row per
-- (family, dimension, day, segment), and only today from `cells`.
--
-- Built with a family's prefix (migration 0017), in the same batch and under the same
-- `month_prefixes` row: the triggers of 0017 that delete that row on a change to a day
-- before `upto` make readers take that family's days from `cells` again until the next
-- rebuild. A rebuild writes the days from the family's last build on while its row still
-- stands in this month (no day before it changed since: about a day's lines once a day),
-- and every day of the month otherwise (`db/cells.rs` `rebuild`).
CREATE TABLE lines_days (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  day TEXT NOT NULL,                       -- YYYY-MM-DD, before the prefix's `upto`
  segment TEXT NOT NULL,
  line TEXT NOT NULL,                      -- the read's text, dated by the day
  PRIMARY KEY (tenant_id, family, dim, day, segment)
) WITHOUT ROWID;

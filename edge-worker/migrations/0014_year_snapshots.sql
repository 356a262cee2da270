-- Closed years summed (issue 10): a year compared with the previous one reads the previous
-- year whole from one snapshot instead of twelve month snapshots, whose sketch buckets and
-- segments repeat month after month (a dense tenant's compared year: 16 k rows read → ~5 k).
-- A year is used only while no (tenant, family, year) row of `years_stale` says a month of
-- it changed since it was summed. A changed day marks its month (`cells_added`,
-- `cells_changed`), and a marked month marks its year here; readers rebuild a stale year
-- from its month snapshots, and clear its mark only when none of its months is stale.
CREATE TABLE cells_year (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  year TEXT NOT NULL,                     -- YYYY
  segment TEXT NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, year, segment, key)
) WITHOUT ROWID;
CREATE TABLE years_stale (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  year TEXT NOT NULL,
  PRIMARY KEY (tenant_id, family, year)
) WITHOUT ROWID;

-- (Not `INSERT OR IGNORE`, as in 0005: inside a trigger fired by an upsert, D1's SQLite
-- applies the outer statement's conflict policy.)
CREATE TRIGGER month_marked AFTER INSERT ON months_stale BEGIN
  INSERT INTO years_stale (tenant_id, family, year)
  SELECT NEW.tenant_id, NEW.family, substr(NEW.month, 1, 4)
  WHERE NOT EXISTS (SELECT 1 FROM years_stale WHERE tenant_id = NEW.tenant_id
                    AND family = NEW.family AND year = substr(NEW.month, 1, 4));
END;

-- Every year so far from its month snapshots; a year holding a stale month is stale.
INSERT INTO years_stale (tenant_id, family, year)
SELECT DISTINCT tenant_id, family, substr(month, 1, 4) FROM months_stale;
INSERT INTO cells_year (tenant_id, family, dim, year, segment, key, n, sum)
SELECT tenant_id, family, dim, substr(month, 1, 4), segment, key, sum(n), sum(sum)
FROM cells_month GROUP BY tenant_id, family, dim, substr(month, 1, 4), segment, key
HAVING sum(n) != 0 OR sum(sum) != 0;

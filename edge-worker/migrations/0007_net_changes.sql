-- A changed raw row moves only the counters that differ: the old contribution retracted and
-- the new one added as one net change per counter, and a counter whose net change is nought
-- not written at all. A re-answer that adds a comment writes the response and its two
-- counters (it wrote them twice before: once to retract, once to add); a ticket that gets
-- its first response leaves its opening counters alone.
DROP TRIGGER responses_changed;
CREATE TRIGGER responses_changed AFTER UPDATE OF contrib, day ON responses
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, c.family, c.dim, c.day, c.segment, c.key, sum(c.n), sum(c.sum)
  FROM (SELECT OLD.day AS day, j.value->>0 AS family, j.value->>1 AS dim,
               j.value->>2 AS segment, j.value->>3 AS key,
               -(j.value->>4) AS n, -(j.value->>5) AS sum FROM json_each(OLD.contrib) j
        UNION ALL
        SELECT NEW.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3,
               j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j) c
  WHERE true
  GROUP BY c.family, c.dim, c.day, c.segment, c.key
  HAVING sum(c.n) != 0 OR sum(c.sum) != 0
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

DROP TRIGGER tickets_changed;
CREATE TRIGGER tickets_changed AFTER UPDATE OF contrib, day ON tickets
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, c.family, c.dim, c.day, c.segment, c.key, sum(c.n), sum(c.sum)
  FROM (SELECT OLD.day AS day, j.value->>0 AS family, j.value->>1 AS dim,
               j.value->>2 AS segment, j.value->>3 AS key,
               -(j.value->>4) AS n, -(j.value->>5) AS sum FROM json_each(OLD.contrib) j
        UNION ALL
        SELECT NEW.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3,
               j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j) c
  WHERE true
  GROUP BY c.family, c.dim, c.day, c.segment, c.key
  HAVING sum(c.n) != 0 OR sum(c.sum) != 0
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

DROP TRIGGER openings_changed;
CREATE TRIGGER openings_changed AFTER UPDATE OF contrib, day ON openings
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, c.family, c.dim, c.day, c.segment, c.key, sum(c.n), sum(c.sum)
  FROM (SELECT OLD.day AS day, j.value->>0 AS family, j.value->>1 AS dim,
               j.value->>2 AS segment, j.value->>3 AS key,
               -(j.value->>4) AS n, -(j.value->>5) AS sum FROM json_each(OLD.contrib) j
        UNION ALL
        SELECT NEW.day, j.value->>0, j.value->>1, j.value->>2, j.value->>3,
               j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j) c
  WHERE true
  GROUP BY c.family, c.dim, c.day, c.segment, c.key
  HAVING sum(c.n) != 0 OR sum(c.sum) != 0
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

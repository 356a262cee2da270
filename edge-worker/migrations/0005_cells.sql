-- Rollup counters v2 (kpi-core v2): counters keyed by integer family and dimension ids, ordered
-- so that a read of some families over a span of days is one seek per (family, dimension);
-- kept by triggers on the raw rows, so that every write, whatever statement makes it, moves
-- the counters in its own transaction; closed months kept as snapshots that writers mark
-- stale; the stocks (backlog, pipeline, customers, MRR) kept as running balances, so no read
-- scans a tenant's history. Survey answers count their comment in `sum` (the `comments`
-- family, id 4, is retired).

-- Ids of kpi-core's `Family` and `Dim` (rollup/family.rs), for this migration only.
CREATE TABLE _family_ids (code TEXT PRIMARY KEY, id INTEGER NOT NULL);
INSERT INTO _family_ids (code, id) VALUES
  ('nps', 0), ('csat5', 1), ('csat10', 2), ('ces', 3), ('links_issued', 5), ('tickets', 6),
  ('first_response', 7), ('resolution', 8), ('first_response_biz', 9), ('resolution_biz', 10),
  ('ticket_open_until', 11), ('leads', 12), ('lead_response', 13), ('stage_reached', 14),
  ('deals_won', 15), ('deals_lost', 16), ('sales_cycle', 17), ('pipeline', 18),
  ('customers', 19), ('orders', 20), ('first_orders', 21), ('cancellations', 22),
  ('repeat_orders', 23), ('upsell', 24), ('mrr', 25), ('expansion_mrr', 26), ('renewals', 27),
  ('spend', 28), ('retention_spend', 29), ('support_spend', 30), ('campaign_revenue', 31),
  ('web', 32), ('ads', 33), ('email', 34), ('social', 35), ('appointments', 36),
  ('active_users', 37), ('activities', 38);
CREATE TABLE _dim_ids (code TEXT PRIMARY KEY, id INTEGER NOT NULL);
INSERT INTO _dim_ids (code, id) VALUES
  ('', 0), ('channel', 1), ('survey', 2), ('campaign', 3), ('source', 4), ('stage', 5),
  ('agent', 6);

-- Day counters. `day` is the tenant-local YYYY-MM-DD; zero counters left by retractions are
-- kept (deleting them would cost a write) and skipped by reads.
CREATE TABLE cells (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  day TEXT NOT NULL,
  segment TEXT NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, day, segment, key)
) WITHOUT ROWID;

-- Closed months summed: a year's report reads twelve of these instead of 365 days. A month
-- is used only while no (tenant, family, month) row of `months_stale` says a day of it
-- changed since it was summed; readers rebuild stale months.
CREATE TABLE cells_month (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  month TEXT NOT NULL,                    -- YYYY-MM
  segment TEXT NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, month, segment, key)
) WITHOUT ROWID;
CREATE TABLE months_stale (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  month TEXT NOT NULL,
  PRIMARY KEY (tenant_id, family, month)
) WITHOUT ROWID;

-- Stock families summed over every day: the balance at a period's end is this minus the days
-- after it. Stock families: ticket_open_until (11), pipeline (18), customers (19), mrr (25).
CREATE TABLE balances (
  tenant_id TEXT NOT NULL,
  family INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  segment TEXT NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, family, dim, segment, key)
) WITHOUT ROWID;

-- What a tenant already had when it started sending events (customers, MRR, open tickets),
-- as of a day: one raw row per tenant, counted like any other row.
CREATE TABLE openings (
  tenant_id TEXT PRIMARY KEY,
  day TEXT NOT NULL,                      -- the day before `as_of`: counted at its end
  body TEXT NOT NULL,                     -- the balances as set (JSON)
  contrib TEXT NOT NULL
) WITHOUT ROWID;

-- Existing counters, by ids. Survey counters are rebuilt from the answers below.
INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
SELECT r.tenant_id, f.id, d.id, r.day, r.segment, r.key, r.n, r.sum
FROM rollup_cells r JOIN _family_ids f ON f.code = r.family JOIN _dim_ids d ON d.code = r.dim
WHERE r.family NOT IN ('nps', 'csat5', 'csat10', 'ces', 'comments') AND (r.n != 0 OR r.sum != 0);
DROP TABLE rollup_cells;

-- Raw tables rebuilt WITHOUT ROWID: the primary key is the table, so a new row is one write
-- rather than a row and its key's index. Answers get their contribution as kpi-core writes it
-- now; tickets and events their stored one with ids for codes, in the same order.
CREATE TABLE responses_v2 (
  tenant_id TEXT NOT NULL,
  link_id TEXT NOT NULL,                  -- one response per link: the latest answer wins
  survey TEXT NOT NULL,
  scale INTEGER NOT NULL,
  score INTEGER NOT NULL,
  comment TEXT,
  respondent TEXT,
  ticket TEXT,
  channel TEXT NOT NULL,
  lang TEXT NOT NULL,
  day TEXT NOT NULL,                      -- tenant-local day of the first answer
  answered_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  contrib TEXT NOT NULL,                  -- JSON: the exact counters this row adds to `day`
  answers INTEGER NOT NULL DEFAULT 1,     -- times answered: 1 means the last write created it
  PRIMARY KEY (tenant_id, link_id)
) WITHOUT ROWID;
INSERT INTO responses_v2 (tenant_id, link_id, survey, scale, score, comment, respondent, ticket,
                          channel, lang, day, answered_at, updated_at, contrib, answers)
SELECT tenant_id, link_id, survey, scale, score, comment, respondent, ticket, channel, lang, day,
       answered_at, updated_at,
       json_array(
         json_array(CASE WHEN survey = 'nps' THEN 0 WHEN survey = 'csat' AND scale = 5 THEN 1
                         WHEN survey = 'csat' THEN 2 ELSE 3 END, 0, '', score, 1,
                    comment IS NOT NULL),
         json_array(CASE WHEN survey = 'nps' THEN 0 WHEN survey = 'csat' AND scale = 5 THEN 1
                         WHEN survey = 'csat' THEN 2 ELSE 3 END, 1, channel, score, 1,
                    comment IS NOT NULL)),
       1
FROM responses;
DROP TABLE responses;
ALTER TABLE responses_v2 RENAME TO responses;
-- Pages walk (tenant_id, day, link_id); the old `responses_day` was a prefix of it.
CREATE INDEX responses_page ON responses(tenant_id, day, link_id);
-- Only answers that name a respondent need finding by respondent.
CREATE INDEX responses_respondent ON responses(tenant_id, respondent)
  WHERE respondent IS NOT NULL;
INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
SELECT r.tenant_id, j.value->>0, j.value->>1, r.day, j.value->>2, j.value->>3,
       sum(j.value->>4), sum(j.value->>5)
FROM responses r, json_each(r.contrib) j
GROUP BY r.tenant_id, j.value->>0, j.value->>1, r.day, j.value->>2, j.value->>3;

CREATE TABLE tickets_v2 (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,                       -- the CRM's ticket id: upsert key
  channel TEXT NOT NULL,
  opened_at REAL NOT NULL,
  first_response_at REAL,
  resolved_at REAL,
  contacts INTEGER NOT NULL DEFAULT 1,
  agent TEXT,
  tags TEXT NOT NULL DEFAULT '[]',        -- JSON array of strings
  transferred INTEGER NOT NULL DEFAULT 0,
  abandoned INTEGER NOT NULL DEFAULT 0,
  day TEXT NOT NULL,                      -- tenant-local day it opened: where `contrib` counts
  contrib TEXT NOT NULL,
  updated_at REAL NOT NULL,
  rev TEXT NOT NULL,                      -- random per write: guards read-merge-write upserts
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO tickets_v2 (tenant_id, id, channel, opened_at, first_response_at, resolved_at,
                        contacts, agent, tags, transferred, abandoned, day, contrib, updated_at,
                        rev)
SELECT tenant_id, id, channel, opened_at, first_response_at, resolved_at, contacts, agent, tags,
       transferred, abandoned, day,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_array(f.id, d.id, j.value->>2, j.value->>3, j.value->>4, j.value->>5) AS x
          FROM json_each(t.contrib) j
          JOIN _family_ids f ON f.code = j.value->>0 JOIN _dim_ids d ON d.code = j.value->>1
          ORDER BY j.key)),
       updated_at, rev
FROM tickets t;
DROP TABLE tickets;
ALTER TABLE tickets_v2 RENAME TO tickets;
-- The old `tickets_day` was a prefix of this one.
CREATE INDEX tickets_page ON tickets(tenant_id, day, id);

-- Events are counted by their insert trigger, no longer by a per-request token.
CREATE TABLE events_v2 (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,                       -- unique per tenant: ingest is idempotent on it
  type TEXT NOT NULL,
  at REAL NOT NULL,
  day TEXT NOT NULL,
  body TEXT NOT NULL,                     -- the event as received (JSON)
  contrib TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO events_v2 (tenant_id, id, type, at, day, body, contrib)
SELECT tenant_id, id, type, at, day, body,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_array(f.id, d.id, j.value->>2, j.value->>3, j.value->>4, j.value->>5) AS x
          FROM json_each(e.contrib) j
          JOIN _family_ids f ON f.code = j.value->>0 JOIN _dim_ids d ON d.code = j.value->>1
          ORDER BY j.key))
FROM events e;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_day ON events(tenant_id, day);

DROP TABLE _family_ids;
DROP TABLE _dim_ids;

-- Snapshots of every month so far and the balances (empty `months_stale`: all fresh).
INSERT INTO cells_month (tenant_id, family, dim, month, segment, key, n, sum)
SELECT tenant_id, family, dim, substr(day, 1, 7), segment, key, sum(n), sum(sum)
FROM cells GROUP BY tenant_id, family, dim, substr(day, 1, 7), segment, key
HAVING sum(n) != 0 OR sum(sum) != 0;
INSERT INTO balances (tenant_id, family, dim, segment, key, n, sum)
SELECT tenant_id, family, dim, segment, key, sum(n), sum(sum)
FROM cells WHERE family IN (11, 18, 19, 25)
GROUP BY tenant_id, family, dim, segment, key;

-- A changed day makes its month stale; a stock counter moves its balance. (Not `INSERT OR
-- IGNORE`: inside a trigger fired by an upsert, D1's SQLite applies the outer statement's
-- conflict policy and the IGNORE is lost.)
CREATE TRIGGER cells_added AFTER INSERT ON cells BEGIN
  INSERT INTO months_stale (tenant_id, family, month)
  SELECT NEW.tenant_id, NEW.family, substr(NEW.day, 1, 7)
  WHERE NOT EXISTS (SELECT 1 FROM months_stale WHERE tenant_id = NEW.tenant_id
                    AND family = NEW.family AND month = substr(NEW.day, 1, 7));
  INSERT INTO balances (tenant_id, family, dim, segment, key, n, sum)
  SELECT NEW.tenant_id, NEW.family, NEW.dim, NEW.segment, NEW.key, NEW.n, NEW.sum
  WHERE NEW.family IN (11, 18, 19, 25)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER cells_changed AFTER UPDATE ON cells BEGIN
  INSERT INTO months_stale (tenant_id, family, month)
  SELECT NEW.tenant_id, NEW.family, substr(NEW.day, 1, 7)
  WHERE NOT EXISTS (SELECT 1 FROM months_stale WHERE tenant_id = NEW.tenant_id
                    AND family = NEW.family AND month = substr(NEW.day, 1, 7));
  INSERT INTO balances (tenant_id, family, dim, segment, key, n, sum)
  SELECT NEW.tenant_id, NEW.family, NEW.dim, NEW.segment, NEW.key, NEW.n - OLD.n, NEW.sum - OLD.sum
  WHERE NEW.family IN (11, 18, 19, 25)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

-- Raw rows move the counters: a new row adds its `contrib` on its day, a changed row
-- retracts the old and adds the new (only when they differ), a deleted row retracts.
CREATE TRIGGER responses_added AFTER INSERT ON responses BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER responses_changed AFTER UPDATE OF contrib, day ON responses
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER responses_removed AFTER DELETE ON responses BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

CREATE TRIGGER tickets_added AFTER INSERT ON tickets BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER tickets_changed AFTER UPDATE OF contrib, day ON tickets
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER tickets_removed AFTER DELETE ON tickets BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

CREATE TRIGGER events_added AFTER INSERT ON events BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER events_removed AFTER DELETE ON events BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

CREATE TRIGGER openings_added AFTER INSERT ON openings BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER openings_changed AFTER UPDATE OF contrib, day ON openings
WHEN OLD.contrib IS NOT NEW.contrib OR OLD.day IS NOT NEW.day BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT NEW.tenant_id, j.value->>0, j.value->>1, NEW.day, j.value->>2, j.value->>3,
         j.value->>4, j.value->>5 FROM json_each(NEW.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;
CREATE TRIGGER openings_removed AFTER DELETE ON openings BEGIN
  INSERT INTO cells (tenant_id, family, dim, day, segment, key, n, sum)
  SELECT OLD.tenant_id, j.value->>0, j.value->>1, OLD.day, j.value->>2, j.value->>3,
         -(j.value->>4), -(j.value->>5) FROM json_each(OLD.contrib) j WHERE true
  ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum;
END;

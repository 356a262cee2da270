-- Service-desk tickets and CRM events: raw rows, each with the exact counters it contributed
-- to its day's rollup (`contrib`), so rollups can always be recomputed from rows.
-- Instants are REAL Unix milliseconds (workers-rs binds integers as i32).

CREATE TABLE tickets (
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
);
CREATE INDEX tickets_day ON tickets(tenant_id, day);

CREATE TABLE events (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,                       -- unique per tenant: ingest is idempotent on it
  type TEXT NOT NULL,
  at REAL NOT NULL,
  day TEXT NOT NULL,
  body TEXT NOT NULL,                     -- the event as received (JSON)
  contrib TEXT NOT NULL,
  batch TEXT NOT NULL,                    -- random per request: which rows this request inserted
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_day ON events(tenant_id, day);
CREATE INDEX events_batch ON events(batch);

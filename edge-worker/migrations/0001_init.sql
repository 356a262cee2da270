-- Tenants, their keys (hashes only), survey responses and the per-day rollup counters.
-- Instants are REAL Unix milliseconds (workers-rs binds integers as i32) or RFC 3339 TEXT.

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  locale TEXT NOT NULL,
  allowed_origins TEXT NOT NULL,          -- JSON array of origins
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  lookup TEXT PRIMARY KEY,                -- the public first characters of the key
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  kind TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
  hash TEXT NOT NULL,                     -- hex SHA-256 of the whole key
  created_at TEXT NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE responses (
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
  PRIMARY KEY (tenant_id, link_id)
);
CREATE INDEX responses_day ON responses(tenant_id, day);
CREATE INDEX responses_respondent ON responses(tenant_id, respondent);

CREATE TABLE rollup_cells (
  tenant_id TEXT NOT NULL,
  day TEXT NOT NULL,
  family TEXT NOT NULL,
  dim TEXT NOT NULL,
  segment TEXT NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day, family, dim, segment, key)
) WITHOUT ROWID;

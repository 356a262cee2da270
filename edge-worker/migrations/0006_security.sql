-- Issue #12: keys that expire and can be revoked, revocable survey links, respondent ids
-- kept out of links and forgotten on erasure. Instants are REAL Unix milliseconds.

-- A key stops working at `expires_at` (a rotation sets it to the end of the grace period)
-- or once `revoked_at` is set; NULL means never / not revoked.
ALTER TABLE api_keys ADD COLUMN expires_at REAL;
ALTER TABLE api_keys ADD COLUMN revoked_at REAL;

-- Survey links carry the generation they were minted under; links of an older one are void.
ALTER TABLE tenants ADD COLUMN link_gen INTEGER NOT NULL DEFAULT 0;

-- The CRM's respondent id, kept for the tenant, behind the opaque reference that links,
-- responses and webhooks carry instead (`responses.respondent` holds the reference).
-- Erasure deletes the row: the reference then names nobody.
CREATE TABLE respondents (
  tenant_id TEXT NOT NULL,
  ref TEXT NOT NULL,                      -- HMAC of tenant, id and erasure count (base64url)
  respondent TEXT NOT NULL,               -- the CRM's id, as the tenant sent it
  PRIMARY KEY (tenant_id, ref)
) WITHOUT ROWID;
CREATE INDEX respondents_id ON respondents(tenant_id, respondent);

-- Erased respondents, remembered without their id: a keyed hash (HMAC under a worker
-- secret, so the table cannot be matched against a list of ids) and how many times they
-- were erased, which goes into the references minted afterwards.
CREATE TABLE erased_respondents (
  tenant_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  erasures INTEGER NOT NULL,
  erased_at REAL NOT NULL,
  PRIMARY KEY (tenant_id, hash)
) WITHOUT ROWID;

-- Responses stored before references existed hold the CRM id itself: it becomes its own
-- reference, so reads, exports and erasure treat old and new rows alike.
INSERT OR IGNORE INTO respondents (tenant_id, ref, respondent)
  SELECT DISTINCT tenant_id, respondent, respondent FROM responses WHERE respondent IS NOT NULL;

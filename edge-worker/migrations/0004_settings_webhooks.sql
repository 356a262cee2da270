-- Per-tenant business hours and webhook, and the webhook outbox.

-- JSON weekly calendar ({"mon": [["08:00", "17:30"]], …}) or NULL for calendar time only.
ALTER TABLE tenants ADD COLUMN business_hours TEXT;
-- The URL alerts go to (NULL: no webhook), and the generation of its signing secret, which
-- is derived from LINK_SIGNING_SECRET and never stored; rotating bumps the generation.
ALTER TABLE tenants ADD COLUMN webhook_url TEXT;
ALTER TABLE tenants ADD COLUMN webhook_gen INTEGER NOT NULL DEFAULT 0;

-- One row per alert, written in the same batch as the answer that raised it: a message is
-- never lost between the answer and its delivery. Receivers dedupe on `id` (webhook-id).
CREATE TABLE webhook_outbox (
  id TEXT PRIMARY KEY,                    -- msg_…, the webhook-id header
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,                     -- survey.detractor | survey.low_csat
  payload TEXT NOT NULL,                  -- the exact JSON body that is signed
  created_at REAL NOT NULL,               -- Unix ms
  next_at REAL NOT NULL,                  -- a retry may claim the row from then on
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,                    -- HTTP status of the last attempt (NULL: no answer)
  last_error TEXT,
  delivered_at REAL,
  failed_at REAL                          -- gave up after the last attempt
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_outbox_tenant ON webhook_outbox(tenant_id, created_at);

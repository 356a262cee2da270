-- Data access and targets: keyset-paging indexes for `GET /v1/responses` and `GET /v1/tickets`
-- (rows in `(day, key)` order), and per-tenant KPI targets.

-- Pages walk `(tenant_id, day, link_id)` / `(tenant_id, day, id)`: one index range per page.
CREATE INDEX responses_page ON responses(tenant_id, day, link_id);
CREATE INDEX tickets_page ON tickets(tenant_id, day, id);

-- JSON object: KPI id → {"min": number, "goal": number}; overrides the catalog defaults.
ALTER TABLE tenants ADD COLUMN targets TEXT NOT NULL DEFAULT '{}';

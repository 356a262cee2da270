-- The settings some KPIs need beyond targets (licensed users, CSAT top box, first-response
-- targets per channel, customer lifespan, scorecard weights), as one JSON object; and the
-- tenant-local day from which the current business hours apply, which reports name.
ALTER TABLE tenants ADD COLUMN kpi_settings TEXT;
ALTER TABLE tenants ADD COLUMN hours_since TEXT;

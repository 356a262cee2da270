-- Alerts when a KPI changes status: what a tenant watches (JSON: KPI ids and a period), when
-- the cron last checked it, and the last status seen of each watched KPI. A move is
-- announced in the batch that records it, only if the row still holds the status read, so
-- never twice.
ALTER TABLE tenants ADD COLUMN alerts TEXT;
ALTER TABLE tenants ADD COLUMN alerts_checked_at REAL;
CREATE TABLE kpi_status (
  tenant_id TEXT NOT NULL,
  kpi TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (tenant_id, kpi)
) WITHOUT ROWID;

-- An order remembers its customer by a keyed hash (never the CRM's id), so that when a CRM
-- does not send `previous_order_at` the worker finds the customer's previous orders itself.
-- `derived` marks orders whose previous orders the worker found: an earlier order that
-- arrives late revises them (their contribution changes, the trigger below moves the cells
-- by the net change). Orders that carry their own history are left as sent.
ALTER TABLE events ADD COLUMN customer_key TEXT;
ALTER TABLE events ADD COLUMN derived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_customer_orders ON events (tenant_id, customer_key, at)
  WHERE customer_key IS NOT NULL;

CREATE TRIGGER events_changed AFTER UPDATE OF contrib ON events
WHEN OLD.contrib IS NOT NEW.contrib BEGIN
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

-- CLV reads the period's trailing year (issue 13): every order also counts by the month of
-- its customer's previous order (family 39, `order_recency`, key
-- `kpi_core::rollup::key::recency`: 1 + that month since 1970-01 when it lies within the 12
-- months before the order's month, else 0). Orders stored before this migration get the
-- counter from their own contribution: the repeat-order key (family 23, totals) holds the
-- previous order's day as `(day + 1) << 22`. Appending the element to `contrib` moves the
-- cells through the `events_changed` trigger, as any revision does, and marks the closed
-- months it touches stale.
UPDATE events SET contrib = json_insert(contrib, '$[#]', json_array(39, 0, '',
  (SELECT CASE
     WHEN r.prev IS NULL OR r.prev > CAST(julianday(events.day) - 2440587.5 AS INTEGER) THEN 0
     WHEN (CAST(substr(events.day, 1, 4) AS INTEGER) * 12 + CAST(substr(events.day, 6, 2) AS INTEGER))
        - (CAST(strftime('%Y', r.prev * 86400, 'unixepoch') AS INTEGER) * 12
           + CAST(strftime('%m', r.prev * 86400, 'unixepoch') AS INTEGER)) > 12 THEN 0
     ELSE CAST(strftime('%Y', r.prev * 86400, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', r.prev * 86400, 'unixepoch') AS INTEGER) - 1 - 1970 * 12 + 1
   END
   FROM (SELECT CASE WHEN (j.value->>3) = 0 THEN NULL
                     ELSE ((j.value->>3) >> 22) - 1 END AS prev
         FROM json_each(events.contrib) j
         WHERE j.value->>0 = 23 AND j.value->>1 = 0 LIMIT 1) r),
  (SELECT j.value->>4 FROM json_each(events.contrib) j
   WHERE j.value->>0 = 23 AND j.value->>1 = 0 LIMIT 1),
  0))
WHERE type = 'order.placed'
  AND EXISTS (SELECT 1 FROM json_each(events.contrib) j WHERE j.value->>0 = 23)
  AND NOT EXISTS (SELECT 1 FROM json_each(events.contrib) j WHERE j.value->>0 = 39);

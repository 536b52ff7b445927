-- Derived views and table macros, re-created every time the app connects, so a
-- code change never needs a rebuild that would lose operator-entered records.

-- The shared filters, written once. An empty list or a NULL date matches
-- everything. A shipment whose mode the source does not state has mode
-- 'not_stated' here, so it can be shown and filtered as such. A record dated
-- only to a month matches any range that overlaps that month, so vague dates
-- are neither dropped nor pinned to the 1st. (list_contains per column is
-- several times faster than building a list per row for list_has_any.)
CREATE OR REPLACE MACRO filtered_movements(countries, materials, modes, date_from, date_to) AS TABLE
SELECT *
FROM movements
WHERE (len(countries) = 0
       OR list_contains(countries, origin_iso3) OR list_contains(countries, destination_iso3)
       OR list_contains(countries, recipient_iso3) OR list_contains(countries, provider_iso3))
  AND (len(materials) = 0 OR list_contains(materials, material_code))
  AND (len(modes) = 0 OR list_contains(modes, mode))
  AND (date_to IS NULL OR event_date <= date_to)
  AND (date_from IS NULL OR event_until >= date_from);

-- Requests with what has been delivered against them as of a day, and the
-- status that follows: a request is fulfilled when it is recorded as closed by
-- that day, or when its linked deliveries cover the quantity asked for.
CREATE OR REPLACE MACRO requests_as_of(as_of) AS TABLE
WITH delivered AS (
    -- Added up from the shipments for a day before the last delivery; read
    -- from the stored totals (reliefhub/movements.py) on or after it, which
    -- is how every page opens.
    SELECT request_id,
           sum(quantity)     AS delivered_quantity,
           max(delivered_on) AS last_delivered_on
    FROM shipments
    WHERE request_id IS NOT NULL
      AND status = 'delivered'
      AND delivered_on <= as_of
      AND as_of < (SELECT max(last_delivered_on) FROM request_deliveries)
    GROUP BY request_id
    UNION ALL
    SELECT request_id, delivered_quantity, last_delivered_on
    FROM request_deliveries
    WHERE as_of >= (SELECT max(last_delivered_on) FROM request_deliveries)
)
SELECT
    r.*,
    m.name     AS material_name,
    m.category AS material_category,
    m.unit,
    coalesce(dl.delivered_quantity, 0) AS delivered_quantity,
    CASE WHEN r.quantity IS NOT NULL
         THEN greatest(r.quantity - coalesce(dl.delivered_quantity, 0), 0) END AS missing_quantity,
    dl.last_delivered_on,
    CASE
        WHEN r.status IN ('fulfilled', 'closed', 'cancelled')
             AND (r.closed_on IS NULL OR r.closed_on <= as_of) THEN r.status
        WHEN r.quantity IS NOT NULL AND coalesce(dl.delivered_quantity, 0) >= r.quantity
             AND r.quantity > 0 THEN 'fulfilled'
        WHEN coalesce(dl.delivered_quantity, 0) > 0 OR r.status = 'partially_fulfilled'
             THEN 'partially_fulfilled'
        ELSE 'open'
    END AS status_as_of,
    as_of - r.requested_on AS days_waiting
FROM requests r
JOIN materials m USING (material_code)
LEFT JOIN delivered dl USING (request_id)
WHERE r.requested_on <= as_of;

CREATE OR REPLACE MACRO filtered_open_requests(countries, materials, date_from, date_to, as_of) AS TABLE
SELECT *
FROM requests_as_of(as_of)
WHERE status_as_of IN ('open', 'partially_fulfilled')
  AND (len(countries) = 0 OR list_contains(countries, requester_iso3))
  AND (len(materials) = 0 OR list_contains(materials, material_code))
  AND (date_to IS NULL OR requested_on <= date_to)
  AND (date_from IS NULL
       OR (CASE date_precision WHEN 'month' THEN last_day(requested_on) ELSE requested_on END) >= date_from);

-- Requests closed or withdrawn by $as_of before all of them was known to
-- arrive, with what had been delivered against each by then: unmet needs stay
-- in sight after the requester closes the file. A request whose quantity is
-- not stated is listed too, since nobody can say it was met.
-- unstated_deliveries counts the deliveries whose quantity is not stated, so
-- that what arrived is never read as less than it may have been.
-- The $limit most recently closed (ties by request_id; a NULL $limit gives
-- every row), picked from narrow rows before any name is joined; matching_rows
-- counts every match, however many rows $limit keeps.
WITH closed AS MATERIALIZED (
    SELECT request_id, delivered_quantity, missing_quantity, status_as_of, closed_on,
           count(*) OVER () AS matching_rows
    FROM filtered_requests_as_of($countries, $materials, $date_from, $date_to, $as_of)
    WHERE status_as_of IN ('closed', 'withdrawn')
      AND missing_quantity IS DISTINCT FROM 0
),
page AS MATERIALIZED (
    SELECT *
    FROM closed
    ORDER BY closed_on DESC, request_id
    LIMIT $limit
),
unstated AS (
    SELECT request_id, count(*) AS unstated_deliveries
    FROM shipments
    WHERE request_id IN (SELECT request_id FROM page)
      AND status = 'delivered' AND delivered_on <= $as_of AND quantity IS NULL
    GROUP BY request_id
)
SELECT
    r.request_id,
    r.requester_iso3,
    r.requester_country,
    r.material_code,
    r.material_name,
    r.quantity AS requested_quantity,
    r.quantity_precision,
    k.delivered_quantity,
    k.missing_quantity,
    coalesce(u.unstated_deliveries, 0) AS unstated_deliveries,
    r.unit,
    k.status_as_of,
    r.closed_on,
    r.source_urls,
    k.matching_rows
FROM page k
JOIN named_requests() r USING (request_id)
LEFT JOIN unstated u USING (request_id)
ORDER BY r.closed_on DESC, r.requester_country, r.material_name, r.request_id;

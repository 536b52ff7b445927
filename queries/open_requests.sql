-- Requests still open on $as_of, with what was delivered against them by
-- then: the Open requests page's table, a page at a time, and its CSV export.
-- $limit rows from $offset on, most missing first; a NULL $limit gives every
-- row (the export). matching_rows counts every match, however many rows
-- $limit keeps. The page is picked from narrow rows (id and the sort keys)
-- first, and only its rows are joined to names and descriptions; the match is
-- kept (MATERIALIZED) so that counting it and paging it do not each add up
-- the deliveries again.
WITH matching AS MATERIALIZED (
    SELECT request_id, delivered_quantity, missing_quantity, days_waiting, status_as_of
    FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of)
),
page AS (
    SELECT *
    FROM matching
    ORDER BY missing_quantity DESC NULLS LAST, days_waiting DESC, request_id
    LIMIT $limit OFFSET $offset
)
SELECT
    r.request_id,
    r.requester_iso3,
    r.requester_country,
    r.channel,
    r.addressed_to,
    r.material_code,
    r.material_name,
    r.material_category,
    r.quantity AS requested_quantity,
    p.delivered_quantity,
    p.missing_quantity,
    r.unit,
    r.requested_on,
    r.date_precision,
    p.days_waiting,
    p.status_as_of,
    r.description,
    r.source_urls,
    (SELECT count(*) FROM matching) AS matching_rows
FROM page p
JOIN named_requests() r USING (request_id)
ORDER BY p.missing_quantity DESC NULLS LAST, p.days_waiting DESC, p.request_id;

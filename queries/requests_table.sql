-- The requests table of the Data page, a page at a time, and its CSV export.
-- $limit rows from $offset on, in (requested_on, request_id) order; a NULL
-- $limit gives every row (the export). matching_rows counts every match,
-- however many rows $limit keeps. The page is picked from narrow rows (row,
-- id and date) first, and only its rows are read in full (named_requests in
-- views.sql), by their rowid, which DuckDB reads from the vectors that hold
-- them rather than scanning every description (the loader writes requests in
-- this order, so a page lies in a few vectors; docs/benchmark.md has the
-- figures). The count and the page each read the narrow rows (NOT
-- MATERIALIZED): cheaper than keeping them, or than a window count carried
-- through the sort.
WITH matching AS NOT MATERIALIZED (
    SELECT rowid AS row_id, request_id, requested_on
    FROM requests
    WHERE (len($countries) = 0 OR list_contains($countries, requester_iso3))
      AND (len($materials) = 0 OR list_contains($materials, material_code))
      AND ($date_to IS NULL OR requested_on <= $date_to)
      AND ($date_from IS NULL
           OR (CASE date_precision WHEN 'month' THEN last_day(requested_on) ELSE requested_on END) >= $date_from)
),
page AS (
    SELECT row_id
    FROM matching
    ORDER BY requested_on, request_id
    LIMIT $limit OFFSET $offset
)
SELECT * EXCLUDE (row_id), (SELECT count(*) FROM matching) AS matching_rows
FROM named_requests()
WHERE row_id IN (SELECT row_id FROM page)
ORDER BY requested_on, request_id;

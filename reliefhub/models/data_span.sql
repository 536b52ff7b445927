-- model: data_span
-- kind: table
-- depends on: movements, requests
-- touched by: every change (one row: built whole each time)
-- The first and last day of the data: every page's default date range and
-- "data as of", which every rerun of every page would otherwise work out.
---- definition
SELECT
    least(min(event_date), (SELECT min(requested_on) FROM requests))    AS first_date,
    greatest(max(event_until),
             (SELECT max(coalesce(closed_on, requested_on)) FROM requests)) AS last_date
FROM movements

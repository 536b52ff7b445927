-- The span of the data: the default date range, and "data as of".
SELECT
    least(min(event_date), (SELECT min(requested_on) FROM requests))    AS first_date,
    greatest(max(event_until),
             (SELECT max(coalesce(closed_on, requested_on)) FROM requests)) AS last_date
FROM movements;

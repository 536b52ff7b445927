-- Requests per day, the curve of the crisis: how many had been received by
-- each day of the data (within the filters' dates), how many of them were settled (fulfilled, closed,
-- withdrawn or cancelled) and how many were still open, with the shared filters. "Still
-- open" on a day is exactly what the open-requests figures count as of that
-- day (filtered_open_requests): a request is open from the day it was made
-- until its recorded closing or the day its deliveries reached the quantity
-- asked, whichever comes first (the rules of requests_added_up; the day it
-- was filled is stored in request_status).
WITH asked AS (
    SELECT
        r.requested_on,
        CASE WHEN r.status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled') THEN coalesce(r.closed_on, r.requested_on) END
            AS closed_from,
        s.filled_on
    FROM requests r
    JOIN request_status s USING (request_id)
    WHERE (len($countries) = 0 OR list_contains($countries, r.requester_iso3))
      AND (len($materials) = 0 OR list_contains($materials, r.material_code))
      AND ($date_to IS NULL OR r.requested_on <= $date_to)
      AND ($date_from IS NULL
           OR CASE r.date_precision WHEN 'month' THEN last_day(r.requested_on) ELSE r.requested_on END >= $date_from)
),
settled AS (
    -- least and greatest skip NULLs: a request neither closed nor filled is never settled.
    SELECT
        requested_on,
        CASE WHEN coalesce(closed_from, filled_on) IS NOT NULL
             THEN greatest(requested_on, least(closed_from, filled_on)) END AS settled_on
    FROM asked
),
days AS (
    SELECT CAST(unnest(generate_series(first_date, last_date, INTERVAL 1 DAY)) AS DATE) AS day
    FROM data_span
),
per_day AS (
    SELECT d.day, coalesce(r.received, 0) AS received, coalesce(s.settled, 0) AS settled
    FROM days d
    LEFT JOIN (SELECT requested_on AS day, count(*) AS received FROM settled GROUP BY ALL) r USING (day)
    LEFT JOIN (SELECT settled_on AS day, count(*) AS settled FROM settled GROUP BY ALL) s USING (day)
),
running AS (
    SELECT
        day,
        sum(received) OVER upto::BIGINT                         AS received,
        sum(settled) OVER upto::BIGINT                          AS settled,
        (sum(received) OVER upto - sum(settled) OVER upto)::BIGINT AS still_open
    FROM per_day
    WINDOW upto AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
)
-- Every day of the data counts towards the totals; the filters' dates pick the days shown.
SELECT *
FROM running
WHERE ($date_from IS NULL OR day >= $date_from)
  AND ($date_to IS NULL OR day <= $date_to)
ORDER BY day;

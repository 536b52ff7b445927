-- Requests per day, the curve of the crisis: how many had been received by
-- each day of the data (within the filters' dates), how many of them were settled (fulfilled, closed,
-- withdrawn or cancelled) and how many were still open, with the shared filters. "Still
-- open" on a day is exactly what the open-requests figures count as of that
-- day (filtered_open_requests): a request is open from the day it was made
-- until its recorded closing or the day its deliveries reached the quantity
-- asked, whichever comes first (the rules of requests_added_up).
WITH asked AS (
    SELECT
        request_id,
        quantity,
        requested_on,
        CASE WHEN status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled') THEN coalesce(closed_on, requested_on) END
            AS closed_from
    FROM requests
    WHERE (len($countries) = 0 OR list_contains($countries, requester_iso3))
      AND (len($materials) = 0 OR list_contains($materials, material_code))
      AND ($date_to IS NULL OR requested_on <= $date_to)
      AND ($date_from IS NULL
           OR CASE date_precision WHEN 'month' THEN last_day(requested_on) ELSE requested_on END >= $date_from)
),
delivered AS (
    SELECT
        s.request_id,
        s.delivered_on,
        sum(s.quantity) OVER (PARTITION BY s.request_id ORDER BY s.delivered_on) AS delivered_by
    FROM shipments s
    WHERE s.status = 'delivered' AND s.request_id IN (SELECT request_id FROM asked WHERE quantity > 0)
),
filled AS (
    SELECT d.request_id, min(d.delivered_on) AS filled_on
    FROM delivered d
    JOIN asked a USING (request_id)
    WHERE d.delivered_by >= a.quantity
    GROUP BY ALL
),
settled AS (
    -- least and greatest skip NULLs: a request neither closed nor filled is never settled.
    SELECT
        a.requested_on,
        CASE WHEN coalesce(a.closed_from, f.filled_on) IS NOT NULL
             THEN greatest(a.requested_on, least(a.closed_from, f.filled_on)) END AS settled_on
    FROM asked a
    LEFT JOIN filled f USING (request_id)
),
days AS (
    SELECT CAST(unnest(generate_series(first_date, last_date, INTERVAL 1 DAY)) AS DATE) AS day
    FROM data_span
),
per_day AS (
    SELECT
        d.day,
        (SELECT count(*) FROM settled WHERE requested_on = d.day) AS received,
        (SELECT count(*) FROM settled WHERE settled_on = d.day)   AS settled
    FROM days d
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

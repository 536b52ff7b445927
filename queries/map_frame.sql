-- Where the map opens: the middle 90 % of all destinations, unfiltered, so
-- the view is framed on the data and does not jump when filters change.
-- quantile_cont over one value per movement, computed from the count of
-- movements per destination instead of sorting a million values: the value
-- at sorted index k is the first whose running count exceeds k, and the
-- quantile interpolates between the values at floor and ceil of q * (n - 1).
WITH per_route AS (
    SELECT route, sum(movements) AS n FROM movement_groups GROUP BY route
),
per_destination AS (
    SELECT p.latitude, p.longitude, sum(pr.n) AS n
    FROM per_route pr
    JOIN movement_routes r USING (route)
    JOIN places p ON p.place_id = r.destination_place_id
    GROUP BY ALL
),
per_value AS (
    SELECT 'lat' AS axis, latitude AS v, sum(n) AS n FROM per_destination GROUP BY ALL
    UNION ALL
    SELECT 'lon', longitude, sum(n) FROM per_destination GROUP BY ALL
),
running AS (
    SELECT axis, v, sum(n) OVER (PARTITION BY axis ORDER BY v ROWS UNBOUNDED PRECEDING) AS upto
    FROM per_value
),
wanted AS (
    SELECT w.axis, w.q, w.q * ((SELECT sum(n) FROM per_destination) - 1) AS h
    FROM (VALUES ('lat', 0.05), ('lat', 0.95), ('lon', 0.05), ('lon', 0.95)) w(axis, q)
),
quantiles AS (
    SELECT
        w.axis,
        w.q,
        w.h,
        (SELECT min(v) FROM running r WHERE r.axis = w.axis AND r.upto > floor(w.h)) AS below,
        (SELECT min(v) FROM running r WHERE r.axis = w.axis AND r.upto > ceil(w.h))  AS above
    FROM wanted w
)
SELECT
    max(below + (h - floor(h)) * (above - below)) FILTER (WHERE axis = 'lat' AND q = 0.05) AS south,
    max(below + (h - floor(h)) * (above - below)) FILTER (WHERE axis = 'lat' AND q = 0.95) AS north,
    max(below + (h - floor(h)) * (above - below)) FILTER (WHERE axis = 'lon' AND q = 0.05) AS west,
    max(below + (h - floor(h)) * (above - below)) FILTER (WHERE axis = 'lon' AND q = 0.95) AS east
FROM quantiles;

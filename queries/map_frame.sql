-- Where the map opens: the middle 90 % of all destinations, unfiltered, so
-- the view is framed on the data and does not jump when filters change.
-- Counted per route, then each destination repeated once per movement.
WITH per_destination AS (
    SELECT r.destination_place_id AS place_id, count(*) AS n
    FROM movements m
    JOIN movement_routes r USING (route)
    GROUP BY ALL
),
each_movement AS (
    SELECT p.latitude, p.longitude
    FROM per_destination d
    JOIN places p USING (place_id)
    CROSS JOIN range(d.n)
)
SELECT
    quantile_cont(latitude, 0.05)  AS south,
    quantile_cont(latitude, 0.95)  AS north,
    quantile_cont(longitude, 0.05) AS west,
    quantile_cont(longitude, 0.95) AS east
FROM each_movement;

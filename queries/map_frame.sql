-- Where the map opens: the middle 90 % of all destinations, unfiltered, so
-- the view is framed on the data and does not jump when filters change.
SELECT
    quantile_cont(p.latitude, 0.05)  AS south,
    quantile_cont(p.latitude, 0.95)  AS north,
    quantile_cont(p.longitude, 0.05) AS west,
    quantile_cont(p.longitude, 0.95) AS east
FROM movements m
JOIN places p ON p.place_id = m.destination_place_id;

-- The map's points: the places filtered movements leave from or arrive at,
-- with their traffic in both directions; at most $limit, the busiest, and
-- places_total says how many there were. Counted per route first, so a
-- million movements are grouped by a small integer, not by place names (from
-- the map's own groups, filtered_flow_groups: the fewest rows that hold them).
WITH per_route AS (
    SELECT route, sum(movements) AS n
    FROM filtered_flow_groups($countries, $materials, $modes, $date_from, $date_to)
    GROUP BY route
),
endpoints AS (
    SELECT r.origin_place_id AS place_id, p.n AS departures, 0 AS arrivals
    FROM per_route p JOIN movement_routes r USING (route)
    UNION ALL
    SELECT r.destination_place_id, 0, p.n
    FROM per_route p JOIN movement_routes r USING (route)
)
SELECT
    p.place_id,
    p.name,
    p.kind,
    p.iso3,
    p.latitude,
    p.longitude,
    sum(e.departures)::BIGINT                  AS departures,
    sum(e.arrivals)::BIGINT                    AS arrivals,
    sum(e.departures + e.arrivals)::BIGINT     AS movements,
    count(*) OVER ()                           AS places_total
FROM endpoints e
JOIN places p USING (place_id)
GROUP BY ALL
ORDER BY movements DESC, p.name
LIMIT $limit;

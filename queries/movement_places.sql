-- The map's points: every place that filtered movements leave from or arrive
-- at, with its traffic in both directions.
WITH endpoints AS (
    SELECT origin_place_id AS place_id, 1 AS departures, 0 AS arrivals
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    UNION ALL
    SELECT destination_place_id, 0, 1
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
)
SELECT
    p.place_id,
    p.name,
    p.kind,
    p.iso3,
    p.latitude,
    p.longitude,
    sum(e.departures)::BIGINT AS departures,
    sum(e.arrivals)::BIGINT   AS arrivals,
    count(*)                  AS movements
FROM endpoints e
JOIN places p USING (place_id)
GROUP BY ALL
ORDER BY movements DESC, p.name;

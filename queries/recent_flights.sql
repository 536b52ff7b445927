-- The wall's "recent flights" view: the latest $limit flights up to $as_of.
-- The latest are picked from narrow rows first (filtered_flights in
-- views.sql); only they are joined to place names. matching_flights counts
-- every flight up to $as_of, so the wall can say how many it left out.
WITH matching AS (
    SELECT flight_id, flight_date
    FROM filtered_flights($countries, $materials, $modes, $date_from, $date_to)
    WHERE flight_date <= $as_of
),
latest AS (
    SELECT flight_id, flight_date
    FROM matching
    ORDER BY flight_date DESC, flight_id DESC
    LIMIT $limit
)
SELECT
    f.flight_date,
    f.date_precision,
    o.name AS origin_name,
    d.name AS destination_name,
    concat_ws(' ', f.operator, f.aircraft_type) AS aircraft,
    f.patients,
    f.payload_tonnes,
    f.status,
    (SELECT count(*) FROM matching) AS matching_flights
FROM latest l
JOIN flights f USING (flight_id)
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
ORDER BY l.flight_date DESC, l.flight_id DESC;

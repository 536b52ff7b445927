-- The wall's "recent flights" view: the latest $limit flights up to $as_of.
SELECT
    f.flight_date,
    f.date_precision,
    o.name AS origin_name,
    d.name AS destination_name,
    concat_ws(' ', f.operator, f.aircraft_type) AS aircraft,
    f.patients,
    f.payload_tonnes,
    f.status
FROM flights f
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
JOIN movement_flight_keys k USING (flight_id)
WHERE f.flight_date <= $as_of
  AND k.flight_key IN (
      SELECT flight_key
      FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
      WHERE flight_key IS NOT NULL
  )
ORDER BY f.flight_date DESC, f.flight_id DESC
LIMIT $limit;

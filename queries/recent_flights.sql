-- The wall's "recent flights" view: the latest $limit flights up to $as_of.
-- Without any filter every flight qualifies (each one is in the movements,
-- with its shipments or on its own), so the movements are read only when a
-- filter is set: the two branches' conditions are written out in full
-- because DuckDB drops a branch whose parameters make it false before
-- running it, which it does not do through a subquery or a CTE. The latest
-- are picked from narrow rows first; only they are joined to place names.
WITH candidates AS (
    SELECT flight_id, flight_date
    FROM flights
    WHERE flight_date <= $as_of
      AND len($countries) = 0 AND len($materials) = 0 AND len($modes) = 0
      AND $date_from IS NULL AND $date_to IS NULL
    UNION ALL
    SELECT flight_id, flight_date
    FROM flights
    WHERE flight_date <= $as_of
      AND NOT (len($countries) = 0 AND len($materials) = 0 AND len($modes) = 0
               AND $date_from IS NULL AND $date_to IS NULL)
      AND flight_id IN (
          SELECT k.flight_id
          FROM movement_flight_keys k
          WHERE k.flight_key IN (
              SELECT flight_key
              FROM filtered_movement_groups($countries, $materials, $modes, $date_from, $date_to)
              WHERE flight_key IS NOT NULL
          )
      )
),
latest AS (
    SELECT flight_id, flight_date
    FROM candidates
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
    f.status
FROM latest l
JOIN flights f USING (flight_id)
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
ORDER BY l.flight_date DESC, l.flight_id DESC;

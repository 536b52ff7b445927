-- model: movement_flight_keys
-- kind: keys
-- depends on: flights
-- key: flight_key
-- natural key: flight_id
-- touched by: touched_flights (_touched.sql) not yet numbered
-- A small integer per flight, handed out once and never renumbered
-- (movement_routes says why).
---- definition
SELECT row_number() OVER (ORDER BY flight_id)::INTEGER AS flight_key, flight_id
FROM flights
---- refresh
INSERT INTO movement_flight_keys
SELECT (SELECT coalesce(max(flight_key), 0) FROM movement_flight_keys)
       + row_number() OVER (ORDER BY id)::INTEGER, id
FROM touched_flights
WHERE id IN (SELECT flight_id FROM flights)
  AND id NOT IN (SELECT flight_id FROM movement_flight_keys);

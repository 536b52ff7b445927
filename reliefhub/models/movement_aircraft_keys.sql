-- model: movement_aircraft_keys
-- kind: keys
-- depends on: flights
-- key: aircraft_key
-- natural key: aircraft
-- touched by: the aircraft of touched_rows (_touched.sql) not yet numbered
-- A small integer per operator and aircraft type, handed out once and never
-- renumbered (movement_routes says why): the map gathers an arc's aircraft as
-- bits of one number (key_bit in _macros.sql).
---- definition
SELECT row_number() OVER (ORDER BY aircraft)::SMALLINT AS aircraft_key, aircraft
FROM (SELECT DISTINCT aircraft_name(flight_id, operator, aircraft_type) AS aircraft FROM flights)
---- refresh
INSERT INTO movement_aircraft_keys
SELECT (SELECT coalesce(max(aircraft_key), 0) FROM movement_aircraft_keys)
       + row_number() OVER (ORDER BY aircraft)::SMALLINT,
       aircraft
FROM (SELECT DISTINCT aircraft_name(flight_id, operator, aircraft_type) AS aircraft
      FROM touched_rows WHERE flight_id IS NOT NULL)
WHERE aircraft NOT IN (SELECT aircraft FROM movement_aircraft_keys);

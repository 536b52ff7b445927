-- model: movements
-- kind: table
-- depends on: movement_source, movement_routes, movement_flight_keys, movement_material_keys, movement_aircraft_keys
-- order: event_date, record_kind, record_id
-- touched by: touched_rows and the stored rows touched_movement() names (_touched.sql)
-- Every map, figure and table filters movements; joining five tables on every
-- rerun costs seconds at a million shipments, so they are stored, with the
-- small integer keys of their route, flight, material and aircraft. Stored in
-- date order, so a date filter skips whole blocks of rows.
---- definition
SELECT t.*, r.route, k.flight_key, mk.material_key, ak.aircraft_key
FROM movement_source t
JOIN movement_routes r USING (origin_place_id, destination_place_id)
LEFT JOIN movement_flight_keys k USING (flight_id)
LEFT JOIN movement_material_keys mk USING (material_code)
LEFT JOIN movement_aircraft_keys ak ON ak.aircraft = aircraft_name(t.flight_id, t.operator, t.aircraft_type)
---- refresh
-- The stored rows to replace, found in one pass over them.
CREATE OR REPLACE TEMP TABLE touched_stored AS
SELECT rowid AS row_id, route FROM movements
WHERE touched_movement(record_kind, record_id, flight_id, origin_place_id, destination_place_id);

-- The routes whose groups change: those of the rows replaced, before and after.
CREATE OR REPLACE TEMP TABLE touched_routes AS
SELECT route FROM touched_stored
UNION
SELECT r.route FROM touched_rows t JOIN movement_routes r USING (origin_place_id, destination_place_id);

DELETE FROM movements WHERE rowid IN (SELECT row_id FROM touched_stored);

-- The definition itself, over the touched rows alone: a temporary view of
-- that name is found before the stored one while it exists.
CREATE OR REPLACE TEMP VIEW movement_source AS FROM touched_rows;

INSERT INTO movements SELECT * FROM movements_definition ORDER BY event_date, record_kind, record_id;

DROP VIEW temp.movement_source;

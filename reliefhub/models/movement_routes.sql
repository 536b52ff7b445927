-- model: movement_routes
-- kind: keys
-- depends on: movement_source
-- key: route
-- natural key: origin_place_id, destination_place_id
-- touched by: the rows of touched_rows (_touched.sql) on a pair not yet numbered
-- A small integer per origin-destination pair: grouping and counting distinct
-- integers is about twice as fast as text. Handed out once and never
-- renumbered, so replacing a few movements never shifts others; a check
-- therefore asks for one key per pair in use, not for these numbers.
---- definition
SELECT row_number() OVER (ORDER BY origin_place_id, destination_place_id)::INTEGER AS route,
       origin_place_id, destination_place_id
FROM (SELECT DISTINCT origin_place_id, destination_place_id FROM movement_source)
---- refresh
INSERT INTO movement_routes
SELECT (SELECT coalesce(max(route), 0) FROM movement_routes)
       + row_number() OVER (ORDER BY origin_place_id, destination_place_id)::INTEGER,
       origin_place_id, destination_place_id
FROM (SELECT DISTINCT origin_place_id, destination_place_id FROM touched_rows) pairs
WHERE NOT EXISTS (
    SELECT 1 FROM movement_routes r
    WHERE r.origin_place_id = pairs.origin_place_id
      AND r.destination_place_id = pairs.destination_place_id
);

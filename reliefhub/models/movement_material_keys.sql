-- model: movement_material_keys
-- kind: keys
-- depends on: materials
-- key: material_key
-- natural key: material_code
-- touched by: the materials of touched_rows (_touched.sql) not yet numbered
-- A small integer per material, handed out once and never renumbered
-- (movement_routes says why): a material filter matches the few keys chosen.
---- definition
SELECT row_number() OVER (ORDER BY material_code)::SMALLINT AS material_key, material_code
FROM materials
---- refresh
INSERT INTO movement_material_keys
SELECT (SELECT coalesce(max(material_key), 0) FROM movement_material_keys)
       + row_number() OVER (ORDER BY material_code)::SMALLINT,
       material_code
FROM (SELECT DISTINCT material_code FROM touched_rows WHERE material_code IS NOT NULL)
WHERE material_code NOT IN (SELECT material_code FROM movement_material_keys);

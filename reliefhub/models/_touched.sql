-- The keys a change touches, worked out from `touched_changes` (the table and
-- record of every audit row not yet applied; reliefhub/models.py fills it)
-- before any model is refreshed, so that the stored `movements` still say what
-- the changed records were linked to before the change. Each model's refresh
-- replaces what these name; the engine drops every touched_* table afterwards.

CREATE OR REPLACE TEMP TABLE touched_places AS
SELECT DISTINCT record_id AS id FROM touched_changes WHERE table_name = 'places';

CREATE OR REPLACE TEMP TABLE touched_shipments AS
SELECT DISTINCT record_id AS id FROM touched_changes WHERE table_name = 'shipments';

-- The flights or requests the touched shipments were linked to before the
-- change (the stored movements) and are linked to now. A shipment moved from
-- one flight to another changes both flights' rows (a flight with no shipment
-- left gets a row of its own again).
CREATE OR REPLACE TEMP TABLE touched_links AS
SELECT flight_id, request_id FROM movements
WHERE record_kind = 'shipment' AND record_id IN (SELECT id FROM touched_shipments)
UNION
SELECT flight_id, request_id FROM shipments WHERE shipment_id IN (SELECT id FROM touched_shipments);

CREATE OR REPLACE TEMP TABLE touched_flights AS
SELECT record_id AS id FROM touched_changes WHERE table_name = 'flights'
UNION
SELECT flight_id FROM touched_links WHERE flight_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE touched_requests AS
SELECT record_id AS id FROM touched_changes WHERE table_name = 'requests'
UNION
SELECT request_id FROM touched_links WHERE request_id IS NOT NULL;

-- The movements a change touches, stored or defined: the records changed, the
-- flights they were or are carried by, every shipment a changed flight
-- carries, and everything leaving or reaching a changed place.
CREATE OR REPLACE TEMP MACRO touched_movement(record_kind, record_id, flight_id, origin_place_id, destination_place_id) AS
    (record_kind = 'shipment' AND record_id IN (SELECT id FROM touched_shipments))
    OR flight_id IN (SELECT id FROM touched_flights)
    OR origin_place_id IN (SELECT id FROM touched_places)
    OR destination_place_id IN (SELECT id FROM touched_places);

CREATE OR REPLACE TEMP TABLE touched_rows AS
SELECT * FROM movement_source
WHERE touched_movement(record_kind, record_id, flight_id, origin_place_id, destination_place_id);

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
SELECT record_id AS request_id FROM touched_changes WHERE table_name = 'requests'
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

-- The shipments the touched movements are made of, each looked up by one key
-- (the keys' indexes find them; one condition naming all four keys would read
-- every shipment), and every shipment a touched flight carries, even one whose
-- flight is touched through its places alone: movement_source asks whether a
-- flight carries any shipment.
CREATE OR REPLACE TEMP TABLE touched_shipment_rows AS
SELECT * FROM shipments WHERE shipment_id IN (SELECT id FROM touched_shipments)
UNION
SELECT * FROM shipments WHERE flight_id IN (
    SELECT id FROM touched_flights
    UNION
    SELECT flight_id FROM flights
    WHERE origin_place_id IN (SELECT id FROM touched_places)
       OR destination_place_id IN (SELECT id FROM touched_places))
UNION
SELECT * FROM shipments WHERE origin_place_id IN (SELECT id FROM touched_places)
UNION
SELECT * FROM shipments WHERE destination_place_id IN (SELECT id FROM touched_places);

-- The flights the touched movements are made of, and those that carried the
-- shipments above.
CREATE OR REPLACE TEMP TABLE touched_flight_rows AS
SELECT * FROM flights
WHERE flight_id IN (SELECT id FROM touched_flights UNION SELECT flight_id FROM touched_shipment_rows)
UNION
SELECT * FROM flights WHERE origin_place_id IN (SELECT id FROM touched_places)
UNION
SELECT * FROM flights WHERE destination_place_id IN (SELECT id FROM touched_places);

-- The definition over those rows (a temporary view of a table's name is found
-- before the stored table while it exists) gives every touched movement as
-- the whole definition would, and some untouched ones the condition leaves out.
CREATE OR REPLACE TEMP VIEW shipments AS FROM touched_shipment_rows;
CREATE OR REPLACE TEMP VIEW flights AS FROM touched_flight_rows;

CREATE OR REPLACE TEMP TABLE touched_rows AS
SELECT * FROM movement_source
WHERE touched_movement(record_kind, record_id, flight_id, origin_place_id, destination_place_id);

DROP VIEW temp.shipments;
DROP VIEW temp.flights;

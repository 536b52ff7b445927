-- What the stored tables hold, re-created every time the app connects. A
-- change here rebuilds them (reliefhub/movements.py) on the next connection;
-- views.sql, which reads them, is applied after it.

-- Helpers for the stored tables and the queries that read them. An aircraft
-- is named by its operator and type ("German Air Force (Luftwaffe) Airbus
-- A310 MedEvac"). A small integer key n is bit n - 1 of a set of keys held in
-- one UBIGINT; keys 64 and over share the last bit (their holders also list
-- them apart). No key (a movement by road has no aircraft) sets no bit:
-- DuckDB's least() skips a NULL, so it is ruled out first.
CREATE OR REPLACE MACRO aircraft_name(flight_id, operator, aircraft_type) AS
    CASE WHEN flight_id IS NOT NULL THEN concat_ws(' ', operator, aircraft_type) END;

CREATE OR REPLACE MACRO key_bit(key) AS CASE WHEN key IS NOT NULL THEN 1::UBIGINT << least(key - 1, 63)::UBIGINT END;

CREATE OR REPLACE MACRO has_key_bit(bits, key) AS key < 64 AND (bits >> (key - 1)::UBIGINT) & 1 = 1;

-- One row per movement on the map: every shipment, plus every flight that
-- carried no recorded shipment (positioning legs, flights whose cargo the
-- sources do not itemise). This view is the definition; the pages read the
-- table `movements`, which reliefhub/movements.py keeps equal to it, because
-- joining five tables on every rerun costs seconds at a million shipments.
CREATE OR REPLACE VIEW movement_source AS
SELECT
    'shipment'                               AS record_kind,
    s.shipment_id                            AS record_id,
    s.origin_place_id,
    s.destination_place_id,
    o.iso3                                   AS origin_iso3,
    d.iso3                                   AS destination_iso3,
    s.recipient_iso3,
    s.provider_iso3,
    s.provider,
    coalesce(s.mode, 'not_stated')          AS mode,
    s.material_code,
    m.name                                   AS material_name,
    m.category                               AS material_category,
    CASE m.category WHEN 'patients' THEN 'patients'
                    WHEN 'personnel' THEN 'personnel'
                    ELSE 'goods' END          AS cargo_kind,
    s.quantity,
    m.unit,
    CASE WHEN m.category = 'patients' THEN s.quantity END AS patients,
    coalesce(s.delivered_on, s.dispatched_on) AS event_date,
    -- The last day the event may have happened: a date known only to its
    -- month may be any day of it.
    CASE s.date_precision WHEN 'month' THEN last_day(coalesce(s.delivered_on, s.dispatched_on))
                          ELSE coalesce(s.delivered_on, s.dispatched_on) END AS event_until,
    s.date_precision,
    s.status,
    s.flight_id,
    s.request_id,
    f.aircraft_type,
    f.operator,
    s.description,
    s.source_urls,
    -- Carried along so the Data page's table of shipments reads its rows
    -- from here, where they lie in date order, not from `shipments`.
    s.mode                                   AS stated_mode,
    s.dispatched_on,
    s.delivered_on,
    s.source_note,
    s.confidence,
    s.quantity_precision
FROM shipments s
JOIN materials m USING (material_code)
JOIN places o ON o.place_id = s.origin_place_id
JOIN places d ON d.place_id = s.destination_place_id
LEFT JOIN flights f USING (flight_id)
UNION ALL
SELECT
    'flight', f.flight_id, f.origin_place_id, f.destination_place_id,
    o.iso3, d.iso3, NULL, NULL, f.operator, 'air',
    NULL, NULL, 'airlift', 'goods', NULL, NULL, f.patients,
    f.flight_date,
    CASE f.date_precision WHEN 'month' THEN last_day(f.flight_date) ELSE f.flight_date END,
    f.date_precision,
    CASE f.status WHEN 'landed' THEN 'delivered'
                  WHEN 'airborne' THEN 'in_transit'
                  ELSE f.status END,
    f.flight_id, NULL, f.aircraft_type, f.operator, f.description, f.source_urls,
    'air', NULL, NULL, f.source_note, f.confidence, NULL
FROM flights f
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.flight_id = f.flight_id);

-- Requests with what had been delivered against them by a day, and the status
-- that follows: a request is fulfilled when it is recorded as closed by that
-- day, or when its linked deliveries cover the quantity asked for. With
-- `wanted` false it returns nothing without reading the shipments: a caller
-- that has the answer stored passes a condition instead of paying for a UNION
-- branch it throws away.
CREATE OR REPLACE MACRO requests_added_up(as_of, wanted) AS TABLE
SELECT
    r.request_id,
    r.requester_iso3,
    r.material_code,
    r.quantity,
    r.requested_on,
    -- The last day the request may have been made: a date known only to its
    -- month may be any day of it.
    CASE r.date_precision WHEN 'month' THEN last_day(r.requested_on) ELSE r.requested_on END AS requested_until,
    r.closed_on,
    coalesce(d.delivered_quantity, 0) AS delivered_quantity,
    CASE WHEN r.quantity IS NOT NULL
         THEN greatest(r.quantity - coalesce(d.delivered_quantity, 0), 0) END AS missing_quantity,
    d.last_delivered_on,
    CASE
        WHEN r.status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled')
             AND (r.closed_on IS NULL OR r.closed_on <= as_of) THEN r.status
        WHEN r.quantity IS NOT NULL AND coalesce(d.delivered_quantity, 0) >= r.quantity
             AND r.quantity > 0 THEN 'fulfilled'
        WHEN coalesce(d.delivered_quantity, 0) > 0 OR r.status = 'partially_fulfilled'
             THEN 'partially_fulfilled'
        ELSE 'open'
    END AS status_as_of
FROM (SELECT * FROM requests WHERE wanted AND requested_on <= as_of) r
LEFT JOIN (
    SELECT request_id, sum(quantity) AS delivered_quantity, max(delivered_on) AS last_delivered_on
    FROM shipments
    WHERE wanted AND request_id IS NOT NULL AND status = 'delivered' AND delivered_on <= as_of
    GROUP BY request_id
) d USING (request_id);

-- Every request as it stands once nothing more can change it: stored as the
-- table `request_status`, because the open-requests figures on every page
-- (which open on the data's last day) would otherwise add up a million
-- shipments and classify every request on each rerun. settled_on is the day
-- from which the stored status holds.
CREATE OR REPLACE VIEW request_status_source AS
SELECT *, greatest(requested_on, closed_on, last_delivered_on) AS settled_on
FROM requests_added_up(DATE '9999-12-31', true);

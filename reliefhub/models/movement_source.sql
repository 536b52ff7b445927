-- model: movement_source
-- kind: view
-- depends on: shipments, flights, places, materials
-- One row per movement on the map: every shipment, plus every flight that
-- carried no recorded shipment (positioning legs, flights whose cargo the
-- sources do not itemise). Not stored itself: `movements` stores it with its
-- small integer keys.
---- definition
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
WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.flight_id = f.flight_id)

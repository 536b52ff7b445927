-- The flights table of the Data page and its CSV export. A flight matches the
-- filters when any movement it made does (its own, or a shipment it carried).
SELECT
    f.flight_id,
    f.origin_place_id,
    o.name AS origin_name,
    o.iso3 AS origin_iso3,
    f.destination_place_id,
    d.name AS destination_name,
    d.iso3 AS destination_iso3,
    f.aircraft_type,
    f.operator,
    f.operator_kind,
    f.flight_date,
    f.date_precision,
    f.status,
    f.payload_tonnes,
    f.patients,
    f.description,
    f.source_urls,
    f.source_note
FROM flights f
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
WHERE f.flight_id IN (
    SELECT flight_id
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    WHERE flight_id IS NOT NULL
)
ORDER BY f.flight_date, f.flight_id;

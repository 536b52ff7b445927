-- What a form's picker offers for a reference to $table: the value stored
-- (a code or an id) and a label a person recognises; only labels containing
-- $search (any case; NULL: all), at most $limit of them (NULL: all).
SELECT value, label
FROM (
    SELECT 'countries' AS source, iso3 AS value, name || ' (' || iso3 || ')' AS label, name AS sort_key
    FROM countries
    UNION ALL
    SELECT 'places', place_id,
           name || ', ' || iso3 || ' (' || replace(kind, '_', ' ')
               || coalesce(', ' || icao, '') || coalesce(', ' || iata, '') || ')',
           name
    FROM places
    UNION ALL
    SELECT 'materials', material_code, name || ' [' || unit || ']', name
    FROM materials
    UNION ALL
    SELECT 'requests', request_id,
           request_id || ': ' || requester_iso3 || ', ' || material_code || ', ' || replace(status, '_', ' '),
           request_id
    FROM requests
    UNION ALL
    SELECT 'flights', flight_id,
           flight_id || ': ' || coalesce(aircraft_type || ', ', '') || operator || ', ' || status,
           flight_id
    FROM flights
    UNION ALL
    SELECT 'shipments', shipment_id,
           shipment_id || ': ' || material_code || ' to ' || recipient_iso3 || ', ' || replace(status, '_', ' '),
           shipment_id
    FROM shipments
)
WHERE source = $table
  AND ($search IS NULL OR contains(lower(label), lower($search)))
ORDER BY sort_key, value
LIMIT $limit;

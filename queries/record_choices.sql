-- What a form's picker offers for a reference to $table: the value stored
-- (a code or an id) and a label a person recognises; only labels containing
-- $search (any case; NULL: all), at most $limit of them (NULL: all).
-- The first $limit are picked by their sort keys alone and only they are
-- labelled (read back by rowid, which DuckDB reads from the vectors that hold
-- them, wherever they lie), so a picker over a million shipments labels 500
-- rows, not a million, unless a $search has to read every label.
WITH options AS NOT MATERIALIZED (
    SELECT 'countries' AS source, rowid AS row_number, iso3 AS value, name AS sort_key,
           name || ' (' || iso3 || ')' AS label
    FROM countries
    UNION ALL
    SELECT 'places', rowid, place_id, name,
           name || ', ' || iso3 || ' (' || replace(kind, '_', ' ')
               || coalesce(', ' || icao, '') || coalesce(', ' || iata, '') || ')'
    FROM places
    UNION ALL
    SELECT 'materials', rowid, material_code, name, name || ' [' || unit || ']'
    FROM materials
    UNION ALL
    SELECT 'requests', rowid, request_id, request_id,
           request_id || ': ' || requester_iso3 || ', ' || material_code || ', ' || replace(status, '_', ' ')
    FROM requests
    UNION ALL
    SELECT 'flights', rowid, flight_id, flight_id,
           flight_id || ': ' || coalesce(aircraft_type || ', ', '') || operator || ', ' || status
    FROM flights
    UNION ALL
    SELECT 'shipments', rowid, shipment_id, shipment_id,
           shipment_id || ': ' || material_code || ' to ' || recipient_iso3 || ', ' || replace(status, '_', ' ')
    FROM shipments
),
picked AS (
    SELECT row_number, value, sort_key
    FROM options
    WHERE source = $table
      AND ($search IS NULL OR contains(lower(label), lower($search)))
    ORDER BY sort_key, value
    LIMIT $limit
)
SELECT o.value, o.label
FROM options o
WHERE o.source = $table AND o.row_number IN (SELECT row_number FROM picked)
ORDER BY o.sort_key, o.value;

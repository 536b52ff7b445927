-- The flights table of the Data page, a page at a time, and its CSV export. A
-- flight matches the filters when any movement it made does (its own, or a
-- shipment it carried). $limit rows from $offset on, in (flight_date,
-- flight_id) order; a NULL $limit gives every row (the export). matching_rows
-- counts every match, however many rows $limit keeps. The page is picked from
-- narrow rows (id and date) first, and only its rows are joined to place names;
-- the match is kept (MATERIALIZED) so that counting it and paging it do not
-- each search the movements again.
WITH matching AS MATERIALIZED (
    SELECT flight_id, flight_date
    FROM filtered_flights($countries, $materials, $modes, $date_from, $date_to)
),
page AS (
    SELECT flight_id, flight_date
    FROM matching
    ORDER BY flight_date, flight_id
    LIMIT $limit OFFSET $offset
)
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
    f.source_note,
    f.confidence,
    f.payload_precision,
    (SELECT count(*) FROM matching) AS matching_rows
FROM page
JOIN flights f USING (flight_id)
JOIN places o ON o.place_id = f.origin_place_id
JOIN places d ON d.place_id = f.destination_place_id
ORDER BY page.flight_date, page.flight_id;

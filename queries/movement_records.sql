-- The records behind a selected arc or place, a page at a time. A NULL
-- $origin_place_id, $destination_place_id or $place_id matches every place.
-- $limit rows from $offset on, in (date, record_id) order; a NULL $limit gives
-- every row. matching_rows counts every match, however many rows $limit keeps:
-- counted apart from the page, because a window count over the whole match
-- would carry every match's descriptions along. The places are matched by
-- route (a small integer looked up in movement_routes), not by comparing
-- place ids on every movement. The page is picked from narrow rows first; its
-- full rows are then read by rowid, which DuckDB reads from the vectors that
-- hold them (the movements are stored in date order, so a page lies close
-- together), and only they are joined to place names.
WITH matching AS NOT MATERIALIZED (
    SELECT row_id, record_id, event_date
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    WHERE ($origin_place_id IS NULL AND $destination_place_id IS NULL AND $place_id IS NULL)
       OR route IN (
           SELECT route
           FROM movement_routes
           WHERE ($origin_place_id IS NULL OR origin_place_id = $origin_place_id)
             AND ($destination_place_id IS NULL OR destination_place_id = $destination_place_id)
             AND ($place_id IS NULL OR $place_id IN (origin_place_id, destination_place_id))
       )
),
page AS (
    SELECT row_id
    FROM matching
    ORDER BY event_date, record_id
    LIMIT $limit OFFSET $offset
)
SELECT
    m.record_kind,
    m.record_id,
    m.event_date,
    m.date_precision,
    o.name AS origin,
    d.name AS destination,
    m.mode,
    m.material_name AS material,
    m.quantity,
    m.unit,
    m.provider,
    m.recipient_iso3,
    concat_ws(' ', m.operator, m.aircraft_type) AS aircraft,
    m.status,
    m.description,
    m.source_urls,
    m.confidence,
    m.quantity_precision,
    (SELECT count(*) FROM matching) AS matching_rows
FROM movements m
JOIN places o ON o.place_id = m.origin_place_id
JOIN places d ON d.place_id = m.destination_place_id
WHERE m.rowid IN (SELECT row_id FROM page)
ORDER BY m.event_date, m.record_id;

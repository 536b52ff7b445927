-- The shipments table of the Data page, a page at a time, and its CSV export.
-- $limit rows from $offset on, in (date, shipment_id) order, the date being
-- the delivery date or else the dispatch date; a NULL $limit gives every row
-- (the export). matching_rows counts every match, however many rows $limit
-- keeps. The page is picked from narrow rows (id and date) of the filtered
-- movements first, and only its rows are joined to names and descriptions.
-- The count and the page each read the narrow rows (NOT MATERIALIZED):
-- cheaper than keeping them, or than a window count carried through the sort.
WITH matching AS NOT MATERIALIZED (
    SELECT record_id AS shipment_id, event_date
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    WHERE record_kind = 'shipment'
),
page AS (
    SELECT shipment_id, event_date
    FROM matching
    ORDER BY event_date, shipment_id
    LIMIT $limit OFFSET $offset
)
SELECT
    s.shipment_id,
    s.recipient_iso3,
    rc.name AS recipient_country,
    s.provider,
    s.provider_iso3,
    s.material_code,
    m.name AS material_name,
    m.category AS material_category,
    s.quantity,
    m.unit,
    s.origin_place_id,
    o.name AS origin_name,
    o.iso3 AS origin_iso3,
    s.destination_place_id,
    d.name AS destination_name,
    d.iso3 AS destination_iso3,
    s.mode,
    s.dispatched_on,
    s.delivered_on,
    s.date_precision,
    s.status,
    s.request_id,
    s.flight_id,
    s.description,
    s.source_urls,
    s.source_note,
    (SELECT count(*) FROM matching) AS matching_rows
FROM page
JOIN shipments s USING (shipment_id)
JOIN countries rc ON rc.iso3 = s.recipient_iso3
JOIN materials m ON m.material_code = s.material_code
JOIN places o ON o.place_id = s.origin_place_id
JOIN places d ON d.place_id = s.destination_place_id
ORDER BY page.event_date, page.shipment_id;

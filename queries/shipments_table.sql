-- The shipments table of the Data page, a page at a time, and its CSV export.
-- $limit rows from $offset on, in (date, shipment_id) order, the date being
-- the delivery date or else the dispatch date; a NULL $limit gives every row
-- (the export). matching_rows counts every match, however many rows $limit
-- keeps. The page is picked from narrow rows (id and date) of the filtered
-- movements first; its full rows are then read from the movements again by
-- id and date, which lets DuckDB skip every block of rows outside the page's
-- dates (the table is stored in date order; `shipments` is not). The count
-- adds up the stored groups instead (see filtered_flow_groups): a fifth of
-- the rows to read.
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
    s.record_id AS shipment_id,
    s.recipient_iso3,
    rc.name AS recipient_country,
    s.provider,
    s.provider_iso3,
    s.material_code,
    s.material_name,
    s.material_category,
    s.quantity,
    s.unit,
    s.origin_place_id,
    o.name AS origin_name,
    s.origin_iso3,
    s.destination_place_id,
    d.name AS destination_name,
    s.destination_iso3,
    s.stated_mode AS mode,
    s.dispatched_on,
    s.delivered_on,
    s.date_precision,
    s.status,
    s.request_id,
    s.flight_id,
    s.description,
    s.source_urls,
    s.source_note,
    s.confidence,
    s.quantity_precision,
    (SELECT coalesce(sum(shipments), 0)::BIGINT
     FROM filtered_flow_groups($countries, $materials, $modes, $date_from, $date_to)) AS matching_rows
FROM page
JOIN movements s
  ON s.record_kind = 'shipment' AND s.record_id = page.shipment_id AND s.event_date = page.event_date
JOIN countries rc ON rc.iso3 = s.recipient_iso3
JOIN places o ON o.place_id = s.origin_place_id
JOIN places d ON d.place_id = s.destination_place_id
ORDER BY page.event_date, page.shipment_id;

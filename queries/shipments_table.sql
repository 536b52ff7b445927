-- The shipments table of the Data page and its CSV export.
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
    s.source_note
FROM shipments s
JOIN countries rc ON rc.iso3 = s.recipient_iso3
JOIN materials m USING (material_code)
JOIN places o ON o.place_id = s.origin_place_id
JOIN places d ON d.place_id = s.destination_place_id
WHERE s.shipment_id IN (
    SELECT record_id
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    WHERE record_kind = 'shipment'
)
ORDER BY coalesce(s.delivered_on, s.dispatched_on), s.shipment_id;

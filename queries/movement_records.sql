-- The records behind a selected arc or place. A NULL $origin_place_id,
-- $destination_place_id or $place_id matches every place.
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
    m.source_urls
FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to) AS m
JOIN places o ON o.place_id = m.origin_place_id
JOIN places d ON d.place_id = m.destination_place_id
WHERE ($origin_place_id IS NULL OR m.origin_place_id = $origin_place_id)
  AND ($destination_place_id IS NULL OR m.destination_place_id = $destination_place_id)
  AND ($place_id IS NULL OR $place_id IN (m.origin_place_id, m.destination_place_id))
ORDER BY m.event_date, m.record_id;

-- The map's arcs: one row per origin–destination pair and colour category,
-- however many records lie behind it. $colour_by picks the category:
-- 'mode', 'material_category' or 'cargo_kind' (goods, patients, personnel).
SELECT
    m.origin_place_id,
    o.name       AS origin_name,
    o.latitude   AS origin_latitude,
    o.longitude  AS origin_longitude,
    m.destination_place_id,
    d.name       AS destination_name,
    d.latitude   AS destination_latitude,
    d.longitude  AS destination_longitude,
    CASE $colour_by
        WHEN 'mode' THEN m.mode
        WHEN 'material_category' THEN m.material_category
        ELSE m.cargo_kind
    END                                             AS category,
    count(*)                                        AS movements,
    count(DISTINCT m.flight_id)                     AS flights,
    count(*) FILTER (WHERE m.record_kind = 'shipment') AS shipments,
    coalesce(sum(m.patients), 0)::BIGINT            AS patients,
    min(m.event_date)                               AS first_date,
    max(m.event_date)                               AS last_date,
    bool_or(m.date_precision = 'month')             AS has_month_only_dates,
    string_agg(DISTINCT concat_ws(' ', m.operator, m.aircraft_type), ', ')
        FILTER (WHERE m.flight_id IS NOT NULL)      AS aircraft,
    string_agg(DISTINCT m.material_name, ', ')      AS materials
FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to) AS m
JOIN places o ON o.place_id = m.origin_place_id
JOIN places d ON d.place_id = m.destination_place_id
GROUP BY ALL
ORDER BY movements DESC, origin_name, destination_name, category;

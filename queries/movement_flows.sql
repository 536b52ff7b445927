-- The map's arcs: one row per origin–destination pair and colour category,
-- however many records lie behind it. $colour_by picks the category:
-- 'mode', 'material_category' or 'cargo_kind' (goods, patients, personnel).
-- At most $limit arcs, the busiest: a million records cross thousands of
-- routes, more than a screen can show or a browser should be sent;
-- arcs_total says how many there were.
WITH arcs AS (
    SELECT
        route,
        CASE $colour_by
            WHEN 'mode' THEN mode
            WHEN 'material_category' THEN material_category
            ELSE cargo_kind
        END                                          AS category,
        count(*)                                     AS movements,
        count(DISTINCT flight_key)                   AS flights,
        count(*) FILTER (WHERE record_kind = 'shipment') AS shipments,
        coalesce(sum(patients), 0)::BIGINT           AS patients,
        min(event_date)                              AS first_date,
        max(event_date)                              AS last_date,
        bool_or(date_precision = 'month')            AS has_month_only_dates
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
    GROUP BY ALL
),
shown AS (
    SELECT
        a.*,
        r.origin_place_id,
        o.name       AS origin_name,
        o.latitude   AS origin_latitude,
        o.longitude  AS origin_longitude,
        r.destination_place_id,
        d.name       AS destination_name,
        d.latitude   AS destination_latitude,
        d.longitude  AS destination_longitude,
        count(*) OVER () AS arcs_total
    FROM arcs a
    JOIN movement_routes r USING (route)
    JOIN places o ON o.place_id = r.origin_place_id
    JOIN places d ON d.place_id = r.destination_place_id
    ORDER BY a.movements DESC, origin_name, destination_name, a.category
    LIMIT $limit
),
-- Who flew and what was carried, named for the shown arcs only.
named AS (
    SELECT
        m.route,
        CASE $colour_by
            WHEN 'mode' THEN m.mode
            WHEN 'material_category' THEN m.material_category
            ELSE m.cargo_kind
        END                                          AS category,
        string_agg(DISTINCT concat_ws(' ', m.operator, m.aircraft_type), ', ')
            FILTER (WHERE m.flight_id IS NOT NULL)   AS aircraft,
        string_agg(DISTINCT m.material_name, ', ')   AS materials
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to) AS m
    WHERE m.route IN (SELECT route FROM shown)
    GROUP BY ALL
)
SELECT
    s.origin_place_id,
    s.origin_name,
    s.origin_latitude,
    s.origin_longitude,
    s.destination_place_id,
    s.destination_name,
    s.destination_latitude,
    s.destination_longitude,
    s.category,
    s.movements,
    s.flights,
    s.shipments,
    s.patients,
    s.first_date,
    s.last_date,
    s.has_month_only_dates,
    n.aircraft,
    n.materials,
    s.arcs_total
FROM shown s
LEFT JOIN named n USING (route, category)
ORDER BY s.movements DESC, s.origin_name, s.destination_name, s.category;

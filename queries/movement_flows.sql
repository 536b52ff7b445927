-- The map's arcs: one row per origin–destination pair and colour category,
-- however many records lie behind it. $colour_by picks the category:
-- 'mode', 'material_category' or 'cargo_kind' (goods, patients, personnel).
-- At most $limit arcs (see `shown`): a million records cross thousands of
-- routes, more than a screen can show or a browser should be sent;
-- arcs_total says how many there were.
WITH filtered AS NOT MATERIALIZED (
    SELECT
        *,
        CASE $colour_by
            WHEN 'mode' THEN mode
            WHEN 'material_category' THEN material_category
            ELSE cargo_kind
        END AS category
    FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
),
arcs AS (
    SELECT
        route,
        category,
        count(*)                                     AS movements,
        count(DISTINCT flight_key)                   AS flights,
        count(*) FILTER (WHERE record_kind = 'shipment') AS shipments,
        coalesce(sum(patients), 0)::BIGINT           AS patients,
        min(event_date)                              AS first_date,
        max(event_date)                              AS last_date,
        bool_or(date_precision = 'month')            AS has_month_only_dates
    FROM filtered
    GROUP BY route, category
),
ranked AS (
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
        count(*) OVER () AS arcs_total,
        row_number() OVER (PARTITION BY a.category ORDER BY a.movements DESC, o.name, d.name) AS rank_in_colour
    FROM arcs a
    JOIN movement_routes r USING (route)
    JOIN places o ON o.place_id = r.origin_place_id
    JOIN places d ON d.place_id = r.destination_place_id
),
-- The busiest arcs, but each colour first gets its own busiest few (up to
-- half the map shared out among the colours), so a rare kind of movement
-- (patients among a million goods) never vanishes from a crowded map.
shown AS MATERIALIZED (
    SELECT *
    FROM ranked
    ORDER BY rank_in_colour > $limit // (2 * (SELECT count(DISTINCT category) FROM arcs)),
             movements DESC, origin_name, destination_name, category
    LIMIT $limit
),
-- Who flew and what was carried, named for the shown arcs only, from the
-- distinct flights and materials on them (keys first, names after: the
-- busiest arcs carry most of the records).
on_shown AS (
    SELECT route, category, flight_key, material_code
    FROM filtered
    WHERE route IN (SELECT route FROM shown)
),
aircraft AS (
    SELECT x.route, x.category,
           string_agg(DISTINCT concat_ws(' ', f.operator, f.aircraft_type), ', '
                      ORDER BY concat_ws(' ', f.operator, f.aircraft_type)) AS aircraft
    FROM (SELECT DISTINCT route, category, flight_key FROM on_shown WHERE flight_key IS NOT NULL) x
    JOIN movement_flight_keys k USING (flight_key)
    JOIN flights f USING (flight_id)
    GROUP BY ALL
),
carried AS (
    SELECT x.route, x.category, string_agg(DISTINCT m.name, ', ' ORDER BY m.name) AS materials
    FROM (SELECT DISTINCT route, category, material_code FROM on_shown WHERE material_code IS NOT NULL) x
    JOIN materials m USING (material_code)
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
    a.aircraft,
    c.materials,
    s.arcs_total
FROM shown s
LEFT JOIN aircraft a USING (route, category)
LEFT JOIN carried c USING (route, category)
ORDER BY s.movements DESC, s.origin_name, s.destination_name, s.category;

-- The map's arcs: one row per origin–destination pair and colour category,
-- however many records lie behind it. $colour_by picks the category:
-- 'mode', 'material_category' or 'cargo_kind' (goods, patients, personnel).
-- At most $limit arcs (see `shown`): a million records cross thousands of
-- routes, more than a screen can show or a browser should be sent;
-- arcs_total says how many there were.
--
-- The movements are read once, as groups (filtered_flow_groups), and added
-- up by arc. An arc's aircraft travel as bits of their small keys (key_bit),
-- and keys 64 and over, which have no bit of their own, as a list: naming the
-- shown arcs' aircraft needs no second pass over the movements.
WITH coloured AS NOT MATERIALIZED (
    SELECT *, colour_category($colour_by, mode, material_category, cargo_kind) AS category
    FROM filtered_flow_groups($countries, $materials, $modes, $date_from, $date_to)
),
arcs AS MATERIALIZED (
    SELECT
        route,
        category,
        sum(movements)::BIGINT              AS movements,
        count(DISTINCT flight_key)          AS flights,
        coalesce(sum(shipments), 0)::BIGINT AS shipments,
        coalesce(sum(uncertain), 0)::BIGINT AS uncertain,
        coalesce(sum(patients), 0)::BIGINT  AS patients,
        min(first_date)                     AS first_date,
        max(last_date)                      AS last_date,
        bool_or(has_month_only_dates)       AS has_month_only_dates,
        bit_or(aircraft_bits)               AS aircraft_bits,
        list(DISTINCT aircraft_key) FILTER (WHERE aircraft_key >= 64) AS more_aircraft_keys
    FROM coloured
    GROUP BY route, category
),
-- The busiest arcs, but each colour first gets its own busiest few (up to
-- half the map shared out among the colours), so a rare kind of movement
-- (patients among a million goods) never vanishes from a crowded map. A
-- colour's leaders (busiest first, then by route) come from a top-n
-- aggregate, several times cheaper than ranking every arc with a window.
colour_leaders AS (
    SELECT category,
           max(struct_pack(movements, negated_route := -route), greatest($limit // 2, 1)) AS leaders
    FROM arcs
    GROUP BY category
),
leading_arcs AS (
    SELECT category,
           -unnest(list_slice(leaders, 1, $limit // (2 * (SELECT count(*) FROM colour_leaders)))).negated_route
               AS route
    FROM colour_leaders
),
shown AS MATERIALIZED (
    SELECT
        a.*,
        r.origin_place_id,
        o.name       AS origin_name,
        o.latitude   AS origin_latitude,
        o.longitude  AS origin_longitude,
        r.destination_place_id,
        d.name       AS destination_name,
        d.latitude   AS destination_latitude,
        d.longitude  AS destination_longitude
    FROM (
        SELECT arcs.*, (SELECT count(*) FROM arcs) AS arcs_total
        FROM arcs
        LEFT JOIN leading_arcs l ON l.route = arcs.route AND l.category = arcs.category
        ORDER BY l.route IS NULL, arcs.movements DESC, arcs.route
        LIMIT $limit
    ) a
    JOIN movement_routes r USING (route)
    JOIN places o ON o.place_id = r.origin_place_id
    JOIN places d ON d.place_id = r.destination_place_id
),
flown AS (
    SELECT s.route, s.category, k.aircraft
    FROM shown s
    JOIN movement_aircraft_keys k ON has_key_bit(s.aircraft_bits, k.aircraft_key)
    UNION ALL
    SELECT s.route, s.category, k.aircraft
    FROM (SELECT route, category, unnest(more_aircraft_keys) AS aircraft_key FROM shown) s
    JOIN movement_aircraft_keys k USING (aircraft_key)
),
aircraft AS (
    SELECT route, category, array_to_string(list_sort(list(aircraft)), ', ') AS aircraft
    FROM flown
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
    s.uncertain,
    s.first_date,
    s.last_date,
    s.has_month_only_dates,
    a.aircraft,
    s.arcs_total
FROM shown s
LEFT JOIN aircraft a USING (route, category)
ORDER BY s.movements DESC, s.origin_name, s.destination_name, s.category;

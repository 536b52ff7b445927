-- The map's arcs: one row per origin–destination pair and colour category,
-- however many records lie behind it. $colour_by picks the category:
-- 'mode', 'material_category' or 'cargo_kind' (goods, patients, personnel).
-- At most $limit arcs (see `shown`): a million records cross thousands of
-- routes, more than a screen can show or a browser should be sent;
-- arcs_total says how many there were.
--
-- The movements are read once (as stored groups, see
-- filtered_movement_groups), grouped by arc and flight: the arcs, their
-- distinct flights and the aircraft that flew them all come from those
-- groups. An arc's materials travel as bits (bit n for material_key n + 1),
-- so naming them needs no second pass; materials keyed 64 and over share the
-- last bit, and only arcs with that bit set look their materials up again.
WITH per_flight AS MATERIALIZED (
    SELECT
        route,
        colour_category($colour_by, mode, material_category, cargo_kind) AS category,
        flight_key,
        sum(movements)                                   AS movements,
        sum(movements) FILTER (WHERE record_kind = 'shipment') AS shipments,
        sum(patients)                                    AS patients,
        min(first_date)                                  AS first_date,
        max(last_date)                                   AS last_date,
        bool_or(has_month_only_dates)                    AS has_month_only_dates,
        bit_or(1::UBIGINT << least(material_key - 1, 63)::UBIGINT) AS material_bits
    FROM filtered_movement_groups($countries, $materials, $modes, $date_from, $date_to)
    GROUP BY ALL
),
arcs AS (
    SELECT
        route,
        category,
        sum(movements)::BIGINT             AS movements,
        count(flight_key)                  AS flights,
        coalesce(sum(shipments), 0)::BIGINT AS shipments,
        coalesce(sum(patients), 0)::BIGINT AS patients,
        min(first_date)                    AS first_date,
        max(last_date)                     AS last_date,
        bool_or(has_month_only_dates)      AS has_month_only_dates,
        bit_or(material_bits)              AS material_bits,
        count(*) OVER ()                   AS arcs_total,
        row_number() OVER (PARTITION BY category ORDER BY sum(movements) DESC, route) AS rank_in_colour
    FROM per_flight
    GROUP BY route, category
),
-- The busiest arcs, but each colour first gets its own busiest few (up to
-- half the map shared out among the colours), so a rare kind of movement
-- (patients among a million goods) never vanishes from a crowded map.
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
        SELECT *
        FROM arcs
        ORDER BY rank_in_colour > $limit // (2 * (SELECT count(DISTINCT category) FROM arcs)),
                 movements DESC, route
        LIMIT $limit
    ) a
    JOIN movement_routes r USING (route)
    JOIN places o ON o.place_id = r.origin_place_id
    JOIN places d ON d.place_id = r.destination_place_id
),
aircraft AS (
    SELECT p.route, p.category,
           string_agg(DISTINCT concat_ws(' ', f.operator, f.aircraft_type), ', '
                      ORDER BY concat_ws(' ', f.operator, f.aircraft_type)) AS aircraft
    FROM per_flight p
    SEMI JOIN shown s ON s.route = p.route AND s.category = p.category
    JOIN movement_flight_keys k USING (flight_key)
    JOIN flights f USING (flight_id)
    GROUP BY ALL
),
carried_codes AS (
    SELECT s.route, s.category, k.material_code
    FROM shown s
    JOIN movement_material_keys k
      ON k.material_key < 64 AND (s.material_bits >> (k.material_key - 1)::UBIGINT) & 1 = 1
    UNION
    SELECT route, category, material_code
    FROM (
        SELECT
            route,
            colour_category($colour_by, mode, material_category, cargo_kind) AS category,
            material_code
        FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
        WHERE material_key >= 64
    ) m
    SEMI JOIN shown s ON s.route = m.route AND s.category = m.category AND s.material_bits >= (1::UBIGINT << 63)
),
carried AS (
    SELECT c.route, c.category, string_agg(m.name, ', ' ORDER BY m.name) AS materials
    FROM carried_codes c
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

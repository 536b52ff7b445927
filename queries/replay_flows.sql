-- The replay's daily movements: for each arc the map shows (given as three
-- lists of the same length: $origins, $destinations and $categories, the
-- colour category $colour_by names), its movements day by day, under the
-- shared filters. Sent to the browser once, so the replay plays there.
-- A movement counts on its event_date, as the date filter reads it (a record
-- dated only to a month on the month's first day), but never before the
-- chosen range starts. An arc is named by its number in the lists (from 1):
-- the caller has its ids, and tens of thousands of rows ordered and sent
-- by three place-id strings cost more than counting them.
WITH shown AS (
    SELECT unnest($origins)                      AS origin_place_id,
           unnest($destinations)                 AS destination_place_id,
           unnest($categories)                   AS category,
           unnest(generate_series(1, len($origins))) AS arc
),
shown_routes AS (
    SELECT r.route, s.arc, s.category
    FROM shown s
    JOIN movement_routes r USING (origin_place_id, destination_place_id)
)
SELECT s.arc,
       greatest(m.event_date, coalesce($date_from, m.event_date)) AS day,
       count(*)::BIGINT                                           AS movements
FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to) m
JOIN shown_routes s
  ON s.route = m.route
 AND s.category IS NOT DISTINCT FROM colour_category($colour_by, m.mode, m.material_category, m.cargo_kind)
GROUP BY ALL
ORDER BY s.arc, day;

-- model: movement_groups
-- kind: table
-- depends on: movements
-- order: route
-- refresh by: route in touched_routes (movements' refresh)
-- The movements grouped by everything but their dates (about 2.5 times fewer
-- rows): what the headline and wall figures and the map's framing count and
-- add up when no date is chosen (views.sql, filtered_movement_groups), and
-- what the map reads when a material is. Replaced route by route: a change
-- touches few routes, and a route's groups are quick to add up again.
---- definition
SELECT route, flight_key, aircraft_key, material_key, material_code, record_kind, status, mode,
       material_category, cargo_kind, origin_iso3, destination_iso3, recipient_iso3, provider_iso3,
       count(*)                          AS movements,
       count(*) FILTER (WHERE confidence IN ('derived', 'inferred')) AS uncertain,
       sum(patients)                     AS patients,
       min(event_date)                   AS first_date,
       max(event_date)                   AS last_date,
       bool_or(date_precision = 'month') AS has_month_only_dates
FROM movements
GROUP BY ALL

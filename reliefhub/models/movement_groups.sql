-- model: movement_groups
-- kind: table
-- depends on: movements
-- order: route
-- touched by: touched_routes (movements' refresh)
-- The movements grouped by everything but their dates (about 2.5 times fewer
-- rows): what the headline and wall figures and the map's framing count and
-- add up when no date is chosen (views.sql, filtered_movement_groups), and
-- what the map reads when a material is. Replaced route by route: a change
-- touches few routes, and a route's groups are quick to add up again.
---- definition
SELECT route, flight_key, aircraft_key, material_key, material_code, record_kind, status, mode,
       material_category, cargo_kind, origin_iso3, destination_iso3, recipient_iso3, provider_iso3,
       count(*)                          AS movements,
       sum(patients)                     AS patients,
       min(event_date)                   AS first_date,
       max(event_date)                   AS last_date,
       bool_or(date_precision = 'month') AS has_month_only_dates
FROM movements
GROUP BY ALL
---- refresh
DELETE FROM movement_groups WHERE route IN (SELECT route FROM touched_routes);

-- The definition read over the touched routes' movements alone (a temporary
-- view of that name is found before the stored table): filtering after the
-- grouping would add up every movement.
CREATE OR REPLACE TEMP TABLE touched_route_movements AS
SELECT * FROM movements WHERE route IN (SELECT route FROM touched_routes);

CREATE OR REPLACE TEMP VIEW movements AS FROM touched_route_movements;

INSERT INTO movement_groups SELECT * FROM movement_groups_definition;

DROP VIEW temp.movements;

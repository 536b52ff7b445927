-- model: movement_flow_groups
-- kind: table
-- depends on: movement_groups
-- order: route
-- refresh by: route in touched_routes (movements' refresh)
-- The groups once more, without what the map's arcs never tell apart (the
-- material, record kind and status): about half as many rows, which is what
-- the map adds up when neither a material nor a date is chosen (views.sql,
-- filtered_flow_groups). Replaced route by route with movement_groups. Each
-- row's aircraft bit is stored, so a map draw need not work it out.
---- definition
SELECT route, flight_key, aircraft_key, mode, material_category, cargo_kind,
       origin_iso3, destination_iso3, recipient_iso3, provider_iso3,
       sum(movements)::BIGINT                                            AS movements,
       (sum(movements) FILTER (WHERE record_kind = 'shipment'))::BIGINT AS shipments,
       sum(uncertain)::BIGINT                                            AS uncertain,
       sum(patients)                                                     AS patients,
       min(first_date)                                                   AS first_date,
       max(last_date)                                                    AS last_date,
       bool_or(has_month_only_dates)                                     AS has_month_only_dates,
       key_bit(aircraft_key)                                             AS aircraft_bits
FROM movement_groups
GROUP BY ALL

-- model: countries_in_data
-- kind: table
-- depends on: requests, movement_flow_groups
-- touched by: every change (small: built whole each time)
-- The countries a filter can offer (every page's sidebar): those of the
-- requests and of the movements, read from their smallest grouping.
---- definition
SELECT requester_iso3 AS iso3 FROM requests
UNION SELECT recipient_iso3 FROM movement_flow_groups WHERE recipient_iso3 IS NOT NULL
UNION SELECT provider_iso3 FROM movement_flow_groups WHERE provider_iso3 IS NOT NULL
UNION SELECT origin_iso3 FROM movement_flow_groups
UNION SELECT destination_iso3 FROM movement_flow_groups

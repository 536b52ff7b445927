-- model: countries_in_data
-- kind: table
-- depends on: requests, places, movements, movement_routes
-- touched by: every change (small: built whole each time)
-- The countries a filter can offer (every page's sidebar).
---- definition
WITH used_routes AS (
    SELECT * FROM movement_routes WHERE route IN (SELECT DISTINCT route FROM movements)
)
SELECT requester_iso3 AS iso3 FROM requests
UNION SELECT recipient_iso3 FROM movements WHERE recipient_iso3 IS NOT NULL
UNION SELECT provider_iso3 FROM movements WHERE provider_iso3 IS NOT NULL
UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.origin_place_id
UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.destination_place_id

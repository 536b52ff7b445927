-- Countries a filter can choose: every country that appears in the data.
WITH used_routes AS (
    SELECT * FROM movement_routes WHERE route IN (SELECT DISTINCT route FROM movements)
)
SELECT c.iso3, c.name
FROM countries c
WHERE c.iso3 IN (
    SELECT requester_iso3 FROM requests
    UNION SELECT recipient_iso3 FROM movements
    UNION SELECT provider_iso3 FROM movements
    UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.origin_place_id
    UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.destination_place_id
)
ORDER BY c.name;

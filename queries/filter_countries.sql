-- Countries a filter can choose: every country that appears in the data.
SELECT c.iso3, c.name
FROM countries c
WHERE c.iso3 IN (
    SELECT requester_iso3 FROM requests
    UNION SELECT recipient_iso3 FROM shipments
    UNION SELECT provider_iso3 FROM shipments
    UNION SELECT p.iso3 FROM movements m JOIN places p ON p.place_id IN (m.origin_place_id, m.destination_place_id)
)
ORDER BY c.name;

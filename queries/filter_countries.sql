-- Countries a filter can choose: every country that appears in the data
-- (kept by reliefhub/movements.py as the data changes).
SELECT c.iso3, c.name
FROM countries c
WHERE c.iso3 IN (SELECT iso3 FROM countries_in_data)
ORDER BY c.name;

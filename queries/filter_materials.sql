-- Materials a filter can choose: the whole catalogue.
SELECT material_code, name, category, unit
FROM materials
ORDER BY category, name;

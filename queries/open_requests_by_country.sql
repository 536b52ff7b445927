-- Open requests on $as_of per country and material: the chart's input.
SELECT
    r.requester_iso3 AS iso3,
    c.name           AS country,
    r.material_category,
    r.material_code,
    r.material_name,
    r.unit,
    count(*)                  AS open_requests,
    sum(r.quantity)           AS requested_quantity,
    sum(r.delivered_quantity) AS delivered_quantity,
    sum(r.missing_quantity)   AS missing_quantity,
    max(r.days_waiting)       AS longest_wait_days
FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of) AS r
JOIN countries c ON c.iso3 = r.requester_iso3
GROUP BY ALL
ORDER BY iso3, r.material_code;

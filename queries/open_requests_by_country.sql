-- Open requests on $as_of per country and material: the chart's input.
-- Counted from narrow rows first; names are joined to the few groups after.
WITH open AS (
    SELECT
        requester_iso3            AS iso3,
        material_code,
        count(*)                  AS open_requests,
        sum(quantity)             AS requested_quantity,
        sum(delivered_quantity)   AS delivered_quantity,
        sum(missing_quantity)     AS missing_quantity,
        max(days_waiting)         AS longest_wait_days
    FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of)
    GROUP BY ALL
)
SELECT
    o.iso3,
    c.name     AS country,
    m.category AS material_category,
    o.material_code,
    m.name     AS material_name,
    m.unit,
    o.open_requests,
    o.requested_quantity,
    o.delivered_quantity,
    o.missing_quantity,
    o.longest_wait_days
FROM open o
JOIN countries c ON c.iso3 = o.iso3
JOIN materials m ON m.material_code = o.material_code
ORDER BY o.iso3, o.material_code;

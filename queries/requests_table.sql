-- The requests table of the Data page and its CSV export.
SELECT
    r.request_id,
    r.requester_iso3,
    c.name AS requester_country,
    r.channel,
    r.addressed_to,
    r.material_code,
    m.name AS material_name,
    m.category AS material_category,
    r.quantity,
    m.unit,
    r.requested_on,
    r.date_precision,
    r.status,
    r.closed_on,
    r.description,
    r.source_urls,
    r.source_note
FROM requests r
JOIN countries c ON c.iso3 = r.requester_iso3
JOIN materials m USING (material_code)
WHERE (len($countries) = 0 OR list_contains($countries, r.requester_iso3))
  AND (len($materials) = 0 OR list_contains($materials, r.material_code))
  AND ($date_to IS NULL OR r.requested_on <= $date_to)
  AND ($date_from IS NULL
       OR (CASE r.date_precision WHEN 'month' THEN last_day(r.requested_on) ELSE r.requested_on END) >= $date_from)
ORDER BY r.requested_on, r.request_id;

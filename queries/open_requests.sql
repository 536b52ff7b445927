-- Requests still open on $as_of, with what was delivered against them by then.
SELECT
    r.request_id,
    r.requester_iso3,
    c.name AS requester_country,
    r.channel,
    r.addressed_to,
    r.material_code,
    r.material_name,
    r.material_category,
    r.quantity AS requested_quantity,
    r.delivered_quantity,
    r.missing_quantity,
    r.unit,
    r.requested_on,
    r.date_precision,
    r.days_waiting,
    r.status_as_of,
    r.description,
    r.source_urls
FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of) AS r
JOIN countries c ON c.iso3 = r.requester_iso3
ORDER BY r.missing_quantity DESC NULLS LAST, r.days_waiting DESC, r.request_id;

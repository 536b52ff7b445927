-- The headline strip: open requests as of $as_of, and what moved.
SELECT
    (SELECT count(*)
     FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of)) AS open_requests,
    count(*) FILTER (WHERE record_kind = 'shipment' AND status = 'in_transit')          AS shipments_in_transit,
    count(*) FILTER (WHERE record_kind = 'shipment' AND status = 'delivered')           AS shipments_delivered,
    count(DISTINCT flight_key)                                                          AS flights,
    coalesce(sum(patients) FILTER (WHERE status = 'delivered'), 0)::BIGINT              AS patients_moved
FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to);

-- The wall screen's headline strip, as of $as_of: open requests, shipments
-- in transit, and patients moved in the seven days up to that day.
SELECT
    (SELECT count(*)
     FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of)) AS open_requests,
    count(*) FILTER (WHERE record_kind = 'shipment' AND status = 'in_transit')          AS shipments_in_transit,
    coalesce(sum(patients) FILTER (
        WHERE status = 'delivered' AND event_date > $as_of - INTERVAL 7 DAY AND event_date <= $as_of
    ), 0)::BIGINT                                                                       AS patients_last_7_days
FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to);

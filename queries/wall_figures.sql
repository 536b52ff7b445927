-- The wall screen's headline strip, as of $as_of: open requests, shipments
-- in transit, and patients moved in the seven days up to that day (read from
-- the movements of those days only: the table is stored in date order).
SELECT
    (SELECT count(*)
     FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of))         AS open_requests,
    coalesce(sum(movements) FILTER (WHERE record_kind = 'shipment' AND status = 'in_transit'), 0)
        ::BIGINT                                                                                AS shipments_in_transit,
    (SELECT coalesce(sum(patients), 0)::BIGINT
     FROM filtered_movements($countries, $materials, $modes, $date_from, $date_to)
     WHERE status = 'delivered' AND event_date > $as_of - INTERVAL 7 DAY AND event_date <= $as_of) AS patients_last_7_days
FROM filtered_movement_groups($countries, $materials, $modes, $date_from, $date_to);

-- The headline strip: open requests as of $as_of, and what moved.
SELECT
    (SELECT count(*)
     FROM filtered_open_requests($countries, $materials, $date_from, $date_to, $as_of))         AS open_requests,
    coalesce(sum(movements) FILTER (WHERE record_kind = 'shipment' AND status = 'in_transit'), 0)
        ::BIGINT                                                                                AS shipments_in_transit,
    coalesce(sum(movements) FILTER (WHERE record_kind = 'shipment' AND status = 'delivered'), 0)
        ::BIGINT                                                                                AS shipments_delivered,
    count(DISTINCT flight_key)                                                                  AS flights,
    coalesce(sum(patients) FILTER (WHERE status = 'delivered'), 0)::BIGINT                      AS patients_moved
FROM filtered_movement_groups($countries, $materials, $modes, $date_from, $date_to);

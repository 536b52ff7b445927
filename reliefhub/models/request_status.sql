-- model: request_status
-- kind: table
-- depends on: requests, shipments
-- order: requested_on
-- refresh by: request_id in touched_requests (_touched.sql)
-- Every request as it stands once nothing more can change it: the
-- open-requests figures on every page (which open on the data's last day)
-- would otherwise add up every shipment and classify every request on each
-- rerun. settled_on is the day from which the stored status holds;
-- filled_on is the first day the deliveries added up to the quantity asked
-- (the requests trend counts a request settled from then on).
---- definition
SELECT a.*, greatest(a.requested_on, a.closed_on, a.last_delivered_on) AS settled_on, f.filled_on
FROM requests_added_up(DATE '9999-12-31', true) a
LEFT JOIN (
    SELECT request_id, min(delivered_on) AS filled_on
    FROM (
        SELECT
            s.request_id,
            s.delivered_on,
            r.quantity,
            sum(s.quantity) OVER (PARTITION BY s.request_id ORDER BY s.delivered_on) AS delivered_by
        FROM shipments s
        JOIN requests r USING (request_id)
        WHERE s.status = 'delivered' AND r.quantity > 0
    )
    WHERE delivered_by >= quantity
    GROUP BY request_id
) f USING (request_id)

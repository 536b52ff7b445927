-- model: request_status
-- kind: table
-- depends on: requests, shipments
-- order: requested_on
-- refresh by: request_id in touched_requests (_touched.sql)
-- Every request as it stands once nothing more can change it: the
-- open-requests figures on every page (which open on the data's last day)
-- would otherwise add up every shipment and classify every request on each
-- rerun. settled_on is the day from which the stored status holds.
---- definition
SELECT *, greatest(requested_on, closed_on, last_delivered_on) AS settled_on
FROM requests_added_up(DATE '9999-12-31', true)

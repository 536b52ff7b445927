-- model: request_status
-- kind: table
-- depends on: requests, shipments
-- order: requested_on
-- touched by: touched_requests (_touched.sql)
-- Every request as it stands once nothing more can change it: the
-- open-requests figures on every page (which open on the data's last day)
-- would otherwise add up every shipment and classify every request on each
-- rerun. settled_on is the day from which the stored status holds.
---- definition
SELECT *, greatest(requested_on, closed_on, last_delivered_on) AS settled_on
FROM requests_added_up(DATE '9999-12-31', true)
---- refresh
DELETE FROM request_status WHERE request_id IN (SELECT id FROM touched_requests);

INSERT INTO request_status
SELECT * FROM request_status_definition WHERE request_id IN (SELECT id FROM touched_requests);

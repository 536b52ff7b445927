-- Macros the model definitions and the pages' queries share. Part of every
-- model's definition: a change here (other than to a comment) rebuilds them all.

-- An aircraft is named by its operator and type ("German Air Force
-- (Luftwaffe) Airbus A310 MedEvac"). A small integer key n is bit n - 1 of a
-- set of keys held in one UBIGINT; keys 64 and over share the last bit (their
-- holders also list them apart). No key (a movement by road has no aircraft)
-- sets no bit: DuckDB's least() skips a NULL, so it is ruled out first.
CREATE OR REPLACE MACRO aircraft_name(flight_id, operator, aircraft_type) AS
    CASE WHEN flight_id IS NOT NULL THEN concat_ws(' ', operator, aircraft_type) END;

CREATE OR REPLACE MACRO key_bit(key) AS CASE WHEN key IS NOT NULL THEN 1::UBIGINT << least(key - 1, 63)::UBIGINT END;

CREATE OR REPLACE MACRO has_key_bit(bits, key) AS key < 64 AND (bits >> (key - 1)::UBIGINT) & 1 = 1;

-- Requests with what had been delivered against them by a day, and the status
-- that follows: a request is fulfilled when it is recorded as closed by that
-- day, or when its linked deliveries cover the quantity asked for. With
-- `wanted` false it returns nothing without reading the shipments: a caller
-- that has the answer stored passes a condition instead of paying for a UNION
-- branch it throws away.
CREATE OR REPLACE MACRO requests_added_up(as_of, wanted) AS TABLE
SELECT
    r.request_id,
    r.requester_iso3,
    r.material_code,
    r.quantity,
    r.requested_on,
    -- The last day the request may have been made: a date known only to its
    -- month may be any day of it.
    CASE r.date_precision WHEN 'month' THEN last_day(r.requested_on) ELSE r.requested_on END AS requested_until,
    r.closed_on,
    coalesce(d.delivered_quantity, 0) AS delivered_quantity,
    CASE WHEN r.quantity IS NOT NULL
         THEN greatest(r.quantity - coalesce(d.delivered_quantity, 0), 0) END AS missing_quantity,
    d.last_delivered_on,
    CASE
        WHEN r.status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled')
             AND (r.closed_on IS NULL OR r.closed_on <= as_of) THEN r.status
        WHEN r.quantity IS NOT NULL AND coalesce(d.delivered_quantity, 0) >= r.quantity
             AND r.quantity > 0 THEN 'fulfilled'
        WHEN coalesce(d.delivered_quantity, 0) > 0 OR r.status = 'partially_fulfilled'
             THEN 'partially_fulfilled'
        ELSE 'open'
    END AS status_as_of
FROM (SELECT * FROM requests WHERE wanted AND requested_on <= as_of) r
LEFT JOIN (
    SELECT request_id, sum(quantity) AS delivered_quantity, max(delivered_on) AS last_delivered_on
    FROM shipments
    WHERE wanted AND request_id IS NOT NULL AND status = 'delivered' AND delivered_on <= as_of
    GROUP BY request_id
) d USING (request_id);

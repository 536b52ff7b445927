-- Derived views and table macros, re-created every time the app connects, so a
-- code change never needs a rebuild that would lose operator-entered records.

-- The shared filters, written once. An empty list or a NULL date matches
-- everything. A shipment whose mode the source does not state has mode
-- 'not_stated' here, so it can be shown and filtered as such. A record dated
-- only to a month matches any range that overlaps that month, so vague dates
-- are neither dropped nor pinned to the 1st. (list_contains per column is
-- several times faster than building a list per row for list_has_any. The
-- materials are matched by their small integer key: DuckDB turns the few keys
-- chosen into a filter on the scan itself, 24 -> 10 ms at a million rows.)
CREATE OR REPLACE MACRO filtered_movements(countries, materials, modes, date_from, date_to) AS TABLE
SELECT *
FROM movements
WHERE (len(countries) = 0
       OR list_contains(countries, origin_iso3) OR list_contains(countries, destination_iso3)
       OR list_contains(countries, recipient_iso3) OR list_contains(countries, provider_iso3))
  AND (len(materials) = 0
       OR material_key IN (SELECT material_key FROM movement_material_keys
                           WHERE list_contains(materials, material_code)))
  AND (len(modes) = 0 OR list_contains(modes, mode))
  AND (date_to IS NULL OR event_date <= date_to)
  AND (date_from IS NULL OR event_until >= date_from);

-- Requests with what had been delivered against them by a day, and their
-- status then (requests_added_up in stored_sources.sql). Read from the stored
-- `request_status` on or after the day every request settled, which is how
-- every page opens; added up from the shipments for an earlier day.
CREATE OR REPLACE MACRO requests_as_of(as_of) AS TABLE
SELECT * EXCLUDE (settled_on), as_of - requested_on AS days_waiting
FROM request_status
WHERE requested_on <= as_of
  AND as_of >= (SELECT max(settled_on) FROM request_status)
UNION ALL BY NAME
SELECT *, as_of - requested_on AS days_waiting
FROM requests_added_up(as_of, as_of < (SELECT max(settled_on) FROM request_status));

CREATE OR REPLACE MACRO filtered_open_requests(countries, materials, date_from, date_to, as_of) AS TABLE
SELECT *
FROM requests_as_of(as_of)
WHERE status_as_of IN ('open', 'partially_fulfilled')
  AND (len(countries) = 0 OR list_contains(countries, requester_iso3))
  AND (len(materials) = 0 OR list_contains(materials, material_code))
  AND (date_to IS NULL OR requested_on <= date_to)
  AND (date_from IS NULL OR requested_until >= date_from);

-- Derived views and table macros, re-created every time the app connects, so a
-- code change never needs a rebuild that would lose operator-entered records.

-- The shared filters, written once. An empty list or a NULL date matches
-- everything. A shipment whose mode the source does not state has mode
-- 'not_stated' here, so it can be shown and filtered as such. A record dated
-- only to a month matches any range that overlaps that month, so vague dates
-- are neither dropped nor pinned to the 1st. (list_contains per column is
-- several times faster than building a list per row for list_has_any. The
-- materials are matched by their small integer key: DuckDB turns the few keys
-- chosen into a filter on the scan itself.)
CREATE OR REPLACE MACRO matches_countries_and_modes(
    countries, modes, origin_iso3, destination_iso3, recipient_iso3, provider_iso3, mode
) AS
    (len(countries) = 0
     OR list_contains(countries, origin_iso3) OR list_contains(countries, destination_iso3)
     OR list_contains(countries, recipient_iso3) OR list_contains(countries, provider_iso3))
    AND (len(modes) = 0 OR list_contains(modes, mode));

CREATE OR REPLACE MACRO matches_filters(
    countries, materials, modes,
    origin_iso3, destination_iso3, recipient_iso3, provider_iso3, material_key, mode
) AS
    matches_countries_and_modes(countries, modes, origin_iso3, destination_iso3, recipient_iso3, provider_iso3, mode)
    AND (len(materials) = 0
         OR material_key IN (SELECT material_key FROM movement_material_keys
                             WHERE list_contains(materials, material_code)));

CREATE OR REPLACE MACRO filtered_movements(countries, materials, modes, date_from, date_to) AS TABLE
SELECT *, rowid AS row_id
FROM movements
WHERE matches_filters(countries, materials, modes,
                      origin_iso3, destination_iso3, recipient_iso3, provider_iso3, material_key, mode)
  AND (date_to IS NULL OR event_date <= date_to)
  AND (date_from IS NULL OR event_until >= date_from);

-- The filtered movements as groups that differ only in their dates, for
-- questions that count and add up: read from the stored `movement_groups`
-- (reliefhub/models/movement_groups.sql; fewer rows than movements) when no date
-- is chosen, and made one group per movement when one is, since a date filter
-- must see each movement's dates. DuckDB drops whichever branch the dates
-- rule out before running it.
CREATE OR REPLACE MACRO filtered_movement_groups(countries, materials, modes, date_from, date_to) AS TABLE
SELECT route, flight_key, aircraft_key, material_key, record_kind, status, mode, material_category, cargo_kind,
       movements, uncertain, patients, first_date, last_date, has_month_only_dates
FROM movement_groups
WHERE date_from IS NULL AND date_to IS NULL
  AND matches_filters(countries, materials, modes,
                      origin_iso3, destination_iso3, recipient_iso3, provider_iso3, material_key, mode)
UNION ALL
SELECT route, flight_key, aircraft_key, material_key, record_kind, status, mode, material_category, cargo_kind,
       1, coalesce(confidence IN ('derived', 'inferred'), false)::BIGINT, patients,
       event_date, event_date, date_precision = 'month'
FROM filtered_movements(countries, materials, modes, date_from, date_to)
WHERE date_from IS NOT NULL OR date_to IS NOT NULL;

-- The same for questions that tell movements apart only by route, flight and
-- colour (the map's arcs and places, the flights a filter keeps): read from
-- the stored `movement_flow_groups` (half as many rows again) when neither a
-- material nor a date is chosen, and from filtered_movement_groups otherwise.
-- The aircraft travel as bits (key_bit).
CREATE OR REPLACE MACRO filtered_flow_groups(countries, materials, modes, date_from, date_to) AS TABLE
SELECT route, flight_key, aircraft_key, mode, material_category, cargo_kind,
       movements, shipments, uncertain, patients, first_date, last_date, has_month_only_dates, aircraft_bits
FROM movement_flow_groups
WHERE len(materials) = 0 AND date_from IS NULL AND date_to IS NULL
  AND matches_countries_and_modes(countries, modes,
                                  origin_iso3, destination_iso3, recipient_iso3, provider_iso3, mode)
UNION ALL
SELECT route, flight_key, aircraft_key, mode, material_category, cargo_kind,
       movements, CASE WHEN record_kind = 'shipment' THEN movements END, uncertain, patients,
       first_date, last_date, has_month_only_dates, key_bit(aircraft_key)
FROM filtered_movement_groups(countries, materials, modes, date_from, date_to)
WHERE NOT (len(materials) = 0 AND date_from IS NULL AND date_to IS NULL);

-- True when no filter is set: DuckDB folds it from the parameters and drops
-- a UNION branch it makes false before running it (which it does not do for a
-- condition inside a subquery or a CTE).
CREATE OR REPLACE MACRO unfiltered(countries, materials, modes, date_from, date_to) AS
    len(countries) = 0 AND len(materials) = 0 AND len(modes) = 0 AND date_from IS NULL AND date_to IS NULL;

-- The flights that made a filtered movement (their own, or a shipment they
-- carried), as (flight_id, flight_date). Without any filter every flight
-- qualifies (each one is in the movements, with its shipments or on its
-- own), so the movements are read only when a filter is set.
CREATE OR REPLACE MACRO filtered_flights(countries, materials, modes, date_from, date_to) AS TABLE
SELECT flight_id, flight_date
FROM flights
WHERE unfiltered(countries, materials, modes, date_from, date_to)
UNION ALL
SELECT flight_id, flight_date
FROM flights
WHERE NOT unfiltered(countries, materials, modes, date_from, date_to)
  AND flight_id IN (
      SELECT k.flight_id
      FROM movement_flight_keys k
      WHERE k.flight_key IN (
          SELECT flight_key
          FROM filtered_flow_groups(countries, materials, modes, date_from, date_to)
          WHERE flight_key IS NOT NULL
      )
  );

-- The map's colour of a movement: 'mode', 'material_category' or 'cargo_kind'
-- (goods, patients, personnel).
CREATE OR REPLACE MACRO colour_category(colour_by, mode, material_category, cargo_kind) AS
    CASE colour_by
        WHEN 'mode' THEN mode
        WHEN 'material_category' THEN material_category
        ELSE cargo_kind
    END;

-- Requests with what had been delivered against them by a day, and their
-- status then (requests_added_up in models/_macros.sql). Read from the stored
-- `request_status` on or after the day every request settled, which is how
-- every page opens; added up from the shipments for an earlier day.
CREATE OR REPLACE MACRO requests_as_of(as_of) AS TABLE
SELECT * EXCLUDE (settled_on, filled_on), as_of - requested_on AS days_waiting
FROM request_status
WHERE requested_on <= as_of
  AND as_of >= (SELECT max(settled_on) FROM request_status)
UNION ALL BY NAME
SELECT *, as_of - requested_on AS days_waiting
FROM requests_added_up(as_of, as_of < (SELECT max(settled_on) FROM request_status));

-- The requests the filters keep, whatever their status on the day.
CREATE OR REPLACE MACRO filtered_requests_as_of(countries, materials, date_from, date_to, as_of) AS TABLE
SELECT *
FROM requests_as_of(as_of)
WHERE (len(countries) = 0 OR list_contains(countries, requester_iso3))
  AND (len(materials) = 0 OR list_contains(materials, material_code))
  AND (date_to IS NULL OR requested_on <= date_to)
  AND (date_from IS NULL OR requested_until >= date_from);

CREATE OR REPLACE MACRO filtered_open_requests(countries, materials, date_from, date_to, as_of) AS TABLE
SELECT *
FROM filtered_requests_as_of(countries, materials, date_from, date_to, as_of)
WHERE status_as_of IN ('open', 'partially_fulfilled');

-- A request with the names the tables show beside its codes (its country's,
-- its material's, with the material's category and unit), in the order of
-- the Data page's requests table. row_id is its rowid, so that a page of
-- requests is read by rowid (queries/requests_table.sql).
CREATE OR REPLACE MACRO named_requests() AS TABLE
SELECT
    r.request_id,
    r.requester_iso3,
    c.name AS requester_country,
    r.channel,
    r.addressed_to,
    r.material_code,
    m.name AS material_name,
    m.category AS material_category,
    r.quantity,
    m.unit,
    r.requested_on,
    r.date_precision,
    r.status,
    r.closed_on,
    r.description,
    r.source_urls,
    r.source_note,
    r.confidence,
    r.quantity_precision,
    r.rowid AS row_id
FROM requests r
JOIN countries c ON c.iso3 = r.requester_iso3
JOIN materials m ON m.material_code = r.material_code;

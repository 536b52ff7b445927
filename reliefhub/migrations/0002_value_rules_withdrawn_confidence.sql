-- kind: rebuild
-- Value rules for every stored value; a request may be withdrawn by its
-- requester; requests, flights and shipments say how sure their sources are
-- (confidence) and how exact their figures (quantity_precision,
-- payload_precision), empty where not stated. A stored row these rules refuse
-- stops the migration, naming DuckDB's reason, and leaves the file as it was.
-- An empty file gets these tables as new ones: this is where they are defined.
--
-- Every rule DuckDB can enforce lives in the tables' definitions; the loader
-- (reliefhub/loader.py) checks the rest and reports them by file and line.
-- Statuses and codes are snake_case so CSV exports stay stable.
--
-- Value rules shared by forms, imports and the build (validation.py words them):
-- - dates lie between 1990-01-01 and 2100-12-31: far-off years are typing
--   slips, and Python's dates end at year 9999;
-- - quantities are finite and at most a million million, tonnes of payload at
--   most 1,000, patients on a flight at most 10,000 (BETWEEN is false for NaN
--   and infinity, which DuckDB sorts above every number);
-- - an ID is printable: no spaces, control, format or bidi characters
--   (a byte-order mark or a zero-width space would make a second, invisible ID);
-- - names hold no control or bidi-override characters; free text may also
--   hold tabs and line breaks;
-- - source links are http(s) URLs, several separated by ' ; '.

CREATE TABLE countries (
    iso3        VARCHAR PRIMARY KEY CHECK (regexp_full_match(iso3, '[A-Z]{3}')),
    name        VARCHAR NOT NULL CHECK (NOT regexp_matches(name, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    latitude    DOUBLE  NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE  NOT NULL CHECK (longitude BETWEEN -180 AND 180)
);

CREATE TABLE places (
    place_id          VARCHAR PRIMARY KEY CHECK (regexp_full_match(place_id, '[a-z0-9][a-z0-9-]*')),
    name              VARCHAR NOT NULL CHECK (NOT regexp_matches(name, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    kind              VARCHAR NOT NULL CHECK (kind IN ('airport', 'airbase', 'city', 'region', 'hospital', 'depot', 'country')),
    iso3              VARCHAR NOT NULL REFERENCES countries (iso3),
    latitude          DOUBLE  NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude         DOUBLE  NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    icao              VARCHAR CHECK (icao IS NULL OR regexp_full_match(icao, '[A-Z0-9]{4}')),
    iata              VARCHAR CHECK (iata IS NULL OR regexp_full_match(iata, '[A-Z0-9]{3}')),
    coordinate_source VARCHAR NOT NULL CHECK (NOT regexp_matches(coordinate_source, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]'))
);

CREATE TABLE materials (
    material_code VARCHAR PRIMARY KEY CHECK (regexp_full_match(material_code, '[a-z0-9_]+')),
    name          VARCHAR NOT NULL CHECK (NOT regexp_matches(name, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    category      VARCHAR NOT NULL CHECK (category IN (
                      'ppe', 'medical_equipment', 'testing', 'disinfection',
                      'patients', 'personnel', 'field_hospital', 'airlift', 'mixed_supplies')),
    unit          VARCHAR NOT NULL CHECK (NOT regexp_matches(unit, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]'))
);

-- Confidence, on requests, flights and shipments: how far the row goes beyond
-- its sources. 'stated': every fact is in the cited text; 'derived': a fact
-- follows from the text by a stated rule (a day counted from "Friday", kg to
-- tonnes, an airport for a city with one); 'inferred': a judgement the text
-- does not make (source_note says which). quantity_precision (payload_precision
-- on flights): how the figure was stated, 'unknown' exactly when it is empty.
-- NULL in either means not stated (a file or form that did not say), never a
-- claim of 'stated' or 'exact'.
CREATE TABLE requests (
    request_id      VARCHAR PRIMARY KEY CHECK (regexp_full_match(request_id, '[^\p{C}\p{Z}]+')),
    requester_iso3  VARCHAR NOT NULL REFERENCES countries (iso3),
    channel         VARCHAR NOT NULL CHECK (channel IN ('eadrcc', 'eucpm', 'bilateral')),
    addressed_to    VARCHAR CHECK (NOT regexp_matches(addressed_to, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    material_code   VARCHAR NOT NULL REFERENCES materials (material_code),
    quantity        DOUBLE CHECK (quantity BETWEEN 0 AND 1e12),
    description     VARCHAR NOT NULL CHECK (NOT regexp_matches(description, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    requested_on    DATE    NOT NULL CHECK (requested_on BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision  VARCHAR NOT NULL CHECK (date_precision IN ('day', 'month')),
    -- 'withdrawn': the requester withdrew or closed the request before all of
    -- it arrived; what did arrive stays counted against it.
    status          VARCHAR NOT NULL CHECK (status IN ('open', 'partially_fulfilled', 'fulfilled', 'closed', 'withdrawn', 'cancelled')),
    closed_on       DATE CHECK (closed_on BETWEEN '1990-01-01' AND '2100-12-31'),
    source_urls     VARCHAR NOT NULL CHECK (regexp_full_match(source_urls, 'https?://[^\s;]+( ; https?://[^\s;]+)*')),
    source_note     VARCHAR NOT NULL CHECK (NOT regexp_matches(source_note, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    confidence          VARCHAR CHECK (confidence IN ('stated', 'derived', 'inferred')),
    quantity_precision  VARCHAR CHECK (quantity_precision IN ('exact', 'approximate', 'at_least', 'unknown')),
    CHECK (closed_on IS NULL OR closed_on >= requested_on),
    CHECK (closed_on IS NULL OR status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled')),
    CHECK ((quantity IS NULL) = (quantity_precision = 'unknown'))
);

CREATE TABLE flights (
    flight_id             VARCHAR PRIMARY KEY CHECK (regexp_full_match(flight_id, '[^\p{C}\p{Z}]+')),
    origin_place_id       VARCHAR NOT NULL REFERENCES places (place_id),
    destination_place_id  VARCHAR NOT NULL REFERENCES places (place_id),
    aircraft_type         VARCHAR CHECK (NOT regexp_matches(aircraft_type, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    operator              VARCHAR NOT NULL CHECK (NOT regexp_matches(operator, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    operator_kind         VARCHAR NOT NULL CHECK (operator_kind IN ('air_force', 'salis', 'sac', 'government', 'commercial', 'ngo', 'other')),
    flight_date           DATE    NOT NULL CHECK (flight_date BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision        VARCHAR NOT NULL CHECK (date_precision IN ('day', 'month')),
    status                VARCHAR NOT NULL CHECK (status IN ('planned', 'airborne', 'landed', 'cancelled')),
    payload_tonnes        DOUBLE CHECK (payload_tonnes BETWEEN 0 AND 1000),
    patients              INTEGER CHECK (patients BETWEEN 0 AND 10000),
    description           VARCHAR NOT NULL CHECK (NOT regexp_matches(description, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    source_urls           VARCHAR NOT NULL CHECK (regexp_full_match(source_urls, 'https?://[^\s;]+( ; https?://[^\s;]+)*')),
    source_note           VARCHAR NOT NULL CHECK (NOT regexp_matches(source_note, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    confidence            VARCHAR CHECK (confidence IN ('stated', 'derived', 'inferred')),
    payload_precision     VARCHAR CHECK (payload_precision IN ('exact', 'approximate', 'at_least', 'unknown')),
    CHECK ((payload_tonnes IS NULL) = (payload_precision = 'unknown'))
);

CREATE TABLE shipments (
    shipment_id           VARCHAR PRIMARY KEY CHECK (regexp_full_match(shipment_id, '[^\p{C}\p{Z}]+')),
    recipient_iso3        VARCHAR NOT NULL REFERENCES countries (iso3),
    provider              VARCHAR NOT NULL CHECK (NOT regexp_matches(provider, '[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    provider_iso3         VARCHAR REFERENCES countries (iso3),
    material_code         VARCHAR NOT NULL REFERENCES materials (material_code),
    quantity              DOUBLE CHECK (quantity BETWEEN 0 AND 1e12),
    description           VARCHAR NOT NULL CHECK (NOT regexp_matches(description, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    origin_place_id       VARCHAR NOT NULL REFERENCES places (place_id),
    destination_place_id  VARCHAR NOT NULL REFERENCES places (place_id),
    -- NULL where the source does not say how it travelled.
    mode                  VARCHAR CHECK (mode IN ('road', 'rail', 'sea', 'air')),
    dispatched_on         DATE CHECK (dispatched_on BETWEEN '1990-01-01' AND '2100-12-31'),
    delivered_on          DATE CHECK (delivered_on BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision        VARCHAR NOT NULL CHECK (date_precision IN ('day', 'month')),
    status                VARCHAR NOT NULL CHECK (status IN ('planned', 'in_transit', 'delivered', 'cancelled')),
    request_id            VARCHAR REFERENCES requests (request_id),
    flight_id             VARCHAR REFERENCES flights (flight_id),
    source_urls           VARCHAR NOT NULL CHECK (regexp_full_match(source_urls, 'https?://[^\s;]+( ; https?://[^\s;]+)*')),
    source_note           VARCHAR NOT NULL CHECK (NOT regexp_matches(source_note, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]')),
    confidence            VARCHAR CHECK (confidence IN ('stated', 'derived', 'inferred')),
    quantity_precision    VARCHAR CHECK (quantity_precision IN ('exact', 'approximate', 'at_least', 'unknown')),
    CHECK (dispatched_on IS NOT NULL OR delivered_on IS NOT NULL),
    CHECK (delivered_on IS NULL OR dispatched_on IS NULL OR delivered_on >= dispatched_on),
    CHECK (status <> 'delivered' OR delivered_on IS NOT NULL),
    CHECK ((quantity IS NULL) = (quantity_precision = 'unknown'))
);

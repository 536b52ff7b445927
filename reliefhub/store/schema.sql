-- The shared store's schema in PostgreSQL: the tables, keys and rules that
-- DuckDB's migrations 0001 to 0003 (reliefhub/migrations/) define, in
-- PostgreSQL's words, at schema version 3 (recorded in meta by
-- reliefhub/store/postgres.py; later versions come from store/migrations/).
-- Each value rule is a domain, said once.
--
-- Where the dialects differ:
-- - DuckDB's regular expressions are RE2, PostgreSQL's are its own (ARE):
--   `regexp_full_match(x, P)` is `x ~ '^(?:P)$'`, `\x{202A}` is `\u202A`;
-- - RE2's `\p{C}\p{Z}` (control, format, private-use, unassigned and separator
--   characters) has no ARE class: an ID here refuses the control, format,
--   private-use and separator characters listed by code point (Unicode 14's
--   Cc, Cf, Co, Zs, Zl, Zp), and leaves unassigned code points, which change
--   with each Unicode version, to validation.py, which applies DuckDB's rule
--   to every row before it is written. So the store never refuses what the
--   validation let through; tests/test_store.py checks that with Hypothesis;
-- - PostgreSQL text cannot hold U+0000 at all;
-- - the audit trail's change_id is a primary key here: every server numbers
--   changes after the store's last one under one lock (store/push.py), and a
--   number taken twice must fail, not pass.

CREATE COLLATION IF NOT EXISTS unicode_classes (provider = icu, locale = 'und');

-- Names: no control or bidi-override characters.
CREATE DOMAIN plain_name AS VARCHAR
    CHECK (VALUE !~ '[\x01-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]');
-- Free text: as names, but tabs and line breaks are allowed.
CREATE DOMAIN free_text AS VARCHAR
    CHECK (VALUE !~ '[\x01-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]');
-- A record's ID: printable characters only, no spaces.
CREATE DOMAIN record_id AS VARCHAR
    CHECK (VALUE <> '' AND VALUE !~ '[\u0001-\u0020\u007F-\u00A0\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\uE000-\uF8FF\uFEFF\uFFF9-\uFFFB\U000110BD\U000110CD\U00013430-\U00013438\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\U000E0020-\U000E007F\U000F0000-\U000FFFFD\U00100000-\U0010FFFD]');
CREATE DOMAIN source_links AS VARCHAR
    CHECK (VALUE ~ '^https?://[^\s;]+( ; https?://[^\s;]+)*$');
CREATE DOMAIN confidence AS VARCHAR
    CHECK (VALUE IN ('stated', 'derived', 'inferred'));
CREATE DOMAIN figure_precision AS VARCHAR
    CHECK (VALUE IN ('exact', 'approximate', 'at_least', 'unknown'));
CREATE DOMAIN date_precision AS VARCHAR
    CHECK (VALUE IN ('day', 'month'));

CREATE TABLE countries (
    iso3        VARCHAR PRIMARY KEY CHECK (iso3 ~ '^[A-Z]{3}$'),
    name        plain_name NOT NULL,
    latitude    DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180)
);

CREATE TABLE places (
    place_id          VARCHAR PRIMARY KEY CHECK (place_id ~ '^[a-z0-9][a-z0-9-]*$'),
    name              plain_name NOT NULL,
    kind              VARCHAR NOT NULL CHECK (kind IN ('airport', 'airbase', 'city', 'region', 'hospital', 'depot', 'country')),
    iso3              VARCHAR NOT NULL REFERENCES countries (iso3),
    latitude          DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude         DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    icao              VARCHAR CHECK (icao ~ '^[A-Z0-9]{4}$'),
    iata              VARCHAR CHECK (iata ~ '^[A-Z0-9]{3}$'),
    coordinate_source plain_name NOT NULL
);

CREATE TABLE materials (
    material_code VARCHAR PRIMARY KEY CHECK (material_code ~ '^[a-z0-9_]+$'),
    name          plain_name NOT NULL,
    category      VARCHAR NOT NULL CHECK (category IN (
                      'ppe', 'medical_equipment', 'testing', 'disinfection',
                      'patients', 'personnel', 'field_hospital', 'airlift', 'mixed_supplies')),
    unit          plain_name NOT NULL
);

CREATE TABLE requests (
    request_id      record_id PRIMARY KEY,
    requester_iso3  VARCHAR NOT NULL REFERENCES countries (iso3),
    channel         VARCHAR NOT NULL CHECK (channel IN ('eadrcc', 'eucpm', 'bilateral')),
    addressed_to    plain_name,
    material_code   VARCHAR NOT NULL REFERENCES materials (material_code),
    quantity        DOUBLE PRECISION CHECK (quantity BETWEEN 0 AND 1e12),
    description     free_text NOT NULL,
    requested_on    DATE NOT NULL CHECK (requested_on BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision  date_precision NOT NULL,
    status          VARCHAR NOT NULL CHECK (status IN ('open', 'partially_fulfilled', 'fulfilled', 'closed', 'withdrawn', 'cancelled')),
    closed_on       DATE CHECK (closed_on BETWEEN '1990-01-01' AND '2100-12-31'),
    source_urls     source_links NOT NULL,
    source_note     free_text NOT NULL,
    confidence          confidence,
    quantity_precision  figure_precision,
    CHECK (closed_on IS NULL OR closed_on >= requested_on),
    CHECK (closed_on IS NULL OR status IN ('fulfilled', 'closed', 'withdrawn', 'cancelled')),
    CHECK ((quantity IS NULL) = (quantity_precision = 'unknown'))
);

CREATE TABLE flights (
    flight_id             record_id PRIMARY KEY,
    origin_place_id       VARCHAR NOT NULL REFERENCES places (place_id),
    destination_place_id  VARCHAR NOT NULL REFERENCES places (place_id),
    aircraft_type         plain_name,
    operator              plain_name NOT NULL,
    operator_kind         VARCHAR NOT NULL CHECK (operator_kind IN ('air_force', 'salis', 'sac', 'government', 'commercial', 'ngo', 'other')),
    flight_date           DATE NOT NULL CHECK (flight_date BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision        date_precision NOT NULL,
    status                VARCHAR NOT NULL CHECK (status IN ('planned', 'airborne', 'landed', 'cancelled')),
    payload_tonnes        DOUBLE PRECISION CHECK (payload_tonnes BETWEEN 0 AND 1000),
    patients              INTEGER CHECK (patients BETWEEN 0 AND 10000),
    description           free_text NOT NULL,
    source_urls           source_links NOT NULL,
    source_note           free_text NOT NULL,
    confidence            confidence,
    payload_precision     figure_precision,
    CHECK ((payload_tonnes IS NULL) = (payload_precision = 'unknown'))
);

CREATE TABLE shipments (
    shipment_id           record_id PRIMARY KEY,
    recipient_iso3        VARCHAR NOT NULL REFERENCES countries (iso3),
    provider              plain_name NOT NULL,
    provider_iso3         VARCHAR REFERENCES countries (iso3),
    material_code         VARCHAR NOT NULL REFERENCES materials (material_code),
    quantity              DOUBLE PRECISION CHECK (quantity BETWEEN 0 AND 1e12),
    description           free_text NOT NULL,
    origin_place_id       VARCHAR NOT NULL REFERENCES places (place_id),
    destination_place_id  VARCHAR NOT NULL REFERENCES places (place_id),
    mode                  VARCHAR CHECK (mode IN ('road', 'rail', 'sea', 'air')),
    dispatched_on         DATE CHECK (dispatched_on BETWEEN '1990-01-01' AND '2100-12-31'),
    delivered_on          DATE CHECK (delivered_on BETWEEN '1990-01-01' AND '2100-12-31'),
    date_precision        date_precision NOT NULL,
    status                VARCHAR NOT NULL CHECK (status IN ('planned', 'in_transit', 'delivered', 'cancelled')),
    request_id            VARCHAR REFERENCES requests (request_id),
    flight_id             VARCHAR REFERENCES flights (flight_id),
    source_urls           source_links NOT NULL,
    source_note           free_text NOT NULL,
    confidence            confidence,
    quantity_precision    figure_precision,
    CHECK (dispatched_on IS NOT NULL OR delivered_on IS NOT NULL),
    CHECK (delivered_on IS NULL OR dispatched_on IS NULL OR delivered_on >= dispatched_on),
    CHECK (status <> 'delivered' OR delivered_on IS NOT NULL),
    CHECK ((quantity IS NULL) = (quantity_precision = 'unknown'))
);

-- The store's own facts: its schema version, when its data last changed.
CREATE TABLE meta (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);

-- The audit trail, and the change feed every replica follows (store/replica.py):
-- after_row holds the whole row after the change, as DuckDB's to_json wrote it
-- (json, not jsonb, keeps that text as it was).
CREATE TABLE audit_log (
    change_id    BIGINT      PRIMARY KEY,
    change_set   VARCHAR     NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL,
    changed_by_id VARCHAR    NOT NULL CHECK (trim(changed_by_id) <> ''),
    changed_by   VARCHAR     NOT NULL CHECK (trim(changed_by) <> ''),
    via          VARCHAR     NOT NULL CHECK (via IN ('form', 'import', 'cli')),
    source_file  VARCHAR,
    action       VARCHAR     NOT NULL CHECK (action IN ('add', 'update', 'status')),
    table_name   VARCHAR     NOT NULL,
    record_id    VARCHAR     NOT NULL,
    before_row   JSON,
    after_row    JSON        NOT NULL,
    CHECK ((action = 'add') = (before_row IS NULL))
);
CREATE INDEX audit_log_record ON audit_log (table_name, record_id, change_id);

-- ============================================================== Sign-in

CREATE TABLE users (
    user_id        VARCHAR     PRIMARY KEY,
    name           VARCHAR     NOT NULL UNIQUE
                   CHECK ((name COLLATE unicode_classes) ~ '^[[:alpha:][:digit:]]([[:alpha:][:digit:] ._@''-]{0,62}[[:alpha:][:digit:]._@-])?$'),
    role           VARCHAR     NOT NULL CHECK (role IN ('viewer', 'analyst', 'staff', 'admin')),
    countries      VARCHAR[]   NOT NULL,
    password_hash  VARCHAR,
    external_id    VARCHAR,
    disabled       BOOLEAN     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK (password_hash IS NOT NULL OR external_id IS NOT NULL)
);

CREATE TABLE wall_keys (
    key_id        VARCHAR     PRIMARY KEY,
    label         VARCHAR     NOT NULL CHECK (trim(label) <> ''),
    key_hash      VARCHAR     NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    VARCHAR     NOT NULL,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ
);

CREATE TABLE sign_in_events (
    event_id     BIGINT      NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    event        VARCHAR     NOT NULL CHECK (event IN (
                     'sign_in', 'failed', 'throttled', 'sign_out', 'expired',
                     'user_added', 'role_changed', 'disabled', 'password_reset',
                     'wall_key_added', 'wall_key_revoked', 'wall_key_refused')),
    account      VARCHAR,
    user_id      VARCHAR,
    client       VARCHAR,
    by_id        VARCHAR,
    by_name      VARCHAR,
    detail       VARCHAR
);

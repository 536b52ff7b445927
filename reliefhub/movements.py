"""The `movements` table: the view `movement_source` (stored_sources.sql), kept stored.

Every map, figure and table filters movements. Computing them from five
joined tables on every rerun costs seconds at a million shipments, so they are
stored, and kept equal to the view the way a materialised view would be:

- built whole by the loader, and again on connecting when the table is
  missing, was made by other code, or has a different number of rows than its
  definition (rows written behind the app's back);
- inside every write transaction (Database.transaction), only the rows that
  the write touched are replaced. Every write leaves an audit row naming the
  table and record (operations.write_checked), so the audit rows after the
  last one already applied say exactly what to replace.

Beside it, `movement_groups` holds the movements grouped by everything but
their dates (about 2.5 times fewer rows), which the figures add up when no
date is chosen; `request_status` keeps every request as it stands once nothing
more can change it (the view `request_status_source`): what the open-requests
figures need as every page opens (on the data's last day), without adding up
a million shipments and classifying every request each time;
`countries_in_data` the countries a filter can offer (every page's sidebar),
and `data_span` the first and last day of the data (every page's date range),
both recomputed whole with each change because they are small.

`movement_flow_groups` groups them once more, without the material, record
kind and status (about half as many rows again), for the map's arcs and
places, the flight tables and the shipments table's count.

Four small integer keys travel with each row, because grouping and counting
distinct values over integers is about twice as fast as over text: `route`
for the origin-destination pair, `flight_key` for the flight, `material_key`
for the material (a material filter matches the few keys chosen) and
`aircraft_key` for the operator and aircraft type (the map gathers an arc's
aircraft as bits of it). All are handed out once and never renumbered, so
replacing a few rows never shifts others.
"""

from __future__ import annotations

import hashlib

import duckdb

from reliefhub import PACKAGE_DIR

DEFINITION_KEY = "movements_definition"
THROUGH_KEY = "movements_through_change"

# The rows a change touches: the records changed, the flights they were or are
# carried by, every shipment a changed flight carries, and everything leaving
# or reaching a changed place. Written for both the stored table and the view:
# they share these column names.
TOUCHED = """
    (record_kind = 'shipment' AND record_id IN (SELECT id FROM touched_shipments))
    OR flight_id IN (SELECT id FROM touched_flights)
    OR origin_place_id IN (SELECT id FROM touched_places)
    OR destination_place_id IN (SELECT id FROM touched_places)
"""


COUNTRIES_IN_DATA = """
    CREATE OR REPLACE TABLE countries_in_data AS
    WITH used_routes AS (
        SELECT * FROM movement_routes WHERE route IN (SELECT DISTINCT route FROM movements)
    )
    SELECT requester_iso3 AS iso3 FROM requests
    UNION SELECT recipient_iso3 FROM movements WHERE recipient_iso3 IS NOT NULL
    UNION SELECT provider_iso3 FROM movements WHERE provider_iso3 IS NOT NULL
    UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.origin_place_id
    UNION SELECT p.iso3 FROM used_routes r JOIN places p ON p.place_id = r.destination_place_id
"""
# The movements grouped by everything but their dates: what the headline and
# wall figures and the map's framing count and add up when no date is chosen
# (views.sql, filtered_movement_groups), and what the map reads when a
# material is. Replaced route by route: a change touches few routes, and a
# route's groups are quick to add up again.
GROUPS = """
    SELECT route, flight_key, aircraft_key, material_key, material_code, record_kind, status, mode,
           material_category, cargo_kind, origin_iso3, destination_iso3, recipient_iso3, provider_iso3,
           count(*)                          AS movements,
           count(*) FILTER (WHERE confidence IN ('derived', 'inferred')) AS uncertain,
           sum(patients)                     AS patients,
           min(event_date)                   AS first_date,
           max(event_date)                   AS last_date,
           bool_or(date_precision = 'month') AS has_month_only_dates
    FROM movements
"""

# The groups once more, without what the map's arcs never tell apart (the
# material, record kind and status): about half as many rows, which is what
# the map adds up when neither a material nor a date is chosen (views.sql,
# filtered_flow_groups). Replaced route by route with movement_groups. Each
# row's aircraft bit is stored: working it out on every map draw cost 1-4 ms.
FLOW_GROUPS = """
    SELECT route, flight_key, aircraft_key, mode, material_category, cargo_kind,
           origin_iso3, destination_iso3, recipient_iso3, provider_iso3,
           sum(movements)::BIGINT                                            AS movements,
           (sum(movements) FILTER (WHERE record_kind = 'shipment'))::BIGINT AS shipments,
           sum(uncertain)::BIGINT                                            AS uncertain,
           sum(patients)                                                     AS patients,
           min(first_date)                                                   AS first_date,
           max(last_date)                                                    AS last_date,
           bool_or(has_month_only_dates)                                     AS has_month_only_dates,
           key_bit(aircraft_key)                                             AS aircraft_bits
    FROM movement_groups
"""

# The span of the data: every page's default date range and "data as of".
# Recomputed whole with each change, like countries_in_data: one pass over
# two date columns, where every rerun of every page would otherwise make it.
DATA_SPAN = """
    CREATE OR REPLACE TABLE data_span AS
    SELECT
        least(min(event_date), (SELECT min(requested_on) FROM requests))    AS first_date,
        greatest(max(event_until),
                 (SELECT max(coalesce(closed_on, requested_on)) FROM requests)) AS last_date
    FROM movements
"""
STORED = (
    "movements",
    "movement_routes",
    "movement_flight_keys",
    "movement_material_keys",
    "movement_aircraft_keys",
    "movement_groups",
    "movement_flow_groups",
    "request_status",
    "countries_in_data",
    "data_span",
)


def definition_digest() -> str:
    """Changes when the definitions, or the code that stores them, change."""
    digest = hashlib.sha256()
    for name in ("stored_sources.sql", "movements.py"):
        digest.update((PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    found = con.execute("SELECT value FROM meta WHERE key = $key", {"key": key}).fetchone()
    return found[0] if found else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ($key, $value)", {"key": key, "value": value})


def _last_change(con: duckdb.DuckDBPyConnection) -> int:
    has_audit = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'audit_log' AND NOT temporary"
    ).fetchone()[0]
    if not has_audit:
        return 0
    return con.execute("SELECT coalesce(max(change_id), 0) FROM audit_log").fetchone()[0]


def _stored_kind(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "SELECT 'table' FROM duckdb_tables() WHERE table_name = 'movements' AND NOT temporary "
        "UNION ALL SELECT 'view' FROM duckdb_views() WHERE view_name = 'movements' AND NOT temporary"
    ).fetchone()
    return found[0] if found else None


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Build the table whole from its definition (inside the caller's transaction, if any)."""
    if _stored_kind(con) == "view":  # databases made before the table existed
        con.execute("DROP VIEW movements")
    con.execute(
        """
        CREATE OR REPLACE TABLE movement_routes AS
        SELECT row_number() OVER (ORDER BY origin_place_id, destination_place_id)::INTEGER AS route,
               origin_place_id, destination_place_id
        FROM (SELECT DISTINCT origin_place_id, destination_place_id FROM movement_source);

        CREATE OR REPLACE TABLE movement_flight_keys AS
        SELECT row_number() OVER (ORDER BY flight_id)::INTEGER AS flight_key, flight_id
        FROM flights;

        CREATE OR REPLACE TABLE movement_material_keys AS
        SELECT row_number() OVER (ORDER BY material_code)::SMALLINT AS material_key, material_code
        FROM materials;

        CREATE OR REPLACE TABLE movement_aircraft_keys AS
        SELECT row_number() OVER (ORDER BY aircraft)::SMALLINT AS aircraft_key, aircraft
        FROM (SELECT DISTINCT aircraft_name(flight_id, operator, aircraft_type) AS aircraft FROM flights);
        """
    )
    # Ordered by date, so a date filter skips whole blocks of rows.
    con.execute(f"CREATE OR REPLACE TABLE movements AS {with_keys('movement_source')}")
    con.execute(f"CREATE OR REPLACE TABLE movement_groups AS {GROUPS} GROUP BY ALL ORDER BY route")
    con.execute(f"CREATE OR REPLACE TABLE movement_flow_groups AS {FLOW_GROUPS} GROUP BY ALL ORDER BY route")
    con.execute("CREATE OR REPLACE TABLE request_status AS FROM request_status_source ORDER BY requested_on")
    con.execute(COUNTRIES_IN_DATA)
    con.execute(DATA_SPAN)
    _set_meta(con, DEFINITION_KEY, definition_digest())
    _set_meta(con, THROUGH_KEY, str(_last_change(con)))


def with_keys(rows: str) -> str:
    """`rows` (movement_source, or the rows a change touched) with their small
    integer keys, in date order."""
    return f"""
        SELECT t.*, r.route, k.flight_key, mk.material_key, ak.aircraft_key
        FROM {rows} t
        JOIN movement_routes r USING (origin_place_id, destination_place_id)
        LEFT JOIN movement_flight_keys k USING (flight_id)
        LEFT JOIN movement_material_keys mk USING (material_code)
        LEFT JOIN movement_aircraft_keys ak
               ON ak.aircraft = aircraft_name(t.flight_id, t.operator, t.aircraft_type)
        ORDER BY t.event_date, t.record_kind, t.record_id
    """  # noqa: S608 (rows is one of two constant names)


def linked_by_touched_shipments(column: str) -> str:
    """The flights or requests (`column`) the touched shipments were linked to
    before this change (the stored movements) and are linked to now."""
    return f"""
        SELECT {column} FROM movements
        WHERE record_kind = 'shipment' AND {column} IS NOT NULL
          AND record_id IN (SELECT id FROM touched_shipments)
        UNION
        SELECT {column} FROM shipments
        WHERE {column} IS NOT NULL AND shipment_id IN (SELECT id FROM touched_shipments)
    """  # noqa: S608 (column is one of two constants)


def catch_up(con: duckdb.DuckDBPyConnection) -> int:
    """Replace the rows touched by changes not yet applied; returns how many
    changes were applied. Call inside the write's transaction."""
    through = int(_meta(con, THROUGH_KEY) or 0)
    last = _last_change(con)
    if last <= through:
        return 0
    # Replacing rows costs about three times as much per row as building all
    # of them (a million imported shipments: 19 s to replace, 6 s to build), so
    # a change larger than half of what is stored builds everything again.
    if last - through > con.execute("SELECT count(*) FROM movements").fetchone()[0] / 2:
        rebuild(con)
        return last - through
    con.execute(
        "CREATE OR REPLACE TEMP TABLE touched_changes AS "
        "SELECT table_name, record_id FROM audit_log WHERE change_id > $through",
        {"through": through},
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE touched_places AS
        SELECT DISTINCT record_id AS id FROM touched_changes WHERE table_name = 'places';

        CREATE OR REPLACE TEMP TABLE touched_shipments AS
        SELECT DISTINCT record_id AS id FROM touched_changes WHERE table_name = 'shipments';

        -- A shipment moved from one flight to another changes both flights'
        -- rows (a flight with no shipment left gets a row of its own again).
        CREATE OR REPLACE TEMP TABLE touched_flights AS
        SELECT record_id AS id FROM touched_changes WHERE table_name = 'flights'
        UNION
        {linked_by_touched_shipments("flight_id")};
        """  # noqa: S608 (a constant column name)
    )
    con.execute(
        """
        INSERT INTO movement_flight_keys
        SELECT (SELECT coalesce(max(flight_key), 0) FROM movement_flight_keys)
               + row_number() OVER (ORDER BY id)::INTEGER, id
        FROM touched_flights
        WHERE id IN (SELECT flight_id FROM flights)
          AND id NOT IN (SELECT flight_id FROM movement_flight_keys);
        """
    )
    # The requests changed, and those a changed shipment answered before and answers now.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE touched_requests AS
        SELECT record_id AS id FROM touched_changes WHERE table_name = 'requests'
        UNION
        {linked_by_touched_shipments("request_id")};

        DELETE FROM request_status WHERE request_id IN (SELECT id FROM touched_requests);

        INSERT INTO request_status
        SELECT * FROM request_status_source WHERE request_id IN (SELECT id FROM touched_requests);
        """  # noqa: S608 (a constant column name)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE touched_rows AS SELECT * FROM movement_source WHERE {TOUCHED}")  # noqa: S608 (a constant)
    con.execute(
        f"""
        INSERT INTO movement_routes
        SELECT (SELECT coalesce(max(route), 0) FROM movement_routes)
               + row_number() OVER (ORDER BY origin_place_id, destination_place_id)::INTEGER,
               origin_place_id, destination_place_id
        FROM (SELECT DISTINCT origin_place_id, destination_place_id FROM touched_rows) pairs
        WHERE NOT EXISTS (
            SELECT 1 FROM movement_routes r
            WHERE r.origin_place_id = pairs.origin_place_id
              AND r.destination_place_id = pairs.destination_place_id
        );

        INSERT INTO movement_material_keys
        SELECT (SELECT coalesce(max(material_key), 0) FROM movement_material_keys)
               + row_number() OVER (ORDER BY material_code)::SMALLINT,
               material_code
        FROM (SELECT DISTINCT material_code FROM touched_rows WHERE material_code IS NOT NULL)
        WHERE material_code NOT IN (SELECT material_code FROM movement_material_keys);

        INSERT INTO movement_aircraft_keys
        SELECT (SELECT coalesce(max(aircraft_key), 0) FROM movement_aircraft_keys)
               + row_number() OVER (ORDER BY aircraft)::SMALLINT,
               aircraft
        FROM (SELECT DISTINCT aircraft_name(flight_id, operator, aircraft_type) AS aircraft
              FROM touched_rows WHERE flight_id IS NOT NULL)
        WHERE aircraft NOT IN (SELECT aircraft FROM movement_aircraft_keys);

        -- The routes whose groups change: those of the rows replaced, before and after.
        CREATE OR REPLACE TEMP TABLE touched_routes AS
        SELECT route FROM movements WHERE {TOUCHED}
        UNION
        SELECT r.route
        FROM touched_rows t JOIN movement_routes r USING (origin_place_id, destination_place_id);

        DELETE FROM movements WHERE {TOUCHED};

        INSERT INTO movements {with_keys("touched_rows")};

        DELETE FROM movement_groups WHERE route IN (SELECT route FROM touched_routes);

        INSERT INTO movement_groups
        {GROUPS} WHERE route IN (SELECT route FROM touched_routes) GROUP BY ALL;

        DELETE FROM movement_flow_groups WHERE route IN (SELECT route FROM touched_routes);

        INSERT INTO movement_flow_groups
        {FLOW_GROUPS} WHERE route IN (SELECT route FROM touched_routes) GROUP BY ALL;

        DROP TABLE touched_rows;
        DROP TABLE touched_changes;
        DROP TABLE touched_places;
        DROP TABLE touched_shipments;
        DROP TABLE touched_flights;
        DROP TABLE touched_requests;
        DROP TABLE touched_routes;
        """  # noqa: S608 (TOUCHED and GROUPS are constants)
    )
    con.execute(COUNTRIES_IN_DATA)
    con.execute(DATA_SPAN)
    _set_meta(con, THROUGH_KEY, str(last))
    return last - through


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Stored by this code, every change applied, and as many rows as their definitions.
    Counting the definition's rows needs no joins beyond one anti-join on flights."""
    if _meta(con, DEFINITION_KEY) != definition_digest():
        return False
    stored = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE list_contains($names, table_name) AND NOT temporary",
        {"names": list(STORED)},
    ).fetchone()[0]
    if stored < len(STORED):
        return False
    if int(_meta(con, THROUGH_KEY) or 0) != _last_change(con):
        return False
    stored, defined = con.execute(
        """
        SELECT [(SELECT count(*) FROM movements), (SELECT count(*) FROM request_status),
                (SELECT coalesce(sum(movements), 0) FROM movement_groups),
                (SELECT coalesce(sum(movements), 0) FROM movement_flow_groups)],
               [(SELECT count(*) FROM shipments)
                + (SELECT count(*) FROM flights f
                   WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.flight_id = f.flight_id)),
                (SELECT count(*) FROM requests),
                (SELECT count(*) FROM movements),
                (SELECT count(*) FROM movements)]
        """
    ).fetchone()
    return stored == defined


def ensure_current(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the table if it cannot be trusted (a writable connection only)."""
    if is_current(con):
        return
    cursor = con.cursor()
    try:
        cursor.begin()
        rebuild(cursor)
        cursor.commit()
    except BaseException:
        cursor.rollback()
        raise
    finally:
        cursor.close()

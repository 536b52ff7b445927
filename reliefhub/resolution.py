"""What a partner's cells name: countries, materials and places read as the hub's codes.

Works on a staged file's DISTINCT values, never row by row: each column's
values are grouped in SQL, the few distinct ones are matched (in SQL against
the hub's own tables, in Python against the catalogues), and the rows are then
rewritten by exact value. A value read as something else is listed, with how
many rows hold it; a value that names several things, or nothing, is reported
on each of its lines and never guessed.

Places the hub does not know yet may come from the catalogues (reliefhub.
catalogues): they are listed as places to create, then staged, checked and
written, with their audit rows, in the import's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from reliefhub import catalogues
from reliefhub.catalogues import Candidate
from reliefhub.validation import LINE, Problem, column_rules, quote, table_columns
from reliefhub.writes import check_staged, write_checked

# The row's country a place is looked up in (a city named in the file).
PLACE_COUNTRY = {("shipments", "destination_place_id"): "recipient_iso3"}
NEW_PLACE_COLUMNS = [
    "place_id", "name", "kind", "iso3", "latitude", "longitude", "icao", "iata", "coordinate_source",
]  # fmt: skip
SUGGESTED_VALUES = 100
NAME_KEY = "lower(strip_accents(trim({})))"
SEVERAL = (
    "matches several places in the catalogues: {}; give the place ID of a known place, or add the place first"
)


@dataclass
class Resolution:
    # (column, value in the file, what it was read as, rows)
    read_as: list[tuple[str, str, str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # place id -> the catalogue place it is made from, and (column, value, rows) using it
    new_places: dict[str, Candidate] = field(default_factory=dict)
    new_place_uses: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)

    def new_places_frame(self) -> pd.DataFrame:
        rows = [
            (place_id, c.name, c.kind, c.iso3, c.latitude, c.longitude, c.icao, c.iata, c.coordinate_source,
             "; ".join(f"{col} {value!r} ({n:,} rows)" for col, value, n in self.new_place_uses[place_id]))
            for place_id, c in sorted(self.new_places.items())
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=[*NEW_PLACE_COLUMNS, "read from"], dtype=object)


def hub_countries(cur: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, float, float]]:
    return {
        r[0]: r[1:] for r in cur.execute("SELECT iso3, name, latitude, longitude FROM countries").fetchall()
    }


# ---------------------------------------------------------------- names of known things


def _name_table(cur: duckdb.DuckDBPyConnection, name: str, pairs: list[tuple[str, str]] | str) -> None:
    """A temp table `name` of (name_key, ids): each spelling and the codes it may mean.
    `pairs` is SQL giving (spelling, code), or the pairs themselves."""
    if isinstance(pairs, str):
        source = pairs
    else:
        frame = pd.DataFrame(pairs, columns=["spelling", "code"])  # noqa: F841 (read by DuckDB by name)
        source = "SELECT spelling, code FROM frame"
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {NAME_KEY.format('spelling')} AS name_key, "  # noqa: S608
        f"list(DISTINCT code ORDER BY code) AS ids FROM ({source}) AS t(spelling, code) "
        "WHERE spelling IS NOT NULL GROUP BY ALL"
    )


def _match_column(
    cur: duckdb.DuckDBPyConnection,
    stage: str,
    column: str,
    names: str,
    known: str,
    label: str,
    noun: tuple[str, str],
) -> tuple[list[tuple[str, str, str, int]], list[Problem]]:
    """Rewrite `column`'s values that spell exactly one code of `names`; report those that spell several.
    Values already in `known` (SQL of valid codes) stay as they are."""
    c = quote(column)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE name_matches AS SELECT v.value, v.n, k.ids "  # noqa: S608
        f"FROM (SELECT {c} AS value, count(*) AS n FROM {quote(stage)} GROUP BY ALL) v "
        f"JOIN {names} k ON k.name_key = {NAME_KEY.format('v.value')} WHERE trim(v.value) NOT IN ({known})"
    )
    problems = []
    several = dict(cur.execute("SELECT value, ids FROM name_matches WHERE len(ids) > 1").fetchall())
    if several:
        for line, value in cur.execute(
            f"SELECT {LINE}, {c} FROM {quote(stage)} "  # noqa: S608
            f"WHERE {c} IN (SELECT value FROM name_matches WHERE len(ids) > 1) ORDER BY {LINE}"
        ).fetchall():
            reason = f"matches several {noun[0]} ({', '.join(several[value])}); give the {noun[1]}"
            problems.append(Problem(label, line, column, value, reason))
    matched = [
        (column, value, code, n)
        for value, code, n in cur.execute(
            "SELECT value, ids[1], n FROM name_matches WHERE len(ids) = 1 ORDER BY value"
        ).fetchall()
    ]
    if matched:
        cur.execute(
            f"UPDATE {quote(stage)} AS s SET {c} = m.ids[1] FROM name_matches m "  # noqa: S608
            f"WHERE s.{c} = m.value AND len(m.ids) = 1"
        )
    return matched, problems


def _columns_referencing(cur: duckdb.DuckDBPyConnection, kind: str, stage: str, table: str) -> list[str]:
    header = {c for c, _ in table_columns(cur, stage)}
    return [r.name for r in column_rules(cur, kind) if r.references == table and r.name in header]


def resolve_codes(
    cur: duckdb.DuckDBPyConnection, kind: str, stage: str, label: str, result: Resolution
) -> None:
    """Country cells given as ISO alpha-2 codes or English or French names, and
    material cells given by the catalogue's name, any case or accents, become codes."""
    hub = hub_countries(cur)
    spellings = [(name, iso3) for name, iso3 in catalogues.country_names().items() if iso3 in hub]
    _name_table(cur, "country_names", spellings + [(name, iso3) for iso3, (name, *_) in hub.items()])
    _name_table(cur, "material_names", "SELECT name, material_code FROM materials UNION ALL "
                "SELECT material_code, material_code FROM materials")  # fmt: skip
    for table, names, known, noun in (
        ("countries", "country_names", "SELECT iso3 FROM countries", ("countries", "ISO alpha-3 code")),
        (
            "materials",
            "material_names",
            "SELECT material_code FROM materials",
            ("materials", "material code"),
        ),
    ):
        for column in _columns_referencing(cur, kind, stage, table):
            matched, problems = _match_column(cur, stage, column, names, known, label, noun)
            result.read_as += matched
            result.problems += problems


# ---------------------------------------------------------------- places


def resolve_places(
    cur: duckdb.DuckDBPyConnection, kind: str, stage: str, label: str, result: Resolution
) -> None:
    """Place cells given by name or airport code become place ids; places the
    hub lacks are looked up in the catalogues and planned for creation."""
    columns = _columns_referencing(cur, kind, stage, "places")
    if not columns:
        return
    _name_table(
        cur,
        "place_names",
        "SELECT name, place_id FROM places UNION ALL SELECT icao, place_id FROM places "
        "UNION ALL SELECT iata, place_id FROM places UNION ALL SELECT place_id, place_id FROM places",
    )
    for column in columns:
        matched, problems = _match_column(
            cur, stage, column, "place_names", "SELECT place_id FROM places", label, ("places", "place ID")
        )
        result.read_as += matched
        result.problems += problems
        _from_catalogues(cur, kind, stage, column, label, result, skip={p.value.strip() for p in problems})


def _from_catalogues(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    stage: str,
    column: str,
    label: str,
    result: Resolution,
    skip: set,
) -> None:
    """The column's distinct values no place matches, looked up in the catalogues (within the row's
    country where the file gives one): one candidate is planned as a new place, others are reported."""
    c, country = quote(column), _row_country(cur, kind, stage, column)
    unknown = cur.execute(
        f"SELECT trim({c}) AS value, {country.format(s='')} AS iso3, count(*) FROM {quote(stage)} "  # noqa: S608
        f"WHERE nullif(trim({c}), '') IS NOT NULL AND trim({c}) NOT IN (SELECT place_id FROM places) "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    if not unknown:
        return
    hub = hub_countries(cur)
    known = {catalogues.key(n): n for (n,) in cur.execute("SELECT name FROM places").fetchall()}
    mapping, failures = [], []
    for value, iso3, n in unknown:
        if value in skip:
            continue
        found = catalogues.place_candidates(value, iso3, hub)
        if len(found) == 1 and found[0].iso3 in hub:
            place_id = _plan(cur, found[0], result)
            mapping.append((value, iso3, place_id))
            result.read_as.append((column, value, place_id, n))
            if place_id in result.new_places:
                result.new_place_uses[place_id].append((column, value, n))
        else:
            # Spellings are searched for the first few values only: a file of thousands of
            # unknown names gets its report in seconds all the same.
            spellings = known | catalogues.city_spellings(iso3) if len(failures) < SUGGESTED_VALUES else {}
            failures.append((value, iso3, _why_not(cur, value, iso3, found, hub, spellings)))
    _rewrite(cur, stage, column, country, mapping)
    result.problems += _failure_lines(cur, stage, column, country, failures, label)


def _row_country(cur: duckdb.DuckDBPyConnection, kind: str, stage: str, column: str) -> str:
    """SQL for the country a row's place lies in, where the file says (already read as a code);
    `{s}` in it stands for the stage's alias."""
    country = PLACE_COUNTRY.get((kind, column))
    if country is None or country not in {c for c, _ in table_columns(cur, stage)}:
        return "NULL::VARCHAR"
    q = "{s}" + quote(country)  # {s}: the stage's alias in the query, if any
    return f"CASE WHEN trim({q}) IN (SELECT iso3 FROM countries) THEN trim({q}) END"  # noqa: S608


def _plan(cur: duckdb.DuckDBPyConnection, candidate: Candidate, result: Resolution) -> str:
    """The id of the place `candidate` is: a hub place made from it before, one planned, or a new one."""
    base = candidate.place_id()
    stored = cur.execute("SELECT kind, iso3 FROM places WHERE place_id = $id", {"id": base}).fetchone()
    if stored == (candidate.kind, candidate.iso3):
        return base  # created by an earlier import of the same name: the same place
    for place_id, planned in result.new_places.items():
        if planned == candidate:
            return place_id
    taken = {r[0] for r in cur.execute(
        "SELECT place_id FROM places WHERE place_id = $id OR starts_with(place_id, $id || '-')", {"id": base}
    ).fetchall()} | set(result.new_places)  # fmt: skip
    place_id, n = base, 1
    while place_id in taken:
        n += 1
        place_id = f"{base}-{n}"
    result.new_places[place_id] = candidate
    result.new_place_uses[place_id] = []
    return place_id


def _why_not(
    cur: duckdb.DuckDBPyConnection,
    value: str,
    iso3: str | None,
    found: list[Candidate],
    hub: dict[str, tuple[str, float, float]],
    spellings: dict[str, str],
) -> str:
    """Why `value` is not one place the hub may create, and what it could be instead."""
    if len(found) == 1:
        return (
            f"{found[0].described()} is in {found[0].iso3}, a country the hub's countries table does not hold"
        )
    if found:
        return SEVERAL.format(" or ".join(c.described() for c in found))
    inner = catalogues.without_qualifier(value)
    if inner:
        known = cur.execute(
            f"SELECT ids FROM place_names WHERE name_key = {NAME_KEY.format('$inner')}",  # noqa: S608
            {"inner": inner},
        ).fetchone()
        inside = catalogues.place_candidates(inner, iso3, hub)
        if known or inside:
            what = (
                "place " + " or ".join(known[0])
                if known
                else ("a new place: " if len(inside) == 1 else "several places: ")
                + " or ".join(c.described() for c in inside)
            )
            return (
                f"holds more than a place: {inner!r} alone would be read as {what}; put only the place here"
            )
    code = catalogues.looks_like_code(value)
    if code:
        return f"unknown {code} code: neither the hub's places nor the {catalogues.AIRPORTS} catalogue has it"
    if not spellings:
        return "unknown place"
    near = catalogues.closest(inner or value, spellings)
    if near:
        return "unknown place; the closest known spellings are " + ", ".join(near)
    return f"unknown place: no place in the hub or city in {catalogues.CITIES} is spelled like it"


def _rewrite(
    cur: duckdb.DuckDBPyConnection, stage: str, column: str, country: str, mapping: list[tuple]
) -> None:
    if not mapping:
        return
    frame = pd.DataFrame(mapping, columns=["value", "iso3", "place_id"])  # noqa: F841 (read by DuckDB)
    c = quote(column)
    cur.execute(
        f"UPDATE {quote(stage)} AS s SET {c} = m.place_id FROM frame m "  # noqa: S608
        f"WHERE trim(s.{c}) = m.value AND {country.format(s='s.')} IS NOT DISTINCT FROM m.iso3"
    )


def _failure_lines(
    cur: duckdb.DuckDBPyConnection, stage: str, column: str, country: str, failures: list[tuple], label: str
) -> list[Problem]:
    if not failures:
        return []
    frame = pd.DataFrame(failures, columns=["value", "iso3", "reason"])  # noqa: F841 (read by DuckDB)
    c = quote(column)
    rows = cur.execute(
        f"SELECT s.{LINE}, s.{c}, f.reason FROM {quote(stage)} s JOIN frame f "  # noqa: S608
        f"ON trim(s.{c}) = f.value AND {country.format(s='s.')} IS NOT DISTINCT FROM f.iso3 "
        f"ORDER BY s.{LINE}"
    ).fetchall()
    return [Problem(label, line, column, value, reason) for line, value, reason in rows]


def write_new_places(
    cur: duckdb.DuckDBPyConnection, result: Resolution, label: str, **audit
) -> list[Problem]:
    """Stage, check and write the planned places with their audit rows (inside the import's transaction)."""
    if not result.new_places:
        return []
    frame = result.new_places_frame()[NEW_PLACE_COLUMNS].astype("string")  # noqa: F841 (read by DuckDB)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE new_places AS SELECT row_number() OVER () AS {LINE}, * FROM frame"  # noqa: S608
    )
    # The importer's role and countries decide which places they may create.
    typed, problems = check_staged(cur, "places", "new_places", label, who=audit["who"])
    if problems:
        return [Problem(label, 0, "places to create", p.value, f"{p.column}: {p.problem}") for p in problems]
    write_checked(cur, "places", typed, source_file=label, **audit)
    return []


# ---------------------------------------------------------------- a places file


def fill_places(cur: duckdb.DuckDBPyConnection, stage: str, label: str, result: Resolution) -> list[str]:
    """A places row may give an ICAO or IATA code instead of coordinates: name, kind, country and
    coordinates come from the airport catalogue where the row leaves them empty. A row's own
    coordinates are sourced to the file; a row without an ID gets one made from its name."""
    notices = _fill_from_airports(cur, stage, label, result)
    cur.execute(
        f"UPDATE {quote(stage)} SET coordinate_source = $given "  # noqa: S608
        "WHERE nullif(trim(coordinate_source), '') IS NULL AND nullif(trim(latitude), '') IS NOT NULL",
        {"given": f"as given in {label}"},
    )
    cur.execute(
        f"UPDATE {quote(stage)} SET place_id = trim(regexp_replace("  # noqa: S608
        "lower(strip_accents(trim(name))), '[^a-z0-9]+', '-', 'g'), '-') "
        "WHERE nullif(trim(place_id), '') IS NULL AND nullif(trim(name), '') IS NOT NULL"
    )
    return notices


# The airport code of a places row without coordinates: its ICAO code, else its IATA code.
ROW_CODE = "coalesce(nullif(upper(trim({s}icao)), ''), upper(trim({s}iata)))"
WITHOUT_COORDINATES = "nullif(trim({s}latitude), '') IS NULL"


def _fill_from_airports(
    cur: duckdb.DuckDBPyConnection, stage: str, label: str, result: Resolution
) -> list[str]:
    codes = cur.execute(
        f"SELECT DISTINCT {ROW_CODE.format(s='')} FROM {quote(stage)} "  # noqa: S608
        f"WHERE {WITHOUT_COORDINATES.format(s='')} AND {ROW_CODE.format(s='')} <> ''"
    ).fetchall()
    airports = {code: catalogues.airport_candidate(code) for (code,) in codes}
    found = [(code, *(getattr(a, f) for f in NEW_PLACE_COLUMNS[1:])) for code, a in airports.items() if a]
    missing = [code for code, airport in airports.items() if airport is None]
    if missing:
        for line, value in cur.execute(
            f"SELECT {LINE}, {ROW_CODE.format(s='')} FROM {quote(stage)} "  # noqa: S608
            f"WHERE {WITHOUT_COORDINATES.format(s='')} AND list_contains($missing, {ROW_CODE.format(s='')})",
            {"missing": missing},
        ).fetchall():
            reason = f"not in the {catalogues.AIRPORTS} catalogue: give the place's latitude and longitude"
            result.problems.append(Problem(label, line, "icao" if len(value) == 4 else "iata", value, reason))
    if not found:
        return []
    frame = pd.DataFrame(found, columns=["code", *NEW_PLACE_COLUMNS[1:]]).astype("string")  # noqa: F841
    # The row's own values stay; its codes are written as the catalogue spells them.
    keep = [f"{c} = coalesce(nullif(trim(s.{c}), ''), f.{c})" for c in NEW_PLACE_COLUMNS[1:6]]
    keep += [f"{c} = coalesce(f.{c}, s.{c})" for c in ("icao", "iata")]
    keep += ["coordinate_source = coalesce(nullif(trim(s.coordinate_source), ''), f.coordinate_source)"]
    cur.execute(
        f"UPDATE {quote(stage)} AS s SET {', '.join(keep)} FROM frame f "  # noqa: S608
        f"WHERE f.code = {ROW_CODE.format(s='s.')} AND {WITHOUT_COORDINATES.format(s='s.')}"
    )
    return [f"{len(found):,} airport code(s) completed from the {catalogues.AIRPORTS} catalogue"]

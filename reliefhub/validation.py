"""Row-by-row validation of incoming CSV data, done in DuckDB over the whole file.

The rules live once, in the tables' definitions (reliefhub/migrations/). This
module reads them back from DuckDB's catalogue (column types, NOT NULL, CHECK,
keys, references) and turns each broken rule into a problem that names the
line, the column and the reason, so a sender can fix the file instead of
puzzling over one opaque constraint error. A few rules that span tables, and
that DuckDB cannot declare, are added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb

LINE = "__line"

# How a referenced table is named in a message ("unknown country code 'XXX'").
REFERENCE_WORDS = {
    "countries": "country code",
    "places": "place",
    "materials": "material code",
    "requests": "request",
    "flights": "flight",
}

TYPE_WORDS = {
    "DATE": "a date (YYYY-MM-DD)",
    "DOUBLE": "a number",
    "INTEGER": "a whole number",
    "BIGINT": "a whole number",
}

# Rules that span tables. Each is (table, column, SQL returning the offending
# line and value from the typed rows `t`, message).
CROSS_TABLE_RULES = [
    (
        "shipments",
        "request_id",
        """SELECT t.__line, t.request_id FROM {typed} t
           JOIN requests r ON r.request_id = t.request_id
           WHERE r.material_code <> t.material_code""",
        "answers a request for a different material",
    ),
    (
        "shipments",
        "mode",
        "SELECT t.__line, t.mode FROM {typed} t WHERE t.flight_id IS NOT NULL AND t.mode <> 'air'",
        "a shipment carried by a flight must have mode 'air'",
    ),
    (
        "flights",
        "destination_place_id",
        """SELECT t.__line, t.destination_place_id FROM {typed} t
           WHERE t.origin_place_id = t.destination_place_id""",
        "a flight must land somewhere other than where it took off",
    ),
    (
        "shipments",
        "request_id",
        """SELECT t.__line, t.request_id FROM {typed} t
           JOIN requests r ON r.request_id = t.request_id
           WHERE r.requester_iso3 <> t.recipient_iso3""",
        "answers a request from another country than the recipient",
    ),
]

# Status changes that make sense: from each status, the ones it may become.
# Staying the same is always fine; anything else is refused (a cancelled
# request cannot become fulfilled, a delivered shipment cannot go back on the road).
STATUS_CHANGES = {
    "requests": {
        "open": ("partially_fulfilled", "fulfilled", "closed", "withdrawn", "cancelled"),
        "partially_fulfilled": ("fulfilled", "closed", "withdrawn", "cancelled"),
        "fulfilled": (),
        "closed": (),
        "withdrawn": (),
        "cancelled": (),
    },
    "shipments": {
        "planned": ("in_transit", "delivered", "cancelled"),
        "in_transit": ("delivered", "cancelled"),
        "delivered": (),
        "cancelled": (),
    },
    "flights": {
        "planned": ("airborne", "landed", "cancelled"),
        "airborne": ("landed",),
        "landed": (),
        "cancelled": (),
    },
}


def _status_change_rules() -> list[tuple[str, str, str, str]]:
    """One cross-table rule per status a stored row can have: the row as it is
    in the database against the same row as it arrives."""
    rules = []
    for table, changes in STATUS_CHANGES.items():
        key = table.removesuffix("s") + "_id"
        noun = table.removesuffix("s")
        for before, allowed in changes.items():
            keep = ", ".join(f"'{status}'" for status in (before, *allowed))
            words = before.replace("_", " ")
            article = "an" if words[0] in "aeiou" else "a"
            message = (
                f"{article} {words} {noun} can only become "
                + " or ".join(s.replace("_", " ") for s in allowed)
                if allowed
                else f"{article} {words} {noun} cannot change status"
            )
            rules.append(
                (
                    table,
                    "status",
                    # The stored status tested after the join, not pushed into
                    # reading the table: a form's one row is then looked up by
                    # its key's index instead of joined with every stored row.
                    f"""SELECT t.__line, t.status FROM {{typed}} t
                        JOIN {table} stored ON stored.{key} = t.{key}
                        WHERE CASE WHEN t.status NOT IN ({keep}) THEN stored.status = '{before}' END""",
                    message,
                )
            )
    return rules


CROSS_TABLE_RULES += _status_change_rules()


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    value: str | None
    problem: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.file}, line {self.line}, column {self.column}{shown}: {self.problem}"


class ValidationError(Exception):
    """Raised with every problem found; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) found, nothing was written:\n{shown}{more}")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE table_name = $table AND schema_name = 'main' ORDER BY column_index",
        {"table": table},
    ).fetchall()


class Constraint(NamedTuple):
    table: str
    kind: str  # 'PRIMARY KEY', 'NOT NULL', 'CHECK', 'FOREIGN KEY', 'UNIQUE'
    columns: list[str]
    expression: str | None
    referenced_table: str | None
    referenced_columns: list[str] | None


# The catalogue's constraints by the tables' definitions: see constraints().
_catalogue: dict[tuple, tuple[Constraint, ...]] = {}


def constraints(con: duckdb.DuckDBPyConnection, table: str | None = None) -> tuple[Constraint, ...]:
    """The constraints of the database's own tables (of `table` alone if
    named), as DuckDB's catalogue holds them. duckdb_constraints() costs tens
    of milliseconds a call, a form save would ask it seven times, so they are
    read once per schema: kept under the tables' CREATE statements (which any
    change to a table's columns or constraints changes), read on each call."""
    ddl = tuple(
        con.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT temporary ORDER BY table_name"
        ).fetchall()
    )
    found = _catalogue.get(ddl)
    if found is None:
        found = tuple(
            Constraint(*row)
            for row in con.execute(
                "SELECT table_name, constraint_type, constraint_column_names, expression, referenced_table, "
                "referenced_column_names FROM duckdb_constraints() "
                "WHERE database_name = current_database() AND schema_name = 'main'"
            ).fetchall()
        )
        _catalogue.clear()  # one schema at a time in practice: it never grows
        _catalogue[ddl] = found
    return tuple(c for c in found if table is None or c.table == table)


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    stage: str,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> list[str]:
    """Read a CSV as text into a temp table numbered by file line; return its header."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote(stage)} AS "
        f"SELECT row_number() OVER () + 1 AS {LINE}, * FROM read_csv($path, header = true, "
        "all_varchar = true, delim = $delim, quote = '\"', escape = '\"', encoding = $encoding, "
        # skip = 0: the header is line 1, never a line the sniffer decides to skip; comment = '':
        # a row starting with '#' (an HXL hashtag row) is a row, never a comment dropped unseen.
        "strict_mode = true, null_padding = false, skip = 0, comment = '')",
        {"path": str(path), "delim": delimiter, "encoding": encoding},
    )
    return [c for c, _ in table_columns(con, stage) if c != LINE]


# CHECKs over two columns, as DuckDB prints them, and how to say them.
CHECK_WORDS = [
    (r"\(\((\w+) IS NULL\) = \((\w+) = '(\w+)'\)\)", "{1} is '{2}' when, and only when, {0} is empty"),
    (r"\(\((\w+) IS NULL\)(?: OR \(\w+ IS NULL\))? OR \(\1 >= (\w+)\)\)", "{0} must not be before {1}"),
    (r"\(\((\w+) IS NOT NULL\) OR \((\w+) IS NOT NULL\)\)", "give {0} or {1} (or both)"),
    (r"\(\((\w+) IS NULL\) OR \((\w+) IN \((.*)\)\)\)", "{0} is only given when {1} is one of: {2}"),
    (r"\(\((\w+) != '(\w+)'\) OR \((\w+) IS NOT NULL\)\)", "{2} is required when {0} is {1}"),
]


# The text rules of the tables' definitions, by a piece of their pattern, in words.
PATTERN_WORDS = [
    ("[^\\p{C}\\p{Z}]+", "must be printable characters only: no spaces, control or invisible characters"),
    ("https?://", "must be http:// or https:// links, several separated by ' ; '"),
    ("\\x0B\\x0C", "must not hold control characters (tabs and line breaks are fine)"),
    ("\\x00-\\x1F", "must not hold control characters, line breaks or text-direction overrides"),
]


def _describe_check(expression: str) -> str:
    """Plain words for the common CHECK shapes; the rule itself otherwise."""
    for pattern, words in CHECK_WORDS:
        if m := re.fullmatch(pattern, expression):
            return words.format(*(g.replace("'", "") for g in m.groups()))
    if m := re.fullmatch(r"\(\"?\w+\"? IN \((.*)\)\)", expression):
        return "must be one of: " + m.group(1).replace("'", "")
    if re.fullmatch(r"\(\w+ >= 0\)", expression):
        return "must not be negative"
    if m := re.fullmatch(r"\(\w+ BETWEEN (\S+) AND (\S+)\)", expression):
        return f"must be between {_bound(m.group(1))} and {_bound(m.group(2))}"
    for piece, words in PATTERN_WORDS:
        if "regexp_" in expression and piece in expression:
            return words
    if "regexp_full_match" in expression:
        return "has the wrong format"
    return f"breaks the rule {expression}"


def _bound(text: str) -> str:
    """A BETWEEN bound as people write it: '1990-01-01', 1,000,000,000,000."""
    try:
        number = float(text)
    except ValueError:
        return text.strip("'")
    return f"{number:,.0f}" if number.is_integer() else f"{number:,}"


BOM = "chr(65279)"
TRIMMED = f"' ' || {BOM}"


def trimmed(text: str) -> str:
    """SQL for a cell without its surrounding spaces and byte-order marks: a
    BOM at the start of a line (files pasted together) is no part of an ID.
    `text` is a column, read several times. trim() with a set of characters
    looks at every character of every cell; the few cells that begin or end
    with one of them are found first by their ends alone."""
    ends = " OR ".join(
        f"{text} LIKE {pattern}" for pattern in ("' %'", "'% '", f"{BOM} || '%'", f"'%' || {BOM}")
    )
    return f"CASE WHEN {ends} THEN trim({text}, {TRIMMED}) ELSE {text} END"


def _cast(column: str, data_type: str) -> str:
    return f"{_cast_value(quote(column), data_type)} AS {quote(column)}"


def _cast_value(cell: str, data_type: str) -> str:
    """SQL for a staged text cell as a value of `data_type`; NULL when blank or not of the type."""
    text = f"nullif({trimmed(cell)}, '')"
    if data_type in ("INTEGER", "BIGINT"):
        # DuckDB rounds '2.5' to a whole number; a whole number must look like one.
        text = f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') THEN {text} END"
    return f"TRY_CAST({text} AS {data_type})"


def keep_stored_values(con: duckdb.DuckDBPyConnection, table: str, stage: str, left_out: list[str]) -> None:
    """Columns a file leaves out say nothing about them: a stored record keeps
    its value, a new one has none."""
    key = primary_key(con, table)
    keyed = key in {c for c, _ in table_columns(con, stage)}  # a places file may leave out its IDs
    for column in left_out:
        con.execute(f"ALTER TABLE {quote(stage)} ADD COLUMN IF NOT EXISTS {quote(column)} VARCHAR")
        if not keyed or column == key:
            continue
        con.execute(
            f"UPDATE {quote(stage)} SET {quote(column)} = stored.{quote(column)}::VARCHAR "
            f"FROM {quote(table)} stored WHERE {quote(stage)}.{quote(key)} = stored.{quote(key)}"
        )


def validate_staged(
    con: duckdb.DuckDBPyConnection, table: str, stage: str, file_label: str
) -> tuple[str, list[Problem]]:
    """Check staged text rows against `table`'s rules.

    Returns the name of a temp table holding the rows cast to the table's types
    (with their line numbers) and the problems found. The typed rows are only
    safe to insert when the problem list is empty.
    """
    columns = table_columns(con, table)
    problems = header_problems(con, table, stage, file_label)
    if problems:
        return "", problems

    typed = f"{stage}__typed"
    casts = ", ".join(_cast(c, t) for c, t in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(typed)} AS SELECT {LINE}, {casts} FROM {quote(stage)}")
    problems += type_problems(con, columns, stage, file_label)
    problems += check_problems(con, table, stage, typed, file_label)
    checks = constraint_checks(con, table, typed)
    for rule_table, column, sql, message in CROSS_TABLE_RULES:
        if rule_table == table:
            checks.append((column, sql.format(typed=quote(typed)), message))

    for column, sql, message in checks:
        for line, value in con.execute(sql).fetchall():
            problems.append(Problem(file_label, line, column, value, message))
    problems += blank_required(con, table, stage, typed, file_label)
    # One problem per cause and line, however many rules say it.
    return typed, sorted(set(problems), key=lambda p: (p.line, p.column, p.problem))


def header_problems(con: duckdb.DuckDBPyConnection, table: str, stage: str, file_label: str) -> list[Problem]:
    """Columns the header lacks or has too many; optional columns left out keep their stored values."""
    expected = [c for c, _ in table_columns(con, table)]
    header = [c for c, _ in table_columns(con, stage) if c != LINE]
    left_out = [r.name for r in column_rules(con, table) if not r.required and r.name not in header]
    if left_out:
        keep_stored_values(con, table, stage, left_out)
        header += left_out
    return [
        Problem(file_label, 1, c, None, "required column is missing from the header")
        for c in expected
        if c not in header
    ] + [
        Problem(file_label, 1, c, None, "unexpected column; expected " + ", ".join(expected))
        for c in header
        if c not in expected
    ]


# A check: (column, SQL giving each offending line and its value, the problem in words).
Check = tuple[str, str, str]


def type_problems(
    con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]], stage: str, file_label: str
) -> list[Problem]:
    """A value written but not of its column's type (the cast gives NULL):
    every typed column in one pass over the staged text, cast again there."""
    tested = [(c, t) for c, t in columns if t in TYPE_WORDS]
    failed = [
        f"nullif({trimmed(quote(c))}, '') IS NOT NULL AND {_cast_value(quote(c), t)} IS NULL"
        for c, t in tested
    ]
    rows = _failing(con, stage, [(f, quote(c)) for f, (c, _) in zip(failed, tested, strict=True)])
    return [
        Problem(file_label, line, tested[i][0], value, f"is not {TYPE_WORDS[tested[i][1]]}")
        for line, i, value in rows
    ]


def _failing(con: duckdb.DuckDBPyConnection, rows: str, tests: list[tuple[str, str]]) -> list[tuple]:
    """(line, test's index, value) for each test (a condition over `rows` that
    holds when the cell fails, and the value to show) that a row fails: one
    pass for every test, each evaluated again only on the rows failing one."""
    if not tests:
        return []
    found = ", ".join(
        f"CASE WHEN {failed} THEN {{'i': {i}, 'v': {value}}} END" for i, (failed, value) in enumerate(tests)
    )
    return con.execute(
        f"SELECT {LINE}, f.i, f.v FROM (SELECT {LINE}, "
        f"unnest(list_filter([{found}], lambda f: f IS NOT NULL)) AS f FROM {quote(rows)} "
        f"WHERE {' OR '.join(f'({failed})' for failed, _ in tests)})"
    ).fetchall()


def check_problems(
    con: duckdb.DuckDBPyConnection, table: str, stage: str, typed: str, file_label: str
) -> list[Problem]:
    """A problem for each CHECK of `table` a row breaks: every CHECK in one pass
    over the typed rows; the value is then read as the file wrote it ('-1',
    not '-1.0') for the few lines that break one."""
    rules = [
        (cols, expression) for _, kind, cols, expression, _, _ in constraints(con, table) if kind == "CHECK"
    ]
    broken = _failing(con, typed, [(f"NOT coalesce({expression}, true)", "NULL") for _, expression in rules])
    problems = []
    for i in sorted({i for _, i, _ in broken}):
        cols, expression = rules[i]
        shown = " || ', ' || ".join(f"'{c}=' || coalesce(s.{quote(c)}, '')" for c in dict.fromkeys(cols))
        value = f"s.{quote(cols[0])}" if len(set(cols)) == 1 else shown
        lines = [line for line, j, _ in broken if j == i]
        for line, written in con.execute(
            f"SELECT s.{LINE}, {value} FROM {quote(stage)} s WHERE s.{LINE} IN (SELECT unnest($lines))",
            {"lines": lines},
        ).fetchall():
            problems.append(
                Problem(
                    file_label, line, ", ".join(dict.fromkeys(cols)), written, _describe_check(expression)
                )
            )
    return problems


def constraint_checks(con: duckdb.DuckDBPyConnection, table: str, typed: str) -> list[Check]:
    """One check per key and reference DuckDB's catalogue holds for `table`
    (its CHECKs: check_problems)."""
    checks = []
    for _, kind, cols, _, ref_table, ref_cols in constraints(con, table):
        column = cols[0]
        q = quote(column)
        if kind == "PRIMARY KEY":
            checks.append(
                (
                    column,
                    # The repeated ids alone (none, in most files) are joined back to their lines.
                    f"SELECT t.{LINE}, t.{q} FROM {quote(typed)} t JOIN (SELECT {q}, min({LINE}) "
                    f"AS first_line FROM {quote(typed)} WHERE {q} IS NOT NULL GROUP BY {q} "
                    f"HAVING count(*) > 1) d ON d.{q} = t.{q} WHERE t.{LINE} <> d.first_line",
                    "appears more than once in the file",
                )
            )
        elif kind == "FOREIGN KEY":
            known = f"SELECT {quote(ref_cols[0])} FROM {quote(ref_table)}"
            if ref_table == table:
                known += f" UNION ALL SELECT {quote(ref_cols[0])} FROM {quote(typed)}"
            checks.append(
                (
                    column,
                    f"SELECT {LINE}, {q} FROM {quote(typed)} WHERE {q} IS NOT NULL AND {q} NOT IN ({known})",
                    f"unknown {REFERENCE_WORDS.get(ref_table, ref_table)}",
                )
            )
    return checks


def blank_required(
    con: duckdb.DuckDBPyConnection, table: str, stage: str, typed: str, file_label: str
) -> list[Problem]:
    """A problem for each required (NOT NULL) cell left blank, every required
    column in one pass: a blank cell is NULL in the typed rows, so only the
    lines with a NULL there (few or none) are read as written."""
    required = [c.columns[0] for c in constraints(con, table) if c.kind == "NOT NULL"]
    if not required:
        return []
    null = " OR ".join(f"{quote(c)} IS NULL" for c in required)
    lines = [line for (line,) in con.execute(f"SELECT {LINE} FROM {quote(typed)} WHERE {null}").fetchall()]
    if not lines:  # as in most files: the written text is not read at all
        return []
    blank = [f"nullif({trimmed('s.' + quote(c))}, '') IS NULL" for c in required]
    numbered = ", ".join(f"CASE WHEN {b} THEN {i} END" for i, b in enumerate(blank))
    rows = con.execute(
        f"SELECT {LINE}, unnest(list_filter([{numbered}], lambda i: i IS NOT NULL)) FROM {quote(stage)} s "
        f"WHERE {LINE} IN (SELECT unnest($lines))",
        {"lines": lines},
    ).fetchall()
    return [Problem(file_label, line, required[i], None, "is required") for line, i in rows]


# The order rows are written in when a table is loaded whole: the order the
# Data page lists them in. DuckDB reads a page of rows that lie together from
# a few vectors instead of hundreds; queries never rely on it for correctness.
LOAD_ORDER = {
    "requests": "requested_on, request_id",
    "flights": "flight_date, flight_id",
}


def insert_typed(con: duckdb.DuckDBPyConnection, table: str, typed: str) -> int:
    """Insert validated rows (in LOAD_ORDER, where the table has one); returns how many."""
    order = f" ORDER BY {LOAD_ORDER[table]}" if table in LOAD_ORDER else ""
    return con.execute(
        f"INSERT INTO {quote(table)} BY NAME SELECT * EXCLUDE ({LINE}) FROM {quote(typed)}{order}"
    ).fetchone()[0]


class ColumnRule(NamedTuple):
    """What the catalogue says one column accepts: for form pickers and the import format."""

    name: str
    data_type: str
    required: bool
    choices: tuple[str, ...]
    references: str | None


def column_rules(con: duckdb.DuckDBPyConnection, table: str) -> list[ColumnRule]:
    """Every column of `table` with its type, whether it is required, the
    values a one-column IN (...) CHECK allows, and the table it references."""
    required, choices, references = set(), {}, {}
    for _, kind, cols, expression, ref_table, _ in constraints(con, table):
        if kind == "NOT NULL":
            required.add(cols[0])
        elif kind == "FOREIGN KEY":
            references[cols[0]] = ref_table
        elif kind == "CHECK" and (m := re.fullmatch(r"\(\"?\w+\"? IN \((.*)\)\)", expression)):
            choices[cols[0]] = tuple(v.strip().strip("'") for v in m.group(1).split(","))
    return [
        ColumnRule(c, t, c in required, choices.get(c, ()), references.get(c))
        for c, t in table_columns(con, table)
    ]


def primary_key(con: duckdb.DuckDBPyConnection, table: str) -> str:
    return next(c.columns[0] for c in constraints(con, table) if c.kind == "PRIMARY KEY")


def referenced_row_problems(
    con: duckdb.DuckDBPyConnection, table: str, typed: str, file_label: str
) -> list[Problem]:
    """A stored row that other records refer to keeps its references as they are.

    DuckDB rewrites a change to such a column as a delete and an insert, and
    refuses the delete while anything refers to the row (a flight carrying
    shipments cannot move to another airport). Say so by line and column
    rather than fail with a constraint error at write time.
    """
    key = primary_key(con, table)
    foreign = [c for c in constraints(con) if c.kind == "FOREIGN KEY"]
    own = [c.columns[0] for c in foreign if c.table == table]
    referring = [(c.table, c.columns[0]) for c in foreign if c.referenced_table == table and c.table != table]
    if not own or not referring:
        return []
    joined = f"FROM {quote(typed)} t JOIN {quote(table)} stored ON stored.{quote(key)} = t.{quote(key)}"
    changed = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM stored.{quote(c)}" for c in own)
    # Most writes change no reference (a new row, a new status): that is asked
    # first, the stored rows found by their key, so that the referring tables
    # are read only when it is needed.
    if not con.execute(f"SELECT count(*) {joined} WHERE {changed}").fetchone()[0]:
        return []
    noun = table.removesuffix("s")
    words = " or ".join(dict.fromkeys(t for t, _ in referring))
    refers = " OR ".join(
        f"EXISTS (SELECT 1 FROM {quote(t)} r WHERE r.{quote(c)} = t.{quote(key)})" for t, c in referring
    )
    problems = []
    for column in own:
        q = quote(column)
        for line, value in con.execute(
            f"SELECT t.{LINE}, t.{q} {joined} WHERE t.{q} IS DISTINCT FROM stored.{q} AND ({refers})"
        ).fetchall():
            message = f"cannot change while {words} refer to this {noun}; add a new {noun} instead"
            problems.append(Problem(file_label, line, column, value, message))
    return problems

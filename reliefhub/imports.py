"""Bulk import of requests, flights or shipments from a CSV file: all of it, or none of it.

Partners send CSVs as their spreadsheets save them: UTF-8 with or without a
byte-order mark, or Windows-1252; comma- or semicolon-separated. The file is
first made UTF-8 (only Windows-1252 needs a converted copy), then read into a
temporary table as text and checked as a whole, in DuckDB, by the same rules
as the forms (operations.check_staged). Either every row is written in one
transaction, or nothing is and the report lists each problem with its line,
column and reason.

Places may be given by their id, their name (accents and case do not matter)
or an ICAO/IATA airport code; a name that matches several places, or none, is
reported rather than guessed. Rows carry their stable id, so importing the same
file again changes nothing: each row is counted as new, updated or unchanged.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from reliefhub import DATA_DIR, exports
from reliefhub.auth import Identity
from reliefhub.db import Database
from reliefhub.operations import Rollback, check_staged, who_problem, write_checked
from reliefhub.validation import LINE, Problem, column_rules, quote, stage_csv, table_columns

KINDS = ("requests", "flights", "shipments")
ENCODINGS = ("utf-8", "windows-1252")
DELIMITERS = (",", ";")
EXAMPLES_DIR = DATA_DIR / "examples"
CHUNK_BYTES = 8 * 1024 * 1024
STAGE = "import_stage"
VIA = "import"

Progress = Callable[[float, str], None]


@dataclass
class ImportReport:
    kind: str
    file_name: str
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # (column, value in the file, place id it was resolved to, rows)
    resolved: list[tuple[str, str, str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    check_only: bool = False
    change_set: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rejected_lines(self) -> int:
        return len({p.line for p in self.problems})

    def problems_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(p.line, p.column, p.value, p.problem) for p in self.problems],
            columns=["line", "column", "value", "reason"],
        )

    def problems_csv(self) -> bytes:
        """The rejection report as the sender's spreadsheet opens it."""
        return exports.to_csv_bytes(self.problems_frame())

    def summary(self) -> str:
        if self.problems:
            return (
                f"Rejected {self.file_name}: {len(self.problems):,} problem(s) on "
                f"{self.rejected_lines:,} line(s); nothing was written."
            )
        counts = f"{self.new:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged"
        if self.check_only:
            return (
                f"Checked {self.file_name}: {self.rows:,} {self.kind} pass every rule ({counts}); "
                "nothing was written."
            )
        return f"Imported {self.file_name}: {self.rows:,} {self.kind} ({counts})."


def import_file(
    db: Database,
    path: Path,
    kind: str,
    *,
    who: Identity,
    file_name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    check_only: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check `path` as a whole and write all of it in one transaction, or nothing.

    `encoding` and `delimiter` are detected when None. With `check_only`, the
    write is done and rolled back, so the counts are exact and nothing changes.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    started = time.perf_counter()
    path = Path(path)
    label = file_name or path.name
    report = ImportReport(kind, label, check_only=check_only)
    say = progress or (lambda fraction, text: None)

    report.problems = who_problem(who, label)
    if report.problems:
        return report
    converted = None
    try:
        say(0.0, "Reading the file")
        readable, report.encoding, report.problems = _as_utf8(path, label, encoding, say)
        if report.problems:
            return report
        converted = readable if readable != path else None
        if not read_header(readable).strip():
            report.problems = [Problem(label, 1, "", None, "the file is empty: line 1 must name the columns")]
            return report
        report.delimiter = delimiter or detect_delimiter(readable)
        _check_and_write(db, readable, report, who=who, say=say)
    finally:
        if converted is not None:
            converted.unlink(missing_ok=True)
        report.seconds = time.perf_counter() - started
    say(1.0, report.summary())
    return report


def _check_and_write(
    db: Database, readable: Path, report: ImportReport, *, who: Identity, say: Progress
) -> None:
    kind, label = report.kind, report.file_name
    try:
        with db.transaction() as cur:
            say(0.25, "Reading rows")
            try:
                stage_csv(cur, readable, STAGE, delimiter=report.delimiter, encoding="utf-8")
            except duckdb.Error as error:
                # The failed read ended the transaction; look again on a connection of its own.
                diagnosis = db.connection.cursor()
                raise Rollback(malformed_rows(diagnosis, readable, report.delimiter, label, error)) from error
            _normalise_header(cur, STAGE)
            report.rows = cur.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # noqa: S608
            say(0.35, f"Resolving places in {report.rows:,} rows")
            report.resolved, ambiguous = resolve_places(cur, kind, STAGE, label)
            say(0.45, f"Checking {report.rows:,} rows against every rule")
            typed, problems = check_staged(cur, kind, STAGE, label, who=who)
            if ambiguous:
                cells = {(p.line, p.column) for p in ambiguous}
                problems = [p for p in problems if (p.line, p.column) not in cells] + ambiguous
                problems.sort(key=lambda p: (p.line, p.column))
            if problems:
                raise Rollback(problems)
            cur.execute(f"DROP TABLE {STAGE}")  # the checked rows are all the write needs: free the memory
            say(0.8, f"Writing {report.rows:,} rows")
            report.change_set = str(uuid.uuid4())
            counts = write_checked(
                cur,
                kind,
                typed,
                who=who,
                via=VIA,
                change_set=report.change_set,
                source_file=label,
                progress=lambda text: say(0.85, text),
            )
            report.new, report.updated, report.unchanged = counts.new, counts.updated, counts.unchanged
            if report.check_only or not (counts.new or counts.updated):
                raise Rollback([])  # nothing to keep: no commit, the data's change time stays
            say(0.95, "Committing")
    except Rollback as rollback:
        report.problems = rollback.outcome
        report.change_set = None
        return
    report.written = True


# ---------------------------------------------------------------- the file


def _as_utf8(
    path: Path, label: str, encoding: str | None, say: Progress
) -> tuple[Path, str | None, list[Problem]]:
    """The file to read as UTF-8 (the file itself, or a converted copy), its encoding, problems."""
    if not path.is_file():
        return path, None, [Problem(label, 0, "", None, "file not found")]
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        reason = "the file is UTF-16; save it as CSV in UTF-8 or Windows-1252"
        return path, None, [Problem(label, 0, "", None, reason)]
    if encoding not in (None, "auto", *ENCODINGS):
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if encoding in (None, "auto", "utf-8"):
        bad_line = _decode(path, "utf-8", say)
        if bad_line is None:
            return path, "utf-8", []
        if encoding == "utf-8":
            return path, None, [Problem(label, bad_line, "", None, "not valid UTF-8 text")]
    fd, name = tempfile.mkstemp(prefix="reliefhub-import-", suffix=".csv")
    os.close(fd)
    converted = Path(name)
    bad_line = _decode(path, "windows-1252", say, out=converted)
    if bad_line is not None:
        converted.unlink(missing_ok=True)
        reason = "not UTF-8 or Windows-1252 text (a byte Windows-1252 does not define)"
        return path, None, [Problem(label, bad_line, "", None, reason)]
    return converted, "windows-1252", []


def _decode(path: Path, codec: str, say: Progress, out: Path | None = None) -> int | None:
    """Decode the whole file in chunks; return the line of the first bad byte,
    or None. With `out`, write the text there as UTF-8."""
    size = max(path.stat().st_size, 1)
    decoder = codecs.getincrementaldecoder(codec)()
    lines = done = 0
    with ExitStack() as files:
        source = files.enter_context(path.open("rb"))
        sink = files.enter_context(out.open("w", encoding="utf-8", newline="")) if out else None
        while chunk := source.read(CHUNK_BYTES):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return lines + error.object[: error.start].count(b"\n") + 1
            if sink:
                sink.write(text)
            lines += chunk.count(b"\n")
            done += len(chunk)
            say(0.2 * done / size, f"Reading the file ({codec}): {done / 1e6:,.0f} of {size / 1e6:,.0f} MB")
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines + 1
        if sink:
            sink.write(tail)
    return None


def read_header(path: Path) -> str:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return f.readline()


def detect_delimiter(path: Path) -> str:
    """Semicolon when the header has more semicolons than commas, else comma."""
    header = read_header(path)
    return ";" if header.count(";") > header.count(",") else ","


CSV_ERRORS = {
    "TOO MANY COLUMNS": "has more fields than the header (check the separator and the quotes)",
    "MISSING COLUMNS": "has fewer fields than the header",
    "UNQUOTED VALUE": "has a quote that is not closed, or text after a closing quote",
    "LINE SIZE OVER MAXIMUM": "is too long",
}


def malformed_rows(
    cur: duckdb.DuckDBPyConnection, path: Path, delimiter: str, label: str, error: duckdb.Error
) -> list[Problem]:
    """Every row that is not well-formed CSV, by line, when the strict read failed.

    Reads the file again without guessing its shape (one text column per
    header field) and lets DuckDB set aside each row it cannot read.
    """
    header = next(csv.reader([read_header(path)], delimiter=delimiter), [])
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    try:
        cur.execute(
            f"SELECT count(*) FROM read_csv($path, header = true, auto_detect = false, columns = {columns}, "  # noqa: S608
            "delim = $delim, quote = '\"', escape = '\"', encoding = 'utf-8', strict_mode = true, "
            "store_rejects = true, rejects_table = 'import_rejects', rejects_scan = 'import_reject_scans')",
            {"path": str(path), "delim": delimiter},
        ).fetchall()  # to the end: the rejects table appears when the read finishes
        rejected = cur.execute(
            "SELECT DISTINCT line, error_type, error_message FROM import_rejects ORDER BY line"
        ).fetchall()
    except duckdb.Error:
        rejected = []
    if header and rejected:
        return [
            Problem(label, line, "", None, f"line {CSV_ERRORS.get(kind, 'cannot be read')}: {message}")
            for line, kind, message in rejected
        ]
    text = str(error)
    line = re.search(r"on Line: (\d+)", text)
    reason = f"not a readable CSV file: {text.splitlines()[0]}"
    return [Problem(label, int(line.group(1)) if line else 0, "", None, reason)]


def _normalise_header(cur: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Header names as a spreadsheet may write them ('Shipment_ID ') become the schema's."""
    for column, _ in table_columns(cur, stage):
        tidy = column.strip().lower()
        if column != LINE and tidy != column:
            cur.execute(f"ALTER TABLE {quote(stage)} RENAME COLUMN {quote(column)} TO {quote(tidy)}")


# ---------------------------------------------------------------- places


def resolve_places(
    cur: duckdb.DuckDBPyConnection, kind: str, stage: str, label: str
) -> tuple[list[tuple[str, str, str, int]], list[Problem]]:
    """Replace place names and airport codes by place ids where exactly one
    place matches; report names that match several. Unknown names are left
    as they are, for the reference check to report."""
    place_columns = [r.name for r in column_rules(cur, kind) if r.references == "places"]
    header = {c for c, _ in table_columns(cur, stage)}
    place_columns = [c for c in place_columns if c in header]
    if not place_columns:
        return [], []
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE place_names AS
           SELECT name_key, list(DISTINCT place_id ORDER BY place_id) AS ids FROM (
               SELECT lower(strip_accents(trim(name))) AS name_key, place_id FROM places
               UNION ALL SELECT lower(icao), place_id FROM places WHERE icao IS NOT NULL
               UNION ALL SELECT lower(iata), place_id FROM places WHERE iata IS NOT NULL
               UNION ALL SELECT lower(place_id), place_id FROM places
           ) GROUP BY name_key"""
    )
    resolved, ambiguous = [], []
    for column in place_columns:
        c = quote(column)
        # The file's distinct values are few, whatever its length: match those,
        # then replace by exact value.
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE place_matches AS "  # noqa: S608
            f"SELECT v.value, v.n, k.ids FROM (SELECT {c} AS value, count(*) AS n FROM {quote(stage)} "
            f"GROUP BY ALL) v JOIN place_names k ON k.name_key = lower(strip_accents(trim(v.value))) "
            f"WHERE trim(v.value) NOT IN (SELECT place_id FROM places)"
        )
        several = cur.execute("SELECT value, ids FROM place_matches WHERE len(ids) > 1").fetchall()
        if several:
            ids_of = dict(several)
            for line, value in cur.execute(
                f"SELECT {LINE}, {c} FROM {quote(stage)} "  # noqa: S608
                f"WHERE {c} IN (SELECT value FROM place_matches WHERE len(ids) > 1) ORDER BY {LINE}"
            ).fetchall():
                reason = f"matches several places ({', '.join(ids_of[value])}); give the place ID"
                ambiguous.append(Problem(label, line, column, value, reason))
        resolved += [
            (column, value, place_id, n)
            for value, place_id, n in cur.execute(
                "SELECT value, ids[1], n FROM place_matches WHERE len(ids) = 1 ORDER BY value"
            ).fetchall()
        ]
        cur.execute(
            f"UPDATE {quote(stage)} AS s SET {c} = m.ids[1] FROM place_matches m "  # noqa: S608
            f"WHERE s.{c} = m.value AND len(m.ids) = 1"
        )
    return resolved, ambiguous


def example_file(kind: str) -> Path:
    return EXAMPLES_DIR / f"{kind}.csv"

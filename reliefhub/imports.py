"""Bulk import of requests, flights, shipments or places from a CSV or .xlsx file: all of it, or none of it.

Partners send CSVs as their spreadsheets save them: UTF-8 with or without a
byte-order mark, or Windows-1252; comma- or semicolon-separated. The file is
first made UTF-8 (only Windows-1252 needs a converted copy), then read into a
temporary table as text and checked as a whole, in DuckDB, by the same rules
as the forms (reliefhub.writes, the write path both share). Either every row is written in one
transaction, or nothing is and the report lists each problem with its line,
column and reason.

Workbooks, HXL hashtags and headers with columns left out or added are fitted
to this path first (reliefhub.partner_files). Places, countries and materials
may be given by name or code (reliefhub.resolution); a place the hub does not
know may come from an offline catalogue and is then listed, and created in the
same transaction as the rows that use it. A name that matches several things,
or none, is reported rather than guessed. Rows carry their stable id, so importing the same
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from reliefhub import DATA_DIR, exports, partner_files, resolution
from reliefhub.auth import Identity
from reliefhub.db import Database
from reliefhub.validation import (
    LINE,
    Problem,
    column_rules,
    primary_key,
    quote,
    stage_csv,
    table_columns,
    trimmed,
)
from reliefhub.writes import Refused, Rollback, check_staged, refusal, transaction, write_checked

KINDS = ("requests", "flights", "shipments", "places")
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
    sheet: str | None = None
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # (column, value in the file, the code or place id it was read as, rows)
    resolved: list[tuple[str, str, str, int]] = field(default_factory=list)
    # places the import creates (or would): one row each, with the cells read as them
    new_places: pd.DataFrame = field(default_factory=lambda: resolution.Resolution().new_places_frame())
    places_confirmed: bool = True
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    check_only: bool = False
    change_set: str | None = None
    seconds: float = 0.0
    # Existing records the file would change, field by field (the first
    # CHANGES_LISTED of changes_total), and whether it was held back for
    # want of the confirmation to update them.
    changes: list[FieldChange] = field(default_factory=list)
    changes_total: int = 0
    held_for_confirmation: bool = False

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
        if self.held_for_confirmation:
            return (
                f"Held back {self.file_name}: it would change {self.updated:,} existing {self.kind} "
                f"({self.changes_total:,} field(s), listed with before and after); nothing was written. "
                "Confirm the update to write it."
            )
        if len(self.new_places):
            counts += f"; {len(self.new_places):,} new place(s)"
        if self.check_only or not self.places_confirmed:
            confirm = "" if self.check_only else " Confirm the places to create to import it."
            return (
                f"Checked {self.file_name}: {self.rows:,} {self.kind} pass every rule ({counts}); "
                f"nothing was written.{confirm}"
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
    sheet: str | None = None,
    check_only: bool = False,
    update: bool = False,
    create_places: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Check `path` as a whole and write all of it in one transaction, or nothing.

    `encoding` and `delimiter` are detected when None; `sheet` names a
    workbook's sheet (default: the first). With `check_only`, the write is done
    and rolled back, so the counts are exact and nothing changes; so it is
    without `create_places` when the file needs places the hub lacks. A file
    that would change existing records is written only with `update`; without
    it the report lists each change and nothing is written.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    started = time.perf_counter()
    path = Path(path)
    label = file_name or path.name
    report = ImportReport(kind, label, check_only=check_only, places_confirmed=create_places)
    say = progress or (lambda fraction, text: None)

    report.problems = refusal(who, label)
    if report.problems:
        return report
    converted = None
    try:
        say(0.0, "Reading the file")
        if partner_files.is_workbook(label):
            # Cell problems (a formula without a value) are reported with the rows' problems.
            readable, report.problems = _workbook_as_csv(db, path, report, sheet)
            cannot_read = [p for p in report.problems if p.line == 0]
        else:
            readable, report.encoding, cannot_read = _as_utf8(path, label, encoding, say)
            report.problems = cannot_read
        converted = readable if readable != path else None
        if cannot_read:
            return report
        if not read_header(readable).strip():
            report.problems = [Problem(label, 1, "", None, "the file is empty: line 1 must name the columns")]
            return report
        report.delimiter = "," if report.sheet else delimiter or detect_delimiter(readable)
        _check_and_write(db, readable, report, who=who, say=say, update=update)
    finally:
        if converted is not None:
            converted.unlink(missing_ok=True)
        report.seconds = time.perf_counter() - started
    say(1.0, report.summary())
    return report


def _check_and_write(
    db: Database, readable: Path, report: ImportReport, *, who: Identity, say: Progress, update: bool
) -> None:
    kind, label = report.kind, report.file_name
    try:
        with transaction(db, who, label) as cur:
            say(0.25, "Reading rows")
            try:
                stage_csv(cur, readable, STAGE, delimiter=report.delimiter, encoding="utf-8")
            except duckdb.Error as error:
                # The failed read ended the transaction; look again on a connection of its own.
                diagnosis = db.connection.cursor()
                raise Rollback(malformed_rows(diagnosis, readable, report.delimiter, label, error)) from error
            if report.sheet:
                partner_files.number_by_sheet_rows(cur, STAGE)
            header = partner_files.fit_header(cur, kind, STAGE, label)
            report.notices += header.notices
            report.rows = cur.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # noqa: S608
            say(0.35, f"Reading names and places in {report.rows:,} rows")
            report.change_set = str(uuid.uuid4())
            read = _resolve(cur, report, who=who)
            say(0.45, f"Checking {report.rows:,} rows against every rule")
            typed, problems = check_staged(cur, kind, STAGE, label, who=who)
            problems = partner_files.drop_problems_of_missing_columns(problems, header)
            found_before = read.problems + header.problems + report.problems
            cells = {(p.line, p.column) for p in found_before}
            problems = [p for p in problems if (p.line, p.column) not in cells] + found_before
            if problems:
                raise Rollback(sorted(problems, key=lambda p: (p.line, p.column)))
            report.changes, report.changes_total = field_changes(cur, kind, typed, STAGE)
            cur.execute(f"DROP TABLE {STAGE}")  # the checked rows are all the write needs: free the memory
            say(0.8, f"Writing {report.rows:,} rows")
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
            if counts.updated and not (update or report.check_only):
                report.held_for_confirmation = True
                raise Rollback([])
            if report.check_only or not report.places_confirmed or not (counts.new or counts.updated):
                raise Rollback([])  # nothing to keep: no commit, the data's change time stays
            say(0.95, "Committing")
    except Refused as refused:
        report.problems = refused.problems
        report.change_set = None
        return
    except Rollback as rollback:
        report.problems = rollback.outcome
        report.change_set = None
        return
    report.written = True


def _resolve(cur: duckdb.DuckDBPyConnection, report: ImportReport, *, who: Identity) -> resolution.Resolution:
    """Names and codes in the staged rows read as the hub's; places the hub lacks
    planned from the catalogues and written (with their audit) in this transaction."""
    read = resolution.Resolution()
    if report.kind == "places":
        report.notices += resolution.fill_places(cur, STAGE, report.file_name, read)
    resolution.resolve_codes(cur, report.kind, STAGE, report.file_name, read)
    resolution.resolve_places(cur, report.kind, STAGE, report.file_name, read)
    report.resolved, report.new_places = read.read_as, read.new_places_frame()
    report.places_confirmed = report.places_confirmed or not read.new_places
    read.problems += resolution.write_new_places(
        cur, read, report.file_name, who=who, via=VIA, change_set=report.change_set
    )
    return read


def _workbook_as_csv(db: Database, path: Path, report: ImportReport, sheet: str | None) -> tuple[Path, list]:
    """The workbook's sheet as a CSV copy (rows numbered as in the sheet), and its problems."""
    name = new_copy_path()
    dates = {r.name for r in column_rules(db.connection.cursor(), report.kind) if r.data_type == "DATE"}
    read = partner_files.workbook_as_csv(path, Path(name), report.file_name, sheet, dates)
    report.sheet, report.notices = read.name, read.notices
    return Path(name), read.problems


# ---------------------------------------------------------------- updates to existing records

CHANGES_LISTED = 1000


@dataclass(frozen=True)
class FieldChange:
    """One field of a stored record that a file would change."""

    line: int
    record_id: str
    field: str
    before: str | None
    after: str | None


def field_changes(
    cur: duckdb.DuckDBPyConnection, kind: str, typed: str, stage: str
) -> tuple[list[FieldChange], int]:
    """Each field the checked rows would change in stored records: the first
    CHANGES_LISTED (by line) and how many in all. After is as the file wrote it."""
    key = quote(primary_key(cur, kind))
    stored = cur.execute(
        f"SELECT count(*) FROM {quote(typed)} t SEMI JOIN {quote(kind)} s ON s.{key} = t.{key}"  # noqa: S608
    ).fetchone()[0]
    if not stored:  # all new, as in a first import: nothing to compare field by field
        return [], 0
    compared = [c for c, _ in table_columns(cur, kind) if quote(c) != key]
    written = {c for c, _ in table_columns(cur, stage)}

    def after(column: str) -> str:
        return trimmed(f"s.{quote(column)}") if column in written else f"CAST(t.{quote(column)} AS VARCHAR)"

    each = " UNION ALL ".join(
        f"SELECT t.{LINE} AS line, t.{key} AS record_id, '{c}' AS field, "  # noqa: S608
        rf"regexp_replace(CAST(stored.{quote(c)} AS VARCHAR), '\.0$', '') AS before, "
        f"{after(c)} AS after "
        f"FROM {quote(typed)} t JOIN {quote(kind)} stored ON stored.{key} = t.{key} "
        f"JOIN {quote(stage)} s ON s.{LINE} = t.{LINE} "
        f"WHERE t.{quote(c)} IS DISTINCT FROM stored.{quote(c)}"
        for c in compared
    )
    cur.execute(f"CREATE OR REPLACE TEMP TABLE import_changes AS {each}")
    total = cur.execute("SELECT count(*) FROM import_changes").fetchone()[0]
    listed = cur.execute(
        "SELECT * FROM import_changes ORDER BY line, field LIMIT $n", {"n": CHANGES_LISTED}
    ).fetchall()
    return [FieldChange(*row) for row in listed], total


def changes_frame(report: ImportReport) -> pd.DataFrame:
    return pd.DataFrame(
        [(c.line, c.record_id, c.field, c.before, c.after) for c in report.changes],
        columns=["line", "record", "field", "before", "after"],
    )


# ---------------------------------------------------------------- the file


def _as_utf8(
    path: Path, label: str, encoding: str | None, say: Progress
) -> tuple[Path, str | None, list[Problem]]:
    """The file to read as UTF-8 (the file itself, or a converted copy), its encoding, problems."""
    if not path.is_file():
        return path, None, [Problem(label, 0, "", None, "file not found")]
    with path.open("rb") as f:
        head = f.read(4096)
    if wide := wide_encoding(head):
        reason = f"the file is {wide}; save it as CSV in UTF-8 or Windows-1252"
        return path, None, [Problem(label, 0, "", None, reason)]
    if encoding not in (None, "auto", *ENCODINGS):
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if encoding in (None, "auto", "utf-8"):
        bad_line = _decode(path, "utf-8", say)
        if bad_line is None:
            return path, "utf-8", []
        if encoding == "utf-8":
            return path, None, [Problem(label, bad_line, "", None, "not valid UTF-8 text")]
    converted = new_copy_path()
    bad_line = _decode(path, "windows-1252", say, out=converted)
    if bad_line is not None:
        converted.unlink(missing_ok=True)
        reason = "not UTF-8 or Windows-1252 text (a byte Windows-1252 does not define)"
        return path, None, [Problem(label, bad_line, "", None, reason)]
    return converted, "windows-1252", []


BYTE_ORDER_MARKS = [  # UTF-32's marks first: UTF-32 LE's begins with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)"),
]


def wide_encoding(head: bytes) -> str | None:
    """The name of a UTF-16 or UTF-32 encoding the file's first bytes show, or None.

    Without a byte-order mark, such a file is told by its many zero bytes
    (UTF-16 text in Latin letters would otherwise pass as UTF-8, every other
    byte a NUL)."""
    for mark, name in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return name
    if not head or head.count(0) < len(head) // 4:  # a stray NUL is a bad value, for the rules to report
        return None
    width = 4 if head[1:3] == b"\x00\x00" or head[:3] == b"\x00\x00\x00" else 2
    first_is_zero = head[0] == 0
    order = "big-endian" if first_is_zero else "little-endian"
    return f"UTF-{8 * width} ({order}) without a byte-order mark"


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
        rejected = cur.execute("SELECT DISTINCT line, error_type FROM import_rejects ORDER BY ALL").fetchall()
    except duckdb.Error:
        rejected = []
    if header and rejected:
        return malformed_line_problems(rejected, len(header), label)
    text = str(error)
    line = re.search(r"on Line: (\d+)", text)
    reason = f"not a readable CSV file: {text.splitlines()[0]}"
    return [Problem(label, int(line.group(1)) if line else 0, "", None, reason)]


def malformed_line_problems(rejected: list[tuple[int, str]], fields: int, label: str) -> list[Problem]:
    """One problem per line and cause. DuckDB reports a broken line once per
    attempt to read it; an unclosed quote is the cause of the field counts
    that follow from it, so it alone is named."""
    kinds: dict[int, set[str]] = {}
    for line, kind in rejected:
        kinds.setdefault(line, set()).add(kind)
    problems = []
    for line, found in kinds.items():
        causes = {"UNQUOTED VALUE"} if "UNQUOTED VALUE" in found else found
        for kind in sorted(causes):
            words = CSV_ERRORS.get(kind, "cannot be read")
            if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
                words = words.replace("the header", f"the header's {fields}", 1)
            problems.append(Problem(label, line, "", None, f"line {words}"))
    return problems


# ---------------------------------------------------------------- copies of uploads


def uploads_dir() -> Path:
    return Path(tempfile.gettempdir()) / "reliefhub-uploads"


def new_copy_path(suffix: str = ".csv") -> Path:
    """Where a copy of an upload (or its UTF-8 or CSV conversion) goes: named by
    the process making it, so a copy whose process died can be told apart."""
    folder = uploads_dir()
    folder.mkdir(exist_ok=True)
    return folder / f"{os.getpid()}-{uuid.uuid4().hex}{suffix}"


@contextmanager
def upload_copy(data: bytes, suffix: str = ".csv") -> Iterator[Path]:
    """The uploaded bytes as a file to import (with the upload's suffix, which
    tells a workbook from a CSV), removed however the import ends."""
    path = new_copy_path(suffix)
    try:
        path.write_bytes(data)
        yield path
    finally:
        path.unlink(missing_ok=True)


def remove_stale_copies() -> list[Path]:
    """Remove the copies left by processes that no longer run (a crash or a
    kill mid-import leaves them, at up to the upload's size); returns them."""
    stale = [p for p in uploads_dir().glob("*") if not _running(p.name.split("-", 1)[0])]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _running(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def example_file(kind: str) -> Path:
    return EXAMPLES_DIR / f"{kind}.csv"

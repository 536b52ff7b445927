"""Partner files as they come: Excel workbooks, HXL hashtag rows, and headers
with optional columns left out or columns the hub does not know added.

An .xlsx sheet is written out as CSV (with each row's spreadsheet row number)
and then takes the CSV path, so every rule and report is the same. A staged
file's header is then fitted to the import's table: column names tidied,
HXL hashtags read through the same tags the exports write (exports.HXL_TAGS),
missing optional columns added empty, unknown ones dropped with a notice.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import openpyxl
from openpyxl.utils.datetime import from_excel

from reliefhub.exports import HXL_TAGS
from reliefhub.validation import LINE, Problem, column_rules, keep_stored_values, quote, table_columns

SHEET_ROW = "__sheet_row"
HXL_ROW = 2  # the row under the header may hold the hashtags

# Columns the hub's exports write with a name beside a code: when the file has
# the name but not the code column, the name is read there (and resolved by name).
ALIASES = {
    "country": "iso3",
    "requester_country": "requester_iso3",
    "recipient_country": "recipient_iso3",
    "material_name": "material_code",
    "origin_name": "origin_place_id",
    "destination_name": "destination_place_id",
}


def hxl_key(tag: str) -> str:
    """'#Country +requester+code' -> '#country+code+requester': attributes in any order, any case."""
    hashtag, *attributes = tag.strip().lower().replace(" ", "").split("+")
    return "+".join([hashtag, *sorted(attributes)])


HXL_COLUMNS = {hxl_key(tag): column for column, tag in HXL_TAGS.items()}


@dataclass
class Header:
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # required columns the header lacks: their rows are not reported cell by cell
    missing_required: set[str] = field(default_factory=set)


def fit_header(cur: duckdb.DuckDBPyConnection, kind: str, stage: str, label: str) -> Header:
    """Rename, add and drop the staged columns so the stage has exactly `kind`'s columns."""
    header = Header()
    rules = column_rules(cur, kind)
    expected = [r.name for r in rules]
    names = _names_in_file(cur, stage, expected, header)
    targets = _targets(names, expected)
    for column, target in targets.items():
        if target is None:
            cur.execute(f"ALTER TABLE {quote(stage)} DROP COLUMN {quote(column)}")
        elif target != column:
            cur.execute(f"ALTER TABLE {quote(stage)} RENAME COLUMN {quote(column)} TO {quote(target)}")
    ignored = [names[c] for c, t in targets.items() if t is None]
    if ignored:
        header.notices.append(f"Ignored column(s) the {kind} format does not have: {', '.join(ignored)}")
    given = set(targets.values())
    keep_stored_values(cur, kind, stage, [r.name for r in rules if not r.required and r.name not in given])
    for rule in rules:
        if rule.name in given or not rule.required:
            continue
        cur.execute(f"ALTER TABLE {quote(stage)} ADD COLUMN {quote(rule.name)} VARCHAR")
        # A places row may have its coordinates, country and name filled from a catalogue.
        if rule.required and kind != "places":
            header.missing_required.add(rule.name)
            header.problems.append(
                Problem(label, 1, rule.name, None, "required column is missing from the header")
            )
    return header


def _names_in_file(cur: duckdb.DuckDBPyConnection, stage: str, expected: list[str], header: Header) -> dict:
    """Each staged column's name as the file means it: tidied, or the column its HXL hashtag stands for."""
    columns = [c for c, _ in table_columns(cur, stage) if c != LINE]
    tags = dict.fromkeys(columns)
    row = cur.execute(f"SELECT * EXCLUDE ({LINE}) FROM {quote(stage)} WHERE {LINE} = {HXL_ROW}").fetchone()  # noqa: S608
    if row and any(row) and all(v is None or v.strip().startswith("#") for v in row):
        cur.execute(f"DELETE FROM {quote(stage)} WHERE {LINE} = {HXL_ROW}")  # noqa: S608
        header.notices.append(f"Line {HXL_ROW} read as HXL hashtags, not as a row")
        tags = dict(zip(columns, row, strict=True))
    names = {}
    for column in columns:
        tidy = column.strip().lower().replace(" ", "_")
        tag = column if tidy.startswith("#") else tags[column]
        if tidy not in expected and tag and hxl_key(tag) in HXL_COLUMNS:
            tidy = HXL_COLUMNS[hxl_key(tag)]
        names[column] = tidy
    return names


def _targets(names: dict[str, str], expected: list[str]) -> dict[str, str | None]:
    """The table column each staged column becomes (None: not one of the table's).
    A name column stands in for its code column only when the code column is absent."""
    present = set(names.values())
    targets: dict[str, str | None] = {}
    for column, name in names.items():
        if name not in expected and ALIASES.get(name) in expected and ALIASES[name] not in present:
            name = ALIASES[name]
        targets[column] = name if name in expected and name not in targets.values() else None
    return targets


def drop_problems_of_missing_columns(problems: list[Problem], header: Header) -> list[Problem]:
    """Row problems in a column the header lacks say nothing the header problem does not."""
    missing = header.missing_required
    return [p for p in problems if p.line == 1 or not missing & set(p.column.split(", "))]


# ---------------------------------------------------------------- Excel


def is_workbook(name: str) -> bool:
    return Path(name).suffix.lower() == ".xlsx"


@dataclass
class Sheet:
    name: str | None = None
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def workbook_as_csv(
    path: Path, out: Path, label: str, sheet_name: str | None, date_columns: set[str]
) -> Sheet:
    """Write the sheet's rows to `out` as UTF-8 CSV, each with its spreadsheet row number first.

    Dates are written as dates; a formula as the value Excel saved with it
    (reported when it has none); a plain number in a date column as the Excel
    date serial it is; rows with no value at all are left out.
    """
    sheet = Sheet()
    try:
        values = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:
        sheet.problems.append(Problem(label, 0, "", None, f"not a readable .xlsx workbook: {error}"))
        return sheet
    try:
        if sheet_name is not None and sheet_name not in values.sheetnames:
            reason = (
                f"the workbook has no sheet {sheet_name!r}; its sheets are {', '.join(values.sheetnames)}"
            )
            sheet.problems.append(Problem(label, 0, "", None, reason))
            return sheet
        sheet.name = sheet_name or values.sheetnames[0]
        rows = zip(values[sheet.name].iter_rows(), formulas[sheet.name].iter_rows(), strict=False)
        _SheetText(label, date_columns, sheet).write(rows, out)
    finally:
        values.close()
        formulas.close()
    return sheet


@dataclass
class _SheetText:
    """The sheet's cells as CSV text, with what was read how counted and what cannot be read reported."""

    label: str
    date_columns: set[str]
    sheet: Sheet
    counts: Counter = field(default_factory=Counter)

    def write(self, rows, out: Path) -> None:
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            header: list[str] = []
            for number, (cells, formula_cells) in enumerate(rows, start=1):
                columns = [*header, *[""] * len(cells)]
                texts = [
                    self.cell(cell.value, formula.value, column, number)
                    for cell, formula, column in zip(cells, formula_cells, columns, strict=False)
                ]
                if number == 1:
                    while texts and not texts[-1].strip():
                        texts.pop()
                    header = [t.strip().lower() for t in texts]
                    writer.writerow([SHEET_ROW, *texts])
                elif not any(t.strip() for t in texts):
                    self.counts["empty"] += 1
                elif any(t.strip() for t in texts[len(header) :]):
                    reason = "has values right of the header's last column"
                    self.sheet.problems.append(Problem(self.label, number, "", None, reason))
                else:
                    writer.writerow([number, *texts, *[""] * (len(header) - len(texts))])
        for what, words in (
            ("formula", "formula cell(s) read as the values Excel saved with them"),
            ("serial", "number(s) in date columns read as Excel date serials"),
            ("empty", "empty row(s) skipped"),
        ):
            if self.counts[what]:
                self.sheet.notices.append(f"{self.counts[what]:,} {words}")

    def cell(self, value, formula, column: str, number: int) -> str:
        if isinstance(formula, str) and formula.startswith("="):
            if value is None:
                reason = "a formula with no saved value: open the file in Excel and save it, or paste values"
                self.sheet.problems.append(Problem(self.label, number, column, formula, reason))
                return ""
            self.counts["formula"] += 1
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float) and column in self.date_columns:
            self.counts["serial"] += 1
            value = from_excel(value)
        if isinstance(value, datetime):
            return value.date().isoformat() if value.time() == time() else value.isoformat()
        if isinstance(value, date | time):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value)


def number_by_sheet_rows(cur: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Line numbers become the spreadsheet's row numbers."""
    cur.execute(f"UPDATE {quote(stage)} SET {LINE} = CAST({SHEET_ROW} AS INTEGER)")  # noqa: S608
    cur.execute(f"ALTER TABLE {quote(stage)} DROP COLUMN {SHEET_ROW}")

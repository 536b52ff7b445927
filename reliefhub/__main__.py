"""Command line: python -m reliefhub build-db | export | import | users | wall-key | generate | bench.

python -m reliefhub build-db
python -m reliefhub export shipments --country ITA --out shipments.csv
python -m reliefhub import partner.csv --kind shipments --who "Ana Novak"
python -m reliefhub users add ana --role staff --countries ITA,ESP --password-stdin
python -m reliefhub wall-key add "Ops room 1"
python -m reliefhub generate --scale 100000 --out bench/synthetic.duckdb --seed 7
python -m reliefhub bench --scales 10000,100000,1000000 --json bench/results.json
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb

from reliefhub import DATA_DIR, accounts, exports
from reliefhub.auth import cli_identity
from reliefhub.db import Database, database_path, ensure_database
from reliefhub.filters import MODES, Filters
from reliefhub.loader import build_database
from reliefhub.validation import ValidationError


def build_db(args: argparse.Namespace) -> int:
    target = Path(args.db or database_path())
    try:
        counts = build_database(Path(args.data), target)
    except ValidationError as error:
        print(f"build-db failed; {target} was left as it was.\n{error}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f"build-db failed: {error}", file=sys.stderr)
        return 1
    print(f"Built {target}: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    return 0


def open_database(args: argparse.Namespace, instead: str) -> Database | None:
    """The command's database, built if missing; None (with the reason printed)
    while another process, usually the dashboard, holds it: DuckDB lets one
    process at a time open a database file for writing."""
    path = Path(args.db or database_path())
    ensure_database(path)
    try:
        return Database(path)
    except duckdb.IOException as error:
        print(f"Cannot open {path}: {error}\nIs the dashboard running on it? {instead}", file=sys.stderr)
        return None


def export(args: argparse.Namespace) -> int:
    db = open_database(args, "Stop it, or download the same file from its Data page.")
    if db is None:
        return 1
    try:
        known_countries = set(db.query("filter_countries")["iso3"])
        known_materials = set(db.query("filter_materials")["material_code"])
        unknown = [c for c in args.country if c not in known_countries]
        unknown += [m for m in args.material if m not in known_materials]
        if unknown:
            print(f"Unknown country or material code(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        if args.date_from and args.date_to and args.date_to < args.date_from:
            print("--to is before --from", file=sys.stderr)
            return 2
        filters = Filters(
            tuple(args.country), tuple(args.material), tuple(args.mode), args.date_from, args.date_to
        )
        params = filters.params()
        if args.table == "open_requests":
            params["as_of"] = args.as_of or db.query("data_bounds").at[0, "last_date"].date()
        frame = exports.export_rows(db, args.table, params)
        out = Path(args.out or exports.file_name(args.table, filters.slug(), datetime.now()))
        out.write_bytes(exports.to_csv_bytes(frame, hxl=args.hxl))
        print(f"Wrote {len(frame)} rows to {out}")
        return 0
    finally:
        db.close()


def import_file(args: argparse.Namespace) -> int:
    """Exit 0 when the file was written (or passed --check), 1 when it was
    rejected, 2 when the import could not run at all."""
    from reliefhub import imports

    db = open_database(
        args,
        "DuckDB lets one process write a database file: "
        "import on the dashboard's Import page, or stop the dashboard.",
    )
    if db is None:
        return 2
    path = db.path
    last_shown = [-1.0]

    def progress(fraction: float, text: str) -> None:
        if fraction - last_shown[0] >= 0.05 or fraction >= 1.0:
            last_shown[0] = fraction
            print(f"[{fraction:4.0%}] {text}", file=sys.stderr, flush=True)

    try:
        report = imports.import_file(
            db,
            Path(args.file),
            args.kind,
            who=cli_identity(args.who),
            encoding=args.encoding,
            delimiter=args.delimiter,
            check_only=args.check,
            progress=progress,
        )
    finally:
        db.close()
    for column, value, place_id, rows in report.resolved:
        print(f"  {column}: {value!r} read as place {place_id} ({rows:,} rows)")
    if report.ok:
        rate = report.rows / report.seconds if report.seconds else 0
        print(f"{report.summary()} {report.seconds:.1f} s, {rate:,.0f} rows/s. Database: {path}")
        return 0
    print(report.summary(), file=sys.stderr)
    for problem in report.problems[:20]:
        print(f"  {problem}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"  ... and {len(report.problems) - 20:,} more", file=sys.stderr)
    out = Path(args.report or Path(args.file).with_suffix(".rejections.csv"))
    out.write_bytes(report.problems_csv())
    print(f"The full report (line, column, value, reason) is in {out}", file=sys.stderr)
    return 1


def generate_db(args: argparse.Namespace) -> int:
    from reliefhub import generate

    seed = generate.DEFAULT_SEED if args.seed is None else args.seed
    try:
        counts = generate.generate(args.scale, Path(args.out), seed)
    except (ValidationError, ValueError, RuntimeError) as error:
        print(f"generate failed: {error}", file=sys.stderr)
        return 1
    print(
        f"Built {args.out}: SYNTHETIC data (seed {seed}), "
        + ", ".join(f"{n:,} {table}" for table, n in counts.items())
    )
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from reliefhub import bench

    return bench.main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliefhub", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: $RELIEFHUB_DB or data/reliefhub.duckdb)")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build-db", parents=[common], help="rebuild the database from the sources in data/"
    )
    build.add_argument("--data", default=str(DATA_DIR), help="folder of source CSV files")
    build.set_defaults(run=build_db)

    out = commands.add_parser(
        "export", parents=[common], help="write a table as CSV, exactly as the dashboard downloads it"
    )
    out.add_argument("table", choices=exports.EXPORTABLE)
    out.add_argument("--country", action="append", default=[], help="ISO 3166 alpha-3; repeatable")
    out.add_argument("--material", action="append", default=[], help="material code; repeatable")
    out.add_argument("--mode", action="append", default=[], choices=list(MODES), help="repeatable")
    out.add_argument("--from", dest="date_from", type=date.fromisoformat, help="YYYY-MM-DD")
    out.add_argument("--to", dest="date_to", type=date.fromisoformat, help="YYYY-MM-DD")
    out.add_argument("--as-of", type=date.fromisoformat, help="open_requests only: the day (YYYY-MM-DD)")
    out.add_argument("--hxl", action="store_true", help="add an HXL hashtag row under the header")
    out.add_argument("--out", help="output file (default: a name that says what and when)")
    out.set_defaults(run=export)

    load = commands.add_parser(
        "import",
        parents=[common],
        help="import requests, flights or shipments from a CSV file: all rows or none",
        description="Check a CSV file as a whole and write all of it in one transaction, or nothing. "
        "Exit status: 0 written (or checked), 1 rejected (see the report), 2 could not run.",
    )
    load.add_argument(
        "file", help="CSV file: UTF-8 (with or without BOM) or Windows-1252, comma or semicolon"
    )
    load.add_argument("--kind", required=True, choices=["requests", "flights", "shipments"])
    load.add_argument(
        "--who",
        help="your name, recorded in the audit trail with your operating-system user (default: that user)",
    )
    load.add_argument("--encoding", choices=["auto", "utf-8", "windows-1252"], default="auto")
    load.add_argument("--delimiter", choices=[",", ";"], help="default: detected from the header")
    load.add_argument("--check", action="store_true", help="check and count only; write nothing")
    load.add_argument("--report", help="where to write the rejection report (default: FILE.rejections.csv)")
    load.set_defaults(run=import_file)

    accounts.add_commands(commands, common, open_database)

    synthetic = commands.add_parser(
        "generate", help="write a synthetic database (for load tests), through the same loader and rules"
    )
    synthetic.add_argument("--scale", type=int, required=True, help="number of shipments")
    synthetic.add_argument("--out", required=True, help="database file to write")
    synthetic.add_argument("--seed", type=int, default=None, help="same seed, same database")
    synthetic.set_defaults(run=generate_db)

    measure = commands.add_parser(
        "bench", help="measure every query and page at several scales against the performance budgets"
    )
    measure.add_argument("--scales", default="10000,100000,1000000", help="shipments, comma-separated")
    measure.add_argument("--repeat", type=int, default=10, help="measured runs after a warm-up")
    measure.add_argument("--seed", type=int, default=2020, help="seed of the synthetic databases")
    measure.add_argument("--json", help="also write one JSON object per measurement to this file")
    measure.add_argument("--cache", default="bench/cache", help="where databases are kept")
    measure.add_argument(
        "--parts",
        default="queries,pages,payload,import,server",
        help="a subset of queries,pages,payload,import,server",
    )
    # Several scales are measured one per process: each child writes its figures here.
    measure.add_argument("--measurements-to", help=argparse.SUPPRESS)
    measure.set_defaults(run=run_bench)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

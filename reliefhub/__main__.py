"""Command line: python -m reliefhub COMMAND, one of build-db, backup, restore, check, migrate,
schema, export, import, users, wall-key, store, generate, bench, for example:

python -m reliefhub build-db
python -m reliefhub backup
python -m reliefhub restore data/backups/reliefhub-20200401T120000000000Z.duckdb
python -m reliefhub check --repair
python -m reliefhub migrate
python -m reliefhub schema
python -m reliefhub export shipments --country ITA --out shipments.csv
python -m reliefhub import partner.csv --kind shipments --who "Ana Novak"
python -m reliefhub users add ana --role staff --countries ITA,ESP --password-stdin
python -m reliefhub wall-key add "Ops room 1"
python -m reliefhub store init --from data/reliefhub.duckdb
python -m reliefhub generate --scale 100000 --out bench/synthetic.duckdb --seed 7
python -m reliefhub bench --scales 10000,100000,1000000 --json bench/results.json
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb

from reliefhub import DATA_DIR, accounts, backups, exports, faults, migrations, models
from reliefhub.auth import cli_identity
from reliefhub.db import (
    Database,
    database_path,
    ensure_database,
    fill_replica,
    holds_changes,
    open_database_at,
)
from reliefhub.filters import MODES, Filters
from reliefhub.loader import build_database
from reliefhub.store import init, store_url
from reliefhub.validation import ValidationError


def build_db(args: argparse.Namespace) -> int:
    target = Path(args.db or database_path())
    refusal = keep_before_rebuild(target, force=args.force)
    if refusal:
        print(f"build-db refused: {refusal}", file=sys.stderr)
        return 1
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


def keep_before_rebuild(target: Path, *, force: bool) -> str | None:
    """Why a rebuild must not replace `target`, or None; with `force`, a
    database holding changes is first kept as a timestamped backup, and a
    damaged one set aside."""
    if not target.exists():
        return None
    try:
        with duckdb.connect(str(target)) as con:
            if not holds_changes(con):
                return None
            if not force:
                return (
                    f"{target} holds changes that are not in the sources (saves, imports, the audit trail), "
                    "which a rebuild would lose. Give --force to rebuild anyway: a backup is kept first."
                )
            kept = backups.copy_verified(con, target, backups.backup_name(target, "-before-build"))
    except duckdb.Error as error:
        message = faults.plain_message(error) or str(error)
        if "damaged" not in message:
            return message
        if not force:
            return f"{message} Give --force to set the damaged file aside and rebuild."
        kept = target.with_name(f"{target.name}.damaged-{datetime.now():%Y%m%dT%H%M%S}")
        target.replace(kept)
    print(f"Kept the database as it was in {kept}")
    return None


def backup(args: argparse.Namespace) -> int:
    """A verified copy, made here or, while a dashboard holds the file, by the dashboard."""
    path = Path(args.db or database_path())
    if not path.exists():
        print(f"No database at {path}", file=sys.stderr)
        return 1
    try:
        db = Database(path)
    except duckdb.IOException as error:
        if faults.plain_message(error) != faults.locked():
            raise
        try:
            made = backups.request(path, args.wait)
        except backups.BackupFailed as failed:
            print(f"The dashboard holding {path} answered: {failed}", file=sys.stderr)
            return 1
        if made is None:
            print(f"{path} is in use and no dashboard answered within {args.wait:g} s", file=sys.stderr)
            return 1
    except faults.DatabaseFault as fault:
        print(fault, file=sys.stderr)
        return 1
    else:
        try:
            made = db.backup()
        finally:
            db.close()
    print(f"Backed up {path} to {made}")
    return 0


def restore(args: argparse.Namespace) -> int:
    target = Path(args.db or database_path())
    try:
        kept = backups.restore(Path(args.backup), target)
    except duckdb.Error as error:
        print(f"restore refused: {faults.plain_message(error) or error}", file=sys.stderr)
        return 1
    print(f"Restored {target} from {args.backup}" + (f"; the file it replaced is in {kept}" if kept else ""))
    return 0


def open_database(args: argparse.Namespace, instead: str, *, refresh: bool = True) -> Database | None:
    """The command's database, built if missing, migrated, and (unless told
    otherwise) its figures brought up to date, saying so; None (with the
    reason printed) while another process, usually the dashboard, holds it:
    DuckDB lets one process at a time open a database file for writing."""
    path = Path(args.db or database_path())
    try:
        if store_url() is None:
            ensure_database(path)
        else:
            fill_replica(
                path, say=lambda done, text: print(f"[{done:4.0%}] {text}", file=sys.stderr, flush=True)
            )
        db = open_database_at(path)
    except duckdb.IOException as error:
        print(f"Cannot open {path}: {error}\nIs the dashboard running on it? {instead}", file=sys.stderr)
        return None
    except faults.DatabaseFault as fault:
        print(f"Cannot open {path}: {fault}", file=sys.stderr)
        return None
    if refresh and db.stale:
        reasons = ", ".join(f"{name} ({why})" for name, why in db.stale.items())
        print(f"Updating figures: {reasons}", file=sys.stderr)
        db.refresh(progress=lambda done, text: print(f"[{done:4.0%}] {text}", file=sys.stderr, flush=True))
    return db


def check(args: argparse.Namespace) -> int:
    """Exit 0 when every stored model equals its definition (after --repair,
    when it does now), 1 with the first differences listed."""
    db = open_database(args, "Stop it, then check.", refresh=False)
    if db is None:
        return 2
    try:
        for name, why in db.stale.items():
            print(f"{name}: stale, {why}")
        found = models.differences(db.connection.cursor())
        for name, problems in found.items():
            print(f"{name} differs from its definition:")
            for problem in problems:
                print(f"  {problem}")
        if args.repair and (found or db.stale):
            repaired = db.refresh(also=found)
            print(f"Rebuilt {', '.join(repaired)} and the models that read them.")
            found = models.differences(db.connection.cursor())
        if found:
            return 1
        print(f"Every stored model ({len(models.stored_models())}) equals its definition.")
        return 0
    finally:
        db.close()


def migrate(args: argparse.Namespace) -> int:
    path = Path(args.db or database_path())
    try:
        applied = migrations.migrate(path, say=print)
    except (migrations.MigrationError, duckdb.Error) as error:
        print(f"migrate failed; {path} was left as it was: {error}", file=sys.stderr)
        return 1
    print(f"{path} is at schema version {migrations.latest()}" + (" (nothing to do)" if not applied else ""))
    return 0


def schema(args: argparse.Namespace) -> int:
    print("\n\n".join(_one_part_a_line(statement) for statement in migrations.schema()))
    return 0


def _one_part_a_line(statement: str) -> str:
    """A CREATE TABLE statement with each column and constraint on a line of its own."""
    head, _, body = statement.partition("(")
    body = body.removesuffix(");")
    parts, depth, quoted, start = [], 0, False, 0
    for at, char in enumerate(body):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and char == "," and depth == 0:
            parts.append(body[start:at].strip())
            start = at + 1
    parts.append(body[start:].strip())
    return head + " (\n" + ",\n".join(f"    {part}" for part in parts) + "\n);"


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
    rejected, 2 when the import could not run at all, 3 when it would change
    existing records and --update was not given."""
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
            sheet=args.sheet,
            check_only=args.check,
            update=args.update,
            progress=progress,
        )
    finally:
        db.close()
    print_read_as(report)
    if report.held_for_confirmation:
        print(report.summary() + " Run again with --update to write it.", file=sys.stderr)
        print_changes(report)
        return 3
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


def print_changes(report) -> None:
    for change in report.changes[:20]:
        print(
            f"  line {change.line}, {change.record_id}, {change.field}: {change.before!r} → {change.after!r}",
            file=sys.stderr,
        )
    if report.changes_total > 20:
        print(f"  ... and {report.changes_total - 20:,} more", file=sys.stderr)


def print_read_as(report) -> None:
    """What the file's cells were read as, and the places the import creates (or would)."""
    for notice in report.notices:
        print(f"  {notice}")
    for column, value, code, rows in report.resolved:
        print(f"  {column}: {value!r} read as {code} ({rows:,} rows)")
    verb = "Created" if report.written else "Would create"
    for place in report.new_places.itertuples(index=False):
        codes = "/".join(c for c in (place.icao, place.iata) if c)
        print(
            f"  {verb} place {place.place_id}: {place.name} ({place.kind}{' ' + codes if codes else ''}, "
            f"{place.iso3}) at {place.latitude}, {place.longitude} from {place.coordinate_source}"
        )


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


def add_backup_commands(commands, common: argparse.ArgumentParser) -> None:
    copy = commands.add_parser(
        "backup",
        parents=[common],
        help="write a verified copy of the database to its backup folder, even while the dashboard runs",
    )
    copy.add_argument("--wait", type=float, default=60, help="seconds to wait for a running dashboard's copy")
    copy.set_defaults(run=backup)

    back = commands.add_parser(
        "restore", parents=[common], help="put a backup in place of the database (stop the dashboard first)"
    )
    back.add_argument("backup", help="the backup file, from the backup folder")
    back.set_defaults(run=restore)


def add_model_commands(commands, common: argparse.ArgumentParser) -> None:
    """`check`, `migrate` and `schema`: the stored models and the schema."""
    checking = commands.add_parser(
        "check",
        parents=[common],
        help="build every stored model again from its definition and compare it with what is stored",
        description="Exit status: 0 every model equals its definition, 1 differences (listed), "
        "2 could not run.",
    )
    checking.add_argument("--repair", action="store_true", help="rebuild the models that differ")
    checking.set_defaults(run=check)

    migrating = commands.add_parser(
        "migrate", parents=[common], help="apply the migrations the database lacks, after a backup copy"
    )
    migrating.set_defaults(run=migrate)

    printing = commands.add_parser(
        "schema", help="print today's tables, as the migrations define them (no database is read)"
    )
    printing.set_defaults(run=schema)


def store_init(args: argparse.Namespace) -> int:
    """Move an embedded database into a new, empty store (RELIEFHUB_STORE)."""
    url = args.store or store_url()
    if not url:
        print(
            "store init needs the store's URL: --store postgresql://... or RELIEFHUB_STORE", file=sys.stderr
        )
        return 2
    try:
        counts = init.init_from(Path(args.source), url, say=print)
    except (init.StoreNotEmpty, FileNotFoundError, faults.DatabaseFault, migrations.MigrationError) as error:
        print(f"store init refused: {error}", file=sys.stderr)
        return 1
    print(
        f"Moved {args.source} into the store: " + ", ".join(f"{n:,} {table}" for table, n in counts.items())
    )
    return 0


def add_store_commands(commands) -> None:
    shared = commands.add_parser("store", help="the shared PostgreSQL store of several dashboard servers")
    actions = shared.add_subparsers(dest="action", required=True)
    making = actions.add_parser(
        "init",
        help="move an embedded database into a new, empty store",
        description="Copies the tables of record (not the derived models) into the store in one transaction.",
    )
    making.add_argument(
        "--from", dest="source", required=True, help="the DuckDB file to move, e.g. data/reliefhub.duckdb"
    )
    making.add_argument("--store", help="the store's URL (default: $RELIEFHUB_STORE)")
    making.set_defaults(run=store_init)


def add_data_commands(commands, common: argparse.ArgumentParser) -> None:
    """`build-db` and `export`: the database from its sources, and a table out as CSV."""
    build = commands.add_parser(
        "build-db", parents=[common], help="rebuild the database from the sources in data/"
    )
    build.add_argument("--data", default=str(DATA_DIR), help="folder of source CSV files")
    build.add_argument(
        "--force", action="store_true", help="rebuild even over saved changes (kept in a backup first)"
    )
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


def add_synthetic_commands(commands) -> None:
    """`generate` and `bench`: synthetic databases, and the benchmark run on them."""
    synthetic = commands.add_parser(
        "generate", help="write a synthetic database (for load tests), through the same loader and rules"
    )
    synthetic.add_argument("--scale", type=int, required=True, help="number of shipments")
    synthetic.add_argument("--out", required=True, help="database file to write")
    synthetic.add_argument("--seed", type=int, default=None, help="same seed, same database")
    synthetic.set_defaults(run=generate_db)
    add_bench_command(commands)


def add_bench_command(commands) -> None:
    """`bench`: its parts, scales and the sessions part's load (reliefhub/bench)."""
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
        default="queries,pages,payload,import,save,server",
        help="a subset of queries,pages,payload,import,save,server,sessions (sessions: not by default; "
        "save: a form save)",
    )
    sessions = measure.add_argument_group(
        "sessions part: many people at once on one server (docs/benchmark.md)"
    )
    sessions.add_argument("--sessions", default="1,5,20,50", help="session counts rerunning back to back")
    sessions.add_argument(
        "--open-sessions", default="20,50", help="session counts pausing --think between reruns"
    )
    sessions.add_argument("--think", type=float, default=10.0, help="mean think time in seconds (open mode)")
    sessions.add_argument(
        "--duration", type=float, default=30.0, help="seconds each session count is measured"
    )
    sessions.add_argument("--walls", type=int, default=0, help="wall screens on their rotation (open mode)")
    sessions.add_argument(
        "--wall-every", type=int, default=30, help="the wall screens' rotate_every, seconds"
    )
    sessions.add_argument(
        "--compare-with", help="another checkout of the hub (e.g. main's worktree) measured in the same run"
    )
    sessions.add_argument(
        "--db", help="measure this database (e.g. the built-in one) instead of synthetic ones"
    )
    sessions.add_argument(
        "--servers",
        type=int,
        default=0,
        help="N: the hub as 1 and as N servers on a PostgreSQL store behind nginx (deploy/nginx.conf)",
    )
    # Several scales are measured one per process: each child writes its figures here.
    measure.add_argument("--measurements-to", help=argparse.SUPPRESS)
    measure.set_defaults(run=run_bench)


IMPORT_DESCRIPTION = (
    "Check a file as a whole and write all of it in one transaction, or nothing. "
    "Places it needs from the catalogues are listed (use --check to see them first). "
    "Exit status: 0 written (or checked), 1 rejected (see the report), 2 could not run, "
    "3 held back: it would change existing records (listed) and --update was not given."
)


def add_import_command(commands, common: argparse.ArgumentParser) -> None:
    """`import`: a file of records through the same rules as the forms, all rows or none."""
    summary = "import requests, flights, shipments or places from a CSV or .xlsx file: all rows or none"
    load = commands.add_parser("import", parents=[common], help=summary, description=IMPORT_DESCRIPTION)
    load.add_argument(
        "file",
        help="CSV file (UTF-8 with or without BOM, or Windows-1252; comma or semicolon) or .xlsx workbook",
    )
    load.add_argument("--kind", required=True, choices=["requests", "flights", "shipments", "places"])
    load.add_argument("--sheet", help=".xlsx only: the sheet to read (default: the first)")
    load.add_argument(
        "--who",
        help="your name, recorded in the audit trail with your operating-system user (default: that user)",
    )
    load.add_argument("--encoding", choices=["auto", "utf-8", "windows-1252"], default="auto")
    load.add_argument("--delimiter", choices=[",", ";"], help="default: detected from the header")
    load.add_argument("--check", action="store_true", help="check and count only; write nothing")
    load.add_argument(
        "--update", action="store_true", help="write changes to existing records too (listed without it)"
    )
    load.add_argument("--report", help="where to write the rejection report (default: FILE.rejections.csv)")
    load.set_defaults(run=import_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliefhub", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: $RELIEFHUB_DB or data/reliefhub.duckdb)")
    commands = parser.add_subparsers(dest="command", required=True)
    add_data_commands(commands, common)
    add_backup_commands(commands, common)
    add_model_commands(commands, common)
    add_import_command(commands, common)
    accounts.add_commands(commands, common, open_database)
    add_store_commands(commands)
    add_synthetic_commands(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""Moving an embedded database into a new store: `python -m reliefhub store init --from FILE`.

The file is first brought to the code's schema version (migrations.migrate,
with its backup), then every table of record is copied into the empty store
through DuckDB's postgres extension in one PostgreSQL transaction: the store
holds all of it or none of it. A store that already holds data is refused.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from reliefhub import migrations, models
from reliefhub.store import postgres

# What the store keeps, in the order their references require. The models
# are not among them: every replica derives its own.
TABLES = (*models.SOURCE_TABLES, "audit_log", "users", "wall_keys", "sign_in_events")


class StoreNotEmpty(RuntimeError):
    pass


def init_from(source: Path, url: str, say=lambda text: None) -> dict[str, int]:
    """Copy `source`'s tables into the store at `url`; returns rows copied per table."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    migrations.migrate(source, say=say)
    postgres.prepare(url, say)
    counts = {}
    with duckdb.connect() as con:
        quoted = str(source).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS source (READ_ONLY)")
        postgres.attach(con, url)
        held = con.execute("SELECT count(*) FROM store.public.countries").fetchone()[0]
        if held:
            raise StoreNotEmpty(
                f"the store at {postgres.safe_url(url)} already holds data; it was left as it was"
            )
        present = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source'"
            ).fetchall()
        }
        con.begin()
        for table in TABLES:
            if table not in present:
                continue  # a file from before sign-in: the store's table stays empty
            say(f"Copying {table}")
            con.execute(f"INSERT INTO store.public.{table} BY NAME SELECT * FROM source.{table}")  # noqa: S608 (our table names)
            counts[table] = con.execute(f"SELECT count(*) FROM source.{table}").fetchone()[0]  # noqa: S608
        con.execute(
            "INSERT INTO store.public.meta SELECT key, value FROM source.meta WHERE key = 'data_changed_at'"
        )
        con.commit()
    return counts

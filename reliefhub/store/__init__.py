"""PostgreSQL as the shared store of several dashboard servers.

With RELIEFHUB_STORE=postgresql://... set, PostgreSQL is the system of record
and each server's DuckDB file (RELIEFHUB_DB) is a replica of it:

- postgres.py: connecting, the store's schema (store/schema.sql) and its
  numbered migrations (store/migrations/, one PostgreSQL variant per DuckDB
  migration number), and DuckDB's postgres extension;
- init.py: `python -m reliefhub store init --from FILE` moves an embedded
  database into a new, empty store;
- replica.py: a server's replica filled from the store, then following the
  store's changes in the order of the audit trail's change ids;
- push.py: every write's changes, made and checked on the replica inside its
  transaction, land in the store in one PostgreSQL transaction before the
  replica commits.
- sign_ins.py: the same for accounts, wall keys and sign-in events, which
  replicas follow by the sign-in record's event ids.

With RELIEFHUB_STORE unset nothing here runs: the DuckDB file is the data.
"""

from __future__ import annotations

import os


def store_url() -> str | None:
    """The store's PostgreSQL URL from RELIEFHUB_STORE, or None (embedded mode)."""
    return os.environ.get("RELIEFHUB_STORE") or None

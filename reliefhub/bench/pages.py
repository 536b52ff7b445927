"""The pages part: a whole rerun of each page under AppTest."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from reliefhub import REPO_DIR, auth
from reliefhub import db as dbmodule
from reliefhub.auth import Identity, cli_identity
from reliefhub.bench.measurements import PAGE_BUDGET_MS, Measurement, timed
from reliefhub.bench.report import ms
from reliefhub.db import Database


def app_pages() -> list[str]:
    """Page files in app.py's navigation, in its order."""
    text = (REPO_DIR / "app.py").read_text()
    return re.findall(r"st\.Page\(\s*[\"']([\w/]+\.py)[\"']", text)


def bench_admin(db: Database) -> Identity:
    """The benchmark's own admin account in the database it measures."""
    name = "benchmark admin"
    accounts = auth.read(db, "users_list")
    known = accounts.loc[accounts["name"] == name, "user_id"]
    if known.empty:
        auth.add_user(db, name, "admin", secrets.token_urlsafe(16), by=cli_identity("Benchmark"))
        return bench_admin(db)
    return Identity(known.iat[0], name, "admin")


# Pages that draw only their open tab, each tab measured open: (tabs' key, the tabs after the first).
OTHER_TABS = {"app_pages/data.py": ("data_tab", ("Shipments", "Flights"))}


def bench_pages(
    db_path: Path, scale: int, repeat: int, scenario_params: dict, say=print, *, filtered: bool = True
) -> list[Measurement]:
    """A whole rerun of each page (and of each tab, where a page draws only the open one) under
    AppTest, with the result cache emptied first."""
    country = scenario_params.get("country", {}).get("countries", []) if filtered else []
    settings = [("all", {}), *([("country", {"country": country[0]})] if country else [])]
    out = []
    with shared_database_at(db_path) as db:
        admin = bench_admin(db)  # pages are measured as an admin sees them: every page, every download
        for page in app_pages():
            key, tabs = OTHER_TABS.get(page, ("", ()))
            for scenario, query in settings:
                for tab in ("", *tabs):
                    name = f"page:{page}[{scenario}{f', {tab}' if tab else ''}]"
                    out.append(bench_page(page, query, admin, name, scale, repeat, {key: tab} if tab else {}))
                    say(f"    {out[-1].name:<44} {ms(out[-1].median_ms):>9} ms {out[-1].note or ''}")
                    if out[-1].median_ms is None:
                        break
    return out


def bench_page(
    page: str, query: dict, admin: Identity, name: str, scale: int, repeat: int, state: dict
) -> Measurement:
    """One page's rerun with these query parameters and session `state` (an open tab); a rerun ten
    times over budget is timed once more, not `repeat` times."""
    from streamlit.testing.v1 import AppTest

    from reliefhub import access

    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=600)
    app.session_state[access.SESSION_KEY] = access.LocalSession(admin, datetime.now(UTC))
    for key, value in state.items():
        app.session_state[key] = value
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(page)
    app.run()
    if app.exception:
        return Measurement(name, scale, None, None, note="raised: " + str(app.exception[0].message)[:200])
    empty_result_cache()
    started = time.perf_counter()
    app.run()
    slow = (time.perf_counter() - started) * 1000 > 10 * PAGE_BUDGET_MS
    t = timed(app.run, 1 if slow else repeat, warmup=0 if slow else 1, before=empty_result_cache)
    note = "over 10x the budget: timed once" if slow else None
    return Measurement(name, scale, t.median_ms, t.p90_ms, budget=PAGE_BUDGET_MS, note=note)


def empty_result_cache():
    if dbmodule._shared is not None:
        dbmodule._shared._cache.clear()


@contextmanager
def shared_database_at(db_path: Path) -> Iterator[Database]:
    """The pages' shared database opened at db_path (RELIEFHUB_DB), closed and unset on leaving."""
    previous = os.environ.get("RELIEFHUB_DB")
    os.environ["RELIEFHUB_DB"] = str(db_path)
    try:
        yield dbmodule.shared_database()
    finally:
        if dbmodule._shared is not None:
            dbmodule._shared.close()
            dbmodule._shared = None
        if previous is None:
            os.environ.pop("RELIEFHUB_DB", None)
        else:
            os.environ["RELIEFHUB_DB"] = previous

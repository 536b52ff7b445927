"""The registry of query cases: every query the pages ask, and how the benchmark asks it.

PAGE_QUERIES names each query the pages ask with the parameters it takes besides
the shared filters; query_cases() turns it into concrete cases on a database.
The benchmark measures these cases and the tests read the same registry
(tests/test_bench.py checks it against the page files and the query files).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from reliefhub import confidence, figures, replay
from reliefhub.db import Database, parameter_names, query_text
from reliefhub.ui.tables import PAGE_SIZE

SHARED_FILTERS = ("countries", "materials", "modes", "date_from", "date_to")
# Stand-ins for values read from the database being measured.
LAST_DAY = "<the data's last day>"
BUSIEST_ORIGIN = "<origin of the busiest arc>"
BUSIEST_DESTINATION = "<destination of the busiest arc>"
MAP_ORIGINS = "<origins of the map's arcs>"
MAP_DESTINATIONS = "<destinations of the map's arcs>"
MAP_CATEGORIES = "<categories of the map's arcs>"
FIRST_PAGE = {"limit": PAGE_SIZE, "offset": 0}  # a paged table, as the pages ask for it

# Every query the pages ask: the parameters besides the shared filters.
PAGE_QUERIES: dict[str, dict] = {
    "closed_requests": {"as_of": LAST_DAY, "limit": confidence.CLOSED_SHOWN},
    "data_bounds": {},
    "data_freshness": {},
    "dataset_info": {},
    "filter_countries": {},
    "filter_materials": {},
    "flights_table": FIRST_PAGE,
    "headline_figures": {"as_of": LAST_DAY},
    "map_frame": {},
    "movement_flows": {"colour_by": "cargo_kind", "limit": figures.MAP_ARCS},
    "movement_places": {"limit": figures.MAP_PLACES},
    "movement_records": FIRST_PAGE
    | {"origin_place_id": BUSIEST_ORIGIN, "destination_place_id": BUSIEST_DESTINATION, "place_id": None},
    "open_requests": FIRST_PAGE | {"as_of": LAST_DAY},
    "open_requests_by_country": {"as_of": LAST_DAY},
    "recent_flights": {"as_of": LAST_DAY, "limit": 12},
    "replay_flows": {
        "colour_by": "cargo_kind",
        "origins": MAP_ORIGINS,
        "destinations": MAP_DESTINATIONS,
        "categories": MAP_CATEGORIES,
    },
    "request_trend": {},
    "requests_table": FIRST_PAGE,
    "shipments_table": FIRST_PAGE,
    "wall_figures": {"as_of": LAST_DAY},
}

# Queries the pages ask that the benchmark leaves out, and why.
NOT_MEASURED = {
    "record_choices": "the record form's look-up of one table's keys as a person types",
    "audit_change_sets": "the audit page, for admins, bounded by its own page size",
    "audit_log": "the audit page, for admins, bounded by its own page size",
    "audit_people": "the audit page, for admins, bounded by its own page size",
    "known_countries": "sign-in and accounts: a handful of rows, not the data's size",
    "users_list": "sign-in and accounts: a handful of rows, not the data's size",
    "wall_keys_list": "sign-in and accounts: a handful of rows, not the data's size",
    "sign_in_events": "sign-in and accounts: a handful of rows, not the data's size",
    "user_by_external_id": "sign-in and accounts: a handful of rows, not the data's size",
}


class QueryCase(NamedTuple):
    name: str
    scenario: str  # a key of scenarios(), or "-" for a query without the shared filters
    params: dict


def scenarios(db: Database) -> dict[str, dict]:
    """Filter settings a person would use: none, one country, one material, one month."""
    con = db.connection.cursor()
    country = con.execute(
        "SELECT recipient_iso3 FROM shipments GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()
    material = con.execute(
        "SELECT material_code FROM shipments GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()
    month = con.execute(
        "SELECT date_trunc('month', coalesce(delivered_on, dispatched_on))::DATE FROM shipments "
        "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()
    none = {"countries": [], "materials": [], "modes": [], "date_from": None, "date_to": None}
    found = {"all": none}
    if country:
        found["country"] = none | {"countries": [country[0]]}
    if material:
        found["material"] = none | {"materials": [material[0]]}
    if month:
        start = month[0]
        end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
        found["dates"] = none | {"date_from": start, "date_to": end}
    return found


def query_cases(db: Database) -> list[QueryCase]:
    """Every registered query under every scenario its parameters take, on this database."""
    settings = scenarios(db)
    known = known_values(db, settings["all"])
    cases = []
    for name, asked in PAGE_QUERIES.items():
        if BUSIEST_ORIGIN in asked.values() and known[BUSIEST_ORIGIN] is None:
            continue  # no arcs in this database: no record list to open
        extra = {
            key: known.get(value, value) if isinstance(value, str) else value for key, value in asked.items()
        }
        names = parameter_names(query_text(name))
        if not set(SHARED_FILTERS) & set(names):
            cases.append(QueryCase(name, "-", extra))
            continue
        for scenario, filters in settings.items():
            bound = filters | extra
            cases.append(QueryCase(name, scenario, {key: bound[key] for key in names}))
    return cases


def known_values(db: Database, no_filters: dict) -> dict:
    """What the stand-ins in PAGE_QUERIES stand for in this database."""
    bounds = db.query("data_bounds")
    last = bounds.at[0, "last_date"] if len(bounds) else None
    flows = db.query("movement_flows", no_filters | {"colour_by": "cargo_kind", "limit": figures.MAP_ARCS})
    busiest = flows.iloc[0] if len(flows) else None
    arcs = replay.shown_arcs(flows)
    return {
        LAST_DAY: last.date() if pd.notna(last) else None,
        BUSIEST_ORIGIN: None if busiest is None else busiest.origin_place_id,
        BUSIEST_DESTINATION: None if busiest is None else busiest.destination_place_id,
        MAP_ORIGINS: arcs["origins"],
        MAP_DESTINATIONS: arcs["destinations"],
        MAP_CATEGORIES: arcs["categories"],
    }

"""The benchmark: every query and page against budgets, beside the typical Streamlit way.

python -m reliefhub bench --scales 10000,100000,1000000 --repeat 10 --json bench/results.json

For each scale it builds (or reuses, under bench/cache/) a synthetic database
made by reliefhub.generate, then measures:

- query:<name>[<scenario>]: each query module the pages use, through
  Database.query with its result cache off, so DuckDB is measured. Scenarios:
  no filters (all), one country, one material, one month (dates). Beside it,
  the same question answered the typical Streamlit way (tables loaded into
  pandas once, filtered and grouped with pandas on every rerun): the ratio.
- page:<path>[<scenario>]: a whole rerun of each page under AppTest
  (queries, figures, serialisation), the result cache emptied before each run.
- map_payload[<colour>]: bytes of the deck JSON the map sends to the browser.
- bulk_import: rows per second of a validated import of the scenario's
  shipments (reliefhub.imports), or of the validated build when there is none.
- server: peak memory (VmHWM) of `streamlit run` while a headless Chromium
  opens every page, and the cold start from launching the server to the first
  page drawn (map canvas shown).

Times are medians and 90th percentiles over --repeat runs after a warm-up.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from reliefhub import DATA_DIR, PACKAGE_DIR, QUERIES_DIR, REPO_DIR, auth, figures, flowmap, generate
from reliefhub.auth import Identity, cli_identity
from reliefhub.db import Database, parameter_names, query_text
from reliefhub.loader import build_database
from reliefhub.ui.maps import BASEMAP_URL
from reliefhub.ui.tables import PAGE_SIZE

DEFAULT_SCALES = (10_000, 100_000, 1_000_000)
CACHE_DIR = REPO_DIR / "bench" / "cache"
# The headless Chromium the benchmark and the browser tests drive.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Budgets at 1,000,000 shipments (the map payload's at every scale).
BUDGET_SCALE = 1_000_000
QUERY_BUDGET_MS = 50.0
PAGE_BUDGET_MS = 300.0
PANDAS_RATIO = 3.0
PAYLOAD_BUDGET_BYTES = 300_000
MEMORY_BUDGET_MB = 1536.0
IMPORT_BUDGET_ROWS_S = 200_000.0

# Queries the pages run, beside any the page files name literally.
PAGE_QUERIES = (
    "data_bounds",
    "filter_countries",
    "filter_materials",
    "map_frame",
    "movement_flows",
    "movement_places",
    "movement_records",
    "headline_figures",
    "open_requests_by_country",
    "open_requests",
    "requests_table",
    "shipments_table",
    "flights_table",
    "wall_figures",
    "recent_flights",
    "data_freshness",
    "dataset_info",
)


@dataclass
class Measurement:
    name: str
    scale: int
    median_ms: float | None
    p90_ms: float | None
    baseline_median_ms: float | None = None
    value: float | None = None
    unit: str | None = None
    budget: float | None = None
    within_budget: bool | None = None
    rows: int | None = None
    note: str | None = None
    p95_ms: float | None = None
    failures: int | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_median_ms is None or not self.median_ms:
            return None
        return self.baseline_median_ms / self.median_ms

    def as_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.ratio is not None:
            out["baseline_ratio"] = round(self.ratio, 2)
        return out


@dataclass
class Timing:
    median_ms: float
    p90_ms: float
    runs: list[float] = field(repr=False)


def timed(run: Callable[[], object], repeat: int, warmup: int = 1, before: Callable | None = None) -> Timing:
    """Median and 90th percentile of `repeat` runs after `warmup` unmeasured ones."""
    for _ in range(warmup):
        if before:
            before()
        run()
    runs = []
    for _ in range(max(1, repeat)):
        if before:
            before()
        gc.collect()
        started = time.perf_counter()
        run()
        runs.append((time.perf_counter() - started) * 1000)
    return Timing(statistics.median(runs), float(np.percentile(runs, 90)), runs)


# --------------------------------------------------------------------------- databases


def code_digest() -> str:
    """Changes when what a cached database was built from changes."""
    import hashlib

    digest = hashlib.sha256()
    for path in (
        PACKAGE_DIR / "schema.sql",
        PACKAGE_DIR / "generate.py",
        PACKAGE_DIR / "loader.py",
        PACKAGE_DIR / "validation.py",
        DATA_DIR / "countries.csv",
        DATA_DIR / "materials.csv",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cached_database(scale: int, seed: int, cache_dir: Path = CACHE_DIR, say=print) -> tuple[Path, Path]:
    """(database, its source CSV folder) for a scale, built once and reused while the code is unchanged."""
    stem = f"synthetic-{scale}-seed{seed}-{code_digest()}"
    db_path = Path(cache_dir) / f"{stem}.duckdb"
    sources = Path(cache_dir) / f"{stem}-csv"
    if db_path.exists() and (sources / "shipments.csv").exists():
        return db_path, sources
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    for old in Path(cache_dir).glob(f"synthetic-{scale}-seed{seed}-*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    say(f"  generating {scale:,} shipments (seed {seed}) into {db_path} ...")
    started = time.perf_counter()
    generate.generate(scale, db_path, seed, keep_sources=sources)
    say(f"  generated in {time.perf_counter() - started:.1f} s")
    return db_path, sources


def working_copy(db_path: Path, folder: Path, name: str) -> Path:
    """A private copy, so a run never changes the cached database."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    for suffix in ("", ".wal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(db_path, target)
    return target


# --------------------------------------------------------------------------- scenarios


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


def page_queries() -> list[str]:
    """Query modules the pages use: the known list plus any a page file names."""
    names = {p.stem for p in QUERIES_DIR.glob("*.sql")}
    texts = "".join(
        p.read_text()
        for p in [*REPO_DIR.glob("pages/*.py"), *(PACKAGE_DIR / "ui").glob("*.py"), PACKAGE_DIR / "wall.py"]
        if p.exists()
    )
    named = {n for n in names if re.search(rf"[\"']{n}[\"']", texts)}
    return sorted(
        (set(PAGE_QUERIES) & names)
        | (named - {"record_choices"} - {n for n in names if "audit" in n} - set(auth.QUERIES))
    )


def query_cases(db: Database) -> list[tuple[str, str, dict]]:
    """(query, scenario, parameters) for every query module the pages use."""
    bounds = db.query("data_bounds")
    as_of = bounds.at[0, "last_date"].date() if len(bounds) and pd.notna(bounds.at[0, "last_date"]) else None
    cases = []
    settings = scenarios(db)
    for name in page_queries():
        names = parameter_names(query_text(name))
        limit = {"movement_flows": figures.MAP_ARCS, "movement_places": figures.MAP_PLACES}.get(name, 12)
        extra = {"as_of": as_of, "colour_by": "cargo_kind", "limit": limit}
        if "offset" in names:  # a paged table: its first page, as the pages ask for it
            extra |= {"limit": PAGE_SIZE, "offset": 0}
        if "origin_place_id" in names:
            flows = db.query(
                "movement_flows", settings["all"] | {"colour_by": "cargo_kind", "limit": figures.MAP_ARCS}
            )
            if flows.empty:
                continue
            busiest = flows.iloc[0]
            extra |= {
                "origin_place_id": busiest.origin_place_id,
                "destination_place_id": busiest.destination_place_id,
                "place_id": None,
            }
        filtered = {"countries", "materials", "modes", "date_from", "date_to"} & set(names)
        if not filtered:
            cases.append((name, "-", {k: extra[k] for k in names if k in extra}))
            continue
        for scenario, params in settings.items():
            bound = params | extra
            if all(k in bound for k in names):
                cases.append((name, scenario, {k: bound[k] for k in names}))
    return cases


# --------------------------------------------------------------------------- the pandas way


class PandasWay:
    """The same questions answered as a typical Streamlit app does: pandas frames
    loaded once (st.cache_data), then masks and groupbys on every rerun. The joined
    movements frame is built once at load, which flatters pandas."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        t = {
            name: con.table(name).df()
            for name in ("countries", "places", "materials", "requests", "flights", "shipments")
        }
        self.t = t
        s, f, p, m = t["shipments"], t["flights"], t["places"], t["materials"]
        ship = s.merge(m[["material_code", "name", "category", "unit"]], on="material_code", how="left")
        ship = ship.merge(f[["flight_id", "aircraft_type", "operator"]], on="flight_id", how="left")
        cargo = np.select(
            [ship["category"] == "patients", ship["category"] == "personnel"],
            ["patients", "personnel"],
            "goods",
        )
        ships = pd.DataFrame(
            {
                "record_kind": "shipment",
                "record_id": ship["shipment_id"],
                "origin_place_id": ship["origin_place_id"],
                "destination_place_id": ship["destination_place_id"],
                "recipient_iso3": ship["recipient_iso3"],
                "provider_iso3": ship["provider_iso3"],
                "provider": ship["provider"],
                "mode": ship["mode"].fillna("not_stated"),
                "material_code": ship["material_code"],
                "material_name": ship["name"],
                "material_category": ship["category"],
                "cargo_kind": cargo,
                "quantity": ship["quantity"],
                "unit": ship["unit"],
                "patients": ship["quantity"].where(ship["category"] == "patients"),
                "event_date": ship["delivered_on"].fillna(ship["dispatched_on"]),
                "date_precision": ship["date_precision"],
                "status": ship["status"],
                "flight_id": ship["flight_id"],
                "aircraft_type": ship["aircraft_type"],
                "operator": ship["operator"],
                "description": ship["description"],
                "source_urls": ship["source_urls"],
            }
        )
        lone = f[~f["flight_id"].isin(s["flight_id"].dropna())]
        flown = pd.DataFrame(
            {
                "record_kind": "flight",
                "record_id": lone["flight_id"],
                "origin_place_id": lone["origin_place_id"],
                "destination_place_id": lone["destination_place_id"],
                "provider": lone["operator"],
                "mode": "air",
                "material_category": "airlift",
                "cargo_kind": "goods",
                "patients": lone["patients"].astype("float64"),
                "event_date": lone["flight_date"],
                "date_precision": lone["date_precision"],
                "status": lone["status"].replace({"landed": "delivered", "airborne": "in_transit"}),
                "flight_id": lone["flight_id"],
                "aircraft_type": lone["aircraft_type"],
                "operator": lone["operator"],
                "description": lone["description"],
                "source_urls": lone["source_urls"],
            }
        )
        mv = pd.concat([ships, flown], ignore_index=True)
        iso = p.set_index("place_id")["iso3"]
        mv["origin_iso3"] = mv["origin_place_id"].map(iso)
        mv["destination_iso3"] = mv["destination_place_id"].map(iso)
        mv["range_end"] = mv["event_date"].where(
            mv["date_precision"] != "month", mv["event_date"] + pd.offsets.MonthEnd(0)
        )
        self.movements = mv
        self.places = p.set_index("place_id")

    # The shared filters.
    def filtered(self, q: dict) -> pd.DataFrame:
        mv = self.movements
        mask = np.ones(len(mv), dtype=bool)
        if q["countries"]:
            c = q["countries"]
            mask &= (
                mv["origin_iso3"].isin(c)
                | mv["destination_iso3"].isin(c)
                | mv["recipient_iso3"].isin(c)
                | mv["provider_iso3"].isin(c)
            ).to_numpy()
        if q["materials"]:
            mask &= mv["material_code"].isin(q["materials"]).to_numpy()
        if q.get("modes"):
            mask &= mv["mode"].isin(q["modes"]).to_numpy()
        if q["date_to"] is not None:
            mask &= (mv["event_date"] <= pd.Timestamp(q["date_to"])).to_numpy()
        if q["date_from"] is not None:
            mask &= (mv["range_end"] >= pd.Timestamp(q["date_from"])).to_numpy()
        return mv[mask]

    def requests_as_of(self, as_of) -> pd.DataFrame:
        as_of = pd.Timestamp(as_of)
        s, r = self.t["shipments"], self.t["requests"]
        done = s[s["request_id"].notna() & (s["status"] == "delivered") & (s["delivered_on"] <= as_of)]
        delivered = done.groupby("request_id").agg(
            delivered_quantity=("quantity", "sum"), last_delivered_on=("delivered_on", "max")
        )
        r = r[r["requested_on"] <= as_of].merge(
            self.t["materials"].rename(columns={"name": "material_name", "category": "material_category"}),
            on="material_code",
        )
        r = r.merge(delivered, left_on="request_id", right_index=True, how="left")
        got = r["delivered_quantity"].fillna(0)
        r["delivered_quantity"] = got
        r["missing_quantity"] = (r["quantity"] - got).clip(lower=0)
        closed = r["status"].isin(["fulfilled", "closed", "withdrawn", "cancelled"]) & (
            r["closed_on"].isna() | (r["closed_on"] <= as_of)
        )
        r["status_as_of"] = np.select(
            [
                closed,
                r["quantity"].notna() & (got >= r["quantity"]) & (r["quantity"] > 0),
                (got > 0) | (r["status"] == "partially_fulfilled"),
            ],
            [r["status"], "fulfilled", "partially_fulfilled"],
            "open",
        )
        r["days_waiting"] = (as_of - r["requested_on"]).dt.days
        return r

    def open_requests_frame(self, q: dict, statuses=("open", "partially_fulfilled")) -> pd.DataFrame:
        r = self.requests_as_of(q["as_of"])
        mask = r["status_as_of"].isin(statuses)
        if q["countries"]:
            mask &= r["requester_iso3"].isin(q["countries"])
        if q["materials"]:
            mask &= r["material_code"].isin(q["materials"])
        if q["date_to"] is not None:
            mask &= r["requested_on"] <= pd.Timestamp(q["date_to"])
        if q["date_from"] is not None:
            end = r["requested_on"].where(
                r["date_precision"] != "month", r["requested_on"] + pd.offsets.MonthEnd(0)
            )
            mask &= end >= pd.Timestamp(q["date_from"])
        names = self.t["countries"].set_index("iso3")["name"]
        r = r[mask].copy()
        r["requester_country"] = r["requester_iso3"].map(names)
        return r

    # One method per query module.
    def movement_flows(self, q):
        m = self.filtered(q).copy()
        m["category"] = m[
            {"mode": "mode", "material_category": "material_category"}.get(q["colour_by"], "cargo_kind")
        ]
        m["is_shipment"] = m["record_kind"] == "shipment"
        m["month_only"] = m["date_precision"] == "month"
        m["aircraft"] = (
            (m["operator"].fillna("") + " " + m["aircraft_type"].fillna(""))
            .str.strip()
            .where(m["flight_id"].notna())
        )
        keys = ["origin_place_id", "destination_place_id", "category"]
        out = (
            m.groupby(keys, dropna=False)
            .agg(
                movements=("record_id", "size"),
                flights=("flight_id", "nunique"),
                shipments=("is_shipment", "sum"),
                patients=("patients", "sum"),
                first_date=("event_date", "min"),
                last_date=("event_date", "max"),
                has_month_only_dates=("month_only", "any"),
            )
            .reset_index()
        )
        out["arcs_total"] = len(out)
        p = self.places
        for end in ("origin", "destination"):
            ids = out[f"{end}_place_id"]
            out[f"{end}_name"] = ids.map(p["name"])
            out[f"{end}_latitude"] = ids.map(p["latitude"])
            out[f"{end}_longitude"] = ids.map(p["longitude"])
        out = out.sort_values(
            ["movements", "origin_name", "destination_name", "category"], ascending=[False, True, True, True]
        ).head(q["limit"])
        # Names for the shown arcs only, as the query does.
        shown = m.merge(out[keys], on=keys)
        names = shown.groupby(keys, dropna=False).agg(
            aircraft=("aircraft", lambda s: ", ".join(sorted(s.dropna().unique())) or None),
        )
        return out.merge(names.reset_index(), on=keys, how="left")

    def movement_places(self, q):
        m = self.filtered(q)
        counts = pd.concat(
            [
                pd.DataFrame({"place_id": m["origin_place_id"], "departures": 1, "arrivals": 0}),
                pd.DataFrame({"place_id": m["destination_place_id"], "departures": 0, "arrivals": 1}),
            ]
        )
        out = counts.groupby("place_id").sum()
        out["movements"] = out["departures"] + out["arrivals"]
        out = out.join(self.places).reset_index()
        out["places_total"] = len(out)
        return out.sort_values(["movements", "name"], ascending=[False, True]).head(q["limit"])

    def movement_records(self, q):
        m = self.filtered(q)
        mask = np.ones(len(m), dtype=bool)
        if q["origin_place_id"] is not None:
            mask &= (m["origin_place_id"] == q["origin_place_id"]).to_numpy()
        if q["destination_place_id"] is not None:
            mask &= (m["destination_place_id"] == q["destination_place_id"]).to_numpy()
        if q["place_id"] is not None:
            mask &= (
                (m["origin_place_id"] == q["place_id"]) | (m["destination_place_id"] == q["place_id"])
            ).to_numpy()
        m = m[mask].copy()
        m["origin"] = m["origin_place_id"].map(self.places["name"])
        m["destination"] = m["destination_place_id"].map(self.places["name"])
        return m.sort_values(["event_date", "record_id"])

    def headline_figures(self, q):
        m = self.filtered(q)
        ship = m["record_kind"] == "shipment"
        return pd.DataFrame(
            {
                "open_requests": [len(self.open_requests_frame(q))],
                "shipments_in_transit": [int((ship & (m["status"] == "in_transit")).sum())],
                "shipments_delivered": [int((ship & (m["status"] == "delivered")).sum())],
                "flights": [m["flight_id"].nunique()],
                "patients_moved": [int(m.loc[m["status"] == "delivered", "patients"].sum())],
            }
        )

    def wall_figures(self, q):
        m = self.filtered(q)
        as_of = pd.Timestamp(q["as_of"])
        recent = (
            (m["status"] == "delivered")
            & (m["event_date"] > as_of - timedelta(days=7))
            & (m["event_date"] <= as_of)
        )
        return pd.DataFrame(
            {
                "open_requests": [len(self.open_requests_frame(q))],
                "shipments_in_transit": [
                    int(((m["record_kind"] == "shipment") & (m["status"] == "in_transit")).sum())
                ],
                "patients_last_7_days": [int(m.loc[recent, "patients"].sum())],
            }
        )

    def open_requests(self, q):
        r = self.open_requests_frame(q)
        return r.sort_values(
            ["missing_quantity", "days_waiting", "request_id"],
            ascending=[False, False, True],
            na_position="last",
        )

    def closed_requests(self, q):
        r = self.open_requests_frame(q, statuses=("closed", "withdrawn"))
        r = r[r["missing_quantity"].ne(0)].copy()  # NaN (quantity not stated) stays, as IS DISTINCT FROM 0
        s = self.t["shipments"]
        unstated = (
            s[
                s["request_id"].isin(r["request_id"])
                & (s["status"] == "delivered")
                & (s["delivered_on"] <= pd.Timestamp(q["as_of"]))
                & s["quantity"].isna()
            ]
            .groupby("request_id")
            .size()
        )
        r["unstated_deliveries"] = r["request_id"].map(unstated).fillna(0)
        order = ["closed_on", "requester_country", "material_name", "request_id"]
        return r.sort_values(order, ascending=[False, True, True, True])

    def open_requests_by_country(self, q):
        r = self.open_requests_frame(q)
        keys = [
            "requester_iso3",
            "requester_country",
            "material_category",
            "material_code",
            "material_name",
            "unit",
        ]
        out = r.groupby(keys, dropna=False).agg(
            open_requests=("request_id", "size"),
            requested_quantity=("quantity", "sum"),
            delivered_quantity=("delivered_quantity", "sum"),
            missing_quantity=("missing_quantity", "sum"),
            longest_wait_days=("days_waiting", "max"),
        )
        return out.reset_index().sort_values(["requester_iso3", "material_code"])

    def requests_table(self, q):
        r = self.t["requests"]
        mask = np.ones(len(r), dtype=bool)
        if q["countries"]:
            mask &= r["requester_iso3"].isin(q["countries"]).to_numpy()
        if q["materials"]:
            mask &= r["material_code"].isin(q["materials"]).to_numpy()
        if q["date_to"] is not None:
            mask &= (r["requested_on"] <= pd.Timestamp(q["date_to"])).to_numpy()
        if q["date_from"] is not None:
            end = r["requested_on"].where(
                r["date_precision"] != "month", r["requested_on"] + pd.offsets.MonthEnd(0)
            )
            mask &= (end >= pd.Timestamp(q["date_from"])).to_numpy()
        out = r[mask].merge(self.t["countries"][["iso3", "name"]], left_on="requester_iso3", right_on="iso3")
        out = out.merge(self.t["materials"], on="material_code", suffixes=("", "_material"))
        return out.sort_values(["requested_on", "request_id"])

    def shipments_table(self, q):
        ids = self.filtered(q)
        ids = ids.loc[ids["record_kind"] == "shipment", "record_id"]
        s = self.t["shipments"]
        out = s[s["shipment_id"].isin(ids)]
        names = self.t["countries"].set_index("iso3")["name"]
        out = out.assign(
            recipient_country=out["recipient_iso3"].map(names),
            origin_name=out["origin_place_id"].map(self.places["name"]),
            destination_name=out["destination_place_id"].map(self.places["name"]),
            sort_date=out["delivered_on"].fillna(out["dispatched_on"]),
        )
        return out.sort_values(["sort_date", "shipment_id"])

    def flights_table(self, q):
        m = self.filtered(q)
        f = self.t["flights"]
        out = f[f["flight_id"].isin(m["flight_id"].dropna())]
        out = out.assign(
            origin_name=out["origin_place_id"].map(self.places["name"]),
            destination_name=out["destination_place_id"].map(self.places["name"]),
        )
        return out.sort_values(["flight_date", "flight_id"])

    def recent_flights(self, q):
        out = self.flights_table(q)
        out = out[out["flight_date"] <= pd.Timestamp(q["as_of"])]
        return out.sort_values(["flight_date", "flight_id"], ascending=False).head(q["limit"])

    def request_trend(self, q):
        """As an app would: the requests received by, and still open on, each day."""
        bounds = self.data_bounds(q).iloc[0]
        first = max(bounds.first_date, pd.Timestamp(q["date_from"] or bounds.first_date))
        last = min(bounds.last_date, pd.Timestamp(q["date_to"] or bounds.last_date))
        asked_on = self.requests_table(q)["requested_on"]
        rows = []
        for day in pd.date_range(first, last):
            received = int((asked_on <= day).sum())
            still_open = len(self.open_requests_frame(q | {"as_of": day.date()}))
            rows.append((day, received, received - still_open, still_open))
        return pd.DataFrame(rows, columns=["day", "received", "settled", "still_open"])

    def data_bounds(self, q):
        mv, r = self.movements, self.t["requests"]
        return pd.DataFrame(
            {
                "first_date": [min(mv["event_date"].min(), r["requested_on"].min())],
                "last_date": [max(mv["range_end"].max(), r["closed_on"].fillna(r["requested_on"]).max())],
            }
        )

    def filter_countries(self, q):
        mv = self.movements
        used = pd.concat(
            [
                self.t["requests"]["requester_iso3"],
                mv["recipient_iso3"],
                mv["provider_iso3"],
                mv["origin_iso3"],
                mv["destination_iso3"],
            ]
        ).dropna()
        c = self.t["countries"]
        return c[c["iso3"].isin(used.unique())].sort_values("name")[["iso3", "name"]]

    def filter_materials(self, q):
        return self.t["materials"].sort_values(["category", "name"])

    def map_frame(self, q):
        dest = self.places.loc[self.movements["destination_place_id"]]
        return pd.DataFrame(
            {
                "south": [dest["latitude"].quantile(0.05)],
                "north": [dest["latitude"].quantile(0.95)],
                "west": [dest["longitude"].quantile(0.05)],
                "east": [dest["longitude"].quantile(0.95)],
            }
        )

    def answer(self, name: str, params: dict) -> pd.DataFrame | None:
        method = getattr(self, name, None)
        if method is None:
            return None
        out = method(params)
        if "offset" in params:  # a paged table: every match filtered and sorted, then the page
            start, limit = params["offset"], params["limit"]
            out = out.iloc[start : None if limit is None else start + limit]
        return out


# --------------------------------------------------------------------------- measurements


def bench_queries(db_path: Path, scale: int, repeat: int, say=print) -> list[Measurement]:
    db = Database(db_path, cache_bytes=0)  # no result cache: every call reaches DuckDB
    try:
        cases = query_cases(db)
        say(f"  loading the pandas way ({scale:,}) ...")
        started = time.perf_counter()
        way = PandasWay(db.connection.cursor())
        say(f"  pandas tables loaded in {time.perf_counter() - started:.1f} s")
        out = []
        for name, scenario, params in cases:
            rows = len(db.query(name, params))
            ours = timed(lambda name=name, params=params: db.query(name, params), repeat)
            baseline = None
            if way.answer(name, params) is not None:
                base_repeat = max(3, repeat // 2) if scale >= BUDGET_SCALE else repeat
                baseline = timed(lambda name=name, params=params: way.answer(name, params), base_repeat)
            out.append(
                Measurement(
                    f"query:{name}[{scenario}]",
                    scale,
                    ours.median_ms,
                    ours.p90_ms,
                    baseline.median_ms if baseline else None,
                    rows=rows,
                    budget=QUERY_BUDGET_MS,
                )
            )
            say(
                f"    {out[-1].name:<44} {ours.median_ms:9.1f} ms"
                + (f"  pandas {baseline.median_ms:9.1f} ms" if baseline else "")
            )
        return out
    finally:
        db.close()


def bench_map_payload(db_path: Path, scale: int, repeat: int) -> list[Measurement]:
    db = Database(db_path, cache_bytes=0)
    try:
        params = scenarios(db)["all"]
        frame = db.query("map_frame")
        view = (
            flowmap.frame_bounds(*(float(frame.at[0, c]) for c in ("south", "north", "west", "east")))
            if len(frame) and pd.notna(frame.at[0, "south"])
            else figures.MapFrame(50.0, 10.0, 3.5)
        )
        out = []
        for colour_by in ("cargo_kind", "mode"):
            flows = db.query("movement_flows", params | {"colour_by": colour_by, "limit": figures.MAP_ARCS})
            places = db.query("movement_places", params | {"limit": figures.MAP_PLACES})

            def build(flows=flows, places=places, colour_by=colour_by):
                return figures.movement_deck(
                    flows, places, basemap_url=BASEMAP_URL, colour_by=colour_by, frame=view
                ).to_json()

            size = len(build().encode())
            t = timed(build, repeat)
            out.append(
                Measurement(
                    f"map_payload[{colour_by}]",
                    scale,
                    t.median_ms,
                    t.p90_ms,
                    value=size,
                    unit="bytes",
                    budget=PAYLOAD_BUDGET_BYTES,
                    within_budget=size < PAYLOAD_BUDGET_BYTES,
                    rows=len(flows),
                    note=f"{len(flows)} arcs, {len(places)} places; time is building the deck JSON",
                )
            )
        return out
    finally:
        db.close()


def app_pages() -> list[str]:
    """Page files in app.py's navigation, in its order."""
    text = (REPO_DIR / "app.py").read_text()
    return re.findall(r"st\.Page\(\s*[\"'](pages/[\w/]+\.py)[\"']", text)


def bench_admin(db: Database) -> Identity:
    """The benchmark's own admin account in the database it measures."""
    name = "benchmark admin"
    accounts = auth.read(db, "users_list")
    known = accounts.loc[accounts["name"] == name, "user_id"]
    if known.empty:
        auth.add_user(db, name, "admin", secrets.token_urlsafe(16), by=cli_identity("Benchmark"))
        return bench_admin(db)
    return Identity(known.iat[0], name, "admin")


def bench_pages(
    db_path: Path, scale: int, repeat: int, scenario_params: dict, say=print, *, filtered: bool = True
) -> list[Measurement]:
    """A whole rerun of each page under AppTest, with the result cache emptied first."""
    from streamlit.testing.v1 import AppTest

    from reliefhub import access
    from reliefhub import db as dbmodule

    previous = os.environ.get("RELIEFHUB_DB")
    os.environ["RELIEFHUB_DB"] = str(db_path)
    # Pages are measured as an admin sees them: every page, every download.
    admin = bench_admin(dbmodule.shared_database())
    country = scenario_params.get("country", {}).get("countries", []) if filtered else []
    out = []

    def empty_cache():
        if dbmodule._shared is not None:
            dbmodule._shared._cache.clear()

    try:
        for page in app_pages():
            for scenario, query in [
                ("all", {}),
                *([("country", {"country": country[0]})] if country else []),
            ]:
                app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=600)
                app.session_state[access.SESSION_KEY] = access.LocalSession(admin, datetime.now(UTC))
                for key, value in query.items():
                    app.query_params[key] = value
                app.switch_page(page)
                app.run()
                if app.exception:
                    out.append(
                        Measurement(
                            f"page:{page}[{scenario}]",
                            scale,
                            None,
                            None,
                            note="raised: " + str(app.exception[0].message)[:200],
                        )
                    )
                    say(f"    page {page}: raised {app.exception[0].message[:200]}")
                    break
                # A rerun ten times over budget is timed once more, not `repeat` times.
                empty_cache()
                started = time.perf_counter()
                app.run()
                first_ms = (time.perf_counter() - started) * 1000
                slow = first_ms > 10 * PAGE_BUDGET_MS
                t = timed(app.run, 1 if slow else repeat, warmup=0 if slow else 1, before=empty_cache)
                out.append(
                    Measurement(
                        f"page:{page}[{scenario}]",
                        scale,
                        t.median_ms,
                        t.p90_ms,
                        budget=PAGE_BUDGET_MS,
                        note="over 10x the budget: timed once" if slow else None,
                    )
                )
                say(f"    {out[-1].name:<44} {t.median_ms:9.1f} ms")
    finally:
        if dbmodule._shared is not None:
            dbmodule._shared.close()
            dbmodule._shared = None
        if previous is None:
            os.environ.pop("RELIEFHUB_DB", None)
        else:
            os.environ["RELIEFHUB_DB"] = previous
    return out


def bench_import(
    db_path: Path, sources: Path, scale: int, repeat: int, work: Path, say=print
) -> list[Measurement]:
    """Validated bulk import of the scenario's shipments, in rows per second."""
    try:
        from reliefhub import imports
    except ImportError:
        imports = None
    rows = scale
    runs = []
    how = ""
    for i in range(max(1, min(repeat, 3))):
        if imports is not None:
            # The same scenario without its shipments; then import them all.
            base = work / f"import-base-{scale}"
            if base.exists():
                shutil.rmtree(base)
            shutil.copytree(sources, base)
            shipments_csv = base / "shipments.csv"
            with open(sources / "shipments.csv", encoding="utf-8") as full:
                header = full.readline()
            shipments_csv.write_text(header, encoding="utf-8")
            target = work / f"import-{scale}.duckdb"
            for suffix in ("", ".wal"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            build_database(base, target)
            db = Database(target)
            try:
                started = time.perf_counter()
                report = imports.import_file(
                    db, sources / "shipments.csv", "shipments", who=cli_identity("Benchmark")
                )
                seconds = time.perf_counter() - started
            finally:
                db.close()
            if not report.ok:
                return [
                    Measurement(
                        "bulk_import",
                        scale,
                        None,
                        None,
                        note=f"import rejected: {report.summary()} {[str(p) for p in report.problems[:3]]}",
                    )
                ]
            rows = report.rows
            how = "reliefhub.imports.import_file of the scenario's shipments.csv, validated, one transaction"
        else:
            target = work / f"build-{scale}.duckdb"
            started = time.perf_counter()
            counts = build_database(sources, target)
            seconds = time.perf_counter() - started
            rows = sum(counts.values())
            how = "no reliefhub.imports yet: the loader's validated build of all six files"
        runs.append(seconds * 1000)
        say(f"    bulk import run {i + 1}: {rows:,} rows in {seconds:.2f} s")
    median = statistics.median(runs)
    rate = rows / (median / 1000)
    return [
        Measurement(
            "bulk_import",
            scale,
            median,
            float(np.percentile(runs, 90)),
            value=round(rate),
            unit="rows/s",
            budget=IMPORT_BUDGET_ROWS_S,
            within_budget=rate >= IMPORT_BUDGET_ROWS_S,
            rows=rows,
            note=how,
        )
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def streamlit_server(script: str, db_path: Path, log_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`streamlit run script` on a free loopback port against db_path: (the process, its base URL)
    once it answers its health check; stopped on leaving."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO_DIR,
            env=os.environ | {"RELIEFHUB_DB": str(db_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                        if reply.read() == b"ok":
                            break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(f"streamlit did not start: see {log_path}") from None
                    time.sleep(0.05)
            yield server, base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def bench_server(db_path: Path, scale: int, say=print, *, every_page: bool = True) -> list[Measurement]:
    """Cold start to the first page drawn, and the server's peak memory over every page."""
    if not Path(CHROMIUM).exists():
        return [Measurement("server", scale, None, None, note="chromium not installed: not measured")]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.perf_counter()
        log_path = Path(db_path).with_suffix(".server.log")
        try:
            with streamlit_server("app.py", db_path, log_path) as (server, base):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(base + "/")
                page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(
                    state="visible", timeout=300_000
                )
                cold_ms = (time.perf_counter() - started) * 1000
                say(f"    cold start to the overview's map drawn: {cold_ms:,.0f} ms")
                page.close()
                paths = ["/" + (Path(pg).stem if Path(pg).stem != "overview" else "") for pg in app_pages()]
                for path in paths if every_page else []:
                    path = {"/imports": "/import"}.get(path, path)
                    page = browser.new_page(viewport={"width": 1920, "height": 1080})
                    page.goto(base + path)
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=300_000
                    )
                    page.wait_for_timeout(500)
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=300_000
                    )
                    page.close()
                peak = _peak_rss_mb(server.pid)
                say(f"    server peak memory: {peak:,.0f} MB")
        finally:
            browser.close()
    return [
        Measurement(
            "cold_start", scale, cold_ms, cold_ms, note="server launch to the overview's map canvas shown"
        ),
        Measurement(
            "server_peak_memory",
            scale,
            None,
            None,
            value=round(peak, 1),
            unit="MB",
            budget=MEMORY_BUDGET_MB,
            within_budget=peak < MEMORY_BUDGET_MB,
            note="VmHWM of `streamlit run` after opening every page",
        ),
    ]


# --------------------------------------------------------------------------- the run


def judge(m: Measurement) -> Measurement:
    """Mark time budgets (at the budget scale) and the pandas ratio."""
    timed_budget = m.budget is not None and m.median_ms is not None and m.unit is None
    if m.within_budget is None and timed_budget and m.scale >= BUDGET_SCALE:
        ratio_ok = m.ratio is None or m.ratio >= PANDAS_RATIO
        m.within_budget = m.median_ms < m.budget and ratio_ok
    return m


def run(
    scales=DEFAULT_SCALES,
    *,
    repeat: int = 10,
    seed: int = generate.DEFAULT_SEED,
    cache_dir: Path = CACHE_DIR,
    parts: tuple[str, ...] = ("queries", "pages", "payload", "import", "server"),
    say=print,
    quick: bool = False,
    load=None,
) -> list[Measurement]:
    """Measure every part at every scale. quick (for the test suite): pages
    without filters only, and the server measured on the overview alone.
    load: the bench_sessions.SessionLoad of the sessions part (its defaults if None)."""
    results: list[Measurement] = []
    work = Path(cache_dir) / "work"
    for scale in scales:
        say(f"scale {scale:,}")
        cached, sources = cached_database(scale, seed, cache_dir, say)
        db_path = working_copy(cached, work, f"bench-{scale}.duckdb")
        probe = Database(db_path, cache_bytes=0)
        probe.refresh()  # a database cached by older code has older models
        scenario_params = scenarios(probe)
        probe.close()
        if "queries" in parts:
            results += bench_queries(db_path, scale, repeat, say)
        if "payload" in parts:
            results += bench_map_payload(db_path, scale, repeat)
        if "pages" in parts:
            results += bench_pages(db_path, scale, repeat, scenario_params, say, filtered=not quick)
        if "import" in parts:
            results += bench_import(db_path, sources, scale, repeat, work, say)
        if "server" in parts:
            results += bench_server(db_path, scale, say, every_page=not quick)
        if "sessions" in parts:
            from reliefhub import bench_sessions

            results += bench_sessions.bench_sessions(
                db_path, scale, load or bench_sessions.SessionLoad(), say
            )
        gc.collect()
    return [judge(m) for m in results]


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}"
    )


def text_table(columns: list[tuple[str, str]], rows: list[tuple[list[str], str | None]]) -> str:
    """Aligned text: columns as (title, alignment and width such as "<46"), rows as (cells, a note
    written after the last column or None)."""
    header = " ".join(f"{title:{spec}}" for title, spec in columns)
    lines = [header, "-" * len(header)]
    for cells, note in rows:
        line = " ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(cells, columns, strict=True))
        lines.append(line + (f"  {note}" if note else ""))
    return "\n".join(lines)


def ms(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table(results: list[Measurement]) -> str:
    """The readable table: one line per measurement."""
    columns = [("measurement", "<46"), ("scale", ">9"), ("median ms", ">10"), ("p90 ms", ">9")]
    columns += [("pandas ms", ">10"), ("× faster", ">8"), ("value", ">14"), ("budget", ">7")]
    rows = []
    for m in results:
        value = "" if m.value is None else f"{m.value:,.0f} {m.unit or ''}".strip()
        verdict = {True: "ok", False: "MISSED", None: ""}[m.within_budget]
        ratio = "" if m.ratio is None else f"{m.ratio:.1f}"
        cells = [m.name, f"{m.scale:,}", ms(m.median_ms), ms(m.p90_ms), ms(m.baseline_median_ms), ratio]
        rows.append(([*cells, value, verdict], m.note if m.median_ms is None else None))
    return text_table(columns, rows)


def main(args) -> int:
    from reliefhub import bench_sessions

    scales = tuple(int(s.replace("_", "")) for s in args.scales.split(",") if s.strip())
    parts = tuple(p for p in args.parts.split(",") if p)
    try:
        load = bench_sessions.load_from(args)
    except ValueError as error:
        raise SystemExit(f"bench: {error}") from None
    if getattr(args, "db", None):
        if parts != ("sessions",):
            raise SystemExit("bench: --db is for --parts sessions alone; the other parts build their own")
        results = bench_sessions.on_database(Path(args.db), Path(args.cache), load)
    elif len(scales) > 1:
        results = [m for scale in scales for m in measure_apart(scale, args)]
    else:
        results = run(
            scales, repeat=args.repeat, seed=args.seed, cache_dir=Path(args.cache), parts=parts, load=load
        )
    if getattr(args, "measurements_to", None):  # a scale measured apart: hand the figures back
        Path(args.measurements_to).write_text(json.dumps([asdict(m) for m in results], default=str))
        return 0
    one_person = [m for m in results if m.failures is None]
    many_at_once = [m for m in results if m.failures is not None]
    print()
    repeated = f"; median of {args.repeat} runs after a warm-up" if one_person else ""
    print(f"Relief Hub benchmark on {machine()}{repeated}.")
    if one_person:
        print(
            f"Budgets at {BUDGET_SCALE:,}: query < {QUERY_BUDGET_MS:.0f} ms "
            f"and ≥ {PANDAS_RATIO:.0f}× pandas; page rerun < {PAGE_BUDGET_MS:.0f} ms; "
            f"map payload < {PAYLOAD_BUDGET_BYTES // 1000} kB (every scale); "
            f"server < {MEMORY_BUDGET_MB / 1024:.1f} GB; import ≥ {IMPORT_BUDGET_ROWS_S:,.0f} rows/s."
        )
        print(table(one_person))
    if many_at_once:
        print(f"\nMany sessions at once, beside the floor app ({bench_sessions.describe(load)}):")
        print(bench_sessions.table(many_at_once))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps([m.as_json() | {"machine": machine()} for m in results], indent=1, default=str)
        )
        print(f"\nWrote {len(results)} measurements to {args.json}")
    return 0


def measure_apart(scale: int, args) -> list[Measurement]:
    """Measure one scale in a Python process of its own, so that its figures do
    not depend on what ran before it. After the smaller scales in the same
    process (their pandas tables freed, Streamlit loaded, a larger heap for
    every garbage collection), the map's arcs at 1,000,000 took 5-15 ms longer
    than in a fresh process."""
    from reliefhub import bench_sessions

    with tempfile.TemporaryDirectory(prefix="reliefhub-bench-") as folder:
        handed_back = Path(folder) / "measurements.json"
        command = [
            sys.executable, "-m", "reliefhub", "bench", "--scales", str(scale), "--repeat", str(args.repeat),
            "--seed", str(args.seed), "--cache", str(Path(args.cache).resolve()), "--parts", args.parts,
            "--measurements-to", str(handed_back), *bench_sessions.command_line(args),
        ]  # fmt: skip
        subprocess.run(command, check=True, cwd=REPO_DIR)
        return [Measurement(**row) for row in json.loads(handed_back.read_text())]

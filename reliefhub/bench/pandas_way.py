"""The same questions answered the typical Streamlit way: pandas frames loaded once, filtered per rerun."""

from __future__ import annotations

import decimal
import math
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd


class PandasWay:
    """The same questions answered as a typical Streamlit app does: pandas frames
    loaded once (st.cache_data), then masks and groupbys on every rerun. The joined
    movements frame is built once at load, which flatters pandas."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        tables = ("countries", "places", "materials", "requests", "flights", "shipments", "meta")
        self.t = t = {name: con.table(name).df() for name in tables}
        s, f, p = t["shipments"], t["flights"], t["places"]
        lone = f[~f["flight_id"].isin(s["flight_id"].dropna())]
        mv = pd.concat([shipment_movements(s, f, t["materials"]), flight_movements(lone)], ignore_index=True)
        iso = p.set_index("place_id")["iso3"]
        mv["origin_iso3"] = mv["origin_place_id"].map(iso)
        mv["destination_iso3"] = mv["destination_place_id"].map(iso)
        mv["range_end"] = mv["event_date"].where(
            mv["date_precision"] != "month", mv["event_date"] + pd.offsets.MonthEnd(0)
        )
        mv["aircraft"] = aircraft_name(mv["operator"], mv["aircraft_type"])
        mv["uncertain"] = mv["confidence"].isin(["derived", "inferred"])
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
        by_request = done.groupby("request_id")
        r = r[r["requested_on"] <= as_of].copy()
        got = r["request_id"].map(by_request["quantity"].sum()).fillna(0)
        r["requested_quantity"] = r["quantity"]
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

    def requests_kept(self, q: dict, statuses=("open", "partially_fulfilled")) -> pd.DataFrame:
        """The requests the filters keep whose status on q's as_of day is one of statuses."""
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
        return r[mask]

    def open_requests_frame(self, q: dict, statuses=("open", "partially_fulfilled")) -> pd.DataFrame:
        """requests_kept with the names the pages show beside the codes."""
        r = self.requests_kept(q, statuses).merge(
            self.t["materials"].rename(columns={"name": "material_name", "category": "material_category"}),
            on="material_code",
        )
        r["requester_country"] = r["requester_iso3"].map(self.t["countries"].set_index("iso3")["name"])
        return r

    # One method per query module.
    def movement_flows(self, q):
        m = self.filtered(q).copy()
        m["category"] = colour_category(m, q["colour_by"])
        m["is_shipment"] = m["record_kind"] == "shipment"
        m["month_only"] = m["date_precision"] == "month"
        m["flown_by"] = m["aircraft"].where(m["flight_id"].notna())
        keys = ["origin_place_id", "destination_place_id", "category"]
        out = (
            m.groupby(keys, dropna=False)
            .agg(
                movements=("record_id", "size"),
                flights=("flight_id", "nunique"),
                shipments=("is_shipment", "sum"),
                patients=("patients", "sum"),
                uncertain=("uncertain", "sum"),
                first_date=("event_date", "min"),
                last_date=("event_date", "max"),
                has_month_only_dates=("month_only", "any"),
            )
            .reset_index()
        )
        out["arcs_total"] = len(out)
        out = busiest_arcs(out, q["limit"])
        p = self.places
        for end in ("origin", "destination"):
            ids = out[f"{end}_place_id"]
            out[f"{end}_name"] = ids.map(p["name"])
            out[f"{end}_latitude"] = ids.map(p["latitude"])
            out[f"{end}_longitude"] = ids.map(p["longitude"])
        out = out.sort_values(
            ["movements", "origin_name", "destination_name", "category"], ascending=[False, True, True, True]
        )
        # Names for the shown arcs only, as the query does.
        shown = m.merge(out[keys], on=keys)
        names = shown.groupby(keys, dropna=False).agg(
            aircraft=("flown_by", lambda s: ", ".join(sorted(s.dropna().unique())) or None),
        )
        return out.merge(names.reset_index(), on=keys, how="left")

    def replay_flows(self, q):
        m = self.filtered(q).copy()
        m["category"] = colour_category(m, q["colour_by"])
        keys = ["origin_place_id", "destination_place_id", "category"]
        lists = (q["origins"], q["destinations"], q["categories"])
        shown = pd.DataFrame(dict(zip(keys, lists, strict=True)), dtype=str)  # str even when no arc is shown
        m = m.merge(shown.assign(arc=range(1, len(shown) + 1)), on=keys)
        m["day"] = (
            m["event_date"]
            if q["date_from"] is None
            else m["event_date"].clip(lower=pd.Timestamp(q["date_from"]))
        )
        out = m.groupby(["arc", "day"]).size().rename("movements").reset_index()
        return out.sort_values(["arc", "day"], ignore_index=True)

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
        names = self.places["name"]
        m = m[mask].assign(
            origin=lambda m: m["origin_place_id"].map(names),
            destination=lambda m: m["destination_place_id"].map(names),
            material=lambda m: m["material_name"],
        )
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
        latest = r.sort_values(["closed_on", "request_id"], ascending=[False, True]).head(q["limit"])
        order = ["closed_on", "requester_country", "material_name", "request_id"]
        return latest.assign(matching_rows=len(r)).sort_values(order, ascending=[False, True, True, True])

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
            requested_quantity=("quantity", sql_sum),
            delivered_quantity=("delivered_quantity", sql_sum),
            missing_quantity=("missing_quantity", sql_sum),
            longest_wait_days=("days_waiting", "max"),
        )
        out = out.reset_index().rename(columns={"requester_iso3": "iso3", "requester_country": "country"})
        return out.sort_values(["iso3", "material_code"])

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
        names = self.t["countries"].set_index("iso3")["name"]
        materials = self.t["materials"].rename(
            columns={"name": "material_name", "category": "material_category"}
        )
        out = r[mask].merge(materials, on="material_code")
        out["requester_country"] = out["requester_iso3"].map(names)
        return out.sort_values(["requested_on", "request_id"])

    def shipments_table(self, q):
        m = self.filtered(q)
        out = m[m["record_kind"] == "shipment"]
        names = self.t["countries"].set_index("iso3")["name"]
        out = out.assign(
            shipment_id=out["record_id"],
            recipient_country=out["recipient_iso3"].map(names),
            origin_name=out["origin_place_id"].map(self.places["name"]),
            destination_name=out["destination_place_id"].map(self.places["name"]),
            mode=out["stated_mode"],
        )
        return out.sort_values(["event_date", "shipment_id"])

    def flights_table(self, q):
        m = self.filtered(q)
        f = self.t["flights"]
        out = f[f["flight_id"].isin(m["flight_id"].dropna())]
        out = out.assign(
            origin_name=out["origin_place_id"].map(self.places["name"]),
            origin_iso3=out["origin_place_id"].map(self.places["iso3"]),
            destination_name=out["destination_place_id"].map(self.places["name"]),
            destination_iso3=out["destination_place_id"].map(self.places["iso3"]),
            aircraft=aircraft_name(out["operator"], out["aircraft_type"]),
        )
        return out.sort_values(["flight_date", "flight_id"])

    def recent_flights(self, q):
        out = self.flights_table(q)
        out = out[out["flight_date"] <= pd.Timestamp(q["as_of"])].assign(matching_flights=lambda f: len(f))
        return out.sort_values(["flight_date", "flight_id"], ascending=False).head(q["limit"])

    def request_trend(self, q):
        """As an app would: the requests received by, and still open on, each
        day. Both change only on a day a request is made, closed or delivered
        to, so they are worked out on those days and carried forward."""
        bounds = self.data_bounds(q).iloc[0]
        first = max(bounds.first_date, pd.Timestamp(q["date_from"] or bounds.first_date))
        last = min(bounds.last_date, pd.Timestamp(q["date_to"] or bounds.last_date))
        asked_on = self.requests_table(q)["requested_on"]
        r, s = self.t["requests"], self.t["shipments"]
        delivered_to_a_request = s.loc[s["request_id"].notna(), "delivered_on"]
        events = pd.concat([r["requested_on"], r["closed_on"], delivered_to_a_request, pd.Series([first])])
        days = pd.date_range(first, last)
        rows = []
        for day in days[days.isin(events)]:
            received = int((asked_on <= day).sum())
            still_open = len(self.requests_kept(q | {"as_of": day.date()}))
            rows.append((day, received, received - still_open, still_open))
        changes = pd.DataFrame(rows, columns=["day", "received", "settled", "still_open"])
        return changes.set_index("day").reindex(days, method="ffill").rename_axis("day").reset_index()

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

    def data_freshness(self, q):
        stamps = self.t["meta"].set_index("key")["value"]
        built, changed = (
            pd.Timestamp(stamps[k]) if k in stamps else None for k in ("built_at", "data_changed_at")
        )
        newer = changed is not None and (built is None or changed > built)
        return pd.DataFrame({"data_changed_at": [changed if newer else None], "built_at": [built]})

    def dataset_info(self, q):
        meta = self.t["meta"].set_index("key")["value"]
        return pd.DataFrame(
            {
                "synthetic": [meta.get("synthetic") == "true"],
                "seed": [meta.get("synthetic_seed")],
                "scale": [meta.get("synthetic_scale")],
            }
        )

    def answer(self, name: str, params: dict) -> pd.DataFrame | None:
        method = getattr(self, name, None)
        if method is None:
            return None
        out = method(params)
        if "offset" in params:  # a paged table: every match filtered and sorted, then the page
            start, limit = params["offset"], params["limit"]
            out = out.assign(matching_rows=len(out)).iloc[start : None if limit is None else start + limit]
        return out


def first_difference(sql: pd.DataFrame, pandas: pd.DataFrame) -> str | None:
    """Where the pandas answer differs from the SQL answer, value by value, or None when it does not.

    Every column of the SQL answer must be in the pandas one, holding the same values in the same
    row order; numbers are equal within a relative 1e-9, missing values (None, NaN, NaT) equal each
    other, and dates equal the timestamps of their midnight."""
    missing = [column for column in sql.columns if column not in pandas.columns]
    if missing:
        return f"no column {', '.join(missing)}"
    if len(sql) != len(pandas):
        return f"{len(pandas)} rows, not {len(sql)}"
    for column in sql.columns:
        for row, (ours, theirs) in enumerate(zip(sql[column], pandas[column], strict=True)):
            if not same_value(ours, theirs):
                return f"row {row}, {column}: {theirs!r}, not {ours!r}"
    return None


def same_value(a, b) -> bool:
    a, b = comparable(a), comparable(b)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def comparable(value):
    """One form per kind of value: None for any missing value, floats for numbers, Timestamps for dates."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(comparable(v) for v in value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)):
        return float(value)
    if isinstance(value, (date, datetime, np.datetime64)):
        return pd.Timestamp(value)
    return value


def shipment_movements(s: pd.DataFrame, f: pd.DataFrame, materials: pd.DataFrame) -> pd.DataFrame:
    """One movement per shipment, as the movements model defines them."""
    ship = s.merge(materials[["material_code", "name", "category", "unit"]], on="material_code", how="left")
    ship = ship.merge(f[["flight_id", "aircraft_type", "operator"]], on="flight_id", how="left")
    cargo = np.select(
        [ship["category"] == "patients", ship["category"] == "personnel"], ["patients", "personnel"], "goods"
    )
    kept = ["origin_place_id", "destination_place_id", "recipient_iso3", "provider_iso3", "provider"]
    kept += ["material_code", "quantity", "unit", "date_precision", "status", "flight_id", "request_id"]
    kept += ["aircraft_type", "operator", "description", "source_urls", "dispatched_on", "delivered_on"]
    kept += ["source_note", "confidence", "quantity_precision"]
    return ship[kept].assign(
        record_kind="shipment",
        record_id=ship["shipment_id"],
        mode=ship["mode"].fillna("not_stated"),
        stated_mode=ship["mode"],
        material_name=ship["name"],
        material_category=ship["category"],
        cargo_kind=cargo,
        patients=ship["quantity"].where(ship["category"] == "patients"),
        event_date=ship["delivered_on"].fillna(ship["dispatched_on"]),
    )


def flight_movements(lone: pd.DataFrame) -> pd.DataFrame:
    """One movement per flight that carried no recorded shipment."""
    kept = ["origin_place_id", "destination_place_id", "date_precision", "flight_id", "aircraft_type"]
    kept += ["operator", "description", "source_urls", "source_note", "confidence"]
    return lone[kept].assign(
        record_kind="flight",
        record_id=lone["flight_id"],
        provider=lone["operator"],
        mode="air",
        stated_mode="air",
        material_category="airlift",
        cargo_kind="goods",
        patients=lone["patients"].astype("float64"),
        event_date=lone["flight_date"],
        status=lone["status"].replace({"landed": "delivered", "airborne": "in_transit"}),
    )


def aircraft_name(operator: pd.Series, aircraft_type: pd.Series) -> pd.Series:
    """concat_ws(' ', operator, aircraft_type): the parts that are stated, one space apart."""
    return (operator.fillna("") + " " + aircraft_type.fillna("")).str.strip()


def colour_category(movements: pd.DataFrame, colour_by: str) -> pd.Series:
    """The colour category of each movement, as views.sql's colour_category macro reads it."""
    return movements[{"mode": "mode", "material_category": "material_category"}.get(colour_by, "cargo_kind")]


def busiest_arcs(arcs: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The arcs movement_flows shows: each colour's busiest few first (limit // 2 shared out among the
    colours), then the busiest of the rest; ties go to the route numbered first, and a freshly built
    database numbers its routes in (origin, destination) order."""
    route = arcs[["origin_place_id", "destination_place_id"]].apply(tuple, axis=1).rank(method="dense")
    ranked = arcs.assign(route=route).sort_values(["movements", "route"], ascending=[False, True])
    each = limit // (2 * max(arcs["category"].nunique(), 1))
    leading = ranked.groupby("category", dropna=False).cumcount() < each
    ranked = ranked.assign(follows=~leading).sort_values(
        ["follows", "movements", "route"], ascending=[True, False, True]
    )
    return ranked.head(limit).drop(columns=["route", "follows"])


def sql_sum(values: pd.Series):
    """sum() as SQL has it: missing when every value is."""
    return values.sum(min_count=1)

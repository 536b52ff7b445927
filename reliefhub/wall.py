"""The wall screen: its settings from the URL and the HTML it shows, as pure functions.

Sizes are in viewport units with pixel floors, so the same page reads from five
metres at 1920x1080 and at 3840x2160: headline figures at least 48 px, no text
under 20 px.
"""

from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

VIEWS = {"map": "Movements", "requests": "Open requests per country", "flights": "Recent flights"}

CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stSidebarNav"] { display: none !important; }
html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] { overflow: hidden !important; }
[data-testid="stMainBlockContainer"] { padding: 1vh 1.5vw 0 1.5vw !important; max-width: 100% !important; }
[data-testid="stVerticalBlock"] { gap: 0.8vh !important; }
/* A refresh must not dim the picture: Streamlit fades elements while rerunning. */
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
.wall-banner { text-align: center; font-weight: 700; letter-spacing: 0.1em;
  font-size: max(20px, 2.2vh); padding: 0.3vh 0; background: #0072b2; color: #fff; }
.wall-title { display: flex; justify-content: space-between; align-items: baseline;
  font-size: max(24px, 2.6vh); color: #e8edf3; }
.wall-title b { font-size: max(30px, 3.4vh); }
.wall-stale { background: #d55e00; color: #fff; font-weight: 700; padding: 0.5vh 1vw;
  font-size: max(24px, 2.6vh); border-radius: 4px; }
.wall-figures { display: flex; gap: 1.2vw; }
.wall-figure { flex: 1; background: #162033; border-radius: 6px; padding: 0.8vh 1vw; }
.wall-figure .value { font-size: max(48px, 5.2vh); font-weight: 700; line-height: 1.1; color: #fff; }
.wall-figure .label { font-size: max(20px, 2vh); color: #c9d3df; }
.wall-side { font-size: max(22px, 2.3vh); color: #e8edf3; }
.wall-side h3 { font-size: max(26px, 2.8vh); margin: 0 0 0.8vh 0; color: #fff; }
.wall-side .row { display: flex; justify-content: space-between; border-bottom: 1px solid #2a3650;
  padding: 0.5vh 0; }
.wall-side .sub { font-size: max(20px, 2vh); color: #c9d3df; }
.wall-legend { font-size: max(20px, 2vh); color: #e8edf3; }
.wall-table { width: 100%; border-collapse: collapse; font-size: max(22px, 2.4vh); color: #e8edf3; }
.wall-table td, .wall-table th { padding: 0.6vh 0.6vw; border-bottom: 1px solid #2a3650; text-align: left; }
.wall-footer { font-size: max(20px, 2vh); color: #c9d3df; }
.st-key-wall_map, .st-key-wall_map [data-testid="stElementContainer"],
.st-key-wall_map [data-testid="stFullScreenFrame"], .st-key-wall_map [data-testid="stDeckGlJsonChart"],
.st-key-wall_map [data-testid="stDeckGlJsonChart"] > div { height: 60vh !important; }
</style>
"""


@dataclass(frozen=True)
class WallSettings:
    refresh_seconds: int = 60
    stale_after_minutes: int = 24 * 60
    banner: str = ""
    rotate: tuple[str, ...] = ("map",)
    rotate_seconds: int = 30
    replay: bool = False
    replay_seconds_per_day: float = 1.0
    # Map lines, points, labels and zoom; 2 for a 4K screen without OS scaling.
    map_scale: float = 1.0

    def tick_seconds(self) -> float:
        """How often the screen redraws: the refresh, a rotation or a replay step."""
        ticks = [self.refresh_seconds]
        if len(self.rotate) > 1:
            ticks.append(self.rotate_seconds)
        if self.replay:
            ticks.append(self.replay_seconds_per_day)
        return min(ticks)

    def view_at(self, unix_seconds: float) -> str:
        return self.rotate[int(unix_seconds // self.rotate_seconds) % len(self.rotate)]


def _number(raw: str, low: float, high: float, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}")
    return value


def settings_from(params: dict[str, list[str]]) -> tuple[WallSettings, list[str]]:
    """Read the wall's settings from URL parameters; bad ones keep their default, with a notice."""
    values, notices = {}, []
    readers = {
        "refresh": ("refresh_seconds", lambda v: int(_number(v, 5, 3600, "refresh (seconds)"))),
        "stale_after": ("stale_after_minutes", lambda v: int(_number(v, 1, 525_600, "stale_after (min)"))),
        "rotate_every": ("rotate_seconds", lambda v: int(_number(v, 5, 3600, "rotate_every (seconds)"))),
        "replay_speed": ("replay_seconds_per_day", lambda v: _number(v, 0.2, 60, "replay_speed (seconds)")),
        "replay": ("replay", lambda v: v in ("1", "true", "yes")),
        "scale": ("map_scale", lambda v: _number(v, 0.5, 4, "scale")),
        "banner": ("banner", lambda v: visible_text(v).strip()[:60]),
        "rotate": ("rotate", _views),
    }
    for key, (field, read) in readers.items():
        raw = params.get(key)
        if not raw:
            continue
        try:
            values[field] = read(raw[-1])
        except ValueError as reason:
            notices.append(f"Ignored {key}: {reason}.")
    return WallSettings(**values), notices


def visible_text(text: str) -> str:
    """Text without control or format characters: a right-to-left override
    would show a handling banner reversed, so it could be spoofed."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def _views(raw: str) -> tuple[str, ...]:
    chosen = tuple(v for v in raw.split(",") if v)
    if not chosen or any(v not in VIEWS for v in chosen):
        raise ValueError("rotate takes a comma-separated list of " + ", ".join(VIEWS))
    return chosen


def banner_html(text: str) -> str:
    return f"<div class='wall-banner'>{html.escape(text)}</div>" if text else ""


def freshness(changed_at: datetime, now: datetime, stale_after: timedelta) -> tuple[str, bool]:
    """'Data as of ...' in words, and whether it is older than the operator allows."""
    age = now - changed_at
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        ago = "just now"
    elif minutes < 120:
        ago = f"{minutes} min ago"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60} h {minutes % 60} min ago"
    else:
        ago = f"{minutes // (24 * 60)} days ago"
    return f"Data as of {changed_at:%d %b %Y %H:%M} UTC ({ago})", age > stale_after


def title_html(view: str, day: date, freshness_text: str, stale: bool) -> str:
    stamp = f"<span class='wall-stale'>NOT LIVE · {freshness_text}</span>" if stale else freshness_text
    return (
        f"<div class='wall-title'><span><b>Relief Hub</b> · {html.escape(VIEWS[view])} · "
        f"situation on {day:%d %b %Y}</span><span>{html.escape(stamp) if not stale else stamp}</span></div>"
    )


def figures_html(items: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<div class='wall-figure'><div class='value'>{html.escape(value)}</div>"
        f"<div class='label'>{html.escape(label)}</div></div>"
        for label, value in items
    )
    return f"<div class='wall-figures'>{cells}</div>"


def compact(number: float) -> str:
    """1,500,000 -> '1.5 M': a figure read from across a room."""
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f} M"
    if number >= 10_000:
        return f"{number / 1_000:.0f} k"
    return f"{number:,.0f}"


def most_requested_missing(by_country: pd.DataFrame, count: int = 2) -> list[tuple[str, str]]:
    """Missing quantities of the materials with the most open requests, as headline items."""
    known = by_country.dropna(subset=["missing_quantity"])
    top = (
        known.groupby(["material_name", "unit"], as_index=False)
        .agg(open_requests=("open_requests", "sum"), missing=("missing_quantity", "sum"))
        .sort_values(["open_requests", "missing", "material_name"], ascending=[False, False, True])
        .head(count)
    )
    return [(f"{short(r.material_name)} missing ({r.unit})", compact(r.missing)) for r in top.itertuples()]


def short(name: str) -> str:
    """'Face masks (surgical/disposable, ...)' -> 'Face masks', for a label read from afar."""
    return name.split(" (")[0]


def countries_html(by_country: pd.DataFrame, limit: int = 6) -> str:
    """The countries with the most open requests, each with its largest gap."""
    if by_country.empty:
        return "<div class='wall-side'><h3>Most missing</h3>No open requests.</div>"
    totals = by_country.groupby(["iso3", "country"], as_index=False)["open_requests"].sum()
    totals = totals.sort_values(["open_requests", "country"], ascending=[False, True]).head(limit)
    rows = []
    for r in totals.itertuples():
        gaps = by_country[(by_country.iso3 == r.iso3) & by_country.missing_quantity.notna()]
        biggest = gaps.sort_values("missing_quantity", ascending=False).head(1)
        sub = (
            f"{compact(biggest.missing_quantity.iloc[0])} {biggest.unit.iloc[0]} of "
            f"{short(biggest.material_name.iloc[0]).lower()} missing"
            if len(biggest)
            else "quantities not stated"
        )
        rows.append(
            f"<div class='row'><span>{html.escape(r.country)}<br><span class='sub'>{html.escape(sub)}</span>"
            f"</span><span>{r.open_requests} open</span></div>"
        )
    return "<div class='wall-side'><h3>Most missing</h3>" + "".join(rows) + "</div>"


def flights_html(flights: pd.DataFrame) -> str:
    if flights.empty:
        return "<div class='wall-side'>No flights recorded.</div>"
    rows = "".join(
        f"<tr><td>{pd.Timestamp(f.flight_date):%d %b}</td><td>{html.escape(f.origin_name)} → "
        f"{html.escape(f.destination_name)}</td><td>{html.escape(f.aircraft or '')}</td>"
        f"<td>{'' if pd.isna(f.patients) else f'{int(f.patients)} patients'}</td></tr>"
        for f in flights.itertuples()
    )
    return (
        "<table class='wall-table'><tr><th>Date</th><th>Route</th><th>Aircraft</th><th>Patients</th></tr>"
        f"{rows}</table>"
    )


def legend_html(entries: list[tuple[str, str]], arcs_shown: str = "") -> str:
    swatches = " &nbsp; ".join(
        f"<span style='color:{colour}'>━━</span> {html.escape(label)}" for label, colour in entries
    )
    shown = f" &nbsp;·&nbsp; {html.escape(arcs_shown)}" if arcs_shown else ""
    return f"<div class='wall-legend'>{swatches} &nbsp;·&nbsp; arc width: movements on the route{shown}</div>"

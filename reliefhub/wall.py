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

from reliefhub.figures import DIRECTION_LEGEND, plural

VIEWS = {
    "map": "Movements",
    "requests": "Open requests per country",
    "flights": "Recent flights",
    "trend": "Requests over time",
}

# Every part of the screen has a fixed height in viewport units, so what fits
# is known before drawing: the main view gets what the header, headline
# figures, footer and banners leave (WallLayout), and tables and charts show
# as many rows as that holds. Text floors in px keep small screens legible.
CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stSidebarNav"] { display: none !important; }
html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] { overflow: hidden !important; }
[data-testid="stMainBlockContainer"] { padding: 0.5vh 1.5vw 0 1.5vw !important; max-width: 100% !important; }
[data-testid="stVerticalBlock"] { gap: 0.8vh !important; }
[data-testid="stElementContainer"]:has(> .stHtml style:only-child) { display: none !important; }
/* A refresh must not dim the picture: Streamlit fades elements while rerunning. */
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
/* Nobody at a wall can press a map's zoom buttons. */
.st-key-wall_map button, .st-key-wall_map [class*="control"] { display: none !important; }
.wall-banner { text-align: center; font-weight: 700; letter-spacing: 0.1em; height: 4vh; line-height: 4vh;
  font-size: max(20px, 2.2vh); background: #0072b2; color: #fff; overflow: hidden; white-space: nowrap; }
.wall-title { display: flex; justify-content: space-between; align-items: center; gap: 1vw; height: 5vh;
  font-size: max(22px, 2.4vh); color: #e8edf3; overflow: hidden; white-space: nowrap; }
.wall-title b { font-size: max(28px, 3.2vh); }
.wall-stale { background: #d55e00; color: #fff; font-weight: 700; padding: 0.3vh 0.8vw;
  border-radius: 4px; overflow: hidden; text-overflow: ellipsis; }
.wall-figures { display: flex; gap: 1.2vw; height: 11vh; }
.wall-figure { flex: 1; min-width: 0; background: #162033; border-radius: 6px; padding: 0.8vh 1vw; }
.wall-figure .value { font-size: max(48px, 5.2vh); font-weight: 700; line-height: 1.1; color: #fff; }
.wall-figure .label { font-size: max(20px, 2vh); color: #c9d3df; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.wall-main { overflow: hidden; }
.wall-side { font-size: max(22px, 2.3vh); color: #e8edf3; }
.wall-side h3 { font-size: max(26px, 2.8vh); height: 4.5vh; margin: 0; padding: 0; color: #fff; }
.wall-side .row { display: flex; justify-content: space-between; border-bottom: 1px solid #2a3650;
  height: 6.4vh; box-sizing: border-box; align-items: center; white-space: nowrap; overflow: hidden; }
.wall-side .sub { font-size: max(20px, 2vh); color: #c9d3df; }
.wall-legend { font-size: max(20px, 2vh); color: #e8edf3; height: 6vh; overflow: hidden; }
.wall-table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: max(22px, 2.4vh);
  color: #e8edf3; }
.wall-table tr { height: 4.6vh; }
.wall-table td, .wall-table th { padding: 0 0.6vw; border-bottom: 1px solid #2a3650; text-align: left;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wall-more { font-size: max(20px, 2.2vh); color: #c9d3df; height: 4vh; line-height: 4vh; }
.wall-footer { font-size: max(20px, 2vh); color: #c9d3df; height: 3vh; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
</style>
"""


# Heights in % of the screen's height (CSS vh), matching CSS above.
BANNER_VH = 4.0 + 0.8  # with the gap below it
# Top padding, title, headline figures, footer, the gaps between them and a
# margin for rounding.
FIXED_VH = 0.5 + 5 + 0.8 + 11 + 0.8 + 0.8 + 3 + 1.5
LEGEND_VH = 6.0 + 0.8
TABLE_ROW_VH = 4.6
MORE_VH = 4.0
SIDE_HEADING_VH = 4.5
SIDE_ROW_VH = 6.4
# The wall's chart text at scale 1, and a bar's height in lines of it.
CHART_FONT_PX = 22
BAR_LINES = 1.6


@dataclass(frozen=True)
class WallLayout:
    """How much of the screen the main view has, and so how much of it fits."""

    banner: bool

    @property
    def main_vh(self) -> float:
        return 100 - FIXED_VH - (2 * BANNER_VH if self.banner else 0)

    @property
    def map_vh(self) -> float:
        return self.main_vh - LEGEND_VH

    @property
    def map_px(self) -> tuple[int, int]:
        """The map's size on a 1920x1080 screen: three quarters of the width."""
        return 1380, round(self.map_vh / 100 * 1080)

    @property
    def table_rows(self) -> int:
        return int((self.main_vh - TABLE_ROW_VH - MORE_VH) // TABLE_ROW_VH)

    @property
    def side_rows(self) -> int:
        return int((self.main_vh - SIDE_HEADING_VH - MORE_VH) // SIDE_ROW_VH)

    @property
    def chart_bars(self) -> int:
        """Bars that fit below the title and a legend of two lines and above
        the axis (seven lines of text), at any scale: the chart and its text grow together."""
        lines = self.main_vh / 100 * 1080 / CHART_FONT_PX
        return max(1, int((lines - 7) // BAR_LINES))

    def css(self) -> str:
        """The heights of this screen's main view."""
        return (
            f"<style>.st-key-wall_main {{ height: {self.main_vh}vh; overflow: hidden; }}"
            f".st-key-wall_map, .st-key-wall_map [data-testid='stElementContainer'],"
            f".st-key-wall_map [data-testid='stFullScreenFrame'],"
            f".st-key-wall_map [data-testid='stDeckGlJsonChart'],"
            f".st-key-wall_map [data-testid='stDeckGlJsonChart'] > div, .st-key-wall_map iframe"
            f"{{ height: {self.map_vh}vh !important; }}"
            "</style>"
        )


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
        """How often the screen redraws: the refresh or a rotation (a replay
        plays in the browser, between them)."""
        ticks = [self.refresh_seconds]
        if len(self.rotate) > 1:
            ticks.append(self.rotate_seconds)
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


def _ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min ago"
    return f"{minutes // (24 * 60)} days ago"


def freshness(changed_at: datetime | None, built_at: datetime | None, now: datetime) -> str:
    """When the data last changed by a save or an import, in words; a build
    from the source files is not a change to the picture."""
    if changed_at is not None:
        return f"Last change {changed_at:%d %b %Y %H:%M} UTC ({_ago(now - changed_at)})"
    loaded = f" ({built_at:%d %b %Y})" if built_at is not None else ""
    return f"No saves or imports since the data was loaded{loaded}"


def historical(newest_day: date, now: datetime, stale_after: timedelta) -> str:
    """'HISTORICAL PICTURE, NOT LIVE · newest record 26 May 2020' when the
    newest record is older than the operator allows, else ''."""
    end_of_day = datetime.combine(newest_day + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    if now - end_of_day <= stale_after:
        return ""
    return f"HISTORICAL PICTURE, NOT LIVE · newest record {newest_day:%d %b %Y}"


def title_html(
    view: str, day: date, freshness_text: str, warning: str = "", *, replay_from: date | None = None
) -> str:
    """The title line: the view, the day shown (or the days a replay plays,
    `replay_from` to `day`), and when the data changed, or a warning in its
    place (not live, database away) that nobody can miss."""
    stamp = html.escape(freshness_text)
    if warning:
        stamp = f"<span class='wall-stale'>{html.escape(warning)}</span>"
    when = f"situation on {day:%d %b %Y}"
    if replay_from is not None:
        when = f"replaying {replay_from:%d %b} to {day:%d %b %Y}"
    return (
        f"<div class='wall-title'><span><b>Relief Hub</b> · {html.escape(VIEWS[view])} · "
        f"{when}</span>{stamp}</div>"
    )


def figures_html(items: list[tuple[str, str]], fetched_at: datetime) -> str:
    """The headline figures, stamped with when their refresh began to read
    the data: a figure read after a change must show it (the browser tests
    hold every refresh to that)."""
    cells = "".join(
        f"<div class='wall-figure'><div class='value'>{html.escape(value)}</div>"
        f"<div class='label'>{html.escape(label)}</div></div>"
        for label, value in items
    )
    return f"<div class='wall-figures' data-fetched='{fetched_at.timestamp():.3f}'>{cells}</div>"


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


def more_html(left_out: int, what: str) -> str:
    """'and 14 more flights' under a list cut to the screen, or nothing."""
    return f"<div class='wall-more'>and {plural(left_out, 'more ' + what)}</div>" if left_out > 0 else ""


def countries_html(by_country: pd.DataFrame, limit: int = 6) -> str:
    """The countries with the most open requests, each with its largest gap."""
    if by_country.empty:
        return "<div class='wall-side'><h3>Most missing</h3>No open requests.</div>"
    totals = by_country.groupby(["iso3", "country"], as_index=False)["open_requests"].sum()
    left_out = len(totals) - limit
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
    more = more_html(left_out, "country")
    return "<div class='wall-side'><h3>Most missing</h3>" + "".join(rows) + more + "</div>"


def flights_html(flights: pd.DataFrame) -> str:
    """The latest flights, and how many earlier ones did not fit (matching_flights)."""
    if flights.empty:
        return "<div class='wall-side'>No flights recorded.</div>"
    rows = "".join(
        f"<tr><td>{pd.Timestamp(f.flight_date):%d %b}</td><td>{html.escape(f.origin_name)} → "
        f"{html.escape(f.destination_name)}</td><td>{html.escape(f.aircraft or 'not stated')}</td>"
        f"<td>{'not stated' if pd.isna(f.patients) else plural(int(f.patients), 'patient')}</td></tr>"
        for f in flights.itertuples()
    )
    left_out = int(flights["matching_flights"].iat[0]) - len(flights)
    return (
        "<table class='wall-table'><colgroup><col style='width:9%'><col style='width:51%'>"
        "<col style='width:26%'><col style='width:14%'></colgroup>"
        "<tr><th>Date</th><th>Route</th><th>Aircraft</th><th>Patients</th></tr>"
        f"{rows}</table>" + more_html(left_out, "earlier flight")
    )


def legend_html(entries: list[tuple[str, str]], arcs_shown: str = "", *, replay: bool = False) -> str:
    swatches = " &nbsp; ".join(
        f"<span style='color:{colour}'>━━</span> {html.escape(label)}" for label, colour in entries
    )
    shown = f" &nbsp;·&nbsp; {html.escape(arcs_shown)}" if arcs_shown else ""
    width = "movements so far, older ones fading" if replay else "movements on the route"
    return (
        f"<div class='wall-legend'>{swatches} &nbsp;·&nbsp; {DIRECTION_LEGEND} &nbsp;·&nbsp; "
        f"arc width: {width}{shown}</div>"
    )

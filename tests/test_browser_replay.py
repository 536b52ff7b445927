"""The movements replay in a real headless Chromium, on the Movements page and
on the wall: it plays in the browser without the page running again, reads
from across a room at 1920x1080 (and on the wall at 3840x2160, banner or
not), draws its arcs by the flow map's rules, and asks nothing of any other server."""

import itertools
import time

import pandas as pd
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from reliefhub import figures
from reliefhub.db import Database
from tests.conftest import no_filters
from tests.test_browser import (  # noqa: F401 (fixtures)
    NO_SCROLLING,
    VIEW_BOTTOM,
    VISIBLE_TEXT_SIZES,
    assert_no_error_on_page,
    browser,
    open_page,
    real_db,
    requests_outside,
    save,
    server,
    settle,
    wall_server,
)

# One worker plays every replay, one after another: a replay draws in software
# on every frame, and several at 4K at once starved the other workers' pages
# of frames until their clicks timed out.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("replay")]
playwright = pytest.importorskip("playwright.sync_api")


def reruns_asked(page) -> int:
    """How many runs of the page the browser has asked the server for."""
    count = 0
    for message in page.messages_sent:
        if isinstance(message, bytes):
            back = BackMsg()
            back.ParseFromString(message)
            count += back.WhichOneof("type") == "rerun_script"
    return count


def readouts_while(page, readout, seconds: float, *, at_least: int = 1) -> list[str]:
    """The date readout's texts, in order, over `seconds`; then on until
    `at_least` texts have shown (up to a minute more: a busy machine plays slower)."""
    seen, started = [], time.monotonic()
    while (waited := time.monotonic() - started) < seconds or (
        len(seen) < at_least and waited < seconds + 60
    ):
        text = readout.inner_text()
        if not seen or seen[-1] != text:
            seen.append(text)
        page.wait_for_timeout(250)
    return seen


def played_forward(days_shown: list[str], db_path) -> bool:
    """Each day shown later than the one before, but for a wall's replay going
    round from the data's last day back to its start (a slow machine may draw
    its first day after the start has passed, so any day may follow the last)."""
    db = Database(db_path, read_only=True)
    bounds = db.query("data_bounds")
    db.close()
    last = pd.Timestamp(bounds.at[0, "last_date"])
    days = [pd.Timestamp(day) for day in days_shown]
    return all(a < b or a == last for a, b in itertools.pairwise(days))


def open_replay(browser, server, *, width: int, height: int):  # noqa: F811
    page = open_page(browser, server, "/movements", width=width, height=height)
    page.get_by_text("Replay day by day").click()
    settle(page)
    replay = page.frame_locator("iframe").first
    replay.locator("#map canvas").first.wait_for(state="visible", timeout=60_000)
    playwright.expect(replay.locator("#readout")).to_have_text("1 March 2020", timeout=30_000)
    return page, replay


def test_replay_plays_in_the_browser_without_running_the_page_again(browser, server):  # noqa: F811
    page, replay = open_replay(browser, server, width=1920, height=1080)
    readout = replay.locator("#readout")
    assert readout.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 48
    box = readout.bounding_box()
    assert (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= 1920
        and box["y"] + box["height"] <= 1080
    )

    runs_before = reruns_asked(page)
    assert runs_before >= 2, f"the count missed the page's first run and the switch's: {runs_before}"
    # 2 days a second: under load the 12 s of looking can run long, and at 5 the
    # replay could reach its last day (and stop) before the test pauses it.
    replay.get_by_role("button", name="2 days/s").click()
    replay.get_by_role("button", name="Play").click()
    days_shown = readouts_while(page, readout, 12, at_least=3)
    assert len(days_shown) >= 3, days_shown
    assert all(pd.Timestamp(a) < pd.Timestamp(b) for a, b in itertools.pairwise(days_shown)), days_shown
    assert reruns_asked(page) == runs_before, "the replay ran the page again"
    save(page, "movements-replay-1920x1080")

    replay.get_by_role("button", name="Pause").click()
    playwright.expect(replay.locator("body")).to_have_attribute("data-playing", "false", timeout=20_000)
    paused = readouts_while(page, readout, 3)
    assert len(paused) == 1, paused
    assert_no_error_on_page(page)
    assert requests_outside(page, server) == []
    page.close()


def test_replay_ends_on_the_maps_arcs_faded_by_age(browser, server, real_db):  # noqa: F811
    """On its last day the browser draws every arc as wide as the map does,
    faded as the map's rule for that day says (figures.recency)."""
    db = Database(real_db, read_only=True)
    flows = db.query("movement_flows", no_filters(colour_by="cargo_kind", limit=figures.MAP_ARCS))
    places = db.query("movement_places", no_filters(limit=figures.MAP_PLACES))
    last_day = pd.Timestamp(db.query("data_bounds").at[0, "last_date"]).date()
    db.close()
    deck = figures.movement_deck(
        flows,
        places,
        basemap_url="/app/static/basemap/countries-50m.geojson",
        colour_by="cargo_kind",
        frame=figures.MapFrame(50, 10, 4),
        replay_day=last_day,
    )
    expected = next(layer for layer in deck.layers if layer.id == "flows").data
    page, replay = open_replay(browser, server, width=1920, height=1080)
    drawn = replay.locator("body").evaluate(
        "() => { const r = window.reliefhubReplay; return r.arcs.map((arc) => r.arcLook(arc, r.lastDay)); }"
    )
    assert len(drawn) == len(expected)
    for arc, want in zip(drawn, expected, strict=True):
        assert abs(arc["width"] - want["width"]) < 0.01
        assert abs(arc["alpha"] - want["target_colour"][3]) <= 1
    faded = sum(want["target_colour"][3] < 100 for want in expected)
    assert faded > len(expected) / 2, "most arcs should have faded by the last day"
    page.close()


# Each size once, the banners at one of them: the replay's frame is the map view's,
# whose fit test_browser.py checks at both sizes with and without banners. Every
# replay, drawn in software here, is among the suite's longest tests (docs/benchmark.md).
WALL_CASES = [((1920, 1080), False), ((3840, 2160), True)]


@pytest.mark.parametrize(
    ("size", "banner"),
    WALL_CASES,
    ids=[f"{w}x{h}-{'banner' if b else 'plain'}" for (w, h), b in WALL_CASES],
)
def test_the_walls_replay_plays_in_the_browser_and_fits(browser, wall_server, real_db, size, banner):  # noqa: F811
    """replay=1 on the wall: the date advances in large type while the
    browser asks the server for no run of the page; the screen fits, banners
    and all, with nothing to press and nothing under 20 px."""
    width, height = size
    scale = height / 1080
    marking = "&banner=NATO%20UNCLASSIFIED" if banner else ""
    link = f"/wall?replay=1&replay_speed=0.5&refresh=3600&scale={scale:g}{marking}"
    page = open_page(browser, wall_server, link, width=width, height=height)
    replay = page.frame_locator(".st-key-wall_map iframe")
    replay.locator("#map canvas").first.wait_for(state="visible", timeout=60_000)
    readout = replay.locator("#readout")
    playwright.expect(readout).to_contain_text("2020", timeout=30_000)

    runs_before = reruns_asked(page)
    assert runs_before >= 1, "the count missed the page's first run"
    days_shown = readouts_while(page, readout, 8, at_least=3)
    assert len(days_shown) >= 3, days_shown
    assert played_forward(days_shown, real_db), days_shown
    assert reruns_asked(page) == runs_before, "the replay ran the page again"
    save(page, f"wall-replay-{width}x{height}{'-banner' if banner else ''}")

    assert readout.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 64 * scale
    assert replay.locator("button, input").count() == 0
    assert page.locator(".st-key-wall_map button").filter(visible=True).count() == 0
    assert page.evaluate(NO_SCROLLING) == [True, True, True]
    assert replay.locator("body").evaluate("() => document.documentElement.scrollHeight <= innerHeight")
    shown = [page.locator(".wall-banner").all(), [readout], [page.locator(".st-key-wall_map iframe")]]
    assert len(shown[0]) == (2 if banner else 0)
    for box in (element.bounding_box() for element in itertools.chain(*shown)):
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
    sizes = page.evaluate(VISIBLE_TEXT_SIZES) + replay.locator("body").evaluate(VISIBLE_TEXT_SIZES)
    assert [(tag, text, px) for tag, text, px in sizes if px < 20] == []
    footer_top = page.locator(".wall-footer").bounding_box()["y"]
    assert footer_top - page.evaluate(VIEW_BOTTOM) < 0.06 * height
    assert_no_error_on_page(page)
    assert requests_outside(page, wall_server) == []
    page.close()


def test_the_walls_refresh_does_not_restart_its_replay(browser, wall_server, real_db):  # noqa: F811
    """A refresh runs the screen again (every 5 s here) with the same replay:
    the browser keeps playing it where it was, not from its first day."""
    page = open_page(browser, wall_server, "/wall?replay=1&replay_speed=1&refresh=5")
    readout = page.frame_locator(".st-key-wall_map iframe").locator("#readout")
    playwright.expect(readout).to_contain_text("2020", timeout=60_000)
    runs_before = reruns_asked(page)
    days_shown = readouts_while(page, readout, 14, at_least=5)
    assert reruns_asked(page) >= runs_before + 2, "the screen did not refresh"
    assert len(days_shown) >= 5, days_shown
    assert played_forward(days_shown, real_db), days_shown
    page.close()

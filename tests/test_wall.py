"""The wall screen: settings from its link, words and HTML it shows, and the page under AppTest."""

import json
import shutil
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, wall
from reliefhub.ui import shared_filters
from tests.conftest import no_filters


def test_settings_from_the_link():
    settings, notices = wall.settings_from(
        {
            "refresh": ["15"],
            "stale_after": ["90"],
            "banner": ["NATO UNCLASSIFIED"],
            "rotate": ["map,flights"],
            "rotate_every": ["20"],
            "replay": ["1"],
            "replay_speed": ["0.5"],
            "scale": ["2"],
        }
    )
    assert notices == []
    assert settings == wall.WallSettings(15, 90, "NATO UNCLASSIFIED", ("map", "flights"), 20, True, 0.5, 2.0)
    assert settings.tick_seconds() == 15
    assert [settings.view_at(t) for t in (0, 19, 20, 41)] == ["map", "map", "flights", "map"]


def test_bad_settings_keep_their_defaults_with_a_notice():
    settings, notices = wall.settings_from(
        {"refresh": ["0"], "rotate": ["map,<script>"], "stale_after": ["soon"], "banner": ["x" * 500]}
    )
    assert settings.refresh_seconds == 60 and settings.rotate == ("map",)
    assert settings.stale_after_minutes == 24 * 60 and len(settings.banner) == 60
    assert notices == [
        "Ignored refresh: refresh (seconds) must be a number from 5 to 3600.",
        "Ignored stale_after: stale_after (min) must be a number from 1 to 525600.",
        "Ignored rotate: rotate takes a comma-separated list of map, requests, flights, trend.",
    ]


def test_freshness_is_the_last_save_and_a_build_is_not_one():
    changed = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    later = changed + timedelta(hours=3, minutes=20)
    assert wall.freshness(changed, None, later) == "Last change 30 Nov 2026 12:00 UTC (3 h 20 min ago)"
    loaded = wall.freshness(None, changed, later)
    assert loaded == "No saves or imports since the data was loaded (30 Nov 2026)"


def test_an_old_newest_record_is_called_historical():
    now = datetime(2020, 5, 27, 12, 0, tzinfo=UTC)
    assert wall.historical(date(2020, 5, 26), now, timedelta(days=1)) == ""
    assert wall.historical(date(2020, 5, 26), now, timedelta(hours=6)) == (
        "HISTORICAL PICTURE, NOT LIVE · newest record 26 May 2020"
    )
    title = wall.title_html("map", date(2020, 4, 1), "Last change ...", "HISTORICAL PICTURE, NOT LIVE")
    assert "<span class='wall-stale'>HISTORICAL PICTURE, NOT LIVE</span>" in title
    assert "Last change" not in title


def test_banner_and_labels_are_escaped():
    assert wall.banner_html("<b>EXERCISE</b>") == "<div class='wall-banner'>&lt;b&gt;EXERCISE&lt;/b&gt;</div>"
    assert wall.banner_html("") == ""


def test_headline_gaps_and_countries(fixture_db):
    by_country = fixture_db.query("open_requests_by_country", no_filters(as_of=date(2020, 4, 1)))
    assert wall.most_requested_missing(by_country) == [
        ("Protective clothing missing (pieces)", "140 k"),
        ("Ventilators missing (units)", "500"),
    ]
    side = wall.countries_html(by_country)
    assert side.index("Spain") < side.index("France") < side.index("Italy")
    assert "140 k pieces of protective clothing missing" in side
    assert [wall.compact(n) for n in (12, 9_999, 140_000, 1_500_000)] == ["12", "9,999", "140 k", "1.5 M"]


@pytest.fixture
def wall_db(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "wall.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    return path


def run_wall(app: AppTest | None = None, **query) -> AppTest:
    if app is None:
        app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
        for key, value in query.items():
            app.query_params[key] = value
        app.switch_page("app_pages/wall.py")
    return app.run()


def html_of(app: AppTest) -> str:
    return "\n".join(element.proto.body for element in app.get("html"))


def test_wall_shows_figures_map_and_banner_without_widgets(wall_db):
    app = run_wall(banner=["EXERCISE"], country=["FRA"])
    assert not app.exception
    assert len(app.sidebar.multiselect) == 0
    page = html_of(app)
    assert page.count("<div class='wall-banner'>EXERCISE</div>") == 2
    assert "<div class='value'>1</div><div class='label'>Open requests</div>" in page
    assert "Patients moved, 7 days to 30 Apr" in page
    arcs = next(
        lay
        for lay in json.loads(app.get("deck_gl_json_chart")[0].proto.json)["layers"]
        if lay["id"] == "flows"
    )
    assert [(a["origin_place_id"], a["destination_place_id"]) for a in arcs["data"]] == [
        ("metz", "essen-muelheim-airport")
    ]


def test_wall_keeps_the_last_good_picture_while_the_database_is_away(wall_db, monkeypatch):
    app = run_wall()
    assert "DATABASE UNAVAILABLE" not in html_of(app)

    def away(*args, **kwargs):
        raise duckdb.IOException("database is being rebuilt")

    # Only the picture's queries fail: in a browser a refresh reruns just that part.
    monkeypatch.setattr(shared_filters, "query", away)
    app = run_wall(app)
    assert not app.exception
    assert "DATABASE UNAVAILABLE · showing the picture of" in html_of(app)
    assert len(app.get("deck_gl_json_chart")) == 1

    monkeypatch.undo()
    monkeypatch.setenv("RELIEFHUB_DB", str(wall_db))
    app = run_wall(app)
    assert "DATABASE UNAVAILABLE" not in html_of(app)


def test_the_2020_record_is_shown_as_a_historical_picture_with_its_last_change(wall_db):
    with duckdb.connect(str(wall_db)) as con:
        con.execute("UPDATE meta SET value = '2026-05-01T00:00:00+00:00' WHERE key = 'built_at'")
        con.execute("UPDATE meta SET value = '2026-06-01T10:30:00+00:00' WHERE key = 'data_changed_at'")
    page = html_of(run_wall(stale_after=["60"]))
    assert "<span class='wall-stale'>HISTORICAL PICTURE, NOT LIVE · newest record 30 Apr 2020</span>" in page
    assert "Last change 01 Jun 2026 10:30 UTC" in page


def test_the_walls_replay_plays_in_the_browser_by_itself(wall_db):
    """replay=1 sends the browser's replay once, with nothing to press; the
    screen runs again only to refresh, and its speed comes from the link."""
    from tests.test_pages import replay_payload

    app = run_wall(rotate=["map"], replay=["1"], replay_speed=["0.25"], country=["FRA"])
    assert not app.exception
    assert app.get("deck_gl_json_chart") == [] and len(app.get("iframe")) == 1
    payload = replay_payload(app)
    assert (payload["controls"], payload["days_per_second"]) == (False, 4.0)
    assert (payload["first_day"], payload["days"]) == ("2020-03-20", 42)
    assert "<button" not in app.get("iframe")[0].proto.srcdoc
    page = html_of(app)
    assert "Movements · replaying 20 Mar to 30 Apr 2020" in page
    assert "replaying the crisis" in page and "arc width: movements so far, older ones fading" in page

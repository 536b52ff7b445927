"""The scenario generator: deterministic, through the loader's rules, and plainly synthetic."""

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, generate
from reliefhub.__main__ import main as cli
from reliefhub.db import Database
from reliefhub.loader import SOURCE_TABLES, build_database

SCALE = 400


def dump(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in SOURCE_TABLES}  # noqa: S608


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    counts = generate.generate(SCALE, folder / "a.duckdb", seed=7, keep_sources=folder / "csv")
    return folder, counts


def test_same_seed_same_database_other_seed_other_database(synthetic, tmp_path):
    folder, _ = synthetic
    generate.generate(SCALE, tmp_path / "b.duckdb", seed=7)
    generate.generate(SCALE, tmp_path / "c.duckdb", seed=8)
    first = dump(folder / "a.duckdb")
    assert dump(tmp_path / "b.duckdb") == first
    assert dump(tmp_path / "c.duckdb")["shipments"] != first["shipments"]


def test_proportions_follow_the_scale(synthetic):
    _, counts = synthetic
    assert counts["shipments"] == SCALE
    assert counts["requests"] == SCALE // 8 and counts["flights"] == SCALE // 25
    assert counts["countries"] == 237 and counts["materials"] == 17
    big = generate.proportions(1_000_000)
    assert big["places"] == 5000 and big["requests"] == 125_000 and big["flights"] == 40_000


def test_its_sources_pass_the_loaders_rules_again(synthetic, tmp_path):
    folder, counts = synthetic
    # The kept CSVs are what the loader validated; building from them again must pass every rule.
    assert build_database(folder / "csv", tmp_path / "again.duckdb") == counts
    header = (folder / "csv" / "shipments.csv").read_text().splitlines()[0].split(",")
    assert header == generate.table_columns("shipments")


def test_traffic_is_skewed_towards_a_few_corridors_and_countries(tmp_path):
    generate.generate(10_000, tmp_path / "s.duckdb", seed=3)
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        shares = [
            r[0]
            for r in con.execute(
                "SELECT count(*) / sum(count(*)) OVER () FROM shipments "
                "GROUP BY origin_place_id, destination_place_id ORDER BY 1 DESC"
            ).fetchall()
        ]
        countries = con.execute(
            "SELECT count(DISTINCT iso3) FROM places WHERE place_id IN "
            "(SELECT origin_place_id FROM shipments UNION SELECT destination_place_id FROM shipments)"
        ).fetchone()[0]
        flown = con.execute(
            "SELECT count(*) FILTER (WHERE flight_id IS NOT NULL AND mode <> 'air') FROM shipments"
        ).fetchone()[0]
    assert sum(shares[:20]) > 0.2, "the 20 busiest routes should carry a large share"
    assert len(shares) > 500
    assert 30 <= countries <= 80, "tens of countries"
    assert flown == 0


def test_the_database_says_it_is_synthetic(synthetic, fixture_db):
    folder, _ = synthetic
    db = Database(folder / "a.duckdb", read_only=True)
    try:
        info = db.query("dataset_info")
        assert (bool(info.at[0, "synthetic"]), info.at[0, "seed"], info.at[0, "scale"]) == (
            True,
            "7",
            str(SCALE),
        )
        sources = db.connection.execute("SELECT DISTINCT source_urls FROM shipments").fetchall()
        assert sources == [("https://synthetic.invalid/seed/7",)]
    finally:
        db.close()
    assert not fixture_db.query("dataset_info").at[0, "synthetic"]


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/wall.py", "app_pages/data.py"])
def test_every_page_shows_the_synthetic_notice(synthetic, tmp_path, monkeypatch, page):
    folder, _ = synthetic
    path = tmp_path / "page.duckdb"
    path.write_bytes((folder / "a.duckdb").read_bytes())
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    app.switch_page(page)
    app.run()
    assert not app.exception
    assert any(e.value.startswith("SYNTHETIC DATA") for e in app.error)


def test_real_data_shows_no_synthetic_notice(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "real.duckdb"
    path.write_bytes(fixture_db_path.read_bytes())
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert not any("SYNTHETIC" in e.value for e in app.error)


def test_command_line(tmp_path, capsys):
    assert cli(["generate", "--scale", "200", "--out", str(tmp_path / "cli.duckdb"), "--seed", "1"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert dump(tmp_path / "cli.duckdb")["shipments"][0][0] == "shp-syn-00000000"

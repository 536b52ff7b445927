"""The benchmark runs end to end at a tiny scale: its structure, never its times."""

import argparse
import json

import pytest

from reliefhub import bench
from reliefhub.db import Database

SCALE = 300


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench")
    # quick: pages without filters, the server on one page, to keep the suite fast.
    measured = bench.run((SCALE,), repeat=1, cache_dir=cache, say=lambda *_: None, quick=True)
    return cache, measured


def test_every_page_query_is_measured_beside_the_pandas_way(results):
    _, measured = results
    names = {m.name for m in measured}
    for query in (
        "movement_flows",
        "movement_places",
        "headline_figures",
        "open_requests",
        "shipments_table",
    ):
        assert {f"query:{query}[{s}]" for s in ("all", "country", "material", "dates")} <= names
    assert {"query:data_bounds[-]", "query:map_frame[-]", "query:filter_countries[-]"} <= names
    for m in measured:
        if m.name.startswith("query:"):
            assert m.median_ms > 0 and m.p90_ms >= m.median_ms and m.budget == bench.QUERY_BUDGET_MS
            if m.name.split("[")[0] not in ("query:data_freshness", "query:dataset_info"):
                assert m.baseline_median_ms > 0, m.name


def test_every_page_reruns_and_the_rest_is_reported(results):
    _, measured = results
    pages = {m.name for m in measured if m.name.startswith("page:")}
    assert {f"page:{p}[all]" for p in bench.app_pages()} <= pages
    assert all(m.median_ms is not None for m in measured if m.name.startswith("page:")), [
        m.note for m in measured if m.name.startswith("page:") and m.median_ms is None
    ]
    payload = [m for m in measured if m.name.startswith("map_payload")]
    assert len(payload) == 2 and all(m.unit == "bytes" and m.value > 1000 for m in payload)
    (imported,) = [m for m in measured if m.name == "bulk_import"]
    assert imported.unit == "rows/s" and imported.value > 0 and imported.rows >= SCALE
    server = {m.name: m for m in measured if m.name in ("cold_start", "server_peak_memory", "server")}
    assert server, "the server part reports something, measured or why not"
    if "server_peak_memory" in server:
        assert server["server_peak_memory"].value > 50 and server["cold_start"].median_ms > 0


def test_the_pandas_way_answers_the_same_questions(results):
    cache, _ = results
    path = next(cache.glob("work/bench-*.duckdb"))
    db = Database(path, cache_bytes=0)
    try:
        way = bench.PandasWay(db.connection.cursor())
        for name, scenario, params in bench.query_cases(db):
            theirs = way.answer(name, params)
            if theirs is not None:
                assert len(theirs) == len(db.query(name, params)), (name, scenario)
    finally:
        db.close()


def payload_only(scales: str, json_path, cache) -> argparse.Namespace:
    """The command line's arguments for measuring only the map payload, quick at any scale."""
    return argparse.Namespace(
        scales=scales, repeat=1, seed=2020, json=str(json_path), cache=str(cache), parts="payload"
    )


def test_command_line_writes_json_and_a_table(tmp_path, capsys, results):
    cache, _ = results
    assert bench.main(payload_only(str(SCALE), tmp_path / "r.json", cache)) == 0
    out = capsys.readouterr().out
    assert "map_payload[cargo_kind]" in out and "median ms" in out
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["name"] for r in rows] == ["map_payload[cargo_kind]", "map_payload[mode]"]
    assert all({"name", "scale", "median_ms", "p90_ms"} <= set(r) for r in rows)


def test_several_scales_are_measured_one_process_each(tmp_path, capsys, monkeypatch, results):
    cache, _ = results

    def measured_here(*_, **__):
        raise AssertionError("a scale was measured in the parent process")

    monkeypatch.setattr(bench, "run", measured_here)
    assert bench.main(payload_only(f"{SCALE},{SCALE}", tmp_path / "r.json", cache)) == 0
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["name"] for r in rows] == ["map_payload[cargo_kind]", "map_payload[mode]"] * 2
    assert capsys.readouterr().out.count("Relief Hub benchmark on") == 1  # one table, for both

"""The benchmark runs end to end at a tiny scale: its structure, never its times."""

import argparse
import json
import re

import pytest

from reliefhub import PACKAGE_DIR, QUERIES_DIR, REPO_DIR
from reliefhub.bench import cases, measurements, runner
from reliefhub.bench.measurements import BUDGET_SCALE, NO_BASELINE, SAME_ANSWER, Measurement
from reliefhub.bench.pages import app_pages
from reliefhub.bench.pandas_way import PandasWay, first_difference
from reliefhub.bench.queries import bench_query
from reliefhub.db import Database, parameter_names, query_text

SCALE = 300

# One worker runs this module: its benchmark run is made once, not once per worker.
pytestmark = pytest.mark.xdist_group("bench")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench")
    # quick: pages without filters, the server on one page, to keep the suite fast.
    measured = runner.run((SCALE,), repeat=1, cache_dir=cache, say=lambda *_: None, quick=True)
    return cache, measured


def test_every_registered_query_is_measured_beside_the_same_pandas_answer(results):
    _, measured = results
    names = {m.name for m in measured}
    for query in cases.PAGE_QUERIES:
        filtered = set(cases.SHARED_FILTERS) & set(parameter_names(query_text(query)))
        expected = {"all", "country", "material", "dates"} if filtered else {"-"}
        assert {f"query:{query}[{s}]" for s in expected} <= names, query
    queries = [m for m in measured if m.name.startswith("query:")]
    assert len(queries) == len(names & {m.name for m in queries})
    for m in queries:
        assert m.median_ms > 0 and m.p90_ms >= m.median_ms and m.budget == measurements.QUERY_BUDGET_MS
        assert m.baseline == SAME_ANSWER and m.baseline_median_ms > 0, (m.name, m.baseline)


def test_the_registry_holds_every_query_the_pages_ask_with_its_parameters():
    code = [*REPO_DIR.glob("app_pages/*.py"), *PACKAGE_DIR.glob("ui/*.py")]
    code += [PACKAGE_DIR / name for name in ("wall.py", "exports.py", "operations.py", "auth.py")]
    text = "".join(path.read_text() for path in code)
    asked = {p.stem for p in QUERIES_DIR.glob("*.sql") if re.search(rf"[\"']{p.stem}[\"']", text)}
    assert asked == set(cases.PAGE_QUERIES) | set(cases.NOT_MEASURED)
    assert not set(cases.PAGE_QUERIES) & set(cases.NOT_MEASURED)
    for query, asked_with in cases.PAGE_QUERIES.items():
        takes = set(parameter_names(query_text(query)))
        assert set(asked_with) | (takes & set(cases.SHARED_FILTERS)) == takes, query


def test_every_page_reruns_and_the_rest_is_reported(results):
    _, measured = results
    pages = {m.name for m in measured if m.name.startswith("page:")}
    assert {f"page:{p}[all]" for p in app_pages()} <= pages
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


def test_the_pandas_way_gives_the_sql_answers_value_for_value_on_the_real_data(fixture_db_path):
    """On the synthetic data the benchmark run compares them itself (the test above)."""
    db = Database(fixture_db_path, cache_bytes=0)
    try:
        way = PandasWay(db.connection.cursor())
        found = cases.query_cases(db)
        assert {case.name for case in found} == set(cases.PAGE_QUERIES)
        for name, scenario, params in found:
            assert first_difference(db.query(name, params), way.answer(name, params)) is None, (
                name,
                scenario,
            )
    finally:
        db.close()


def test_an_answer_that_differs_by_one_value_is_found(fixture_db):
    ours = fixture_db.query(
        "open_requests_by_country",
        next(c.params for c in cases.query_cases(fixture_db) if c.name == "open_requests_by_country"),
    )
    theirs = ours.copy()
    assert first_difference(ours, theirs) is None
    theirs.loc[len(theirs) - 1, "open_requests"] = theirs["open_requests"].iloc[-1] + 1
    assert first_difference(ours, theirs).startswith(f"row {len(theirs) - 1}, open_requests:")
    assert first_difference(ours, theirs.drop(columns="country")) == "no column country"
    assert first_difference(ours, theirs.iloc[1:]) == f"{len(ours) - 1} rows, not {len(ours)}"


class NoAnswers(PandasWay):
    def __init__(self, answer=None):
        self.given = answer

    def answer(self, name, params):
        return self.given


@pytest.mark.parametrize("given", ["none", "another"])
def test_a_missing_or_different_baseline_is_reported_not_counted_as_met(fixture_db, given):
    case = next(c for c in cases.query_cases(fixture_db) if c.name == "open_requests_by_country")
    another = fixture_db.query(case.name, case.params).iloc[:0]
    way = NoAnswers(None if given == "none" else another)
    m = measurements.judge(bench_query(fixture_db, way, case, BUDGET_SCALE, 1, 1))
    assert m.baseline_median_ms is None and m.within_budget is None
    if given == "none":
        assert m.baseline == NO_BASELINE and measurements.verdict(m) == "NO BASELINE"
    else:
        assert m.baseline.startswith("differs: 0 rows") and measurements.verdict(m) == "PANDAS DIFFERS"


def test_a_query_over_time_is_missed_whatever_its_baseline():
    slow = Measurement("query:x[all]", BUDGET_SCALE, 80.0, 90.0, budget=50.0, baseline=NO_BASELINE)
    fast = Measurement("query:x[all]", BUDGET_SCALE, 10.0, 12.0, 40.0, budget=50.0, baseline=SAME_ANSWER)
    assert measurements.verdict(measurements.judge(slow)) == "MISSED"
    assert measurements.verdict(measurements.judge(fast)) == "ok"


def payload_only(scales: str, json_path, cache) -> argparse.Namespace:
    """The command line's arguments for measuring only the map payload, quick at any scale."""
    return argparse.Namespace(
        scales=scales, repeat=1, seed=2020, json=str(json_path), cache=str(cache), parts="payload"
    )


def test_command_line_writes_json_and_a_table(tmp_path, capsys, results):
    cache, _ = results
    assert runner.main(payload_only(str(SCALE), tmp_path / "r.json", cache)) == 0
    out = capsys.readouterr().out
    assert "map_payload[cargo_kind]" in out and "median ms" in out
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["name"] for r in rows] == ["map_payload[cargo_kind]", "map_payload[mode]"]
    assert all({"name", "scale", "median_ms", "p90_ms"} <= set(r) for r in rows)


def test_several_scales_are_measured_one_process_each(tmp_path, capsys, monkeypatch, results):
    cache, _ = results

    def measured_here(*_, **__):
        raise AssertionError("a scale was measured in the parent process")

    monkeypatch.setattr(runner, "run", measured_here)
    assert runner.main(payload_only(f"{SCALE},{SCALE}", tmp_path / "r.json", cache)) == 0
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["name"] for r in rows] == ["map_payload[cargo_kind]", "map_payload[mode]"] * 2
    assert capsys.readouterr().out.count("Relief Hub benchmark on") == 1  # one table, for both

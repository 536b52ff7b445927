"""The many-sessions benchmark works: it speaks Streamlit's protocol and counts reruns and failures.

A check of the harness at a tiny scale, never of its times.
"""

import argparse
import asyncio
import random
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed

from reliefhub import DATA_DIR
from reliefhub.bench import sessions as bench_sessions
from reliefhub.bench.sessions import Rerun, Session, SessionLoad, Tally
from reliefhub.loader import build_database


class Replay:
    """A websocket that answers every send with the same ForwardMsgs, as a server would."""

    def __init__(self, messages: list[ForwardMsg]):
        self.messages = [m.SerializeToString() for m in messages]
        self.sent, self.waiting = [], []

    async def send(self, data: bytes):
        self.sent.append(data)
        self.waiting = list(self.messages)

    async def recv(self) -> bytes:
        if not self.waiting:
            raise ConnectionClosed(None, None)
        return self.waiting.pop(0)


def element(kind: str, **fields) -> ForwardMsg:
    message = ForwardMsg()
    getattr(message.delta.new_element, kind).MergeFrom(
        type(getattr(message.delta.new_element, kind))(**fields)
    )
    return message


def finished(status) -> ForwardMsg:
    message = ForwardMsg()
    message.script_finished = status
    return message


OK = finished(ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY)
EARLY = finished(ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN)


def test_a_run_ends_at_script_finished_and_an_exception_shown_is_a_failure():
    country = element("multiselect", id="$$ID-abc-country", options=["Italy (ITA)", "Spain (ESP)"])
    dates = element("date_input", id="$$ID-def-dates", is_range=True, default=["2020-03-01", "2020-05-26"])
    shown = element("exception", type="KeyError", message="'ITA'")
    warned = element("exception", type="Deprecation", message="old", is_warning=True)

    session = Session(Replay([country, dates, warned, EARLY, OK, shown]))
    first = asyncio.run(session.rerun("movements"))
    assert first.failure is None and first.ms > 0  # a warning and a rerun-then-finish are no failure
    assert session.multiselect_options == {"country": ["Italy (ITA)", "Spain (ESP)"]}
    assert session.full_dates == ["2020-03-01", "2020-05-26"]

    session.connection = Replay([shown, OK])
    values = {"country": ["Spain (ESP)"], "dates": ["2020-04-01", "2020-04-30"]}
    failed = asyncio.run(session.rerun("requests", values=values))
    assert failed.failure == "requests: KeyError: 'ITA'"
    sent = bench_sessions.BackMsg.FromString(session.connection.sent[0]).rerun_script
    assert sent.page_name == "requests"
    assert {w.id: list(w.string_array_value.data) for w in sent.widget_states.widgets} == {
        "$$ID-abc-country": ["Spain (ESP)"],
        "$$ID-def-dates": ["2020-04-01", "2020-04-30"],
    }


def test_a_missing_page_or_a_bad_status_is_a_failure():
    missing = ForwardMsg()
    missing.page_not_found.page_name = "nowhere"
    assert asyncio.run(Session(Replay([missing, OK])).rerun("nowhere")).failure == (
        "nowhere: page not found: nowhere"
    )
    dropped = Session(Replay([]))
    assert asyncio.run(dropped.rerun("")).failure.startswith("overview: connection closed")
    assert dropped.lost
    compile_error = finished(ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR)
    assert "status 1" in asyncio.run(Session(Replay([compile_error])).rerun("")).failure


def test_only_successful_reruns_finished_inside_the_window_are_counted():
    tally = Tally(start=100.0, end=110.0)
    tally.reruns = [
        Rerun(99.0, 5),
        Rerun(101.0, 10),
        Rerun(105.0, 30),
        Rerun(106.0, 7, "x: y"),
        Rerun(111.0, 9),
    ]
    measured = bench_sessions.measurement("hub", "closed 2", 159, tally)
    assert (measured.rows, measured.value, measured.median_ms) == (2, 0.2, 20.0)
    assert measured.failures == 1 and measured.note == "x: y"
    assert measured.p95_ms == pytest.approx(29.0)


def test_picked_filters_come_from_the_options_offered_and_half_move_the_date_window():
    session = Session(None)
    session.multiselect_options = {"country": ["A", "B", "C"], "material": ["m"]}
    session.full_dates = ["2020-03-01", "2020-05-26"]
    picks = [session.pick_values(random.Random(n)) for n in range(200)]
    assert all(set(p["country"]) <= {"A", "B", "C"} and len(p["country"]) <= 2 for p in picks)
    moved = [p["dates"] for p in picks if p["dates"] != session.full_dates]
    assert 60 < len(moved) < 140
    assert all("2020-03-01" <= start < end <= "2020-05-26" for start, end in moved)


def test_the_load_is_bounded():
    with pytest.raises(ValueError, match="sessions"):
        SessionLoad(closed=(bench_sessions.MAX_SESSIONS + 1,))
    with pytest.raises(ValueError, match="duration"):
        SessionLoad(duration_s=bench_sessions.MAX_SECONDS + 1)
    args = argparse.Namespace(
        sessions="2,3", open_sessions="4", think=2.0, duration=5.0, walls=1, wall_every=10
    )
    load = bench_sessions.load_from(args)
    assert (load.closed, load.open, load.walls) == ((2, 3), (4,), 1)
    assert list(load.runs()) == [
        ("closed", 2, None, 0),
        ("closed", 3, None, 0),
        ("open", 4, 2.0, 1),
    ]
    with pytest.raises(ValueError, match="servers"):
        SessionLoad(servers=1)
    with pytest.raises(ValueError, match="servers"):
        SessionLoad(servers=2, compare_with=Path("."))
    assert bench_sessions.load_from(argparse.Namespace(servers=2)).servers == 2
    assert bench_sessions.load_from(argparse.Namespace(sessions="")).closed == ()
    assert bench_sessions.load_from(argparse.Namespace()).closed == SessionLoad().closed


def test_another_checkout_to_compare_with_reaches_a_child_process(tmp_path):
    args = argparse.Namespace(sessions="1", open_sessions="", compare_with=str(tmp_path))
    load = bench_sessions.load_from(args)
    assert load.compare_with == tmp_path
    line = bench_sessions.command_line(args)
    assert line[line.index("--compare-with") + 1] == str(tmp_path)
    assert line[line.index("--servers") + 1] == "0"
    assert "--compare-with" not in bench_sessions.command_line(argparse.Namespace(sessions="1"))


def test_sessions_rerun_the_hub_and_the_floor_app_in_both_modes(tmp_path):
    db_path = tmp_path / "built-in.duckdb"
    build_database(DATA_DIR, db_path)
    load = SessionLoad(closed=(2,), open=(2,), think_s=0.5, duration_s=3)
    measured = bench_sessions.on_database(db_path, tmp_path, load, say=lambda *_: None)
    assert [m.name for m in measured] == [
        "sessions:hub[closed 2]",
        "sessions:floor[closed 2]",
        "sessions:hub[open 2]",
        "sessions:floor[open 2]",
    ]
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert {m.scale for m in measured} == {con.execute("select count(*) from shipments").fetchone()[0]}
    for m in measured:
        assert m.failures == 0, m.note
        assert m.rows >= 2 and m.value == round(m.rows / 3, 2), m.name
        assert 0 < m.median_ms <= m.p95_ms, m.name


def test_sessions_through_nginx_reach_one_server_then_both_on_a_postgresql_store(tmp_path):
    """--servers 2: the built-in data in a real PostgreSQL store, two servers on it behind nginx
    (deploy/nginx.conf); one proxy in front of the first, one in front of both."""
    db_path = tmp_path / "built-in.duckdb"
    build_database(DATA_DIR, db_path)
    # Long enough for each session to finish a rerun while three other workers load the cores.
    load = SessionLoad(closed=(2,), open=(), duration_s=6, servers=2)
    measured = bench_sessions.on_database(db_path, tmp_path, load, say=lambda *_: None)
    assert [m.name for m in measured] == [
        "sessions:hub-1-server[closed 2]",
        "sessions:hub-2-servers[closed 2]",
        "sessions:floor[closed 2]",
    ]
    for m in measured:
        assert m.failures == 0, m.note
        assert m.rows >= 2, m.name
    one, two, floor = measured
    assert floor.served_by is None
    assert len(one.served_by) == 1
    assert len(two.served_by) == 2 and min(two.served_by.values()) > 0
    assert set(one.served_by) < set(two.served_by)
    # nginx's own record: the sessions' websockets reached both servers, one each.
    log = bench_sessions.proxy_folder(tmp_path / "work" / "bench-sessions.duckdb", 2) / "logs" / "access.log"
    streams = Counter(line.split()[1] for line in log.read_text().splitlines() if "/_stcore/stream" in line)
    assert streams == dict.fromkeys(two.served_by, 1)

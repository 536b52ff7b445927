"""Many people at once: simulated sessions against one dashboard server, or several.

python -m reliefhub bench --parts sessions --scales 10000 --sessions 1,5,20 --open-sessions 20

Each session speaks Streamlit's own websocket protocol from Python (no browser,
so the client costs little and the server is what gets measured): it connects to
/_stcore/stream, sends a BackMsg whose rerun_script names the page and carries
the widgets' values, and reads ForwardMsgs until script_finished. Every rerun
goes to the overview, movements, open requests or the wall, with countries and
materials picked at random from the options the page offered, and on half the
reruns a fresh date window.

- closed (--sessions): each session reruns back to back: the server's capacity.
- open (--open-sessions): each pauses a random think time (0.5-1.5 x --think)
  between reruns: an operations room; --walls adds wall screens rerunning their
  fragment whenever the page asks (rotate_every=--wall-every).

The same load runs against reliefhub/bench/floor_app.py in the same run: the
floor of this machine. With --servers N the database is moved into a real
PostgreSQL store and the hub runs as N servers on it behind nginx with
deploy/nginx.conf (reliefhub/store/cluster.py): the load goes through the
proxy to one of them (hub-1-server), then to all N (hub-N-servers).
Reported per session count: reruns/s (reruns finished inside the --duration
window), median and 95th percentile, and failures (a run that did not finish,
or a page showing an exception).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from reliefhub.bench import Measurement, ms, streamlit_server, text_table, working_copy
from reliefhub.store import cluster
from reliefhub.store.cluster import ROUTE_COOKIE, Proxy
from reliefhub.store.local_server import PostgresServer

# url_path of each page the load visits: overview (the default page), movements, open requests, wall.
HUB_PAGES = ("", "movements", "requests", "wall")
FLOOR_PAGES = ("",)
FLOOR_APP = "reliefhub/bench/floor_app.py"
FILTER_KEYS = ("country", "material")
DATES_KEY = "dates"
MAX_SESSIONS = 200
MAX_SECONDS = 600
MAX_SERVERS = 8
RERUN_TIMEOUT_S = 120.0
# Sessions opening at the same time: people arrive over some minutes, not in
# one instant (sixty first runs at once at 1,000,000 shipments outlasted the timeout).
OPENING_AT_ONCE = 5
EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
FINISHED_OK = (
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
)


@dataclass(frozen=True)
class SessionLoad:
    """What to run: session counts per mode, and how long each measurement lasts."""

    closed: tuple[int, ...] = (1, 5, 20, 50)
    open: tuple[int, ...] = (20, 50)
    think_s: float = 10.0
    duration_s: float = 30.0
    walls: int = 0
    wall_every_s: int = 30
    seed: int = 2020
    # Another checkout of the hub (e.g. main's) to measure in the same run: before and after.
    compare_with: Path | None = None
    # 0: one server on the file; N: one server, then N, on a PostgreSQL store behind nginx.
    servers: int = 0

    def __post_init__(self):
        if any(not 1 <= n <= MAX_SESSIONS for n in (*self.closed, *self.open)) or self.walls > MAX_SESSIONS:
            raise ValueError(f"sessions must be from 1 to {MAX_SESSIONS}")
        if not 1 <= self.duration_s <= MAX_SECONDS:
            raise ValueError(f"--duration must be from 1 to {MAX_SECONDS} seconds")
        if self.think_s <= 0 or self.wall_every_s < 5:
            raise ValueError("--think must be positive and --wall-every at least 5 seconds")
        if self.servers and not 2 <= self.servers <= MAX_SERVERS:
            raise ValueError(f"--servers must be from 2 to {MAX_SERVERS}")
        if self.servers and self.compare_with:
            raise ValueError("--servers and --compare-with are measured in runs of their own")

    def runs(self):
        """(mode, sessions, think time or None, wall screens) of each measurement, in order."""
        for n in self.closed:
            yield "closed", n, None, 0
        for n in self.open:
            yield "open", n, self.think_s, self.walls


@dataclass
class Rerun:
    finished: float  # time.monotonic() when script_finished arrived
    ms: float
    failure: str | None = None
    upstream: str | None = None  # the server behind the proxy that ran it


@dataclass
class Tally:
    """The reruns of one measurement, and the window they are counted in."""

    start: float
    end: float
    reruns: list[Rerun] = field(default_factory=list)

    def counted(self) -> list[Rerun]:
        return [r for r in self.reruns if self.start <= r.finished <= self.end and not r.failure]

    def failures(self) -> list[str]:
        return [r.failure for r in self.reruns if r.failure]


class Session:
    """One simulated browser tab: a websocket, the widgets its pages offered, and its page's fragment."""

    def __init__(self, connection: ClientConnection, upstream: str | None = None):
        self.connection = connection
        self.upstream = upstream
        self.multiselect_options: dict[str, list[str]] = {}
        self.full_dates: list[str] | None = None
        self.widget_ids: dict[str, str] = {}
        self.auto_rerun: tuple[float, str] | None = None
        # After a timeout or a dropped connection the session is not driven further.
        self.lost = False

    async def rerun(
        self, page: str, query: str = "", values: dict | None = None, fragment: str = ""
    ) -> Rerun:
        message = BackMsg()
        state = message.rerun_script
        state.page_name, state.query_string = page, query
        if fragment:
            state.fragment_id, state.is_auto_rerun = fragment, True
        for key, value in (values or {}).items():
            if key in self.widget_ids:
                state.widget_states.widgets.add(id=self.widget_ids[key]).string_array_value.data.extend(value)
        started = time.monotonic()
        try:
            await self.connection.send(message.SerializeToString())
            failure = await asyncio.wait_for(self._read_until_finished(), RERUN_TIMEOUT_S)
        except TimeoutError:
            failure, self.lost = f"no script_finished within {RERUN_TIMEOUT_S:.0f} s", True
        except ConnectionClosed as closed:
            failure, self.lost = f"connection closed ({closed})", True
        now = time.monotonic()
        return Rerun(
            now, (now - started) * 1000, failure and f"{page or 'overview'}: {failure}", self.upstream
        )

    async def _read_until_finished(self) -> str | None:
        """Read ForwardMsgs to the end of the run: None, or what went wrong."""
        failure = None
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self.connection.recv())
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                failure = self._note_element(message.delta.new_element) or failure
            elif kind == "auto_rerun":
                self.auto_rerun = (message.auto_rerun.interval, message.auto_rerun.fragment_id)
            elif kind == "page_not_found":
                failure = f"page not found: {message.page_not_found.page_name}"
            elif kind == "script_finished" and message.script_finished != EARLY_FOR_RERUN:
                if message.script_finished not in FINISHED_OK:
                    failure = failure or f"script finished with status {message.script_finished}"
                return failure

    def _note_element(self, element) -> str | None:
        kind = element.WhichOneof("type")
        if kind == "exception" and not element.exception.is_warning:
            return f"{element.exception.type}: {element.exception.message}"
        if kind in ("multiselect", "date_input"):
            widget = getattr(element, kind)
            key = user_key(widget.id)
            self.widget_ids[key] = widget.id
            if kind == "multiselect":
                self.multiselect_options[key] = list(widget.options)
            elif widget.is_range and self.full_dates is None:
                self.full_dates = list(widget.default)
        return None

    def pick_values(self, rng: random.Random) -> dict[str, list[str]]:
        """What a person might choose next: a few countries, perhaps a material, on half the
        reruns a fresh date window (else the whole of the data)."""
        values = {}
        for key, most in zip(FILTER_KEYS, (2, 1), strict=True):
            options = self.multiselect_options.get(key, [])
            values[key] = rng.sample(options, rng.randint(0, min(most, len(options))))
        if self.full_dates and len(self.full_dates) == 2:
            values[DATES_KEY] = fresh_window(rng, *self.full_dates) if rng.random() < 0.5 else self.full_dates
        return values


def user_key(element_id: str) -> str:
    """The key a widget was given: Streamlit's ids of keyed widgets end with it ($$ID-<hash>-<key>)."""
    return element_id.split("-", 2)[-1]


def fresh_window(rng: random.Random, first: str, last: str) -> list[str]:
    start, end = (date.fromisoformat(d.replace("/", "-")) for d in (first, last))
    days = sorted(rng.sample(range((end - start).days + 1), 2)) if end > start else [0, 0]
    return [str(start + timedelta(days=n)) for n in days]


@dataclass(frozen=True)
class Target:
    """What is measured: a server (or a proxy in front of several) and the pages the load visits."""

    name: str
    base: str
    pages: tuple[str, ...]
    proxy: Proxy | None = None

    def routes(self, count: int) -> list[tuple[str, str] | tuple[None, None]]:
        """(route cookie, server) for each of `count` sessions arriving: behind a proxy, cookies
        nginx gave, kept so that the sessions spread evenly over its servers in turn."""
        if not self.proxy:
            return [(None, None)] * count
        upstreams = self.proxy.upstreams
        in_turn = [upstreams[n % len(upstreams)] for n in range(count)]
        return [(self.proxy.route_to(upstream), upstream) for upstream in in_turn]


async def open_session(
    target: Target, page: str, query: str = "", route=(None, None)
) -> tuple[Session, Rerun]:
    url = target.base.replace("http", "ws", 1) + "/_stcore/stream"
    cookie, upstream = route
    # No keepalive pings: a server busy with sixty sessions answered them late
    # and the client dropped the connection; a browser's tab stays open.
    connection = await connect(
        url,
        subprotocols=["streamlit"],
        origin=target.base,
        max_size=None,
        ping_interval=None,
        ssl=target.proxy.context if target.proxy else None,
        additional_headers={"Cookie": f"{ROUTE_COOKIE}={cookie}"} if cookie else None,
    )
    session = Session(connection, upstream)
    return session, await session.rerun(page, query)


async def person(session: Session, pages, tally: Tally, rng: random.Random, think_s: float | None):
    """Rerun pages with new filters until the window closes: back to back, or after thinking."""
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s))
    while time.monotonic() < tally.end and not session.lost:
        tally.reruns.append(await session.rerun(rng.choice(pages), values=session.pick_values(rng)))
        if think_s:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def wall_screen(session: Session, query: str, tally: Tally):
    """Rerun the wall's fragment whenever the page asked to (the rotation), as the browser does."""
    while session.auto_rerun and not session.lost and time.monotonic() + session.auto_rerun[0] < tally.end:
        interval, fragment = session.auto_rerun
        await asyncio.sleep(interval)
        tally.reruns.append(await session.rerun("wall", query, fragment=fragment))


async def put_load(
    target: Target, routes, sessions: int, think_s: float | None, load: SessionLoad, walls: int
):
    """Open every session (its first run not counted), then measure for load.duration_s;
    routes: each session's, walls' last (Target.routes)."""
    rng = random.Random(load.seed)
    pages = target.pages
    wall_query = f"rotate=map,requests,flights&rotate_every={load.wall_every_s}"
    opening = asyncio.Semaphore(OPENING_AT_ONCE)

    async def arrive(route, page: str, query: str = ""):
        async with opening:
            return await open_session(target, page, query, route)

    opened = await asyncio.gather(
        *[arrive(route, pages[0]) for route in routes[:sessions]],
        *[arrive(route, "wall", wall_query) for route in routes[sessions:]],
    )
    start = time.monotonic()
    people, screens = Tally(start, start + load.duration_s), Tally(start, start + load.duration_s)
    people.reruns += [first for _, first in opened[:sessions] if first.failure]
    screens.reruns += [first for _, first in opened[sessions:] if first.failure]
    try:
        await asyncio.gather(
            *[person(s, pages, people, random.Random(rng.random()), think_s) for s, _ in opened[:sessions]],
            *[wall_screen(s, wall_query, screens) for s, _ in opened[sessions:]],
        )
    finally:
        await asyncio.gather(*[s.connection.close() for s, _ in opened])
    return people, screens


def measurement(target: str, how: str, scale: int, tally: Tally) -> Measurement:
    counted = [r.ms for r in tally.counted()]
    failures = tally.failures()
    served_by = Counter(r.upstream for r in tally.counted() if r.upstream)
    return Measurement(
        f"sessions:{target}[{how}]",
        scale,
        statistics.median(counted) if counted else None,
        None,
        p95_ms=float(np.percentile(counted, 95)) if counted else None,
        value=round(len(counted) / (tally.end - tally.start), 2),
        unit="reruns/s",
        rows=len(counted),
        failures=len(failures),
        note="; ".join(sorted(set(failures))[:3]) or None,
        served_by=dict(sorted(served_by.items())) or None,
    )


def bench_sessions(db_path: Path, scale: int, load: SessionLoad, say=print) -> list[Measurement]:
    """The load on the hub (and on another checkout of it, or on N servers behind the proxy) and
    on the floor app, side by side, one session count at a time."""
    results = []
    log = Path(db_path).with_suffix
    with contextlib.ExitStack() as servers:
        if load.servers:
            targets = servers.enter_context(behind_proxy(db_path, load.servers, say))
        else:
            base = servers.enter_context(streamlit_server("app.py", db_path, log(".hub.log")))[1]
            targets = [Target("hub", base, HUB_PAGES)]
        if load.compare_with:
            # A server of its own needs a file of its own: a DuckDB file has one writer.
            other = working_copy(db_path, Path(db_path).parent, "compared-" + Path(db_path).name)
            server = streamlit_server("app.py", other, log(".compared.log"), checkout=load.compare_with)
            targets.append(Target("hub-compared", servers.enter_context(server)[1], HUB_PAGES))
        floor = servers.enter_context(streamlit_server(FLOOR_APP, db_path, log(".floor.log")))[1]
        targets.append(Target("floor", floor, FLOOR_PAGES))
        for mode, sessions, think_s, walls in load.runs():
            for target in targets:
                screens = 0 if target.name == "floor" else walls
                how = f"{mode} {sessions}" + (f" +{screens} walls" if screens else "")
                routes = target.routes(sessions + screens)
                people, wall_tally = asyncio.run(put_load(target, routes, sessions, think_s, load, screens))
                results.append(measured := measurement(target.name, how, scale, people))
                figures = f"{measured.value:6.2f} reruns/s, {measured.failures} failed"
                say(f"    {target.name:<15} {how:<20} {figures}")
                if screens:
                    results.append(measurement(f"{target.name}-walls", how, scale, wall_tally))
    return results


def proxy_folder(db_path: Path, servers: int) -> Path:
    """Where the proxy in front of `servers` servers keeps its configuration and logs."""
    return Path(db_path).parent / f"nginx-{servers}"


@contextlib.contextmanager
def behind_proxy(db_path: Path, servers: int, say=print):
    """db_path moved into a new PostgreSQL store, `servers` dashboard servers on it, and two
    proxies from deploy/nginx.conf: one in front of the first server, one in front of all."""
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(PostgresServer.temporary())
        say(f"    moving {db_path.name} into a PostgreSQL store and filling {servers} replicas")
        started = time.monotonic()
        running = stack.enter_context(
            cluster.servers_on_store(db_path, postgres.new_database(), Path(db_path).parent, servers)
        )
        say(f"    {servers} servers on the store after {time.monotonic() - started:.0f} s")
        targets = []
        for count, name in ((1, "hub-1-server"), (servers, f"hub-{servers}-servers")):
            upstreams = [server.address for server in running[:count]]
            proxy = stack.enter_context(cluster.Proxy(upstreams, proxy_folder(db_path, count)))
            targets.append(Target(name, proxy.base, HUB_PAGES, proxy))
        yield targets


def table(results: list[Measurement]) -> str:
    """One line per target and session count: the hub beside the floor."""
    columns = [("sessions", "<48"), ("scale", ">9"), ("reruns", ">7"), ("reruns/s", ">9")]
    columns += [("median ms", ">10"), ("p95 ms", ">9"), ("failed", ">7")]
    rows = []
    for m in results:
        cells = [m.name, f"{m.scale:,}", str(m.rows), f"{m.value:.2f}", ms(m.median_ms, 0), ms(m.p95_ms, 0)]
        served = m.served_by and "reruns per server: " + ", ".join(f"{a} {n}" for a, n in m.served_by.items())
        rows.append(([*cells, str(m.failures)], "; ".join(filter(None, (m.note, served))) or None))
    return text_table(columns, rows)


def counts(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """Session counts from "1,5,20" ("" for none; None: the default)."""
    return default if text is None else tuple(int(n) for n in text.split(",") if n.strip())


def load_from(args) -> SessionLoad:
    """The sessions part's settings from the command line (its defaults where a caller gave none)."""
    default = SessionLoad()
    return SessionLoad(
        closed=counts(getattr(args, "sessions", None), default.closed),
        open=counts(getattr(args, "open_sessions", None), default.open),
        think_s=getattr(args, "think", default.think_s),
        duration_s=getattr(args, "duration", default.duration_s),
        walls=getattr(args, "walls", default.walls),
        wall_every_s=getattr(args, "wall_every", default.wall_every_s),
        seed=getattr(args, "seed", default.seed),
        compare_with=Path(args.compare_with) if getattr(args, "compare_with", None) else None,
        servers=getattr(args, "servers", default.servers),
    )


def command_line(args) -> list[str]:
    """The sessions part's settings again, for a child process measuring one scale."""
    load = load_from(args)
    return [
        "--sessions", ",".join(map(str, load.closed)), "--open-sessions", ",".join(map(str, load.open)),
        "--think", str(load.think_s), "--duration", str(load.duration_s), "--walls", str(load.walls),
        "--wall-every", str(load.wall_every_s), "--servers", str(load.servers),
        *(["--compare-with", str(load.compare_with)] if load.compare_with else []),
    ]  # fmt: skip


def describe(load: SessionLoad) -> str:
    return (
        f"{load.duration_s:g} s per count; open mode thinks 0.5-1.5 x {load.think_s:g} s"
        + (f", {load.walls} wall screens rotating every {load.wall_every_s} s" if load.walls else "")
        + (f"; 1 and {load.servers} servers on a PostgreSQL store behind nginx" if load.servers else "")
    )


def on_database(db_path: Path, cache_dir: Path, load: SessionLoad, say=print) -> list[Measurement]:
    """The sessions part against a given database (a private copy of it); its scale is its shipments."""
    import duckdb

    copy = working_copy(db_path, cache_dir / "work", "bench-sessions.duckdb")
    with duckdb.connect(str(copy), read_only=True) as con:
        (scale,) = con.execute("select count(*) from shipments").fetchone()
    say(f"{db_path}: {scale:,} shipments")
    return bench_sessions(copy, scale, load, say)

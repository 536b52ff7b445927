"""What a person sees, in a real headless Chromium against `streamlit run`.

Each test starts its own server on a free port, so that every page's link is
tried as the first request a fresh server receives: a page folder named
`pages/` would put Streamlit in its legacy pages-folder mode on a deep link
(hence app_pages/). Screenshots are saved under test-artifacts/ for a person to
look at; their paths are printed (pytest -s shows them).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reliefhub import DATA_DIR, REPO_DIR, auth
from reliefhub.__main__ import main as cli
from reliefhub.bench.server import CHROMIUM, launch_chromium
from reliefhub.db import Database
from reliefhub.figures import LAND
from reliefhub.flowmap import WORLD_PX
from reliefhub.loader import build_database
from tests.conftest import ADMIN, PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = REPO_DIR / "test-artifacts"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Debian's chromium is required for the browser tests: apt-get install chromium")
    pytest.skip(
        "chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True
    )

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "real.duckdb"
    build_database(DATA_DIR, path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str, *, within: float) -> bool:
    """Whether `url` answers (with a 2xx) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


class Server:
    """`streamlit run app.py` on a free port, as the README starts it."""

    def __init__(self, db: Path, **env: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=REPO_DIR,
            env=os.environ | {"RELIEFHUB_DB": str(db)} | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if not answers(f"{self.base}/_stcore/health", within=60):
            self.stop()
            raise RuntimeError("streamlit did not start:\n" + self.process.stdout.read().decode())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def server(real_db):
    running = Server(real_db)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = launch_chromium(p)
        yield launched
        launched.close()


# How long a click or a wait may take by default. Chromium draws WebGL in
# software here: while a page draws its first map it draws few frames, more so
# with the other test workers busy, and a click waits for frames
# (docs/benchmark.md, "The suite on Debian's Chromium 150").
PATIENCE_MS = 90_000


def new_page(browser, **options):
    """A page of `browser` that waits as long as a busy machine needs."""
    page = browser.new_page(**options)
    page.set_default_timeout(PATIENCE_MS)
    return page


def open_page(browser, server, path: str, *, width=1920, height=1080):
    """Open a page, recording every request it makes."""
    page = new_page(browser, viewport={"width": width, "height": height}, accept_downloads=True)
    page.requests_made = []
    page.on("request", lambda request: page.requests_made.append(request.url))
    page.messages_sent = []  # to the server: a rerun of the page is asked for by one
    page.on("websocket", lambda socket: socket.on("framesent", lambda m: page.messages_sent.append(m)))
    started = time.monotonic()
    page.goto(server.base + path)
    # Attached, not visible: the wall hides its sidebar once its own style arrives, which on a
    # busy machine can be before the first look, so a wait for it to show timed out.
    page.wait_for_selector("[data-testid='stSidebar']", state="attached", timeout=60_000)
    page.load_seconds = time.monotonic() - started
    return page


def add_account(db_path: Path, role: str) -> None:
    """A local account named after its role, before the server opens the database."""
    db = Database(db_path)
    try:
        auth.add_user(db, role, role, PASSWORD, by=ADMIN)
    finally:
        db.close()


def sign_in(page, account: str, password: str = PASSWORD) -> None:
    page.get_by_role("textbox", name="Account").fill(account)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def open_import_page(browser, server, kind: str, *, width=1920, height=1080, account="staff"):
    """The Import page, signed in (the account must exist) and the kind of file chosen, as staff
    would: the page sends a signed-out person to sign in, and signing in goes back to it."""
    page = open_page(browser, server, "/import", width=width, height=height)
    page.get_by_text("this page needs a staff or higher account").wait_for()
    page.get_by_role("link", name="Sign in").first.click()
    sign_in(page, account)
    page.get_by_text(f"Signed in as {account}").wait_for(timeout=30_000)
    page.get_by_role("heading", name="Import").wait_for()
    page.locator("[data-testid=stRadio] label", has_text=kind).first.click()
    settle(page)
    return page


def requests_outside(page, server) -> list[str]:
    local = (server.base, "data:", "blob:")
    return [url for url in page.requests_made if not url.startswith(local)]


def save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
    return path


def assert_no_error_on_page(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body and "Page not found" not in body


def settle(page) -> None:
    """Wait until the script run a click or keypress started has finished."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="hidden", timeout=30_000)


def hand_over(page, files):
    """Give the Import page a file; returns its Import button, enabled.

    A file handed over while a rerun is still in flight can be dropped by
    the server (seen once in CI: the button stayed disabled), so hand it
    over again until the page has it."""
    import_button = page.get_by_role("button", name="Import")
    for attempt in range(3):
        page.locator("input[type=file]").set_input_files(files)
        settle(page)
        try:
            playwright.expect(import_button).to_be_enabled(timeout=15_000)
            return import_button
        except AssertionError:
            if attempt == 2:
                raise
    return import_button


def wait_for_drawn_map(page) -> Image.Image:
    """Wait until deck.gl has drawn the basemap and arcs; return the map's pixels."""
    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    deadline = time.monotonic() + 30
    while True:
        image = Image.open(BytesIO(canvas.screenshot())).convert("RGB")
        colours = image.getcolors(maxcolors=1_000_000) or []
        arc_blue = sum(n for n, (r, g, b) in colours if b > 180 and g > 140 and r < 140)
        if arc_blue > 200 or time.monotonic() > deadline:
            return image
        page.wait_for_timeout(500)


@pytest.mark.parametrize(
    "path", ["/movements", "/requests", "/data", "/record", "/import", "/audit", "/users", "/sign_in", "/"]
)
def test_every_page_url_works_as_the_first_request_to_a_fresh_server(browser, server, path):
    page = open_page(browser, server, path)
    # In Streamlit's legacy pages-folder mode the sidebar would list file names instead.
    page.locator("[data-testid='stSidebarNav']", has_text="Open requests").wait_for(timeout=30_000)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert all(
        label in nav
        for label in ("Overview", "Movements", "Open requests", "Data", "Record", "Import", "Audit")
    )
    # The sidebar's filters are drawn after the navigation: on a busy machine, a moment later.
    page.get_by_text("Filters", exact=True).first.wait_for(timeout=30_000)
    assert page.get_by_text("Filters", exact=True).count() == 1
    assert_no_error_on_page(page)
    assert requests_outside(page, server) == []
    page.close()


def nice_values_below(pid: int) -> dict[str, int]:
    """The nice of every thread of `pid`'s descendants, by "pid/tid command"."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since the listing
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    nice, waiting = {}, list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        waiting += children.get(child, [])
        for task in Path(f"/proc/{child}/task").glob("*/stat"):
            try:
                comm, rest = task.read_text().split(" (", 1)[1].rsplit(")", 1)
            except OSError:
                continue
            nice[f"{child}/{task.parent.name} {comm}"] = int(rest.split()[16])
    return nice


def test_movements_map_draws_offline(browser, server):
    page = open_page(browser, server, "/movements")
    started = time.monotonic()
    image = wait_for_drawn_map(page)
    drawn_after = page.load_seconds + time.monotonic() - started
    save(page, "movements")
    print(f"movements canvas drawn {drawn_after:.1f} s after navigation")

    colours = image.getcolors(maxcolors=1_000_000)
    background = max(colours)[1]
    drawn = sum(n for n, colour in colours if colour != background)
    assert drawn > 0.2 * image.width * image.height, "the basemap did not draw"
    arc_blue = sum(n for n, (r, g, b) in colours if b > 180 and g > 140 and r < 140)
    assert arc_blue > 200, "no sky-blue arcs were drawn"
    assert "Metz" in page.inner_text("body") or page.locator("canvas").count() >= 1
    assert_no_error_on_page(page)
    assert requests_outside(page, server) == []
    # Chromium as root would raise its GPU process to nice -8, and drawing a map
    # in software there took the cores from the dashboard's server.
    nice = nice_values_below(os.getpid())
    assert any("chromium" in thread for thread in nice), "no Chromium found below this process"
    if os.geteuid() == 0:
        assert {thread: value for thread, value in nice.items() if value < 0} == {}
    page.close()


def test_filters_follow_the_person_from_page_to_page(browser, server):
    page = open_page(browser, server, "/movements?country=ITA&material=patients")
    page.wait_for_timeout(2000)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Data").click()
    page.wait_for_url("**/data?*", timeout=20_000)
    page.wait_for_timeout(2000)
    assert "country=ITA" in page.url and "material=patients" in page.url
    assert "Filtered to countries ITA; materials patients" in page.inner_text("body")
    assert_no_error_on_page(page)
    page.close()


@pytest.mark.parametrize(
    ("label", "typed", "chosen"),
    [("Country", "ITA", ["ITA — Italy"]), ("Country", "NOR", ["NOR — Norway"]), ("Material", "Ventil", None)],
)
def test_typing_in_a_picker_and_enter_chooses_one(browser, wall_server, label, typed, chosen):
    page = open_page(browser, wall_server, "/data")
    settle(page)
    picker = page.locator("[data-testid=stMultiSelect]", has_text=label)
    picker.locator("input").click()
    picker.locator("input").press_sequentially(typed, delay=50)
    page.wait_for_timeout(500)
    picker.locator("input").press("Enter")
    settle(page)
    picked = [tag.get_attribute("aria-label") for tag in picker.locator("[data-tag]").all()]
    assert len(picked) == 1, picked
    assert chosen is None or picked == chosen
    page.close()


def test_page_download_is_byte_identical_to_the_command_line_export(browser, real_db, tmp_path):
    expected = tmp_path / "cli.csv"
    assert cli(["export", "shipments", "--db", str(real_db), "--country", "ITA", "--out", str(expected)]) == 0
    signed_in_db = tmp_path / "accounts.duckdb"
    shutil.copy(real_db, signed_in_db)
    add_account(signed_in_db, "analyst")
    server = Server(signed_in_db)
    try:
        # Downloads need an analyst: from the Data page, sign in, and back (the link's filter stays).
        page = open_page(browser, server, "/data?country=ITA")
        # Once the page has run it is where signing in goes back to.
        page.get_by_text("Downloading needs an analyst account").first.wait_for()
        page.locator("[data-testid='stSidebarNav'] a", has_text="Sign in").first.click()
        settle(page)
        sign_in(page, "analyst")
        page.get_by_text("Signed in as analyst").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Shipments").click()
        # Only the open tab is drawn: the shipments' count shows once its table is.
        page.get_by_text(re.compile(r"^[\d,]+ shipments$")).wait_for(timeout=30_000)
        button = page.locator("[data-testid='stDownloadButton'] button").first
        button.wait_for(state="visible", timeout=30_000)
        settle(page)
        # The file is written when the button is pressed; a press that lands while
        # the page is still rerunning can be lost, so press again if nothing comes.
        for attempt in range(3):
            try:
                with page.expect_download(timeout=20_000) as download:
                    button.click()
                break
            except playwright.TimeoutError:
                if attempt == 2:
                    raise
        downloaded = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename.startswith("relief-hub_shipments_ITA_")
        assert downloaded == expected.read_bytes()
        page.close()
    finally:
        server.stop()


# Every text on screen, SVG chart text included, with its computed size.
VISIBLE_TEXT_SIZES = """() => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    const shown = r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0
        && r.top < innerHeight && r.left < innerWidth && getComputedStyle(e).visibility !== 'hidden'
        && getComputedStyle(e).display !== 'none';
    return shown && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
}).map(e => [e.tagName, e.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(e).fontSize)])"""

NO_SCROLLING = """() => {
    const main = document.querySelector('[data-testid=stMain]');
    const page = document.documentElement;
    return [page.scrollWidth <= innerWidth, page.scrollHeight <= innerHeight,
            main.scrollHeight <= main.clientHeight + 1];
}"""

# How far down the screen the main view's content reaches.
VIEW_BOTTOM = """() => Math.max(...[...document.querySelectorAll(
    '.st-key-wall_main .wall-table, .st-key-wall_main .wall-more, .st-key-wall_main .wall-legend, '
    + '.st-key-wall_main .wall-side, '
    + '.st-key-wall_main .js-plotly-plot, .st-key-wall_main canvas, .st-key-wall_main iframe')
].map(e => e.getBoundingClientRect().bottom))"""

WALL_CASES = [
    (view, size, banner)
    for view in ("map", "requests", "flights", "trend")
    for size in ((1920, 1080), (3840, 2160))
    for banner in (True, False)
]


@pytest.fixture(scope="module")
def wall_server(real_db, tmp_path_factory):
    """One server for the wall's many views, on a copy: it lives as long as the
    module, and a server holds its file, which the other tests open themselves."""
    copy = tmp_path_factory.mktemp("wall") / "wall.duckdb"
    shutil.copy(real_db, copy)
    running = Server(copy)
    urllib.request.urlopen(running.base + "/", timeout=30).read()  # not a deep link first
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("view", "size", "banner"),
    WALL_CASES,
    ids=[f"{v}-{w}x{h}-{'banner' if b else 'plain'}" for v, (w, h), b in WALL_CASES],
)
def test_every_wall_view_fits_the_screen(browser, wall_server, view, size, banner):
    width, height = size
    scale = height / 1080
    marking = "&banner=NATO%20UNCLASSIFIED" if banner else ""
    page = new_page(browser, viewport={"width": width, "height": height})
    page.goto(f"{wall_server.base}/wall?rotate={view}&scale={scale:g}{marking}")
    page.wait_for_selector(".wall-figure .value", timeout=60_000)
    if view == "map":
        wait_for_drawn_map(page)
    else:
        page.wait_for_selector(".st-key-wall_main .wall-table, .st-key-wall_main svg text", timeout=60_000)
    page.wait_for_timeout(1500)
    save(page, f"wall-{view}-{width}x{height}{'-banner' if banner else ''}")

    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert page.evaluate(NO_SCROLLING) == [True, True, True]
    banners = page.locator(".wall-banner").all()
    assert len(banners) == (2 if banner else 0)
    for shown in banners:
        box = shown.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
    sizes = page.evaluate(VISIBLE_TEXT_SIZES)
    assert [(tag, text, px) for tag, text, px in sizes if px < 20] == []
    assert any(tag == "text" for tag, _, _ in sizes) == (view in ("requests", "trend"))
    # The view fills what the header and footer leave: it reaches within a
    # table row's height of the footer.
    footer_top = page.locator(".wall-footer").bounding_box()["y"]
    assert footer_top - page.evaluate(VIEW_BOTTOM) < 0.06 * height
    assert page.locator(".st-key-wall_map button").filter(visible=True).count() == 0
    if view == "flights":
        assert "more earlier flights" in page.locator(".wall-more").first.inner_text()
    assert_no_error_on_page(page)
    page.close()


def test_wall_and_requests_page_keep_a_withdrawn_request_in_sight(browser, server):
    """Spain withdrew its EADRCC request with under a tenth delivered: the wall's
    requests view and the Open requests page still show what never arrived."""
    page = open_page(browser, server, "/wall?rotate=requests")
    page.locator(".wall-side h3", has_text="Closed before all of it arrived").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    save(page, "wall-requests-1920x1080")
    closures = page.locator(".wall-side", has_text="Closed before all of it arrived").inner_text()
    assert "Spain" in closures and "withdrawn 22 Apr with needs unmet" in closures
    assert page.evaluate(NO_SCROLLING) == [True, True, True]
    block = page.locator(".wall-side", has_text="Closed before all of it arrived")
    sizes = block.evaluate(
        "b => [...b.querySelectorAll('*')].map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 20
    page.close()

    page = open_page(browser, server, "/requests?country=ESP")
    table = page.locator(".st-key-closed_requests")
    # The table comes last on the page: wait for its rows, not for the heading above it.
    table.get_by_text("withdrawn 22 Apr 2020 with 10 % delivered (50 of 500 units)").wait_for(timeout=60_000)
    save(page, "requests-closed-1280")
    assert_no_error_on_page(page)
    page.close()


def test_wall_keeps_its_picture_while_the_database_is_away_and_recovers(browser, real_db, tmp_path):
    live = tmp_path / "live.duckdb"
    shutil.copy(real_db, live)
    add_account(live, "staff")
    server = Server(live)
    try:
        page = open_page(browser, server, "/wall?refresh=5")
        wait_for_drawn_map(page)
        good = live.with_name("good.duckdb")
        live.rename(good)
        live.write_bytes(b"not a database")
        page.wait_for_selector("text=DATABASE UNAVAILABLE", timeout=20_000)
        assert page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.is_visible()
        assert page.locator(".wall-figure .value").count() == 5
        good.replace(live)
        page.wait_for_selector("text=DATABASE UNAVAILABLE", state="detached", timeout=20_000)
        assert_no_error_on_page(page)
        page.close()
    finally:
        server.stop()


def map_screen(db_path: Path, width_px: int = 1460, height_px: int = 640):
    """The movements page's arcs and where its map puts them on screen (read
    before a server holds the file: a module-scoped fixture's work)."""
    from reliefhub import figures, flowmap
    from tests.conftest import no_filters

    db = Database(db_path, read_only=True)
    flows = db.query("movement_flows", no_filters(colour_by="cargo_kind", limit=figures.MAP_ARCS))
    db.close()
    frame = flowmap.flows_frame(flows, width_px=width_px, height_px=height_px, fallback=None)
    return flows, flowmap.Screen(frame, width_px, height_px)


def select_arc(page, screen, arc) -> str:
    """Click an arc where its tooltip names it, until the page lists a route's
    records (a click can be lost while a busy machine draws the map in
    software: three tries); returns the arc's route."""
    route = f"{arc.origin_name} → {arc.destination_name}"
    listed = page.locator("h3", has_text="Records on this route")
    for _ in range(3):
        hover_arc(page, screen, arc, route)
        page.mouse.down()
        page.wait_for_timeout(100)
        page.mouse.up()
        try:
            listed.wait_for(timeout=30_000)
            return route
        except playwright.TimeoutError:
            continue
    pytest.fail(f"clicking {route} three times listed no records")


def hover_arc(page, screen, arc, route: str) -> None:
    """Put the mouse where the arc's tooltip names it."""
    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.bounding_box()
    tooltip = page.locator(".deck-tooltip")
    for x, y in spots_on_arc(screen, arc):
        page.mouse.move(canvas["x"] + x, canvas["y"] + y)
        # deck.gl picks on its next animation frame; read the tooltip after
        # it, or it names what lay under the previous spot.
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        if tooltip.count() and tooltip.is_visible() and tooltip.inner_text().startswith(route):
            return
    pytest.fail(f"no tooltip for {route} on its path or round its origin")


def spots_on_arc(screen, arc) -> list[tuple[float, float]]:
    """Screen spots on an arc's drawn path, likeliest first, then a ring round
    its origin. Mid-way along, arcs that share an origin have parted. A
    software-drawn pick costs seconds, hence the order; the ring catches an arc
    the model below misses."""
    x, y = drawn_arc_xy(screen, arc, ratios=np.array([0.3, 0.4, 0.2, 0.5]))
    nudges = ((0, 0), (0, 3), (0, -3), (3, 0), (-3, 0))
    on_arc = [(x + dx, y + dy) for x, y in zip(x, y, strict=True) for dx, dy in nudges]
    (origin_x,), (origin_y,) = screen.xy([arc.origin_latitude], [arc.origin_longitude])
    ring = [
        (origin_x + r * np.cos(a), origin_y + r * np.sin(a))
        for r in (8, 16, 30)
        for a in np.linspace(0, 2 * np.pi, 24)
    ]
    return on_arc + ring


def drawn_arc_xy(screen, arc, ratios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where deck.gl draws the points `ratios` of the way along an arc.

    It follows the great circle, raised by the paraboloid of its length times
    `get_height` (0.5), seen from 1.5 screen heights above the map's centre:
    a raised point shows further out from the centre."""
    ends = np.radians(
        [[arc.origin_latitude, arc.origin_longitude], [arc.destination_latitude, arc.destination_longitude]]
    )
    unit = np.column_stack(
        [np.cos(ends[:, 0]) * np.cos(ends[:, 1]), np.cos(ends[:, 0]) * np.sin(ends[:, 1]), np.sin(ends[:, 0])]
    )
    angle = np.arccos(np.clip(unit[0] @ unit[1], -1, 1))
    along = (
        np.sin((1 - ratios) * angle)[:, None] * unit[0] + np.sin(ratios * angle)[:, None] * unit[1]
    ) / np.sin(angle)
    latitude = np.degrees(np.arcsin(along[:, 2]))
    ground_x, ground_y = screen.xy(latitude, np.degrees(np.arctan2(along[:, 1], along[:, 0])))
    metres_high = np.sqrt(ratios * (1 - ratios)) * angle * 6_371_000 * 0.5
    pixels_per_metre = WORLD_PX * 2**screen.frame.zoom / (40_075_016 * np.cos(np.radians(latitude)))
    eye = 1.5 * screen.height
    scale = eye / (eye - metres_high * pixels_per_metre)
    return (
        screen.width / 2 + (ground_x - screen.width / 2) * scale,
        screen.height / 2 + (ground_y - screen.height / 2) * scale,
    )


@pytest.fixture(scope="module")
def real_map(real_db):
    return map_screen(real_db)


def test_selecting_an_arc_on_the_map_lists_its_records_with_sources(browser, real_map, server):
    flows, screen = real_map
    shown = screen.inside(flows["origin_latitude"], flows["origin_longitude"], inset=50) & screen.inside(
        flows["destination_latitude"], flows["destination_longitude"], inset=50
    )
    page = open_page(browser, server, "/movements")
    wait_for_drawn_map(page)
    route = select_arc(page, screen, flows[shown].iloc[0])  # the busiest arc wholly on screen
    page.wait_for_selector(f"text=Records on this route: {route}", timeout=45_000)
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for(state="visible", timeout=45_000)
    table.scroll_into_view_if_needed()
    save(page, "movements-selected-route")
    assert_no_error_on_page(page)
    page.close()


def land_mask(image: Image.Image) -> set[tuple[int, int]]:
    """Where the basemap's land colour shows: a fingerprint of the map's view."""
    small = image.resize((image.width // 4, image.height // 4), Image.NEAREST)
    return {
        (x, y)
        for x in range(small.width)
        for y in range(small.height)
        if small.getpixel((x, y)) == tuple(LAND)
    }


def overlap(a: set, b: set) -> float:
    return len(a & b) / max(len(a | b), 1)


def test_the_view_does_not_jump_back_when_a_choice_changes(browser, server):
    page = open_page(browser, server, "/movements")
    opened = land_mask(wait_for_drawn_map(page))
    page.get_by_role("button", name="Zoom in").first.click()
    page.wait_for_timeout(1500)
    zoomed = land_mask(wait_for_drawn_map(page))
    page.locator("[data-testid=stRadio] label", has_text="Transport mode").click()
    page.wait_for_url("**colour=mode", timeout=20_000)
    page.wait_for_timeout(4000)
    after = land_mask(wait_for_drawn_map(page))
    assert overlap(opened, zoomed) < 0.6, "zooming in did not change the view"
    assert overlap(zoomed, after) > 0.9, "the map jumped back after the choice changed"
    page.close()


NEW_SHIPMENT = (
    "shipment_id,recipient_iso3,provider,provider_iso3,material_code,quantity,description,origin_place_id,"
    "destination_place_id,mode,dispatched_on,delivered_on,date_precision,status,request_id,flight_id,"
    "source_urls,source_note\n"
    "shp-wall-refresh-test,ITA,Czech Republic,CZE,masks_surgical,1000,Masks by truck,pardubice-airport,"
    "milan,road,2020-05-25,,day,in_transit,,,https://example.org/wall-test,written by the browser test\n"
)


# A wall refreshing every 5 s, on its flights view: the headline figures are on
# every view, and a map redrawn in software WebGL would load the machine for nothing.
WATCHED_WALL = "/wall?refresh=5&rotate=flights"


def watch_wall_refreshes(wall) -> None:
    """Keep, in the page, every refresh the wall draws: when it began to read
    the data (the server's clock, stamped by the wall) and its in-transit figure."""
    wall.evaluate(
        """() => {
            window.wallRefreshes = [];
            const record = () => {
                const figures = document.querySelector('.wall-figures');
                const inTransit = figures && [...figures.querySelectorAll('.wall-figure')]
                    .find(figure => figure.innerText.includes('Shipments in transit'));
                if (!inTransit) return;
                const fetched = Number(figures.dataset.fetched);
                if (window.wallRefreshes.at(-1)?.fetched === fetched) return;
                const value = Number(inTransit.querySelector('.value').innerText.replaceAll(',', ''));
                window.wallRefreshes.push({fetched, value});
            };
            new MutationObserver(record).observe(
                document.body, {subtree: true, childList: true, characterData: true, attributes: true});
            record();
        }"""
    )


def assert_refreshes_read_after_show(wall, since: float, old: int, new: int) -> None:
    """Every wall refresh that began to read the data after `since` (epoch
    seconds) shows `new`, and at least one is drawn; none shows anything but
    `old` or `new`."""
    wall.wait_for_function(
        "since => window.wallRefreshes.some(refresh => refresh.fetched > since)", arg=since, timeout=60_000
    )
    refreshes = wall.evaluate("window.wallRefreshes")
    after = [refresh["value"] for refresh in refreshes if refresh["fetched"] > since]
    print(f"\nwall refreshes (began reading, in transit), the data written at {since:.3f}: {refreshes}")
    assert after == [new] * len(after)
    assert {refresh["value"] for refresh in refreshes} <= {old, new}


def test_a_record_imported_by_staff_shows_on_the_wall_within_one_refresh(browser, real_db, tmp_path):
    live = tmp_path / "live.duckdb"
    shutil.copy(real_db, live)
    add_account(live, "staff")
    upload = tmp_path / "new-shipment.csv"
    upload.write_text(NEW_SHIPMENT)
    server = Server(live)
    try:
        wall = open_page(browser, server, WATCHED_WALL)
        in_transit = wall.locator(".wall-figure", has_text="Shipments in transit").locator(".value")
        in_transit.wait_for(timeout=60_000)
        before = int(in_transit.inner_text().replace(",", ""))
        wall.evaluate("window.reliefHubMarker = 'still the same page'")
        watch_wall_refreshes(wall)

        staff = open_import_page(browser, server, "Shipments")
        hand_over(staff, str(upload)).click()
        new_rows = staff.get_by_test_id("stMetric").filter(has_text="New").get_by_test_id("stMetricValue")
        new_rows.wait_for(timeout=60_000)
        assert new_rows.inner_text() == "1"
        written = time.time()
        staff.close()

        # Counted in the wall's own refreshes, not seconds: on a loaded machine
        # drawing a refresh may take longer than the refresh interval.
        assert_refreshes_read_after_show(wall, written, before, before + 1)
        assert wall.evaluate("window.reliefHubMarker") == "still the same page"
        wall.close()
    finally:
        server.stop()
    # The audit names the signed-in account, not a typed name.
    db = Database(live, read_only=True)
    try:
        audit = "SELECT DISTINCT changed_by, via, changed_by_id LIKE 'local:%' FROM audit_log"
        assert db.connection.execute(audit).fetchall() == [("staff", "import", True)]
    finally:
        db.close()

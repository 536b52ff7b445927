"""The server part: cold start and peak memory of `streamlit run` while Chromium opens every page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reliefhub import REPO_DIR
from reliefhub.bench.measurements import MEMORY_BUDGET_MB, Measurement
from reliefhub.bench.pages import app_pages

# The headless Chromium the benchmark and the browser tests drive.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Run as root, Chromium raises its GPU process's main thread to nice -8, and
# here that thread draws WebGL in software: drawing a page's first map, it
# took the cores from the dashboard's server and the other test workers.
# Started through this script, Chromium runs at the priority of the processes
# it shares the machine with.
CHROMIUM_LAUNCHER = Path(__file__).with_name("chromium_at_normal_priority")


def launch_chromium(playwright):
    """Debian's headless Chromium, at normal priority, from a running `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM_LAUNCHER), args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def streamlit_server(
    script: str,
    db_path: Path,
    log_path: Path,
    *,
    checkout: Path = REPO_DIR,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen, str]]:
    """`streamlit run script` of `checkout` (this one by default) on a free loopback port against
    db_path, with `env` added to its environment: (the process, its base URL) once it answers
    its health check; stopped on leaving."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=checkout,
            env=os.environ | {"RELIEFHUB_DB": str(db_path)} | (env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                        if reply.read() == b"ok":
                            break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(f"streamlit did not start: see {log_path}") from None
                    time.sleep(0.05)
            yield server, base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def bench_server(db_path: Path, scale: int, say=print, *, every_page: bool = True) -> list[Measurement]:
    """Cold start to the first page drawn, and the server's peak memory over every page."""
    if not Path(CHROMIUM).exists():
        return [Measurement("server", scale, None, None, note="chromium not installed: not measured")]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        started = time.perf_counter()
        log_path = Path(db_path).with_suffix(".server.log")
        try:
            with streamlit_server("app.py", db_path, log_path) as (server, base):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(base + "/")
                page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(
                    state="visible", timeout=300_000
                )
                cold_ms = (time.perf_counter() - started) * 1000
                say(f"    cold start to the overview's map drawn: {cold_ms:,.0f} ms")
                page.close()
                paths = ["/" + (Path(pg).stem if Path(pg).stem != "overview" else "") for pg in app_pages()]
                for path in paths if every_page else []:
                    path = {"/imports": "/import"}.get(path, path)
                    page = browser.new_page(viewport={"width": 1920, "height": 1080})
                    page.goto(base + path)
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=300_000
                    )
                    page.wait_for_timeout(500)
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=300_000
                    )
                    page.close()
                peak = _peak_rss_mb(server.pid)
                say(f"    server peak memory: {peak:,.0f} MB")
        finally:
            browser.close()
    return [
        Measurement(
            "cold_start", scale, cold_ms, cold_ms, note="server launch to the overview's map canvas shown"
        ),
        Measurement(
            "server_peak_memory",
            scale,
            None,
            None,
            value=round(peak, 1),
            unit="MB",
            budget=MEMORY_BUDGET_MB,
            within_budget=peak < MEMORY_BUDGET_MB,
            note="VmHWM of `streamlit run` after opening every page",
        ),
    ]

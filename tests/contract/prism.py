"""Prism (Stoplight's mock server) serving one API description on a free loopback port.

Prism validates every request against the document: an invalid one gets a 4xx (400/401/404/
405/422), and the reasons travel in the `sl-violations` response header, next to any
violations of Prism's own generated response. Started from the project-local install
(`make prism`, see mk/prism.mk) and stopped by its PID, never by name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
PRISM_BIN = Path(os.environ.get("PRISM", REPO / ".tools/prism/node_modules/.bin/prism"))
READY_LINE = "Prism is listening"
# Stripe's document takes 3-4 s on an idle core; leave room for a busy shared machine.
START_TIMEOUT = 60.0


class PrismError(RuntimeError):
    """Prism is missing, exited, or did not start in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Violation:
    """One entry of Prism's `sl-violations` header."""

    location: tuple[str, ...]
    code: str
    message: str

    @property
    def in_request(self) -> bool:
        return bool(self.location) and self.location[0] == "request"


def violations(response: httpx.Response) -> list[Violation]:
    """Prism's findings for one exchange, request and response alike."""
    raw = response.headers.get("sl-violations")
    if not raw:
        return []
    try:
        entries: list[dict[str, Any]] = json.loads(raw)
    except ValueError:
        # Past a limit Prism writes "Too many violations! ..." instead of JSON. A request it
        # refused is answered 4xx (the body names why), so a 2xx means its own made-up answer.
        side = "request" if response.status_code >= 400 else "response"
        return [Violation((side,), "too_many_violations", raw[:300])]
    return [
        Violation(tuple(str(p) for p in e.get("location", ())), str(e.get("code")), e["message"])
        for e in entries
    ]


def rejection(response: httpx.Response) -> str | None:
    """Why Prism refused the request (what the description forbids), or None if it passed.

    A 4xx from Prism's mock means the request broke the description (no such path or
    method, missing credentials, invalid parameter or body). The reasons are in
    `sl-violations`, or, when Prism makes up the 422 itself, in the problem body's
    `validation` list; a 404/405/406 names the route or media type in `detail`.
    """
    found = [f"{'/'.join(v.location)}: {v.message}" for v in violations(response) if v.in_request]
    if response.status_code < 400 and not found:
        return None
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if isinstance(problem, dict):
        found += [str(v.get("message")) for v in problem.get("validation") or ()]
        if not found:
            found.append(str(problem.get("detail") or problem.get("title") or ""))
    return f"{response.status_code}: {'; '.join(found) or response.text[:300]}"


class PrismServer:
    """`prism mock` for one document; `url` is its origin once `start()` returned."""

    def __init__(self, document: Path) -> None:
        self.document = document
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log")  # noqa: SIM115

    def start(self) -> PrismServer:
        if not os.access(PRISM_BIN, os.X_OK):
            raise PrismError(f"{PRISM_BIN} is missing: run `make prism` (see mk/prism.mk)")
        command = [PRISM_BIN, "mock", "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*map(str, command), str(self.document)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while READY_LINE not in self.log():
            if self._process.poll() is not None:
                raise PrismError(f"prism exited {self._process.returncode}:\n{self.log()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise PrismError(f"prism did not start in {START_TIMEOUT:.0f} s")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it lingers; the log file goes with it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        self._log.close()

    def __enter__(self) -> PrismServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

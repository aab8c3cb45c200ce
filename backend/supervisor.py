"""Keep `switchboard up`'s children running.

One process that dies (the OOM killer, a crash) must not take the whole product down, so a
child that exits is started again. A child that keeps dying would loop forever and hide the
cause, so more than `max_restarts` exits within `window` seconds gives up: `up` stops
everything and says which child failed.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GaveUp(Exception):
    """A child died too often; the message says which and how."""


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=deque)

    def spawn(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd)  # noqa: S603


class Supervisor:
    def __init__(
        self,
        *,
        max_restarts: int = 5,
        window: float = 60.0,
        restart_delay: float = 1.0,
        poll_interval: float = 0.5,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.max_restarts = max_restarts
        self.window = window
        self.restart_delay = restart_delay
        self.poll_interval = poll_interval
        self.say = say or (lambda line: print(line, flush=True))
        self.children: list[Child] = []
        self.stopping = False

    def start(
        self, name: str, command: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> Child:
        child = Child(name, command, env, cwd)
        child.spawn()
        self.children.append(child)
        return child

    def request_stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> None:
        """Watch the children until SIGINT/SIGTERM; raises GaveUp when one dies too often."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in _STOP_SIGNALS}
        try:
            while not self.stopping:
                for child in self.children:
                    code = child.process.poll() if child.process else None
                    if code is not None and not self.stopping:
                        self._restart(child, code)
                time.sleep(self.poll_interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _restart(self, child: Child, code: int) -> None:
        now = time.monotonic()
        child.exits.append(now)
        while now - child.exits[0] > self.window:
            child.exits.popleft()
        if len(child.exits) > self.max_restarts:
            raise GaveUp(
                f"the {child.name} died {len(child.exits)} times within {self.window:g} s "
                f"(last: {describe_exit(code)}); giving up"
            )
        self.say(
            f"the {child.name} stopped ({describe_exit(code)}); restarting it "
            f"(restart {len(child.exits)} of at most {self.max_restarts} "
            f"within {self.window:g} s)"
        )
        # A pause, so a child that fails at once does not spin, and Ctrl-C in the meantime
        # is honoured before anything new starts.
        deadline = time.monotonic() + self.restart_delay
        while time.monotonic() < deadline and not self.stopping:
            time.sleep(min(0.1, self.restart_delay))
        if not self.stopping:
            child.spawn()

    def stop(self, timeout: float = 8.0) -> None:
        """SIGTERM every child, then SIGKILL what is still running after `timeout`."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

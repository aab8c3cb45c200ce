"""`switchboard up` keeps its children running: a child that dies is restarted (with a log
line), one that keeps dying makes `up` give up with a clear message, and Ctrl-C still stops
everything."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from backend.embedded import free_port
from backend.supervisor import GaveUp, Supervisor
from tests.foundation.cli_support import Processes, cli_env, wait_until


def _urlsafe_unpadded_key() -> str:
    while True:
        text = base64.urlsafe_b64encode(os.urandom(32)).decode()
        if "-" in text or "_" in text:
            return text.rstrip("=")


def _up_env(database: str, var: Path, port: int) -> dict[str, str]:
    return cli_env(
        DATABASE_URL=database,
        # The run's Redis, on a queue of this test's own: its worker takes no one else's jobs.
        SWITCHBOARD_QUEUE_NAME=f"arq:queue:{var.parent.name}",
        SWITCHBOARD_MASTER_KEY=_urlsafe_unpadded_key(),
        SWITCHBOARD_VAR_DIR=str(var),
        SWITCHBOARD_API_PORT=str(port),
    )


def _child(up: subprocess.Popen[bytes], command: str) -> psutil.Process | None:
    """The child of `up` running `python -m backend <command> ...`."""
    for proc in psutil.Process(up.pid).children():
        try:
            if proc.cmdline()[1:4] == ["-m", "backend", command]:
                return proc
        except psutil.NoSuchProcess:
            continue
    return None


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _ctrl_c(processes: Processes, up: subprocess.Popen[bytes]) -> None:
    """What a terminal's Ctrl-C does: SIGINT to the whole foreground group. Nothing that
    `up` started may be left running."""
    family = [up.pid] + [c.pid for c in psutil.Process(up.pid).children(recursive=True)]
    os.killpg(up.pid, signal.SIGINT)
    up.wait(30)
    time.sleep(1)
    alive = [
        pid
        for pid in family
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == [], f"left running after Ctrl-C: {alive}\n{processes.output(up)}"


async def test_up_restarts_a_child_that_dies(
    scratch_database: str, processes: Processes, tmp_path: Path
) -> None:
    port = free_port()
    up = processes.start(
        ["up", "--no-dashboard"], _up_env(scratch_database, tmp_path / "var", port)
    )
    wait_until(lambda: _ready(port) and _child(up, "worker") is not None, 45, "up is ready")

    for name in ("worker", "api"):
        child = _child(up, name)
        assert child is not None
        child.kill()
        child.wait(5)

        def replaced(name: str = name, old: int = child.pid) -> bool:
            again = _child(up, name)
            return again is not None and again.pid != old and again.is_running()

        wait_until(replaced, 20, f"a new {name} process")
        assert up.poll() is None, processes.output(up)
    wait_until(lambda: _ready(port), 20, "the restarted api is ready")
    output = processes.output(up)
    assert "the worker stopped (killed by SIGKILL); restarting it" in output, output
    assert "the api stopped (killed by SIGKILL); restarting it" in output, output
    _ctrl_c(processes, up)


async def test_up_gives_up_on_a_child_that_keeps_dying(
    scratch_database: str, processes: Processes, tmp_path: Path
) -> None:
    # The api's port is taken: every api it starts exits at once.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _up_env(scratch_database, tmp_path / "var", port)
        env["SWITCHBOARD_RESTART_LIMIT"] = "2"  # three deaths fit in a minute on a busy machine
        up = processes.start(["up", "--no-dashboard"], env)
        try:
            up.wait(100)
        except subprocess.TimeoutExpired:
            pytest.fail("`up` kept restarting a child that always dies")
    output = processes.output(up)
    assert up.returncode != 0
    assert output.count("the api stopped (exit code 3); restarting it") == 2, output
    assert "switchboard: the api died 3 times within 60 s (last: exit code 3); giving up" in output
    with pytest.raises(ProcessLookupError):  # the worker went with it: nothing is left
        os.killpg(up.pid, 0)


def test_supervisor_restarts_within_its_budget_only() -> None:
    said: list[str] = []
    supervisor = Supervisor(
        max_restarts=3, window=60, restart_delay=0.05, poll_interval=0.05, say=said.append
    )
    supervisor.start("flaky", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    try:
        with pytest.raises(GaveUp) as gave_up:
            supervisor.run()
    finally:
        supervisor.stop()
    assert str(gave_up.value) == "the flaky died 4 times within 60 s (last: exit code 3); giving up"
    assert said == [
        f"the flaky stopped (exit code 3); restarting it (restart {n} of at most 3 within 60 s)"
        for n in (1, 2, 3)
    ]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_supervisor_forgets_exits_older_than_its_window() -> None:
    said: list[str] = []
    supervisor = Supervisor(
        max_restarts=1, window=0.3, restart_delay=0.05, poll_interval=0.05, say=said.append
    )
    command = [sys.executable, "-c", "import time; time.sleep(0.5); raise SystemExit(1)"]
    supervisor.start("slow", command, dict(os.environ))
    stopper = threading.Timer(4, supervisor.request_stop)
    stopper.start()
    try:
        supervisor.run()  # returns on request_stop; raises GaveUp if exits accumulated
    finally:
        stopper.cancel()
        supervisor.stop()
    assert len(said) >= 3 and all("restart 1 of at most 1" in line for line in said), said

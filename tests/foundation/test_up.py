"""`switchboard up` with no DATABASE_URL/REDIS_URL boots embedded PostgreSQL and Redis,
serves /ready, keeps data across a restart, and stops every child on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from backend.connectors.registry import providers
from tests.foundation.cli_support import server_directory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(var: Path, port: int) -> subprocess.Popen[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SWITCHBOARD_MASTER_KEY")
    }
    env.update(
        {
            "SWITCHBOARD_VAR_DIR": str(var),
            "SWITCHBOARD_API_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "up", "--no-dashboard"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
            if r.status_code == 200:
                return r.text
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("api never became ready")


def _stop(proc: subprocess.Popen[str]) -> str:
    family = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    time.sleep(1)
    alive = [
        pid
        for pid in family
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == [], f"left running after Ctrl-C: {alive}"
    return out


def test_up_boots_embedded_services_and_survives_restart() -> None:
    with server_directory("sb-up-") as root:
        _boot_and_restart(root / "var")


def _boot_and_restart(var: Path) -> None:
    var.mkdir()
    port = _free_port()
    proc = _start(var, port)
    try:
        ready = _wait_ready(proc, port)
        assert json.loads(ready)["checks"] == {"database": "ok", "redis": "ok"}
        demo = json.loads((var / "demo-tenant.json").read_text())
        headers = {"Authorization": f"Bearer {demo['api_key']}"}
        r = httpx.get(f"http://127.0.0.1:{port}/api/connectors", headers=headers, timeout=5)
        assert r.status_code == 200 and len(r.json()["items"]) == len(providers())
        assert httpx.get(f"http://127.0.0.1:{port}/api/connectors", timeout=5).status_code == 401
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/integrations",
            headers=headers,
            json={"connector_id": "webhook", "name": "survivor"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        out = _stop(proc)
    assert demo["api_key"] in out and "generated a master key" in out

    proc = _start(var, port)
    try:
        _wait_ready(proc, port)
        listed = httpx.get(f"http://127.0.0.1:{port}/api/integrations", headers=headers, timeout=5)
        assert [i["name"] for i in listed.json()["items"]] == ["survivor"]
    finally:
        _stop(proc)

"""End-to-end fixtures: the api, the worker and the dashboard as real processes on free loopback
ports, against the per-run test database tests/conftest.py creates, plus a local OAuth
authorization server (tests/oauth_server) the api's GitHub connector points at, and headless
Debian Chromium driven by Playwright (never a downloaded browser).

Every child runs in its own process group and is stopped by that group's id at the end, so
nothing is left running (Reflex starts granian and bun below itself).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import ARTIFACTS, ROOT, WIDTHS

CHROMIUM = "/usr/bin/chromium"
# The flags that work on these machines (../shared/notes/reflex-offline.md); Playwright adds
# --headless and a fresh --user-data-dir of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GITHUB_CLIENT_ID = "github-e2e-client"
GITHUB_CLIENT_SECRET = "github-e2e-secret"
CALLBACK_PATH = "/api/connectors/oauth/callback"
START_TIMEOUT = 90.0  # seconds each server gets to answer (a prod Reflex build takes ~15 s)
STOP_TIMEOUT = 10.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}"
            )


def spawn(name: str, cmd: list[str], env: dict[str, str]) -> Child:
    logs = ARTIFACTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole by pgid
        )
    return Child(name, proc, log_path)


def stop_all(children: list[Child]) -> None:
    """SIGTERM each child's process group, wait, then SIGKILL whatever is left of it."""
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(max(0.1, deadline - time.monotonic()))
    for child in children:
        # The group may outlive its leader (granian workers, bun): kill the group regardless.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(5)


def wait_until(
    what: str, check: Callable[[], bool], children: list[Child], timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for child in children:
            child.check_alive()
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {c.name}\n{c.log_tail()}" for c in children)
            raise TimeoutError(f"{what} did not answer within {timeout:.0f} s\n{tails}")
        time.sleep(0.25)


def _http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2.0, follow_redirects=True).status_code == 200


def _worker_ready() -> bool:
    """arq records its health-check key on its first poll of the run's own queue."""
    import redis

    queue = os.environ.get("SWITCHBOARD_QUEUE_NAME") or "arq:queue"
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return bool(client.exists(queue + ":health-check"))
    finally:
        client.close()


@dataclass
class Stack:
    api_url: str
    dashboard_url: str
    auth: Any  # oauth_server.AuthServer
    children: list[Child] = field(default_factory=list)
    started_in: float = 0.0

    def url(self, path: str) -> str:
        return self.dashboard_url + path


@pytest.fixture(scope="session")
def stack(database: str) -> Iterator[Stack]:
    from oauth_server import AuthServer

    from backend.__main__ import dashboard_command, dashboard_env

    for stale in ("screenshots", "failures"):  # this run's pictures only
        shutil.rmtree(ARTIFACTS / stale, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    api_port, dash_port = free_port(), free_port()
    while dash_port == api_port:
        dash_port = free_port()
    try:
        dashboard_cmd = dashboard_command(dash_port)
    except SystemExit as exc:  # .venv-dashboard or the project-local bun is missing
        pytest.fail(str(exc))
    api_url = f"http://127.0.0.1:{api_port}"
    dashboard_url = f"http://127.0.0.1:{dash_port}"
    t0 = time.monotonic()

    auth = AuthServer(
        client_id=GITHUB_CLIENT_ID,
        client_secret=GITHUB_CLIENT_SECRET,
        redirect_uri=api_url + CALLBACK_PATH,
        scope="admin:repo_hook repo read:user read:org",
    )
    children: list[Child] = []
    with auth:
        env = dict(os.environ)
        env.update(
            {
                "PUBLIC_BASE_URL": api_url,
                # Test mode's simulate posts to the api's own webhook URL on this address.
                "SWITCHBOARD_API_URL": api_url,
                "SWITCHBOARD_DASHBOARD_URL": dashboard_url,
                "SWITCHBOARD_GITHUB_CLIENT_ID": GITHUB_CLIENT_ID,
                "SWITCHBOARD_GITHUB_CLIENT_SECRET": GITHUB_CLIENT_SECRET,
                "SWITCHBOARD_GITHUB_AUTHORIZE_URL": auth.url + "/authorize",
                "SWITCHBOARD_GITHUB_TOKEN_URL": auth.url + "/token",
                "SWITCHBOARD_GITHUB_REVOKE_URL": auth.url + "/revoke",
                "SWITCHBOARD_GITHUB_API_BASE_URL": auth.url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        me = [str(ROOT / ".venv" / "bin" / "python"), "-m", "backend"]
        if not Path(me[0]).exists():
            me[0] = sys.executable
        # The dashboard is a REST client of the api: it gets neither the database, Redis nor
        # the master key.
        dash_env = dashboard_env(api_url, dash_port)
        for name in ("DATABASE_URL", "REDIS_URL", "SWITCHBOARD_MASTER_KEY"):
            dash_env.pop(name, None)
        dash_env["PYTHONUNBUFFERED"] = "1"
        try:
            children.append(
                spawn("api", [*me, "api", "--server", "uvicorn", "--port", str(api_port)], env)
            )
            children.append(spawn("worker", [*me, "worker"], env))
            children.append(spawn("dashboard", dashboard_cmd, dash_env))
            wait_until("the api", lambda: _http_ok(api_url + "/ready"), children)
            wait_until("the worker", _worker_ready, children)
            wait_until("the dashboard", lambda: _http_ok(dashboard_url + "/ping"), children)
            wait_until(
                "the dashboard's pages", lambda: _http_ok(dashboard_url + "/login"), children
            )
            started = Stack(api_url, dashboard_url, auth, children, time.monotonic() - t0)
            print(
                f"\ne2e stack up in {started.started_in:.1f} s: api {api_url}, "
                f"dashboard {dashboard_url}, OAuth AS {auth.url}"
            )
            yield started
        finally:
            stop_all(children)


# -- tenants -------------------------------------------------------------------------------------


@dataclass
class E2ETenant:
    id: uuid.UUID
    name: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def key_prefix(self) -> str:
        from backend.lib import tokens

        return str(tokens.split_api_key(self.api_key))


@pytest.fixture(scope="session")
async def db_access(database: str) -> AsyncIterator[None]:
    """The test process's own pool and vault, for creating tenants and revoking keys."""
    from backend.lib import db
    from backend.settings import get_settings
    from backend.tenants.vault import init_vault

    init_vault(get_settings().master_keys)
    await db.open_pool(2)
    yield
    await db.close_pool()


@pytest.fixture(scope="session")
def make_e2e_tenant(db_access: None) -> Callable[[str], Awaitable[E2ETenant]]:
    from backend.tenants.services import create_tenant

    async def make(name: str) -> E2ETenant:
        tenant_id, key = await create_tenant(name)
        return E2ETenant(tenant_id, name, key)

    return make


@pytest.fixture(scope="session")
def revoke_key(db_access: None) -> Callable[[E2ETenant], Awaitable[bool]]:
    from backend.tenants.services import revoke_api_key

    async def revoke(tenant: E2ETenant) -> bool:
        return await revoke_api_key(tenant.key_prefix)

    return revoke


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running api (as a provider or another REST client would call it)."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10.0) as client:
        yield client


# -- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser(stack: Stack) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` (apt-get install chromium)")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A fresh context (its own localStorage, so its own dashboard session) at desktop width.
    On failure a screenshot lands in artifacts/e2e/failures/."""
    context = await browser.new_context(
        viewport={"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]},
        base_url=None,
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = ARTIFACTS / "failures"
        out.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            await page.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
        (out / f"{request.node.name}.console.txt").write_text("\n".join(console))
    await context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


# -- measurements --------------------------------------------------------------------------------


_MEASURED: dict[str, float] = {}


class Metrics:
    """Figures measured during the run: printed in pytest's summary and written to
    artifacts/e2e/metrics.json beside the screenshots."""

    values = _MEASURED

    def record(self, name: str, value: float) -> None:
        self.values[name] = round(value, 1)
        print(f"\nE2E METRIC {name} = {value:.0f} ms")


@pytest.fixture(scope="session")
def metrics() -> Iterator[Metrics]:
    import json

    found = Metrics()
    yield found
    if found.values:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "metrics.json").write_text(json.dumps(found.values, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _MEASURED:
        terminalreporter.write_sep("-", "e2e timings (artifacts/e2e/metrics.json)")
        for name, value in _MEASURED.items():
            terminalreporter.write_line(f"{name}: {value:.0f} ms")

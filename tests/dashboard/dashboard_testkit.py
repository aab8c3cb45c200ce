"""Helpers for the dashboard unit tests: Reflex states built directly (allowed under pytest),
the api faked with httpx.MockTransport at the network boundary."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# The dashboard is not an installed package: import it from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import pytest
import reflex as rx
from reflex.istate.data import RouterData

from dashboard import live
from dashboard.client import SwitchboardClient
from dashboard.state import session

API_KEY = "sb_1a2b3c4d_" + "k" * 43
BASE_URL = "http://api.test"


def problem(status: int, suffix: str, title: str, detail: str = "", errors=None) -> httpx.Response:
    body: dict[str, Any] = {
        "type": f"https://switchboard.dev/problems/{suffix}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json"},
    )


class FakeApi:
    """Routes (method, path) to canned answers; records every request it sees."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, answer: Any, status: int = 200) -> None:
        if isinstance(answer, httpx.Response):
            self.routes[(method, path)] = lambda _r: answer
        elif callable(answer):
            self.routes[(method, path)] = answer
        else:
            self.routes[(method, path)] = lambda _r: httpx.Response(status, json=answer)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return problem(404, "not-found", "Not found", f"no fake for {request.url.path}")
        return route(request)

    def client(self, api_key: str | None = API_KEY) -> SwitchboardClient:
        return SwitchboardClient(
            api_key, base_url=BASE_URL, transport=httpx.MockTransport(self.handler)
        )


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    api.on("GET", "/api/me", {"tenant_id": "t1", "tenant_name": "Acme", "key_prefix": "sb_1a2b"})
    previous = session.set_client_factory(api.client)
    yield api
    session.set_client_factory(previous)
    session.SESSIONS.clear()


@pytest.fixture(autouse=True)
def _no_live_leftovers() -> Iterator[None]:
    yield
    live._leases.clear()
    live.client_connected = live._socket_connected


def make_state(
    cls: type[rx.State],
    path: str = "/",
    params: dict | None = None,
    query: str = "",
    token: str = "tab-1",
) -> Any:
    """A fresh state tree with the router set as if `path` was loaded in a tab."""
    root = rx.State()
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    router_data = {
        "pathname": path,
        "asPath": path + (f"?{query}" if query else ""),
        "query": params or {},
        "token": token,
        "headers": {"origin": "http://localhost:3000"},
    }
    root.router = RouterData.from_router_data(router_data)
    return state


def signed_in(state: Any) -> Any:
    state.session_id = session.SESSIONS.create(
        API_KEY, {"tenant_id": "t1", "tenant_name": "Acme", "key_prefix": "sb_1a2b"}
    )
    return state


async def run(gen_or_coro: Any) -> list[Any]:
    """Drive an event handler (plain, coroutine or async generator); collect what it yields."""
    out: list[Any] = []
    if hasattr(gen_or_coro, "__anext__"):
        async for item in gen_or_coro:
            out.append(item)
    elif hasattr(gen_or_coro, "__await__"):
        out.append(await gen_or_coro)
    else:
        out.append(gen_or_coro)
    return [item for item in out if item is not None]

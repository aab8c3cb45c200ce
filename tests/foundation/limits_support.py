"""Helpers for the REST limit tests: apps with their own budgets, clients at chosen
addresses, and clock-minute alignment."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from backend.asgi import create_app
from backend.settings import get_settings

BAD_KEY = {"Authorization": "Bearer sb_00000000_" + "A" * 43}


def random_ip() -> str:
    """A documentation-range IPv6 address in a /64 of its own, so runs sharing the Redis
    (and tests in one run) never share a budget."""
    groups = ":".join(secrets.token_hex(2) for _ in range(2))
    return f"2001:db8:{groups}::1"


async def fresh_window() -> None:
    """Budgets are per clock minute: start well inside one so a test never straddles two."""
    into = time.time() % 60
    if into > 50:
        await asyncio.sleep(60 - into + 0.1)


@asynccontextmanager
async def budget_app(make_client: Callable[[Any], Any], **changes: Any) -> AsyncIterator[Any]:
    """An app with its own settings, started once; `peer(ip)` gives a client connecting
    from that address."""
    settings = dataclasses.replace(get_settings(), **changes)
    app = create_app(settings)
    async with make_client(app):
        clients: list[httpx.AsyncClient] = []

        def peer(ip: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            c = httpx.AsyncClient(transport=transport, base_url="https://hooks.example.test")
            clients.append(c)
            return c

        try:
            yield peer
        finally:
            for c in clients:
                await c.aclose()


def assert_budget_exceeded(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/rate-limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60

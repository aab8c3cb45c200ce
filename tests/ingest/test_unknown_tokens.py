"""Unknown webhook URLs cost neither a database lookup each nor a body read (issue 10, item 8).

A provider still delivering to a deleted endpoint, or anyone posting to a made-up token,
must be answered 404 from memory after the first miss, and before the body is read.
"""

from __future__ import annotations

import asyncio
import gc
import secrets
import time
import types
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from webhooks.helpers import hub_signature

from backend.settings import get_settings
from backend.webhooks import material

from .support import Hooks, assert_problem, fixture

SECRET = "unknown-token-tests"


class CountingPool:
    """The real pool, counting the integration lookups made through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.lookups = 0

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if "FROM integration" in query:
            self.lookups += 1
        return await self._pool.fetchrow(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


@pytest.fixture
def counting(monkeypatch, client) -> CountingPool:
    counter = CountingPool(material.pool())
    monkeypatch.setattr(material, "pool", lambda: counter)
    return counter


def unknown_path(connector: str = "github") -> str:
    return f"/api/webhooks/{connector}/{secrets.token_urlsafe(32)}"


def signed(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": secrets.token_hex(16),
        "X-Hub-Signature-256": hub_signature(SECRET, body),
    }


async def test_repeated_requests_to_an_unknown_token_cost_one_lookup(
    client, counting: CountingPool
) -> None:
    path = unknown_path()
    body = fixture("github", "issues__opened.json")
    for _ in range(20):
        assert_problem(
            await client.post(path, content=body, headers=signed(body)), 404, "not-found"
        )
    assert_problem(await client.get(path, params={"hub.challenge": "1"}), 404, "not-found")
    assert counting.lookups == 1


async def test_concurrent_requests_to_an_unknown_token_share_one_lookup(
    client, counting: CountingPool
) -> None:
    path = unknown_path()
    body = fixture("github", "issues__opened.json")
    answers = await asyncio.gather(
        *(client.post(path, content=body, headers=signed(body)) for _ in range(20))
    )
    for answer in answers:
        assert_problem(answer, 404, "not-found")
    assert counting.lookups == 1


async def test_a_large_body_to_an_unknown_token_is_refused_without_reading_it(
    client, counting: CountingPool
) -> None:
    cap = get_settings().max_body_bytes
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
        for _ in range(8):
            pulled.append(cap // 4)
            yield b"x" * (cap // 4)

    started = time.monotonic()
    streamed = await client.post(unknown_path(), content=chunks(), headers=signed(b""))
    assert_problem(streamed, 404, "not-found")
    assert sum(pulled) <= cap // 4  # at most the chunk the transport had in hand
    declared = b"x" * (cap + 1)  # Content-Length above the cap: still the same 404
    big = await client.post(unknown_path(), content=declared, headers=signed(declared))
    assert_problem(big, 404, "not-found")
    assert time.monotonic() - started < 2.0
    assert counting.lookups == 2


async def test_a_known_token_is_found_after_unknown_ones_and_the_miss_expires(
    hooks: Hooks, client, tenant, make_integration, monkeypatch, counting: CountingPool
) -> None:
    """Misses are cached for a few seconds only, and per token."""
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", "issues__opened.json")
    path = unknown_path()
    assert_problem(await client.post(path, content=body, headers=signed(body)), 404, "not-found")
    accepted = await hooks.post(integration, body, signed(body))
    assert accepted.status_code == 200, accepted.text
    monkeypatch.setattr(material, "MISS_TTL_SECONDS", 0.0)  # as if the miss had expired
    before = counting.lookups
    assert_problem(await client.post(path, content=body, headers=signed(body)), 404, "not-found")
    assert counting.lookups == before + 1


async def test_refused_requests_leave_no_frames_behind(client, tenant, make_integration) -> None:
    """Each refusal raises a fresh problem: re-raising one shared instance would chain every
    request's traceback onto it, keeping their frames (and bodies) alive for good."""
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", "issues__opened.json")
    wrong_connector = f"/api/webhooks/stripe/{integration.token}"

    def kept() -> int:
        gc.collect()
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, types.TracebackType)
            and o.tb_frame.f_code.co_filename.endswith("webhooks/ingest.py")
        )

    before = kept()
    for _ in range(30):
        refused = await client.post(wrong_connector, content=body, headers=signed(body))
        assert_problem(refused, 404, "not-found")
    assert kept() - before < 5

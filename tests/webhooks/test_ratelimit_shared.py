"""The per-integration webhook rate limit holds across api processes (issue 16): two app
instances share one bucket in Redis; with Redis down each falls back to its own bucket,
says so in the log, and keeps accepting deliveries."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from backend.asgi import create_app
from backend.settings import get_settings
from backend.webhooks.ratelimit import SharedBuckets

from .helpers import hub_signature

SECRET = "shared-limit"
BODY = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "issues__opened.json"
CLOSED_PORT = 1  # nothing listens on tcpmux


def delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = BODY.read_bytes() + b" " * n  # each a new delivery (the same bytes are a replay)
    return body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": uuid.uuid4().hex,
        "X-Hub-Signature-256": hub_signature(SECRET, body),
    }


async def test_two_api_processes_share_one_bucket(
    make_client: Any, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    settings = dataclasses.replace(get_settings(), webhook_rate_limit=60)  # a burst of 10
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    async with (
        make_client(create_app(settings)) as one,
        make_client(create_app(settings)) as two,
    ):
        answers = []
        for n in range(16):  # alternating: each process sees 8, under a per-process burst
            api = one if n % 2 == 0 else two
            body, headers = delivery(n)
            answers.append(await api.post(integration.path, content=body, headers=headers))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 10 and statuses.count(429) == 6, statuses
    assert {a.status_code for a in answers[10:]} == {429}
    assert all(1 <= int(a.headers["retry-after"]) <= 2 for a in answers[10:])
    stored = await raw_rows(
        "SELECT count(*) AS n FROM integration_webhook WHERE integration = $1", integration.id
    )
    assert stored[0]["n"] == 10


async def test_concurrent_takes_share_one_round_trip_and_never_overspend(
    app: Any,
) -> None:
    buckets = SharedBuckets(app.state.redis, per_minute=60)  # capacity 10
    key = uuid.uuid4()
    waits = await asyncio.gather(*(buckets.take(key) for _ in range(25)))
    assert sum(1 for w in waits if w == 0) == 10
    assert all(0 < w <= 16 for w in waits if w)


async def test_redis_down_falls_back_to_each_process_and_logs_it(
    make_client: Any,
    tenant: Any,
    make_integration: Any,
) -> None:
    settings = dataclasses.replace(
        get_settings(),
        webhook_rate_limit=60,
        redis_url=f"redis://127.0.0.1:{CLOSED_PORT}/0",
    )
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = logged.append  # type: ignore[method-assign]
    logger = logging.getLogger("switchboard.webhooks")
    logger.addHandler(handler)
    try:
        async with make_client(create_app(settings)) as no_redis:
            statuses = []
            for n in range(12):
                body, headers = delivery(n)
                answer = await no_redis.post(integration.path, content=body, headers=headers)
                statuses.append(answer.status_code)
    finally:
        logger.removeHandler(handler)
    # Deliveries are stored through the outage; the process's own bucket still limits.
    assert statuses == [200] * 10 + [429] * 2
    assert any("rate limit: Redis unavailable" in r.getMessage() for r in logged)


async def test_processes_lease_tokens_in_chunks_and_never_exceed_the_limit(app: Any) -> None:
    """At 6,000 a minute (a burst of 1,000) a process takes 50 tokens a round trip; two
    processes together never admit more than the bucket holds."""
    one = SharedBuckets(app.state.redis, per_minute=6000)
    two = SharedBuckets(app.state.redis, per_minute=6000)
    assert one.lease == 50
    key = uuid.uuid4()
    stored = f"switchboard:webhook-rate:{key}"

    async def tokens() -> float:
        return float(await app.state.redis.hget(stored, "tokens"))

    assert await one.take(key) == 0
    assert 950 <= await tokens() < 951  # a lease of 50 left Redis, one spent
    for _ in range(49):
        assert await one.take(key) == 0
    assert 950 <= await tokens() < 951  # spent from the lease: no round trip
    assert await two.take(key) == 0
    assert 900 <= await tokens() < 902

    started = time.monotonic()
    admitted = 51
    for _ in range(30):
        waits = await asyncio.gather(
            *(one.take(key) for _ in range(40)), *(two.take(key) for _ in range(40))
        )
        admitted += sum(1 for w in waits if w == 0)
    refilled = (time.monotonic() - started + 0.1) * one.rate
    assert admitted <= 1000 + refilled
    assert admitted >= 900  # leases lost near the limit cost little

"""`POST …/events/replay-failed` replays one bounded page per call and hands back a cursor,
so a backlog of failed deliveries never turns into one unbounded request."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import redis.asyncio as redis_asyncio

STATUSES = ["failed", "dead", "processed", "failed", "dead", "failed", "received", "failed"] * 2


async def _store_events(tenant: Any, integration: Any) -> dict[str, str]:
    """Stored deliveries in several states, one second apart; returns id → status."""
    from backend.webhooks.tables import IntegrationWebhook

    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    rows = [
        IntegrationWebhook(
            id=uuid.uuid4(),
            tenant=tenant.id,
            integration=integration.id,
            provider_event_id=f"evt_{n}",
            event_type="order.created",
            raw_body=b"not json",
            status=status,
            attempts=5 if status in ("failed", "dead") else 1,
            error="ValueError: the body is not valid JSON" if status != "processed" else "",
            received_at=start + dt.timedelta(seconds=n),
        )
        for n, status in enumerate(STATUSES)
    ]
    await IntegrationWebhook.insert(*rows)
    return {str(row.id): row.status for row in rows}


async def _queued_replays() -> set[str]:
    """Event ids with a replay job in this run's arq queue."""
    client = redis_asyncio.from_url(os.environ["REDIS_URL"])
    try:
        members = await client.zrange(os.environ["SWITCHBOARD_QUEUE_NAME"], 0, -1)
    finally:
        await client.aclose()
    return {m.decode().split(":")[1] for m in members if b":replay:" in m}


async def test_replay_failed_pages_through_a_backlog_larger_than_the_limit(
    client, tenant, make_integration, raw_rows
) -> None:
    integration = await make_integration(tenant, "webhook")
    events = await _store_events(tenant, integration)
    failed = {i for i, status in events.items() if status in ("failed", "dead")}
    assert len(failed) == 12
    url = f"/api/integrations/{integration.id}/events/replay-failed"

    replayed_per_call: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        answer = await client.post(url, params=params, headers=tenant.headers)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert set(body) == {"replayed", "next_cursor"}
        replayed_per_call.append(body["replayed"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(replayed_per_call) < 10, "the cursor never ends"
    assert replayed_per_call == [5, 5, 2]

    rows = await raw_rows(
        "SELECT id, status, attempts FROM integration_webhook WHERE integration = $1",
        integration.id,
    )
    reset = {str(r["id"]) for r in rows if r["attempts"] == 0}
    assert reset == failed  # every failed or dead event once, nothing else
    assert failed <= await _queued_replays()
    assert not (set(events) - failed) & await _queued_replays()


async def test_replay_failed_defaults_to_a_bounded_page_and_refuses_larger_ones(
    client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "webhook")
    url = f"/api/integrations/{integration.id}/events/replay-failed"
    empty = await client.post(url, headers=tenant.headers)
    assert empty.status_code == 202, empty.text
    assert empty.json() == {"replayed": 0, "next_cursor": None}
    for bad in ({"limit": 1001}, {"limit": 0}, {"cursor": "not-a-cursor"}):
        refused = await client.post(url, params=bad, headers=tenant.headers)
        assert refused.status_code in (400, 422), (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")

    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/api/integrations/{integration_id}/events/replay-failed"]["post"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000 and limit["schema"]["default"] == 500

"""Batched normalization (issue 16): wake-ups instead of a job per event, claims in receipt
order per integration, one write per batch, and a failing event that fails alone."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from backend.lib.db import pool
from backend.webhooks import batch, jobs

from .backlog import rows_of, store_backlog
from .helpers import hub_signature


async def _queued(app: Any) -> list[str]:
    redis, name = app.state.redis, app.state.settings.queue_name
    return [j.decode() for j in await redis.zrange(name, 0, -1)]


async def test_deliveries_wake_workers_instead_of_queueing_a_job_each(
    app: Any, client: Any, tenant: Any, make_integration: Any, run_worker: Any
) -> None:
    await run_worker()  # earlier tests' wake-ups
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    body = b'{"action": "opened", "issue": {"number": 1, "title": "t"}}'
    started = time.monotonic()
    ids = []
    for n in range(40):
        payload = body + b" " * n
        response = await client.post(
            integration.path,
            content=payload,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": f"wake-{n}-{integration.id}",
                "X-Hub-Signature-256": hub_signature("s", payload),
            },
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["event_id"])
    elapsed = time.monotonic() - started
    await app.state.ingestor.drain()
    queued = await _queued(app)
    # At most one wake-up per slot the deliveries spanned; never a job naming an event.
    assert queued and all(j.startswith("normalize:wake:") for j in queued)
    assert len(queued) <= elapsed * 1000 / jobs.WAKE_SLOT_MS + 2
    assert not [j for j in queued if any(i in j for i in ids)]
    await run_worker()
    rows = await rows_of(integration.id)
    assert [str(r["id"]) for r in rows] == ids
    assert {(r["status"], r["attempts"]) for r in rows} == {("processed", 1)}
    assert all(json.loads(r["normalized"])["type"] == "github.issues.opened" for r in rows)


async def test_a_claim_skips_integrations_another_worker_holds_and_keeps_receipt_order(
    client: Any, tenant: Any, make_integration: Any
) -> None:
    first = await make_integration(tenant, "github", signing_secrets=("s",))
    second = await make_integration(tenant, "github", signing_secrets=("s",))
    held = await store_backlog(tenant.id, first.id, 6)
    others = await store_backlog(tenant.id, second.id, 4, offset_ms=1000)

    async with pool().acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        # Another worker claims the first integration's three oldest events and holds them.
        locked = await conn.fetch(batch.LOCK_OLDEST, 3, batch._LOCK_SPACE)
        assert [r["integration"] for r in locked] == [first.id]
        claimed = await conn.fetch(batch.CLAIM, 3, [first.id])
        assert [r["id"] for r in claimed] == held[:3]
        # Meanwhile a claim takes none of the first integration's later events: processing
        # them now would put them before the three held ones.
        outcomes = await batch.claim_and_process(size=50)
        assert [o.event_id for o in outcomes] == others
        assert await batch.claim_and_process(size=50) == []
        await transaction.rollback()  # that worker died: its three are claimable again

    outcomes = await batch.claim_and_process(size=50)
    assert [o.event_id for o in outcomes] == held
    rows = await rows_of(first.id)
    assert {(r["status"], r["attempts"]) for r in rows} == {("processed", 1)}


async def test_concurrent_drainers_process_each_integration_in_receipt_order(
    client: Any, tenant: Any, make_integration: Any
) -> None:
    integrations = [
        await make_integration(tenant, "github", signing_secrets=("s",)) for _ in range(3)
    ]
    for n, integration in enumerate(integrations):
        await store_backlog(tenant.id, integration.id, 150, offset_ms=n)

    async def drainer() -> int:
        done = 0
        while outcomes := await batch.claim_and_process(size=20):
            done += len(outcomes)
            await asyncio.sleep(0)
        return done

    assert sum(await asyncio.gather(*(drainer() for _ in range(4)))) >= 450
    for integration in integrations:
        rows = await rows_of(integration.id)
        assert {(r["status"], r["attempts"]) for r in rows} == {("processed", 1)}
        stamps = [r["processed_at"] for r in rows]
        assert stamps == sorted(stamps), "an event was processed before an older one"


async def test_a_failing_event_fails_alone_and_is_retried_after_its_backoff(
    app: Any, client: Any, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    good = await store_backlog(tenant.id, integration.id, 3)
    (bad,) = await store_backlog(tenant.id, integration.id, 1, body=b"{not json", offset_ms=10)
    more = await store_backlog(tenant.id, integration.id, 3, offset_ms=20)

    started_ms = int(time.time() * 1000)
    outcomes = await batch.claim_and_process()
    await jobs._after({"redis": app.state.redis}, outcomes)
    mine = [o.event_id for o in outcomes if o.integration_id == integration.id]
    assert mine == [*good, bad, *more]
    rows = {r["id"]: r for r in await rows_of(integration.id)}
    for event_id in (*good, *more):
        assert rows[event_id]["status"] == "processed" and rows[event_id]["attempts"] == 1
    assert rows[bad]["status"] == "failed" and rows[bad]["attempts"] == 1
    assert rows[bad]["error"].startswith("ValueError") and rows[bad]["normalized"] is None
    logs = await raw_rows(
        "SELECT level, context FROM integration_log WHERE integration = $1 AND event = $2",
        integration.id,
        "webhook.normalize_failed",
    )
    assert [log["level"] for log in logs] == ["warning"]

    # Its retry: a job for that event alone, due after the first backoff.
    redis, name = app.state.redis, app.state.settings.queue_name
    retries = [
        (j.decode(), score)
        for j, score in await redis.zrange(name, 0, -1, withscores=True)
        if str(bad) in j.decode()
    ]
    assert len(retries) == 1
    job_id, due = retries[0]
    assert job_id.startswith(f"normalize:{bad}:retry:1:")
    assert due >= started_ms + 1000 * jobs.backoff_seconds(1) - 50
    await redis.zrem(name, job_id)

    # Run now, it fails again (attempt 2) without touching the others.
    assert await jobs.normalize_event({"redis": redis}, str(bad)) == "failed"
    rows = {r["id"]: r for r in await rows_of(integration.id)}
    assert rows[bad]["attempts"] == 2
    assert all(rows[e]["attempts"] == 1 for e in (*good, *more))
    for j in await _queued(app):
        if str(bad) in j:
            await redis.zrem(name, j)


async def test_replay_reprocesses_a_processed_event_and_only_when_forced(
    app: Any, client: Any, tenant: Any, make_integration: Any
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    (event_id,) = await store_backlog(tenant.id, integration.id, 1)
    ctx = {"redis": app.state.redis}
    assert await jobs.normalize_event(ctx, str(event_id)) == "processed"
    assert await jobs.normalize_event(ctx, str(event_id)) == "already processed"
    (row,) = await rows_of(integration.id)
    assert row["attempts"] == 1
    assert await jobs.normalize_event(ctx, str(event_id), force=True) == "processed"
    (again,) = await rows_of(integration.id)
    assert again["attempts"] == 2 and again["processed_at"] > row["processed_at"]


async def test_processed_notifications_start_the_syncs_they_ask_for_once_per_batch(
    app: Any, client: Any, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    from backend.connectors.event_generators import SimulationContext
    from backend.connectors.providers.google_calendar.events import EVENT_TYPES
    from backend.integrations.tables import Integration

    made = await make_integration(
        tenant,
        "google_calendar",
        credentials={"access_token": "ya29.t", "refresh_token": "1//r", "token_type": "Bearer"},
    )
    scope = "https://www.googleapis.com/auth/calendar.events.readonly"
    await Integration.update({Integration.scopes: [scope]}).where(Integration.id == made.id)
    generator = next(e for e in EVENT_TYPES if e.name == "exists")
    delivery = generator.build(
        SimulationContext(
            integration_id=str(made.id), account_id=None, config={}, now=time.time(), sequence=0
        )
    )
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    await store_backlog(tenant.id, made.id, 3, body=delivery.body, headers=headers)

    outcomes = await batch.claim_and_process()
    await jobs._after({"redis": app.state.redis}, outcomes)
    mine = [o for o in outcomes if o.integration_id == made.id]
    assert [(o.status, o.event_type) for o in mine] == [("processed", "exists")] * 3
    created = await raw_rows(
        "SELECT stream, mode, trigger FROM integration_sync_job WHERE integration = $1", made.id
    )
    assert [(j["stream"], j["mode"], j["trigger"]) for j in created] == [
        ("events", "incremental", "webhook")
    ]

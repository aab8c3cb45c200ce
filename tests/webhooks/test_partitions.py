"""Time partitions (issue 16): created ahead, rows in the right one, retention drops whole
partitions and nothing else, dedupe holds across partition boundaries, and the events and
logs APIs page across partitions.

Retention is checked inside a transaction that is rolled back: it drops every partition
before its cutoff, the converted old table holding the other tests' rows included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.lib import partitions, tokens
from backend.lib.db import pool
from backend.observability.tables import IntegrationLog
from backend.settings import get_settings
from backend.webhooks.store import StoreResult, store_event

pytestmark = pytest.mark.usefixtures("client")

UTC = dt.UTC


@pytest.fixture
async def made(tenant: Any, make_integration: Any) -> AsyncIterator[Any]:
    """An integration whose rows go with it: events dated years ahead, still `received`,
    must not reach the sweeper or the batch claim of the tests after these."""
    integration = await make_integration(tenant, "github")
    yield integration
    await pool().execute("DELETE FROM integration WHERE id = $1", integration.id)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _store(
    made: Any,
    event_id: str,
    received_at: dt.datetime,
    *,
    body: bytes = b"{}",
    digest: bytes | None = None,
) -> StoreResult:
    return await store_event(
        made.id,
        tokens.hash_token(made.token),
        event_id,
        "issues",
        body,
        {},
        "",
        digest,
        received_at=received_at,
    )


async def _partition_of(event_id: uuid.UUID | None) -> str:
    return str(
        await pool().fetchval(
            "SELECT tableoid::regclass::text FROM integration_webhook WHERE id = $1", event_id
        )
    )


async def _keys(integration: uuid.UUID) -> dict[str, dt.datetime]:
    rows = await pool().fetch(
        "SELECT provider_event_id, received_at FROM integration_webhook_key WHERE integration = $1",
        integration,
    )
    return {r["provider_event_id"]: r["received_at"] for r in rows}


async def test_partitions_are_created_ahead_once() -> None:
    now = at("2029-08-30T13:00:00")
    created = await partitions.ensure_partitions(now)
    assert "integration_webhook_p20290830" in created
    assert "integration_webhook_p20290906" in created  # today and 7 days ahead
    assert "integration_metric_p20290906" in created
    assert {"integration_log_p202908", "integration_log_p202910"} <= set(created)
    assert await partitions.ensure_partitions(now) == []

    async with pool().acquire() as conn:
        webhook = {p.name: p for p in await partitions.partitions(conn, partitions.WEBHOOK)}
        log = {p.name: p for p in await partitions.partitions(conn, partitions.LOG)}
    day = webhook["integration_webhook_p20290831"]
    assert (day.lower, day.upper) == (at("2029-08-31T00:00:00"), at("2029-09-01T00:00:00"))
    month = log["integration_log_p202909"]
    assert (month.lower, month.upper) == (at("2029-09-01T00:00:00"), at("2029-10-01T00:00:00"))
    assert webhook["integration_webhook_default"].default


async def test_rows_land_in_their_day(made: Any) -> None:
    await partitions.ensure_partitions(at("2029-05-10T00:00:00"), (partitions.WEBHOOK,))
    evening = await _store(made, "evening", at("2029-05-10T23:59:59.999999"))
    midnight = await _store(made, "midnight", at("2029-05-11T00:00:00"))
    assert evening.inserted and midnight.inserted
    assert await _partition_of(evening.event_id) == "integration_webhook_p20290510"
    assert await _partition_of(midnight.event_id) == "integration_webhook_p20290511"
    # Before the converted table's range and after the partitions ahead: the safety net.
    stray = await _store(made, "stray", at("2031-03-01T12:00:00"))
    assert await _partition_of(stray.event_id) == "integration_webhook_default"


async def test_a_replay_after_a_month_boundary_is_a_duplicate(made: Any) -> None:
    await partitions.ensure_partitions(at("2029-01-31T00:00:00"), (partitions.WEBHOOK,))
    original = await _store(made, "delivery-1", at("2029-01-31T23:59:58"))
    replay = await _store(made, "delivery-1", at("2029-02-01T00:00:03"))
    assert original.inserted and not replay.inserted
    assert replay.event_id == original.event_id
    # The signed digest is a key of its own: a fresh id header replayed days later.
    digest = hashlib.sha256(b"signed body").digest()
    signed = await _store(made, "delivery-2", at("2029-01-31T10:00:00"), digest=digest)
    fresh_id = await _store(made, "delivery-3", at("2029-02-03T10:00:00"), digest=digest)
    assert signed.inserted and not fresh_id.inserted
    assert fresh_id.event_id == signed.event_id

    rows = await pool().fetch(
        "SELECT provider_event_id, duplicates, tableoid::regclass::text AS part"
        " FROM integration_webhook WHERE integration = $1 ORDER BY received_at",
        made.id,
    )
    assert [(r["provider_event_id"], r["duplicates"], r["part"]) for r in rows] == [
        ("delivery-2", 1, "integration_webhook_p20290131"),
        ("delivery-1", 1, "integration_webhook_p20290131"),
    ]


async def test_a_late_partition_takes_its_rows_from_the_default_one(made: Any) -> None:
    early = await _store(made, "early", at("2029-03-03T08:00:00"))
    assert await _partition_of(early.event_id) == "integration_webhook_default"

    created = await partitions.ensure_partitions(at("2029-03-03T09:00:00"), (partitions.WEBHOOK,))
    assert "integration_webhook_p20290303" in created
    assert await _partition_of(early.event_id) == "integration_webhook_p20290303"
    assert "early" in await _keys(made.id)  # moving the row kept its dedupe key
    replay = await _store(made, "early", at("2029-03-04T08:00:00"))
    assert not replay.inserted and replay.event_id == early.event_id


async def test_deleting_an_event_forgets_its_key(made: Any) -> None:
    """Test mode's purge deletes simulated events: a later delivery with the same id is new.
    Deleting the integration (its events cascade) leaves none of its keys behind."""
    first = await _store(made, "purged", dt.datetime.now(UTC))
    await pool().execute("DELETE FROM integration_webhook WHERE id = $1", first.event_id)
    assert "purged" not in await _keys(made.id)
    again = await _store(made, "purged", dt.datetime.now(UTC))
    assert again.inserted and again.event_id != first.event_id
    await pool().execute("DELETE FROM integration WHERE id = $1", made.id)
    assert await _keys(made.id) == {}


async def test_retention_drops_whole_partitions_and_nothing_else(made: Any) -> None:
    await partitions.ensure_partitions(at("2030-01-10T00:00:00"), (partitions.WEBHOOK,))
    stored = {
        name: (await _store(made, name, when)).event_id
        for name, when in {
            "old-day": at("2030-01-10T12:00:00"),
            "last-expired-day": at("2030-01-11T23:00:00"),
            "kept-day": at("2030-01-12T00:00:00"),
            "later": at("2030-01-15T00:00:00"),
            "stray-old": at("2029-12-01T00:00:00"),  # before the partitions: default
            "stray-new": at("2032-06-01T00:00:00"),  # after them: default
        }.items()
    }
    settings = dataclasses.replace(get_settings(), event_retention_days=30)
    now = at("2030-02-11T06:00:00")  # cutoff 2030-01-12T06:00: 2030-01-12 is not over yet

    async with pool().acquire() as conn:
        before = {p.name for p in await partitions.partitions(conn, partitions.WEBHOOK)}
        transaction = conn.transaction()
        await transaction.start()
        try:
            dropped = await partitions.drop_expired_partitions(
                now, (partitions.WEBHOOK,), settings, conn=conn
            )
            after = {p.name for p in await partitions.partitions(conn, partitions.WEBHOOK)}
            rows = await conn.fetch(
                "SELECT provider_event_id FROM integration_webhook WHERE integration = $1",
                made.id,
            )
            keys = await conn.fetch(
                "SELECT provider_event_id FROM integration_webhook_key WHERE integration = $1",
                made.id,
            )
        finally:
            await transaction.rollback()

    assert {"integration_webhook_p20300110", "integration_webhook_p20300111"} <= set(dropped)
    assert "integration_webhook_p20300112" not in dropped
    assert all(not name.endswith("_default") for name in dropped)
    assert after == before - set(dropped)
    expected = {"kept-day", "later", "stray-new"}
    assert {r["provider_event_id"] for r in rows} == expected
    assert {r["provider_event_id"] for r in keys} == expected  # the dedupe window
    # Rolled back: the other tests' partitions and this test's rows are all still here.
    assert set(await _keys(made.id)) == set(stored)


async def test_events_api_pages_across_partitions(
    client: httpx.AsyncClient, tenant: Any, made: Any
) -> None:
    await partitions.ensure_partitions(at("2029-06-28T00:00:00"), (partitions.WEBHOOK,))
    times = [at(f"2029-06-{day}T{hour}:00:00") for day in (28, 29, 30) for hour in (10, 22)]
    for number, when in enumerate(times):
        await _store(made, f"event-{number}", when)
    seen: list[str] = []
    cursor = None
    for _ in range(len(times)):
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/integrations/{made.id}/events", params=params, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["provider_event_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"event-{n}" for n in reversed(range(len(times)))]
    since = await client.get(
        f"/api/integrations/{made.id}/events",
        params={"since": "2029-06-29T00:00:00Z", "until": "2029-06-30T00:00:00Z"},
        headers=tenant.headers,
    )
    assert [i["provider_event_id"] for i in since.json()["items"]] == ["event-3", "event-2"]


async def test_logs_api_pages_across_partitions(
    client: httpx.AsyncClient, tenant: Any, made: Any
) -> None:
    await partitions.ensure_partitions(at("2029-10-15T00:00:00"), (partitions.LOG,))
    times = [at("2029-10-31T23:00:00"), at("2029-11-01T01:00:00"), at("2029-12-15T00:00:00")]
    times.append(dt.datetime.now(UTC) - dt.timedelta(days=40))  # the converted old table
    for number, when in enumerate(times):
        await IntegrationLog.insert(
            IntegrationLog(
                tenant=tenant.id,
                integration=made.id,
                level="error",  # no other test's retention run counts it
                event="sync.finished",
                message=f"entry-{number}",
                context={},
                created_at=when,
            )
        )
    parts = await pool().fetch(
        "SELECT message, tableoid::regclass::text AS part FROM integration_log"
        " WHERE integration = $1 ORDER BY created_at",
        made.id,
    )
    assert len({r["part"] for r in parts}) == 4
    seen: list[str] = []
    cursor = None
    for _ in range(len(times)):
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/integrations/{made.id}/logs", params=params, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        seen += [item["message"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["entry-2", "entry-1", "entry-0", "entry-3"]


async def test_the_worker_keeps_partitions_ahead_from_startup() -> None:
    from backend.worker import WorkerSettings

    (job,) = [j for j in WorkerSettings.cron_jobs if j.name.endswith("maintain_partitions")]
    assert job.run_at_startup
    result = await job.coroutine({})
    assert result["dropped"] == []  # nothing here is past its retention today
    tomorrow = partitions.unit_start(dt.datetime.now(UTC) + dt.timedelta(days=1), "day")
    async with pool().acquire() as conn:
        days = await partitions.partitions(conn, partitions.WEBHOOK)
    assert any(p.lower == tomorrow + dt.timedelta(days=6) for p in days)

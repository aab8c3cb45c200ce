"""Webhook-triggered syncs: an event whose type a stream lists in `triggered_by` starts one
incremental job of that stream (trigger "webhook"), folded into the live job when one is
queued or running; paused, disconnected or foreign integrations start nothing."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from backend.connectors.registry import get_provider
from backend.connectors.spec import StreamSpec
from backend.syncs.triggers import ProcessedEvent, sync_on_events
from tests.syncs.api_helpers import (
    STREAMS,
    clean_sync_queue,  # noqa: F401
    queued_sync_ids,
    set_job,
    with_streams,
)

pytestmark = pytest.mark.usefixtures("clean_sync_queue")

CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"


def calendar_push_type(made: Any, state: str) -> str:
    """The normalized type of a Calendar push notification, as the webhook handler makes it
    from the headers Google sends (the simulator builds them exactly so)."""
    from backend.connectors.event_generators import SimulationContext
    from backend.connectors.providers.google_calendar.events import EVENT_TYPES

    generator = next(e for e in EVENT_TYPES if e.name == state)
    ctx = SimulationContext(
        integration_id=str(made.id), account_id=None, config={}, now=time.time(), sequence=0
    )
    delivery = generator.build(ctx)
    handler = get_provider("google_calendar").webhook
    assert handler is not None
    return handler.normalize(delivery.body, delivery.headers).type


async def calendar(make_integration: Any, tenant: Any, scopes: list[str]) -> Any:
    from backend.integrations.tables import Integration

    made = await make_integration(
        tenant,
        "google_calendar",
        credentials={"access_token": "ya29.t", "refresh_token": "1//r", "token_type": "Bearer"},
    )
    await Integration.update({Integration.scopes: scopes}).where(Integration.id == made.id)
    return made


async def redis() -> Any:
    from backend.lib.redis import connect
    from backend.settings import get_settings

    return connect(get_settings().redis_url, get_settings().queue_name)


async def trigger(*events: ProcessedEvent) -> int:
    client = await redis()
    try:
        return await sync_on_events(client, events)
    finally:
        await client.aclose()


async def jobs_of(raw_rows: Any, made: Any) -> list[dict[str, Any]]:
    return await raw_rows(
        "SELECT id::text, stream, mode, trigger, status FROM integration_sync_job"
        " WHERE integration = $1 ORDER BY created_at",
        made.id,
    )


async def test_a_calendar_push_starts_an_incremental_sync_of_its_events(
    client, tenant, make_integration, raw_rows
) -> None:
    events_stream = next(
        s for s in get_provider("google_calendar").spec.streams if s.name == "events"
    )
    assert "exists" in events_stream.triggered_by
    made = await calendar(make_integration, tenant, [CALENDAR_EVENTS_SCOPE])
    changed = calendar_push_type(made, "exists")
    assert changed == "exists"

    created = await trigger(ProcessedEvent(tenant.id, made.id, "google_calendar", changed))

    assert created == 1
    [job] = await jobs_of(raw_rows, made)
    assert (job["stream"], job["mode"], job["trigger"], job["status"]) == (
        "events",
        "incremental",
        "webhook",
        "queued",
    )
    assert job["id"] in await queued_sync_ids()
    listed = await client.get(f"/api/integrations/{made.id}/sync-jobs", headers=tenant.headers)
    assert listed.json()["items"][0]["trigger"] == "webhook"


async def test_a_calendar_channel_sync_message_or_a_missing_scope_starts_nothing(
    client, tenant, make_integration, raw_rows
) -> None:
    granted = await calendar(make_integration, tenant, [CALENDAR_EVENTS_SCOPE])
    ungranted = await calendar(make_integration, tenant, [])

    created = await trigger(
        # A channel's first message (`sync`) only says the channel opened.
        ProcessedEvent(tenant.id, granted.id, "google_calendar", "sync"),
        ProcessedEvent(tenant.id, ungranted.id, "google_calendar", "exists"),
    )

    assert created == 0
    assert await jobs_of(raw_rows, granted) == [] and await jobs_of(raw_rows, ungranted) == []


@pytest.fixture
def stripe_triggered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stripe's customers re-read after `customer.updated`; balance after `payout.paid`."""
    customers, balance, *rest = STREAMS
    with_streams(
        "stripe",
        (
            _with(customers, triggered_by=("customer.updated", "customer.deleted")),
            _with(balance, triggered_by=("payout.paid",)),
            *rest,
        ),
        monkeypatch,
    )


def _with(stream: StreamSpec, **changes: Any) -> StreamSpec:
    import msgspec

    return msgspec.structs.replace(stream, **changes)


async def stripe(make_integration: Any, tenant: Any, status: str = "connected") -> Any:
    return await make_integration(
        tenant, "stripe", credentials={"secret_key": "sk_test_trig"}, status=status
    )


@pytest.mark.usefixtures("stripe_triggered")
async def test_a_burst_of_events_starts_one_job_per_stream(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant)

    def event(kind: str) -> ProcessedEvent:
        return ProcessedEvent(tenant.id, made.id, "stripe", kind)

    created = await trigger(
        event("customer.updated"),
        event("customer.deleted"),
        event("payout.paid"),
        event("charge.succeeded"),
    )
    again = await trigger(event("customer.updated"))

    assert (created, again) == (2, 0)
    jobs = await jobs_of(raw_rows, made)
    assert sorted((j["stream"], j["mode"], j["trigger"]) for j in jobs) == [
        ("balance", "full", "webhook"),  # balance has no incremental mode
        ("customers", "incremental", "webhook"),
    ]

    # Once the job finished, the next change starts another.
    customers = next(j for j in jobs if j["stream"] == "customers")
    await set_job(customers["id"], status="succeeded")
    assert await trigger(event("customer.updated")) == 1


@pytest.mark.usefixtures("stripe_triggered")
async def test_a_change_during_a_running_job_is_read_once_that_job_ends(
    client, tenant, make_integration, raw_rows
) -> None:
    """The running job may be past the change: the stream waits in the pending set, and
    the schedule cron starts it after the job ends (not while it still runs)."""
    from backend.syncs.schedules import enqueue_scheduled_syncs
    from backend.syncs.triggers import pending_key

    made = await stripe(make_integration, tenant)
    await client.put(
        f"/api/integrations/{made.id}/schedule", json={"streams": {}}, headers=tenant.headers
    )
    event = ProcessedEvent(tenant.id, made.id, "stripe", "customer.updated")
    assert await trigger(event) == 1
    [first] = await jobs_of(raw_rows, made)
    await set_job(first["id"], status="running")
    client_redis = await redis()
    try:
        assert await trigger(event, event) == 0
        member = f"{tenant.id}:{made.id}:customers"
        assert await client_redis.sismember(pending_key(), member)

        await enqueue_scheduled_syncs({"redis": client_redis})  # still running: still pending
        assert len(await jobs_of(raw_rows, made)) == 1
        assert await client_redis.sismember(pending_key(), member)

        await set_job(first["id"], status="succeeded")
        await enqueue_scheduled_syncs({"redis": client_redis})
        jobs = await jobs_of(raw_rows, made)
        assert [(j["stream"], j["trigger"], j["status"]) for j in jobs[1:]] == [
            ("customers", "webhook", "queued")
        ]
        assert not await client_redis.sismember(pending_key(), member)
        assert jobs[1]["id"] in await queued_sync_ids()
    finally:
        await client_redis.aclose()


@pytest.mark.usefixtures("stripe_triggered")
async def test_paused_disconnected_and_foreign_integrations_start_nothing(
    client, tenant, make_tenant, make_integration, raw_rows
) -> None:
    paused = await stripe(make_integration, tenant)
    await client.put(
        f"/api/integrations/{paused.id}/schedule", json={"paused": True}, headers=tenant.headers
    )
    revoked = await stripe(make_integration, tenant, status="revoked")
    needs_reauth = await stripe(make_integration, tenant, status="needs_reauth")
    other = await make_tenant("trigger-other")
    mine = await stripe(make_integration, tenant)

    created = await trigger(
        ProcessedEvent(tenant.id, paused.id, "stripe", "customer.updated"),
        ProcessedEvent(tenant.id, revoked.id, "stripe", "customer.updated"),
        ProcessedEvent(tenant.id, needs_reauth.id, "stripe", "customer.updated"),
        # An event claiming another tenant for this integration.
        ProcessedEvent(other.id, mine.id, "stripe", "customer.updated"),
        ProcessedEvent(tenant.id, uuid.uuid4(), "stripe", "customer.updated"),
        ProcessedEvent(tenant.id, mine.id, "no_such_connector", "customer.updated"),
    )

    assert created == 0
    for made in (paused, revoked, needs_reauth, mine):
        assert await jobs_of(raw_rows, made) == []


async def test_events_no_stream_listens_to_cost_no_query(monkeypatch) -> None:
    from backend.syncs import triggers

    def no_pool() -> Any:
        raise AssertionError("queried the database")

    monkeypatch.setattr(triggers, "pool", no_pool)

    created = await sync_on_events(
        None, [ProcessedEvent(uuid.uuid4(), uuid.uuid4(), "github", "issues.opened")] * 50
    )

    assert created == 0


@pytest.fixture
def loopback(app: Any, client: Any) -> Any:
    """Simulated deliveries reach the session's app through an ASGI transport."""
    import httpx

    from backend.testmode.controllers import LOOPBACK_TRANSPORT

    setattr(app.state, LOOPBACK_TRANSPORT, httpx.ASGITransport(app=app))
    yield
    setattr(app.state, LOOPBACK_TRANSPORT, None)


@pytest.mark.usefixtures("loopback")
async def test_a_simulated_calendar_push_syncs_the_calendar_through_the_worker(
    client, make_tenant, run_worker
) -> None:
    """Test mode end to end: the push goes through the webhook receiver, the worker
    normalizes it, the trigger queues an events job, and the same worker runs it against
    the Calendar simulator."""
    tenant = await make_tenant("calendar-push")
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "google_calendar", "name": "Calendar", "test_mode": True},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    consented = await client.get(created.json()["authorization_url"])
    assert "oauth=connected" in consented.headers["location"]
    integration_id = created.json()["integration"]["id"]

    pushed = await client.post(
        f"/api/integrations/{integration_id}/simulate",
        json={"event_type": "exists", "count": 1},
        headers=tenant.headers,
    )
    assert pushed.status_code == 202, pushed.text
    assert pushed.json()["deliveries"][0]["status"] == 200
    await run_worker()

    jobs = (
        await client.get(f"/api/integrations/{integration_id}/sync-jobs", headers=tenant.headers)
    ).json()["items"]
    assert [(j["stream"], j["mode"], j["trigger"]) for j in jobs] == [
        ("events", "incremental", "webhook")
    ]
    assert jobs[0]["status"] == "succeeded", jobs[0]["error"]
    records = await client.get(
        f"/api/integrations/{integration_id}/records",
        params={"stream": "events", "include_deleted": "true", "limit": 200},
        headers=tenant.headers,
    )
    assert len(records.json()["items"]) == jobs[0]["records_upserted"] > 0

"""Sync schedules: GET/PUT /api/integrations/{id}/schedule (defaults, round trip, pause
and resume, 422s) and the worker cron that starts the streams whose interval has passed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.connectors.spec import StreamSpec
from backend.connectors.streams import ListCall
from tests.syncs.api_helpers import (
    UNAVAILABLE,
    clean_sync_queue,  # noqa: F401
    queued_sync_ids,
    set_job,
    stripe_streams,  # noqa: F401
    with_streams,
)

pytestmark = pytest.mark.usefixtures("stripe_streams", "clean_sync_queue")

DEFAULTS = {
    "customers": {"every_minutes": 60, "mode": "incremental"},
    "balance": {"every_minutes": 60, "mode": "full"},
}


async def stripe(
    make_integration: Any,
    tenant: Any,
    *,
    test_mode: bool = False,
    age: dt.timedelta = dt.timedelta(0),
    status: str = "connected",
) -> Any:
    from backend.lib.db import pool

    made = await make_integration(
        tenant, "stripe", credentials={"secret_key": "sk_test_sched"}, status=status
    )
    await pool().execute(
        "UPDATE integration SET test_mode = $2, created_at = now() - $3::interval WHERE id = $1",
        made.id,
        test_mode,
        age,
    )
    return made


def url(made: Any) -> str:
    return f"/api/integrations/{made.id}/schedule"


# -- the API -------------------------------------------------------------------------------


async def test_defaults_are_hourly_for_live_integrations_and_off_in_test_mode(
    client, tenant, make_integration
) -> None:
    live = await stripe(make_integration, tenant)
    test = await stripe(make_integration, tenant, test_mode=True)

    live_schedule = await client.get(url(live), headers=tenant.headers)
    test_schedule = await client.get(url(test), headers=tenant.headers)

    assert live_schedule.status_code == 200, live_schedule.text
    assert live_schedule.json() == {"streams": DEFAULTS, "paused": False}
    assert test_schedule.json() == {"streams": {}, "paused": False}


async def test_a_schedule_round_trips_and_pauses(client, tenant, make_integration) -> None:
    made = await stripe(make_integration, tenant)
    wanted = {"customers": {"every_minutes": 15, "mode": "full"}}

    saved = await client.put(url(made), json={"streams": wanted}, headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"streams": wanted, "paused": False}
    assert (await client.get(url(made), headers=tenant.headers)).json() == saved.json()

    paused = await client.put(url(made), json={"paused": True}, headers=tenant.headers)
    assert paused.json() == {"streams": wanted, "paused": True}
    resumed = await client.put(url(made), json={"paused": False}, headers=tenant.headers)
    assert resumed.json() == {"streams": wanted, "paused": False}

    # The mode defaults to incremental; `{}` schedules nothing.
    short = await client.put(
        url(made), json={"streams": {"customers": {"every_minutes": 5}}}, headers=tenant.headers
    )
    assert short.json()["streams"] == {"customers": {"every_minutes": 5, "mode": "incremental"}}
    off = await client.put(url(made), json={"streams": {}}, headers=tenant.headers)
    assert off.json() == {"streams": {}, "paused": False}
    audit = (await client.get("/api/audit", headers=tenant.headers)).json()["items"]
    changes = [a for a in audit if a["action"] == "sync.schedule_updated"]
    assert {a["target_id"] for a in changes} == {str(made.id)} and len(changes) == 5
    assert changes[-1]["details"] == {"streams": wanted, "paused": None}


async def test_pausing_an_unsaved_schedule_keeps_the_defaults(
    client, tenant, make_integration
) -> None:
    made = await stripe(make_integration, tenant)

    paused = await client.put(url(made), json={"paused": True}, headers=tenant.headers)

    assert paused.json() == {"streams": DEFAULTS, "paused": True}


@pytest.mark.parametrize(
    ("streams", "field", "message"),
    [
        ({"charges": {"every_minutes": 5}}, "streams.charges", "has no such stream"),
        ({"payout_events": {"every_minutes": 5}}, "streams.payout_events", UNAVAILABLE),
        ({"balance": {"every_minutes": 5}}, "streams.balance", "does not support incremental"),
    ],
)
async def test_streams_the_connector_cannot_sync_that_way_are_422(
    client, tenant, make_integration, streams, field, message
) -> None:
    made = await stripe(make_integration, tenant)

    refused = await client.put(url(made), json={"streams": streams}, headers=tenant.headers)

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == field and message in error["message"]
    assert (await client.get(url(made), headers=tenant.headers)).json()["streams"] == DEFAULTS


@pytest.mark.parametrize(
    "body",
    [
        {"streams": {"customers": {"every_minutes": 0}}},
        {"streams": {"customers": {"every_minutes": 43_201}}},
        {"streams": {"customers": {"every_minutes": "5"}}},
        {"streams": {"customers": {"every_minutes": 5, "mode": "backfill"}}},
        {"streams": {"customers": {"every_minutes": 5, "extra": True}}},
        {"paused": "yes"},
        {"pause": True},
    ],
)
async def test_malformed_schedules_are_422(client, tenant, make_integration, body) -> None:
    made = await stripe(make_integration, tenant)

    refused = await client.put(url(made), json=body, headers=tenant.headers)

    assert refused.status_code == 422, refused.text


async def test_oauth_defaults_leave_out_streams_whose_scopes_were_not_granted(
    client, tenant, make_integration, monkeypatch
) -> None:
    from backend.integrations.tables import Integration

    streams = (
        StreamSpec(name="repositories", description="Repos.", list=ListCall(path="/user/repos")),
        StreamSpec(
            name="issues",
            description="Issues.",
            required_scopes=("repo",),
            list=ListCall(path="/repos/{config.repository}/issues"),
        ),
    )
    with_streams("github", streams, monkeypatch)
    made = await make_integration(tenant, "github", credentials={"access_token": "t"})
    await Integration.update({Integration.scopes: ["admin:repo_hook"]}).where(
        Integration.id == made.id
    )

    schedule = (await client.get(url(made), headers=tenant.headers)).json()
    assert set(schedule["streams"]) == {"repositories"}
    refused = await client.put(
        url(made),
        json={"streams": {"issues": {"every_minutes": 5, "mode": "full"}}},
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    assert "needs the scopes repo" in refused.json()["errors"][0]["message"]

    await Integration.update({Integration.scopes: ["admin:repo_hook", "repo"]}).where(
        Integration.id == made.id
    )
    schedule = (await client.get(url(made), headers=tenant.headers)).json()
    assert set(schedule["streams"]) == {"repositories", "issues"}


# -- the cron --------------------------------------------------------------------------------


async def run_cron() -> tuple[int, dt.datetime]:
    from backend.lib.redis import connect
    from backend.settings import get_settings
    from backend.syncs.schedules import enqueue_scheduled_syncs

    redis = connect(get_settings().redis_url, get_settings().queue_name)
    started = dt.datetime.now(dt.UTC)
    try:
        return await enqueue_scheduled_syncs({"redis": redis}), started
    finally:
        await redis.aclose()


async def jobs_of(raw_rows: Any, made: Any) -> list[dict[str, Any]]:
    return await raw_rows(
        "SELECT id::text, stream, mode, trigger, status FROM integration_sync_job"
        " WHERE integration = $1 ORDER BY stream, created_at",
        made.id,
    )


async def test_the_cron_starts_due_streams_and_nothing_else(
    client, tenant, make_integration, raw_rows
) -> None:
    old = dt.timedelta(hours=2)
    live = await stripe(make_integration, tenant, age=old)
    new = await stripe(make_integration, tenant)
    test_default = await stripe(make_integration, tenant, test_mode=True, age=old)
    test_scheduled = await stripe(make_integration, tenant, test_mode=True, age=old)
    paused = await stripe(make_integration, tenant, age=old)
    revoked = await stripe(make_integration, tenant, age=old, status="revoked")
    needs_reauth = await stripe(make_integration, tenant, age=old, status="needs_reauth")
    await client.put(
        url(test_scheduled),
        json={"streams": {"customers": {"every_minutes": 5}}},
        headers=tenant.headers,
    )
    await client.put(url(paused), json={"paused": True}, headers=tenant.headers)

    created, started = await run_cron()

    live_jobs = await jobs_of(raw_rows, live)
    assert [(j["stream"], j["mode"], j["trigger"], j["status"]) for j in live_jobs] == [
        ("balance", "full", "schedule", "queued"),
        ("customers", "incremental", "schedule", "queued"),
    ]
    test_jobs = await jobs_of(raw_rows, test_scheduled)
    assert [(j["stream"], j["trigger"]) for j in test_jobs] == [("customers", "schedule")]
    for made in (new, test_default, paused, revoked, needs_reauth):
        assert await jobs_of(raw_rows, made) == []
    mine = {j["id"] for j in live_jobs + test_jobs}
    assert mine <= await queued_sync_ids()
    all_new = await raw_rows(
        "SELECT id FROM integration_sync_job WHERE trigger = 'schedule' AND created_at >= $1",
        started,
    )
    assert created == len(all_new) >= 3


async def test_a_stream_is_due_again_one_interval_after_its_last_job(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant, age=dt.timedelta(hours=2))
    await client.put(
        url(made), json={"streams": {"customers": {"every_minutes": 30}}}, headers=tenant.headers
    )

    await run_cron()
    [first] = await jobs_of(raw_rows, made)
    await run_cron()  # the job is still queued: the live-job index keeps it the only one
    assert await jobs_of(raw_rows, made) == [first]

    await set_job(first["id"], status="succeeded")
    await run_cron()  # finished just now: not due for another 30 minutes
    assert len(await jobs_of(raw_rows, made)) == 1

    await set_job(first["id"], created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
    await run_cron()
    jobs = await jobs_of(raw_rows, made)
    assert len(jobs) == 2 and jobs[-1]["trigger"] == "schedule"

    # A manual run counts as the stream's latest sync.
    await set_job(jobs[-1]["id"], status="cancelled", created_at=jobs_time(31))
    manual = await client.post(
        f"/api/integrations/{made.id}/sync", json={"stream": "customers"}, headers=tenant.headers
    )
    await set_job(manual.json()["job"]["id"], status="succeeded", created_at=jobs_time(10))
    await run_cron()
    assert len(await jobs_of(raw_rows, made)) == 3


def jobs_time(minutes_ago: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)


async def test_resuming_lets_the_cron_start_streams_again(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant, age=dt.timedelta(hours=2))
    await client.put(url(made), json={"paused": True}, headers=tenant.headers)
    await run_cron()
    assert await jobs_of(raw_rows, made) == []

    await client.put(url(made), json={"paused": False}, headers=tenant.headers)
    await run_cron()

    assert {j["stream"] for j in await jobs_of(raw_rows, made)} == {"customers", "balance"}


async def test_saved_streams_the_connector_no_longer_has_are_dropped(
    client, tenant, make_integration, monkeypatch, raw_rows
) -> None:
    made = await stripe(make_integration, tenant, age=dt.timedelta(hours=2))
    await client.put(
        url(made),
        json={
            "streams": {
                "customers": {"every_minutes": 5},
                "balance": {"every_minutes": 5, "mode": "full"},
            }
        },
        headers=tenant.headers,
    )
    from tests.syncs.api_helpers import STREAMS

    with_streams("stripe", tuple(s for s in STREAMS if s.name != "balance"), monkeypatch)

    schedule = (await client.get(url(made), headers=tenant.headers)).json()
    await run_cron()

    assert schedule["streams"] == {"customers": {"every_minutes": 5, "mode": "incremental"}}
    assert [j["stream"] for j in await jobs_of(raw_rows, made)] == ["customers"]


def test_the_worker_runs_the_cron_every_minute() -> None:
    from backend.worker import WorkerSettings

    [job] = [c for c in WorkerSettings.cron_jobs if c.name.endswith(":enqueue_scheduled_syncs")]

    assert job.second == {25} and job.minute is None

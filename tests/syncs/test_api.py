"""The sync API: triggering (202, then 200 with the live job), the 409s and 422s, listing,
reading and cancelling jobs, and tenant scoping — through the real app on PostgreSQL and
Redis. Running the jobs is the engine's (test_engine.py); test_api_runs.py runs them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from tests.syncs.api_helpers import (
    SYNC_KEYS,
    UNAVAILABLE,
    clean_sync_queue,  # noqa: F401
    queued_sync_ids,
    set_job,
    stripe_streams,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("stripe_streams", "clean_sync_queue")

STRIPE_CREDENTIALS = {"secret_key": "sk_test_51SyncApiTests0000000000000"}


async def stripe(make_integration: Any, tenant: Any, status: str = "connected") -> Any:
    return await make_integration(tenant, "stripe", credentials=STRIPE_CREDENTIALS, status=status)


def sync_url(made: Any, suffix: str = "sync") -> str:
    return f"/api/integrations/{made.id}/{suffix}"


async def trigger(client: Any, tenant: Any, made: Any, **body: Any) -> Any:
    return await client.post(sync_url(made), json=body, headers=tenant.headers)


async def test_a_trigger_queues_a_job_and_answers_202_with_it(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant)

    response = await trigger(client, tenant, made, stream="customers", mode="incremental")

    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert set(job) == SYNC_KEYS
    assert job["integration_id"] == str(made.id)
    assert (job["stream"], job["mode"], job["trigger"], job["status"]) == (
        "customers",
        "incremental",
        "manual",
        "queued",
    )
    assert (job["pages"], job["records_upserted"], job["records_deleted"], job["attempts"]) == (
        0,
        0,
        0,
        0,
    )
    assert job["cursor_before"] is None and job["error"] == ""
    assert job["started_at"] is None and job["finished_at"] is None
    assert response.headers["location"] == f"/api/integrations/{made.id}/sync-jobs/{job['id']}"
    [row] = await raw_rows("SELECT * FROM integration_sync_job WHERE id = $1::uuid", job["id"])
    assert row["tenant"] == tenant.id and row["status"] == "queued"
    assert job["id"] in await queued_sync_ids()
    audit = (await client.get("/api/audit", headers=tenant.headers)).json()["items"]
    [entry] = [a for a in audit if a["action"] == "sync.triggered"]
    assert (entry["target_type"], entry["target_id"]) == ("sync_job", job["id"])
    assert entry["details"] == {
        "integration_id": str(made.id),
        "stream": "customers",
        "mode": "incremental",
    }


async def test_a_second_trigger_answers_200_with_the_live_job(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant)
    first = (await trigger(client, tenant, made, stream="customers")).json()["job"]

    again = await trigger(client, tenant, made, stream="customers", mode="full")
    assert again.status_code == 200, again.text
    assert again.json()["job"]["id"] == first["id"]

    await set_job(first["id"], status="running", started_at=dt.datetime.now(dt.UTC))
    running = await trigger(client, tenant, made, stream="customers")
    assert running.status_code == 200
    assert running.json()["job"]["id"] == first["id"]
    assert running.json()["job"]["status"] == "running"

    other_stream = await trigger(client, tenant, made, stream="balance", mode="full")
    assert other_stream.status_code == 202
    rows = await raw_rows("SELECT id FROM integration_sync_job WHERE integration = $1", made.id)
    assert len(rows) == 2


async def test_concurrent_triggers_start_one_job(client, tenant, make_integration) -> None:
    made = await stripe(make_integration, tenant)

    answers = await asyncio.gather(
        *(trigger(client, tenant, made, stream="customers") for _ in range(8))
    )

    assert sorted(a.status_code for a in answers) == [200] * 7 + [202]
    assert len({a.json()["job"]["id"] for a in answers}) == 1


async def test_a_finished_job_frees_the_stream(client, tenant, make_integration) -> None:
    made = await stripe(make_integration, tenant)
    first = (await trigger(client, tenant, made, stream="customers")).json()["job"]
    await set_job(first["id"], status="succeeded", finished_at=dt.datetime.now(dt.UTC))

    second = await trigger(client, tenant, made, stream="customers")

    assert second.status_code == 202 and second.json()["job"]["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "kind", "detail"),
    [
        ({"stream": "charges"}, "unknown-stream", "has no stream 'charges'; its streams: "),
        ({"stream": "payout_events"}, "stream-unavailable", UNAVAILABLE),
        ({"stream": "balance", "mode": "incremental"}, "mode-unsupported", "supports: full"),
        (
            {"stream": "balance", "mode": "backfill", "since": "2026-01-01T00:00:00Z"},
            "mode-unsupported",
            "does not support backfill",
        ),
    ],
)
async def test_streams_and_modes_the_connector_cannot_sync_are_409(
    client, tenant, make_integration, body, kind, detail
) -> None:
    made = await stripe(make_integration, tenant)

    response = await client.post(sync_url(made), json=body, headers=tenant.headers)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/" + kind)
    assert detail in problem["detail"]


@pytest.mark.parametrize("status", ["revoked", "needs_reauth", "pending", "error"])
async def test_an_integration_that_is_not_connected_is_409(
    client, tenant, make_integration, status, raw_rows
) -> None:
    made = await stripe(make_integration, tenant, status=status)

    response = await trigger(client, tenant, made, stream="customers")

    assert response.status_code == 409
    assert response.json()["type"].endswith("/not-connected")
    assert f"The integration is {status}" in response.json()["detail"]
    assert not await raw_rows("SELECT id FROM integration_sync_job WHERE integration = $1", made.id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": "customers", "mode": "backfill"}, "since"),
        (
            {
                "stream": "customers",
                "mode": "backfill",
                "since": "2026-02-01T00:00:00Z",
                "until": "2026-01-01T00:00:00Z",
            },
            "until",
        ),
        (
            {
                "stream": "customers",
                "mode": "backfill",
                "since": "2026-02-01T00:00:00Z",
                "until": "2026-02-01T00:00:00Z",
            },
            "until",
        ),
        ({"stream": "customers", "mode": "backfill", "since": "2999-01-01T00:00:00Z"}, "since"),
        ({"stream": "customers", "mode": "backfill", "since": "yesterday"}, "since"),
        ({"stream": "customers", "mode": "backfill", "since": "2026-01-01"}, "since"),
        ({"stream": "customers", "mode": "full", "since": "2026-01-01T00:00:00Z"}, "since"),
        ({"stream": "customers", "mode": "incremental", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"stream": "customers", "mode": "sideways"}, "mode"),
        ({"stream": "customers", "extra": 1}, "data"),
        ({"mode": "full"}, "data"),
    ],
)
async def test_a_bad_body_is_422_naming_the_field(
    client, tenant, make_integration, body, field
) -> None:
    made = await stripe(make_integration, tenant)

    response = await client.post(sync_url(made), json=body, headers=tenant.headers)

    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()


async def test_a_backfill_stores_its_window(client, tenant, make_integration, raw_rows) -> None:
    made = await stripe(make_integration, tenant)
    before = dt.datetime.now(dt.UTC)

    bounded = await trigger(
        client,
        tenant,
        made,
        stream="customers",
        mode="backfill",
        since="2026-01-01T00:00:00+02:00",
        until="2026-02-01T00:00:00Z",
    )
    assert bounded.status_code == 202, bounded.text
    [row] = await raw_rows(
        'SELECT mode, since, "until" FROM integration_sync_job WHERE id = $1::uuid',
        bounded.json()["job"]["id"],
    )
    assert row["mode"] == "backfill"
    assert row["since"] == dt.datetime(2025, 12, 31, 22, tzinfo=dt.UTC)
    assert row["until"] == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)

    await set_job(bounded.json()["job"]["id"], status="succeeded")
    open_ended = await trigger(
        client, tenant, made, stream="customers", mode="backfill", since="2026-01-01T00:00:00Z"
    )
    [row] = await raw_rows(
        'SELECT "until" FROM integration_sync_job WHERE id = $1::uuid',
        open_ended.json()["job"]["id"],
    )
    assert before <= row["until"] <= dt.datetime.now(dt.UTC)


async def test_jobs_are_listed_newest_first_with_filters_and_pages(
    client, tenant, make_integration
) -> None:
    made = await stripe(make_integration, tenant)
    ids = []
    for _ in range(3):
        job = (await trigger(client, tenant, made, stream="customers")).json()["job"]
        await set_job(job["id"], status="succeeded")
        ids.append(job["id"])
    balance = (await trigger(client, tenant, made, stream="balance", mode="full")).json()["job"]
    url = sync_url(made, "sync-jobs")

    everything = (await client.get(url, headers=tenant.headers)).json()
    assert [j["id"] for j in everything["items"]] == [balance["id"], *reversed(ids)]
    assert everything["next_cursor"] is None

    customers = await client.get(url, params={"stream": "customers"}, headers=tenant.headers)
    assert [j["id"] for j in customers.json()["items"]] == list(reversed(ids))
    queued = await client.get(url, params={"status": "queued"}, headers=tenant.headers)
    assert [j["id"] for j in queued.json()["items"]] == [balance["id"]]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=tenant.headers)).json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [balance["id"], *reversed(ids)]

    bad = await client.get(url, params={"status": "done"}, headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


async def test_one_job_is_read_by_id(client, tenant, make_integration) -> None:
    made = await stripe(make_integration, tenant)
    other = await stripe(make_integration, tenant)
    job = (await trigger(client, tenant, made, stream="customers")).json()["job"]

    got = await client.get(sync_url(made, f"sync-jobs/{job['id']}"), headers=tenant.headers)
    assert got.status_code == 200 and got.json() == job

    # Another integration of the same tenant does not own it; junk ids are 404 too.
    for path in (
        sync_url(other, f"sync-jobs/{job['id']}"),
        sync_url(made, "sync-jobs/00000000-0000-0000-0000-000000000000"),
        sync_url(made, "sync-jobs/not-a-uuid"),
    ):
        missing = await client.get(path, headers=tenant.headers)
        assert missing.status_code == 404, path
        assert missing.json()["type"].endswith("/not-found")


async def test_cancelling_a_queued_job(client, tenant, make_integration, raw_rows) -> None:
    made = await stripe(make_integration, tenant)
    job = (await trigger(client, tenant, made, stream="customers")).json()["job"]
    cancel_url = sync_url(made, f"sync-jobs/{job['id']}/cancel")

    cancelled = await client.post(cancel_url, headers=tenant.headers)

    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()["job"]
    assert body["status"] == "cancelled" and body["finished_at"] is not None
    # Idempotent, and the stream is free for a new job.
    again = await client.post(cancel_url, headers=tenant.headers)
    assert again.status_code == 200 and again.json()["job"] == body
    audit = (await client.get("/api/audit", headers=tenant.headers)).json()["items"]
    assert [a["target_id"] for a in audit if a["action"] == "sync.cancelled"] == [job["id"]]
    assert (await trigger(client, tenant, made, stream="customers")).status_code == 202


async def test_cancelling_a_running_job_fences_its_next_page(
    client, tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant)
    job = (await trigger(client, tenant, made, stream="customers")).json()["job"]
    await set_job(job["id"], status="running", started_at=dt.datetime.now(dt.UTC), pages=3)

    cancelled = await client.post(
        sync_url(made, f"sync-jobs/{job['id']}/cancel"), headers=tenant.headers
    )

    assert cancelled.status_code == 200
    assert cancelled.json()["job"]["status"] == "cancelled"
    assert cancelled.json()["job"]["pages"] == 3  # what it committed stays


@pytest.mark.parametrize("status", ["succeeded", "failed"])
async def test_a_finished_job_cannot_be_cancelled(client, tenant, make_integration, status) -> None:
    made = await stripe(make_integration, tenant)
    job = (await trigger(client, tenant, made, stream="customers")).json()["job"]
    await set_job(job["id"], status=status, finished_at=dt.datetime.now(dt.UTC))

    refused = await client.post(
        sync_url(made, f"sync-jobs/{job['id']}/cancel"), headers=tenant.headers
    )

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/job-finished")
    assert f"already finished ({status})" in refused.json()["detail"]


async def test_another_tenant_sees_nothing_of_it(
    client, tenant, make_tenant, make_integration, raw_rows
) -> None:
    made = await stripe(make_integration, tenant)
    job = (await trigger(client, tenant, made, stream="customers")).json()["job"]
    intruder = await make_tenant("intruder")
    own = await stripe(make_integration, intruder)

    attempts = [
        ("POST", sync_url(made), {"stream": "customers"}),
        ("GET", sync_url(made, "sync-jobs"), None),
        ("GET", sync_url(made, f"sync-jobs/{job['id']}"), None),
        ("POST", sync_url(made, f"sync-jobs/{job['id']}/cancel"), None),
        # Its own integration with the other tenant's job id.
        ("GET", sync_url(own, f"sync-jobs/{job['id']}"), None),
        ("POST", sync_url(own, f"sync-jobs/{job['id']}/cancel"), None),
        ("GET", sync_url(made, "records"), None),
        ("GET", sync_url(made, "schedule"), None),
        ("PUT", sync_url(made, "schedule"), {"paused": True}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=intruder.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["detail"] in (
            "The integration does not exist.",
            "The sync job does not exist.",
        )

    [row] = await raw_rows("SELECT status FROM integration_sync_job WHERE id = $1::uuid", job["id"])
    assert row["status"] == "queued"
    assert not await raw_rows("SELECT id FROM sync_schedule WHERE integration = $1", made.id)
    listed = await client.get(sync_url(own, "sync-jobs"), headers=intruder.headers)
    assert listed.json()["items"] == []


async def test_routes_need_an_api_key(client, tenant, make_integration) -> None:
    made = await stripe(make_integration, tenant)

    response = await client.post(sync_url(made), json={"stream": "customers"})

    assert response.status_code == 401


async def test_telegram_has_no_pull_history_and_the_409_says_why(
    client, tenant, make_integration
) -> None:
    from backend.connectors.registry import get_provider

    provider = get_provider("telegram")
    [updates] = provider.spec.streams
    made = await make_integration(
        tenant, "telegram", credentials=dict(provider.simulator.sample_credentials)
    )

    refused = await trigger(client, tenant, made, stream=updates.name, mode="full")
    connector = (await client.get("/api/connectors/telegram", headers=tenant.headers)).json()

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/stream-unavailable")
    assert updates.unavailable and updates.unavailable in refused.json()["detail"]
    [listed] = connector["streams"]
    assert (listed["name"], listed["modes"], listed["unavailable"]) == (
        "updates",
        [],
        updates.unavailable,
    )

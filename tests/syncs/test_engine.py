"""The sync engine through a real arq worker on the real Redis and PostgreSQL, against a
local server answering like Stripe's customers list, every request checked by Prism
against Stripe's published description: modes (full, incremental, backfill), deletions,
one live job per stream, cancellation, the mapping applied per record, test mode through
the simulator with its faults, metrics, logs and the trace span."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backend.lib.db import pool
from backend.lib.telemetry import setup_tracing

STREAM = "customers"


async def stored_cursor(made: Any) -> dict[str, Any] | None:
    raw = await pool().fetchval(
        "SELECT cursor FROM sync_cursor WHERE integration = $1 AND stream = $2", made.id, STREAM
    )
    return json.loads(raw) if raw is not None else None


def watermark(cursor: dict[str, Any] | None) -> int:
    assert cursor is not None
    return int(dt.datetime.fromisoformat(cursor["since"]).timestamp())


async def logs(made: Any) -> list[dict[str, Any]]:
    rows = await pool().fetch(
        "SELECT event, level, message, context::text AS context FROM integration_log "
        "WHERE integration = $1 ORDER BY created_at, id",
        made.id,
    )
    return [dict(r) for r in rows]


@pytest.fixture
def failing_job(
    stripe_api: Any, stripe_integration: Any, make_sync_job: Any
) -> Callable[..., Awaitable[tuple[Any, Any]]]:
    """A queued full sync of `records` customers whose provider first answers `failures`."""

    async def make(records: int, *failures: Any) -> tuple[Any, Any]:
        stripe_api.api.add(records)
        stripe_api.fail_next(*failures)
        made = await stripe_integration()
        return made, await make_sync_job(made, STREAM, "full")

    return make


async def test_a_full_sync_stores_every_page_and_sets_the_cursor(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    stripe_api.api.add(250)
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert (job["pages"], job["records_upserted"], job["records_deleted"]) == (3, 250, 0)
    assert job["attempts"] == 3 and job["position"] is None and job["finished_at"]
    records = await synced_records(made.id, STREAM)
    assert {r["external_id"] for r in records} == stripe_api.api.ids()
    assert all(r["data"] and not r["deleted"] and not r["simulated"] for r in records)
    newest = max(int(r["created"]) for r in stripe_api.api.records.values())
    assert watermark(await stored_cursor(made)) == newest
    assert json.loads(job["cursor_after"]) == await stored_cursor(made)
    sent = stripe_api.list_requests()
    assert [r["query"].get("starting_after") for r in sent] == [
        None,
        sorted(stripe_api.api.ids())[-100],
        sorted(stripe_api.api.ids())[-200],
    ]
    assert all(r["query"]["limit"] == "100" and "created[gte]" not in r["query"] for r in sent)
    assert stripe_api.violations == []


async def test_incremental_runs_full_first_then_from_the_stored_cursor(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    stripe_api.api.add(120)
    made = await stripe_integration()

    first = await make_sync_job(made, STREAM, "incremental")
    await run_syncs(first)
    first_job = await sync_job(first)
    assert first_job["status"] == "succeeded" and first_job["mode"] == "incremental"
    assert first_job["cursor_before"] is None and first_job["records_upserted"] == 120
    cursor = await stored_cursor(made)

    stripe_api.requests.clear()
    stripe_api.api.add(30)
    second = await make_sync_job(made, STREAM, "incremental")
    await run_syncs(second)

    job = await sync_job(second)
    assert job["status"] == "succeeded", job["error"]
    assert json.loads(job["cursor_before"]) == cursor
    # created[gte] the last watermark: the newest old customer is read again (upserted).
    (request,) = stripe_api.list_requests()
    assert request["query"]["created[gte]"] == str(watermark(cursor))
    assert job["records_upserted"] == 31
    assert watermark(await stored_cursor(made)) == watermark(cursor) + 30
    records = await synced_records(made.id, STREAM)
    assert len(records) == 150 and len({r["external_id"] for r in records}) == 150
    assert stripe_api.violations == []


async def test_a_full_sync_marks_what_the_provider_no_longer_lists_deleted(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    made_records = stripe_api.api.add(40)
    made = await stripe_integration()
    await run_syncs(await make_sync_job(made, STREAM, "full"))
    gone = [made_records[0]["id"], made_records[7]["id"]]
    stripe_api.api.delete(*gone)

    # An incremental run cannot know what vanished: nothing is marked.
    await run_syncs(await make_sync_job(made, STREAM, "incremental"))
    assert not any(r["deleted"] for r in await synced_records(made.id, STREAM))

    job_id = await make_sync_job(made, STREAM, "full")
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded" and job["records_deleted"] == 2
    records = {r["external_id"]: r for r in await synced_records(made.id, STREAM)}
    assert {k for k, r in records.items() if r["deleted"]} == set(gone)
    assert records[gone[0]]["updated_at"] > records[made_records[1]["id"]]["updated_at"]
    assert stripe_api.violations == []


async def test_a_backfill_reads_its_window_and_never_moves_the_cursor(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    stripe_api.api.add(60)
    made = await stripe_integration()
    await run_syncs(await make_sync_job(made, STREAM, "incremental"))
    cursor = await stored_cursor(made)
    start = stripe_api.api.start
    since = dt.datetime.fromtimestamp(start + 11, dt.UTC)
    until = dt.datetime.fromtimestamp(start + 20, dt.UTC)
    await pool().execute("DELETE FROM synced_record WHERE integration = $1", made.id)
    stripe_api.requests.clear()

    job_id = await make_sync_job(made, STREAM, "backfill", since=since, until=until)
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["records_upserted"] == 10 and job["cursor_after"] is None
    (request,) = stripe_api.list_requests()
    assert request["query"]["created[gte]"] == str(start + 11)
    assert request["query"]["created[lte]"] == str(start + 20)
    assert await stored_cursor(made) == cursor
    records = await synced_records(made.id, STREAM)
    assert sorted(r["data"]["created"] for r in map(_decoded, records)) == list(
        range(start + 11, start + 21)
    )
    assert stripe_api.violations == []


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]}


async def test_one_live_job_per_stream(stripe_integration, make_sync_job) -> None:
    made = await stripe_integration()
    first = await make_sync_job(made, STREAM, "full")
    again = await make_sync_job(made, STREAM, "incremental")
    other = await make_sync_job(made, "charges", "full")
    assert again == first and other != first
    # A finished job frees the stream.
    await pool().execute(
        "UPDATE integration_sync_job SET status = 'cancelled' WHERE id = ANY($1::uuid[])",
        [first, other],
    )
    assert await make_sync_job(made, STREAM, "full") not in (first, other)
    await pool().execute(
        "UPDATE integration_sync_job SET status = 'cancelled' WHERE integration = $1", made.id
    )


async def test_a_cancelled_job_stops_at_its_next_page(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    stripe_api.api.add(1000)
    stripe_api.delay = 0.3
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")

    async def cancel_after_two_pages() -> None:
        while (await sync_job(job_id))["pages"] < 2:
            await asyncio.sleep(0.05)
        await pool().execute(
            "UPDATE integration_sync_job SET status = 'cancelled', finished_at = now() "
            "WHERE id = $1 AND status IN ('queued', 'running')",
            job_id,
        )

    canceller = asyncio.ensure_future(cancel_after_two_pages())
    await run_syncs(job_id)
    await canceller

    job = await sync_job(job_id)
    assert job["status"] == "cancelled"
    assert (
        2 <= job["pages"] <= 3
        and len(await synced_records(made.id, STREAM)) == job["records_upserted"]
    )
    assert len(stripe_api.list_requests()) <= 4  # the page in flight, never the rest
    assert "sync.cancelled" in [e["event"] for e in await logs(made)]
    assert stripe_api.violations == []


async def test_rate_limits_and_server_errors_are_retried_and_logged(
    stripe_api,
    failing_job,
    run_syncs,
    sync_job,
    synced_records,
    monkeypatch,
) -> None:
    from backend.integrations import provider_calls
    from tests.syncs.fake_provider import stripe_rate_limited, stripe_server_error

    monkeypatch.setattr(provider_calls, "BACKOFF_BASE_SECONDS", 0.05)
    made, job_id = await failing_job(150, stripe_rate_limited(retry_after=1), stripe_server_error())

    started = asyncio.get_running_loop().time()
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 4 and job["pages"] == 2  # 2 pages, 2 retries of the first
    assert asyncio.get_running_loop().time() - started >= 1.0  # Retry-After honoured
    assert len(await synced_records(made.id, STREAM)) == 150
    retries = [e for e in await logs(made) if e["event"] == "sync.retry"]
    assert [("rate_limited" in e["message"], "provider_down" in e["message"]) for e in retries] == [
        (True, False),
        (False, True),
    ]
    assert stripe_api.violations == []


async def test_the_attempts_budget_ends_the_job(
    stripe_api, failing_job, run_syncs, sync_job, monkeypatch
) -> None:
    from backend.integrations import provider_calls
    from backend.syncs import runner
    from tests.syncs.fake_provider import stripe_server_error

    monkeypatch.setattr(provider_calls, "BACKOFF_BASE_SECONDS", 0.01)
    made, job_id = await failing_job(
        5, *[stripe_server_error() for _ in range(runner.PAGE_ATTEMPTS)]
    )

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "failed" and job["attempts"] == runner.PAGE_ATTEMPTS
    assert "Something went wrong on Stripe's end." in job["error"]
    assert f"({runner.PAGE_ATTEMPTS} attempts)" in job["error"]
    assert len(stripe_api.list_requests()) == runner.PAGE_ATTEMPTS
    entries = await logs(made)
    assert sum(e["event"] == "sync.retry" for e in entries) == runner.PAGE_ATTEMPTS - 1
    assert entries[-1]["event"] == "sync.failed"


async def test_a_client_error_fails_the_job_with_the_providers_message(
    stripe_api, failing_job, run_syncs, sync_job
) -> None:
    from tests.syncs.fake_provider import Answer

    _, job_id = await failing_job(
        5,
        Answer(
            400,
            {"error": {"type": "invalid_request_error", "message": "This account is closed."}},
        ),
    )

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "failed" and "This account is closed." in job["error"]
    assert len(stripe_api.list_requests()) == 1  # never retried


async def test_a_refused_api_key_marks_the_integration_needs_reauth(
    stripe_api, failing_job, run_syncs, sync_job
) -> None:
    from tests.syncs.fake_provider import stripe_unauthorized

    made, job_id = await failing_job(5, stripe_unauthorized())

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "failed" and job["error"].startswith("needs_reauth:")
    assert "sk_test_51SyncEngineTests" not in job["error"]
    status = await pool().fetchval("SELECT status FROM integration WHERE id = $1", made.id)
    assert status == "needs_reauth"
    assert len(stripe_api.list_requests()) == 1  # an API key cannot be refreshed
    assert stripe_api.violations == []


async def test_the_mapping_in_force_is_applied_to_each_record(
    client, tenant, stripe_api, stripe_integration, make_sync_job, run_syncs, synced_records
) -> None:
    stripe_api.api.add(3)
    made = await stripe_integration()
    await run_syncs(await make_sync_job(made, STREAM, "full"))
    defaults = await synced_records(made.id, STREAM)
    assert all(r["mapping_version"] == 0 for r in defaults)  # the connector's default
    assert json.loads(defaults[0]["mapped"])["email"].endswith("@example.com")

    saved = await client.post(
        f"/api/integrations/{made.id}/mapping",
        json={"source": STREAM, "rules": [{"target": "who", "source": "name"}]},
        headers=tenant.headers,
    )
    assert saved.status_code == 200, saved.text
    await run_syncs(await make_sync_job(made, STREAM, "full"))

    records = await synced_records(made.id, STREAM)
    assert all(r["mapping_version"] == 1 for r in records)
    assert sorted(json.loads(r["mapped"])["who"] for r in records) == [
        "Customer 1",
        "Customer 2",
        "Customer 3",
    ]


async def test_a_test_mode_integration_syncs_its_simulator_with_its_faults(
    client,
    tenant,
    stripe_integration,
    make_sync_job,
    run_syncs,
    sync_job,
    synced_records,
    monkeypatch,
) -> None:
    from backend.connectors.providers.stripe import simulator
    from backend.integrations import provider_calls

    monkeypatch.setattr(provider_calls, "BACKOFF_BASE_SECONDS", 0.01)
    made = await stripe_integration(test_mode=True)
    fault = await client.put(
        f"/api/integrations/{made.id}/faults",
        json={"kind": "server_error", "count": 2},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text
    job_id = await make_sync_job(made, STREAM, "full")

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    records = await synced_records(made.id, STREAM)
    assert len(records) == job["records_upserted"] >= simulator.LIST_SIZES[STREAM]
    assert job["pages"] >= 2
    assert all(r["simulated"] for r in records)
    assert job["attempts"] == job["pages"] + 2  # the two injected 5xx, retried


@pytest.fixture(scope="module")
def spans(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("switchboard-tests", extra=SimpleSpanProcessor(exporter))
    return exporter


async def test_a_run_is_metered_and_traced_with_ids_only(
    stripe_api, stripe_integration, make_sync_job, run_syncs, spans
) -> None:
    from backend.observability import recorder

    stripe_api.api.add(120)
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")
    spans.clear()

    await run_syncs(job_id)
    await recorder.flush()

    counts = {
        (r["name"], r["reason"]): r["value"]
        for r in await pool().fetch(
            "SELECT name, reason, sum(value)::int AS value FROM integration_metric "
            "WHERE integration = $1 GROUP BY name, reason",
            made.id,
        )
    }
    assert counts[("records_synced", "")] == 120
    assert counts[("sync_jobs", "succeeded")] == 1
    (span,) = [s for s in spans.get_finished_spans() if s.name == "sync.run"]
    assert span.attributes is not None
    assert span.attributes["switchboard.sync_job_id"] == str(job_id)
    assert span.attributes["switchboard.integration_id"] == str(made.id)
    assert span.attributes["switchboard.stream"] == STREAM
    everything = json.dumps([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert "customer1@example.com" not in everything and "sk_test_" not in everything


async def test_a_job_whose_worker_went_silent_is_swept_and_resumes_where_it_was(
    stripe_api,
    stripe_integration,
    make_sync_job,
    run_worker,
    arq_redis,
    sync_job,
    synced_records,
) -> None:
    """The in-process twin of test_crash: a page committed under a lease that then went
    silent; the sweeper enqueues the job and a new lease reads on from the stored position."""
    import uuid

    from backend.syncs import jobs, runner, store

    stripe_api.api.add(250)
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")
    dead_lease = uuid.uuid4()
    claimed = await store.claim(job_id, dead_lease, None, runner.STALE_SECONDS)
    assert claimed is not None
    first = sorted(stripe_api.api.records.values(), key=lambda r: -r["created"])[:100]
    rows = store.Rows.empty()
    for record in first:
        rows.add(record["id"], record, None, None, None, False)
    position = {"next": {"last_id": first[-1]["id"]}, "high": None, "etag": None}
    write = store.PageWrite(rows=rows, deleted_ids=[], position=position, attempts=1)
    assert await store.commit_page(claimed.job, dead_lease, write, False) is not None
    await pool().execute(
        "UPDATE integration_sync_job SET heartbeat_at = now() - interval '1 hour' WHERE id = $1",
        job_id,
    )

    assert await jobs.sweep_stale_syncs({"redis": arq_redis}) == 1
    await run_worker()

    job = await sync_job(job_id)
    assert job["status"] == "succeeded" and job["lease"] != dead_lease
    assert job["pages"] == 3 and job["records_upserted"] == 250
    records = await synced_records(made.id, STREAM)
    assert {r["external_id"] for r in records} == stripe_api.api.ids()
    # Resumed from the position: the first page was not read again.
    assert [r["query"].get("starting_after") for r in stripe_api.list_requests()] == [
        first[-1]["id"],
        sorted(stripe_api.api.ids())[-200],
    ]
    assert stripe_api.violations == []


async def test_a_run_goes_on_in_slices_handed_from_job_to_job(
    stripe_api,
    stripe_integration,
    make_sync_job,
    run_syncs,
    sync_job,
    synced_records,
    monkeypatch,
) -> None:
    from backend.syncs import runner

    monkeypatch.setattr(runner, "SLICE_SECONDS", 0.0)  # every page ends its slice
    stripe_api.api.add(250)
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")

    completed = await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded" and job["pages"] == 3
    assert completed == 3  # the first slice and two continuations
    assert {r["external_id"] for r in await synced_records(made.id, STREAM)} == (
        stripe_api.api.ids()
    )
    assert len(stripe_api.list_requests()) == 3
    assert stripe_api.violations == []


async def test_a_long_retry_wait_is_a_deferred_continuation_not_a_sleeping_worker(
    stripe_api, failing_job, run_syncs, sync_job, monkeypatch
) -> None:
    from backend.syncs import runner
    from tests.syncs.fake_provider import stripe_rate_limited

    monkeypatch.setattr(runner, "INLINE_WAIT_SECONDS", 0.5)
    _, job_id = await failing_job(150, stripe_rate_limited(retry_after=2))

    completed = await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert completed == 2 and job["attempts"] == 3 and job["records_upserted"] == 150
    first, retried = stripe_api.requests[0], stripe_api.requests[1]
    assert first["query"] == retried["query"]
    assert stripe_api.violations == []


async def test_a_record_postgresql_cannot_hold_as_sent_is_stored_not_the_stream_blocked(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    (record,) = stripe_api.api.add(1)
    record["name"] = "Nul\x00Byte"  # jsonb refuses U+0000
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")

    await run_syncs(job_id)

    assert (await sync_job(job_id))["status"] == "succeeded"
    (stored,) = await synced_records(made.id, STREAM)
    assert json.loads(stored["data"])["name"] == "Nul\ufffdByte"


async def test_a_job_whose_integration_needs_reauth_fails_without_calling_the_provider(
    stripe_api, stripe_integration, make_sync_job, run_syncs, sync_job
) -> None:
    stripe_api.api.add(5)
    made = await stripe_integration()
    job_id = await make_sync_job(made, STREAM, "full")
    await pool().execute("UPDATE integration SET status = 'needs_reauth' WHERE id = $1", made.id)

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "failed" and "needs_reauth" in job["error"]
    assert stripe_api.requests == []

"""Gmail, Calendar, Drive and PayPal test-mode integrations sync their simulators through a
real arq worker on the real Redis and PostgreSQL: every declared stream's full run stores
what the simulator holds, and an incremental run from an older cursor applies the
provider's change feed (Drive's trashed and removed files, Gmail's deleted messages)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from backend.connectors.registry import get_provider
from backend.lib.db import pool


@pytest.fixture
def test_mode_integration(make_integration: Any, tenant: Any) -> Any:
    async def make(connector: str) -> Any:
        from backend.integrations.tables import Integration

        simulator = get_provider(connector).simulator
        made = await make_integration(
            tenant,
            connector,
            credentials=dict(simulator.sample_credentials),
            config=dict(simulator.sample_config),
        )
        await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)
        return made

    return make


async def stored_cursor(made: Any, stream: str) -> dict[str, Any] | None:
    raw = await pool().fetchval(
        "SELECT cursor FROM sync_cursor WHERE integration = $1 AND stream = $2", made.id, stream
    )
    return json.loads(raw) if raw is not None else None


def _gmail() -> set[str]:
    from backend.connectors.providers.gmail import mailbox

    return {mailbox.message_id(i) for i in mailbox.listed()}


def _drive() -> set[str]:
    from backend.connectors.providers.google_drive import listing

    every = listing.TRASH_EVERY
    return {listing.file_id(i) for i in range(listing.GENERATED) if i % every != every - 1}


def _events() -> set[str]:
    from backend.connectors.providers.google_calendar import listing

    return {f"sim{i:05d}" for i in range(listing.GENERATED)}


@pytest.mark.parametrize(
    ("connector", "stream", "expected"),
    [
        ("gmail", "messages", _gmail),
        ("google_calendar", "events", _events),
        ("google_drive", "files", _drive),
    ],
)
async def test_a_full_sync_stores_the_simulated_account(
    test_mode_integration: Any,
    make_sync_job: Any,
    run_syncs: Any,
    sync_job: Any,
    synced_records: Any,
    connector: str,
    stream: str,
    expected: Any,
) -> None:
    made = await test_mode_integration(connector)
    job_id = await make_sync_job(made, stream, "full")
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    records = await synced_records(made.id, stream)
    stored = {r["external_id"] for r in records}
    # Test mode may hold what other tests created (events, uploads) besides the generated.
    assert expected() <= stored and job["records_upserted"] == len(records)
    assert all(r["simulated"] and not r["deleted"] for r in records)
    assert await stored_cursor(made, stream) == json.loads(job["cursor_after"])


async def test_drive_incremental_applies_the_changes_feed(
    test_mode_integration: Any,
    make_sync_job: Any,
    run_syncs: Any,
    sync_job: Any,
    synced_records: Any,
) -> None:
    from backend.connectors.providers.google_drive import listing

    made = await test_mode_integration("google_drive")
    await run_syncs(await make_sync_job(made, "files", "full"))
    # As if the last run had ended five changes ago.
    older = json.dumps({"pageToken": str(listing.START_PAGE_TOKEN - 5)})
    await pool().execute(
        "UPDATE sync_cursor SET cursor = $3::jsonb WHERE integration = $1 AND stream = $2",
        made.id,
        "files",
        older,
    )
    job_id = await make_sync_job(made, "files", "incremental")
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["records_upserted"] == 2 and job["records_deleted"] >= 1
    records = {r["external_id"]: r for r in await synced_records(made.id, "files")}
    assert records[listing.file_id(7)]["deleted"]  # trashed since
    edited = records[listing.file_id(3)]["data"]
    assert json.loads(edited)["name"] == "Notes 4 (edited)"
    assert await stored_cursor(made, "files") == {"pageToken": str(listing.START_PAGE_TOKEN)}


async def test_gmail_incremental_after_a_full_run_reads_history_and_an_expired_one_reads_all(
    test_mode_integration: Any,
    make_sync_job: Any,
    run_syncs: Any,
    sync_job: Any,
    synced_records: Any,
) -> None:
    from backend.connectors.providers.gmail import mailbox

    made = await test_mode_integration("gmail")
    # No cursor yet: the first incremental run is a full one.
    first = await make_sync_job(made, "messages", "incremental")
    await run_syncs(first)
    listed = len(mailbox.listed())
    assert (await sync_job(first))["records_upserted"] == listed
    assert await stored_cursor(made, "messages") == {"historyId": str(mailbox.HISTORY_ID)}

    # Up to date: the history is empty, nothing changes.
    second = await make_sync_job(made, "messages", "incremental")
    await run_syncs(second)
    job = await sync_job(second)
    assert job["status"] == "succeeded" and job["records_upserted"] == 0

    # A historyId Gmail no longer keeps: a full read instead, and the cursor is fresh.
    await pool().execute(
        "UPDATE sync_cursor SET cursor = $3::jsonb WHERE integration = $1 AND stream = $2",
        made.id,
        "messages",
        json.dumps({"historyId": "1"}),
    )
    third = await make_sync_job(made, "messages", "incremental")
    await run_syncs(third)
    job = await sync_job(third)
    assert job["status"] == "succeeded", job["error"]
    assert job["records_upserted"] == listed
    assert await stored_cursor(made, "messages") == {"historyId": str(mailbox.HISTORY_ID)}
    assert len(await synced_records(made.id, "messages")) == listed


async def test_paypal_transactions_walk_their_windows_into_the_store(
    test_mode_integration: Any,
    make_sync_job: Any,
    run_syncs: Any,
    sync_job: Any,
    synced_records: Any,
) -> None:
    from backend.connectors.providers.paypal import reporting

    made = await test_mode_integration("paypal")
    until = dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = until - dt.timedelta(days=100)
    job_id = await make_sync_job(made, "transactions", "backfill", since=since, until=until)
    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["pages"] == 4  # 100 days: four windows of at most 31
    stored = {r["external_id"] for r in await synced_records(made.id, "transactions")}
    refreshed = (dt.datetime.now(dt.UTC) - reporting.LAG).replace(minute=0, second=0)
    wanted = {reporting.transaction_id(n) for n in reporting._numbers(since, refreshed)}
    assert stored == wanted
    assert await stored_cursor(made, "transactions") is None  # a backfill moves no cursor

"""The fault test: a real worker process is killed with SIGKILL in the middle of a
multi-page sync; a new worker process takes the job over (the sweeper finds its heartbeat
silent) and finishes it from the last committed page. The stored record set equals the
provider's, with no duplicate and no gap, and the cursor is set."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from backend.lib.db import pool
from backend.syncs.jobs import enqueue_sync

ROOT = Path(__file__).resolve().parents[2]
PAGES = 20


def start_worker(log: Any) -> subprocess.Popen[bytes]:
    """`switchboard worker` as an operator runs it, on this test's database and queue."""
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "worker"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until(what: str, check: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting: {what}"
        await asyncio.sleep(0.1)


async def test_a_worker_killed_mid_sync_is_taken_over_with_nothing_lost_or_duplicated(
    stripe_api, stripe_integration, make_sync_job, arq_redis, sync_job, synced_records
) -> None:
    stripe_api.api.add(PAGES * 100)
    stripe_api.delay = 0.2  # so the kill lands mid-run
    made = await stripe_integration()
    job_id = await make_sync_job(made, "customers", "full")
    # The worker process sweeps every live job of this database: earlier tests' leftovers
    # would read this test's provider too.
    await pool().execute(
        "UPDATE integration_sync_job SET status = 'cancelled', finished_at = now() "
        "WHERE status IN ('queued', 'running') AND id <> $1",
        job_id,
    )
    log = tempfile.NamedTemporaryFile(prefix="sync-crash-", suffix=".log")  # noqa: SIM115
    first = start_worker(log)
    second = None
    try:
        await enqueue_sync(arq_redis, job_id)

        async def some_pages_committed() -> bool:
            return int((await sync_job(job_id))["pages"]) >= 5

        await wait_until("5 pages committed", some_pages_committed, 40)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = await sync_job(job_id)
        assert killed_at["status"] == "running" and killed_at["pages"] < PAGES

        second = start_worker(log)

        async def finished() -> bool:
            return (await sync_job(job_id))["status"] not in ("queued", "running")

        # The sweeper finds the heartbeat silent after runner.STALE_SECONDS (+ its tick).
        await wait_until("the job finished on the new worker", finished, 70)
    finally:
        stop(first)
        if second is not None:
            stop(second)
    output = Path(log.name).read_text(errors="replace")
    log.close()

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", (job["error"], output[-3000:])
    assert job["lease"] != killed_at["lease"]  # taken over, not finished by the dead one
    records = await synced_records(made.id, "customers")
    ids = [r["external_id"] for r in records]
    assert len(ids) == len(set(ids)) == PAGES * 100  # no duplicate
    assert set(ids) == stripe_api.api.ids()  # no gap
    # Exactly one commit per page: the pages in flight at the kill (the one committing and
    # the one read ahead) were read again, nothing committed before them.
    assert job["pages"] == PAGES and job["records_upserted"] == PAGES * 100
    reads = Counter(r["query"].get("starting_after") for r in stripe_api.list_requests())
    assert max(reads.values()) <= 2 and sum(reads.values()) <= PAGES + 2
    cursor = await pool().fetchval(
        "SELECT cursor FROM sync_cursor WHERE integration = $1 AND stream = 'customers'", made.id
    )
    assert cursor is not None and json.loads(cursor)["since"]
    resumed = await pool().fetchval(
        "SELECT count(*) FROM integration_log WHERE integration = $1 AND event = 'sync.started' "
        "AND message LIKE '%resumed%'",
        made.id,
    )
    assert resumed == 1
    assert stripe_api.violations == []

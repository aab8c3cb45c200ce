"""A worker SIGKILLed in the middle of a batch (issue 16): its claim dies with its
connection, a new worker finishes, and every event ends processed exactly once.

The first worker is the real `switchboard worker` process, with one change made from the
outside: after normalizing its second batch it prints the batch's ids and sleeps before
writing them, so the kill lands while the batch is claimed, normalized and unwritten.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from arq.constants import in_progress_key_prefix, job_key_prefix

from backend.lib.db import pool
from backend.webhooks import batch, jobs

from .backlog import rows_of, store_backlog

ROOT = Path(__file__).resolve().parents[2]

_STALLING_WORKER = """
import asyncio

from backend.webhooks import batch

original = batch._normalize_all
batches = 0


async def stall_second_batch(rows, integrations, traced):
    global batches
    batches += 1
    result = await original(rows, integrations, traced)
    if batches == 2:
        print("MID-BATCH " + " ".join(str(r["id"]) for r in rows), flush=True)
        await asyncio.sleep(600)
    return result


batch._normalize_all = stall_second_batch

from backend.worker import run

run()
"""


async def _line_with(stream: asyncio.StreamReader, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(stream.readline(), deadline - time.monotonic())
        if not line:
            break
        text = line.decode(errors="replace")
        if text.startswith(marker):
            return text
    raise AssertionError(f"the worker never printed {marker!r}")


async def _worker(*args: str, log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE if args[0] == "-c" else log.open("ab"),
        stderr=log.open("ab"),
    )


async def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    app: Any, client: Any, tenant: Any, make_integration: Any, run_worker: Any, tmp_path: Path
) -> None:
    await run_worker()  # earlier tests' wake-ups and leftovers
    integrations = [
        await make_integration(tenant, "github", signing_secrets=("s",)) for _ in range(2)
    ]
    ids = []
    for n, integration in enumerate(integrations):
        ids += await store_backlog(tenant.id, integration.id, 2 * batch.BATCH_SIZE, offset_ms=n)
    assert await jobs.wake(app.state.redis, "normalize:wake:crash-test")

    log = tmp_path / "workers.log"
    first = await _worker("-c", _STALLING_WORKER, log=log)
    try:
        assert first.stdout is not None
        marker = await _line_with(first.stdout, "MID-BATCH", timeout=60)
        in_flight = set(marker.split()[1:])
        assert len(in_flight) == batch.BATCH_SIZE
        # The kill lands mid-batch: the first batch is committed, the second is not.
        statuses = {
            str(r["id"]): r["status"]
            for r in await pool().fetch(
                "SELECT id, status FROM integration_webhook WHERE id = ANY($1::uuid[])", ids
            )
        }
        assert {statuses[i] for i in in_flight} == {"received"}
        assert sum(s == "processed" for s in statuses.values()) >= batch.BATCH_SIZE
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    killed_at = time.time()

    # A new worker (its sweeper wakes it for the rows nobody holds any more) finishes.
    second = await _worker("-m", "backend", "worker", log=log)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            left = await pool().fetchval(
                "SELECT count(*) FROM integration_webhook"
                " WHERE id = ANY($1::uuid[]) AND status <> 'processed'",
                ids,
            )
            if left == 0:
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError(log.read_text()[-3000:])
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(second.wait(), 30)
        except TimeoutError:
            second.kill()
            await second.wait()

    # The killed job's arq entry would wait out its in-progress mark: not other tests' worry.
    redis, queue = app.state.redis, app.state.settings.queue_name
    await redis.zrem(queue, "normalize:wake:crash-test")
    await redis.delete(
        f"{job_key_prefix}normalize:wake:crash-test",
        f"{in_progress_key_prefix}normalize:wake:crash-test",
    )

    for integration in integrations:
        rows = await rows_of(integration.id)
        assert len(rows) == 2 * batch.BATCH_SIZE
        for row in rows:
            # Written once: each write counts an attempt, and a mapped envelope is stored.
            assert (row["status"], row["attempts"], row["error"]) == ("processed", 1, "")
            envelope = json.loads(row["normalized"])
            assert envelope["id"] == str(row["id"])
            assert envelope["type"] == "github.issues.opened"
            assert envelope["mapped"] and envelope["mappingversion"] is not None
            if str(row["id"]) in in_flight:
                assert row["processed_at"].timestamp() >= killed_at - 1
        stamps = [r["processed_at"] for r in rows]
        assert stamps == sorted(stamps), "receipt order held across the crash"

"""arq worker: normalizes webhooks, refreshes tokens, sweeps; later syncs and alerts.

`WorkerSettings` lists every job and cron; the startup context opens the same resources
the api uses (database pool, vault, shared http client, tracing). `run()` is the process:
it outlives PostgreSQL and Redis outages, at start or at any later moment, by reconnecting
with backoff (arq alone gives up after five attempts and exits).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import random
import signal
from typing import Any

from arq import cron, func
from arq.connections import ArqRedis, create_pool
from arq.cron import CronJob
from arq.worker import Retry, Worker, create_worker

from backend.actions.jobs import FUNCTIONS as ACTION_FUNCTIONS
from backend.integrations.renewals import renew_subscriptions
from backend.lib import db, http
from backend.lib.json_logs import configure_json_logging
from backend.lib.outages import OUTAGES, Unavailable, is_outage, outage_source
from backend.lib.partitions import maintain_partitions
from backend.lib.redis import redis_settings
from backend.lib.telemetry import setup_tracing, traced_job
from backend.observability import recorder as metrics_recorder
from backend.observability.alerts import evaluate_alerts
from backend.observability.logs import purge_expired_logs
from backend.settings import get_settings
from backend.syncs.jobs import RUN_SYNC_JOB, RUN_SYNC_TIMEOUT_SECONDS, run_sync, sweep_stale_syncs
from backend.syncs.schedules import enqueue_scheduled_syncs
from backend.tenants.vault import init_vault
from backend.webhooks.jobs import normalize_batch, normalize_event, sweep_unqueued

log = logging.getLogger("switchboard.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    setup_tracing(settings.otel_service_name + "-worker", settings.otel_endpoint)
    init_vault(settings.master_keys)
    # Tests run a burst worker inside a process whose pool is already open.
    ctx["owns_pool"] = db.engine().pool is None
    if ctx["owns_pool"]:
        try:
            await db.open_pool(settings.db_pool_size)
        except OUTAGES as exc:
            raise Unavailable("PostgreSQL", exc) from exc
    ctx["http"] = http.get_client(settings.http_timeout)
    ctx["settings"] = settings
    metrics_recorder.install(settings.otel_service_name + "-worker")
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    """Also runs after a failed start or a lost Redis: closes only what is open."""
    if db.engine().pool is not None:
        await metrics_recorder.close()
    if ctx.get("owns_pool"):
        await http.close_client()
        if db.engine().pool is not None:
            await db.close_pool()


# A job that meets an outage runs again after this many seconds times its try number.
_OUTAGE_RETRY_SECONDS = 5


def retry_outages(job: Any) -> Any:
    """Run `job` again later when PostgreSQL or Redis is unreachable, instead of recording it
    as failed: an outage says nothing about the job (arq's max_tries still bounds it)."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await job(ctx, *args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            if not is_outage(exc):
                raise
            delay = _OUTAGE_RETRY_SECONDS * ctx.get("job_try", 1)
            name, source = job.__name__, outage_source(exc)
            log.warning("%s: %s is unreachable; job retried in %d s", name, source, delay)
            raise Retry(defer=delay) from exc

    return run


def _oauth_jobs() -> tuple[list[Any], list[Any]]:
    """The OAuth package's jobs and crons (token refresh before expiry)."""
    from backend.oauth import jobs as oauth_jobs

    return list(getattr(oauth_jobs, "FUNCTIONS", [])), list(getattr(oauth_jobs, "CRON_JOBS", []))


_oauth_functions, _oauth_crons = _oauth_jobs()


def traced_cron(job: CronJob, queue_name: str) -> CronJob:
    """A cron run is a trace of its own: its queries and provider calls (token refreshes)
    become its children instead of being dropped as parentless client spans.

    Its name carries the queue: arq's job id for a cron run is `<name>:<ms>` under a key
    prefix every queue shares, so without it a worker of another stack on the same Redis
    (another deployment, a parallel test run) takes the run and this stack skips it.
    """
    name = f"cron:{queue_name}:{job.name.removeprefix('cron:')}"
    return dataclasses.replace(job, coroutine=traced_job(job.coroutine), name=name)


class WorkerSettings:
    # traced_job: each run continues the trace its enqueuer carried (or starts its own).
    functions = [
        retry_outages(traced_job(job))
        for job in (normalize_event, *_oauth_functions, *ACTION_FUNCTIONS)
    ] + [
        # Wake-ups keep no result: a slot's id is free again as soon as its job ends.
        func(retry_outages(traced_job(normalize_batch)), keep_result=0),
        # A sync slice hands over to a continuation well before this (syncs/runner.py).
        func(
            retry_outages(traced_job(run_sync)),
            name=RUN_SYNC_JOB,
            timeout=RUN_SYNC_TIMEOUT_SECONDS,
        ),
    ]
    cron_jobs = [
        traced_cron(job, get_settings().queue_name)
        for job in (
            cron(sweep_unqueued, second={0, 15, 30, 45}, run_at_startup=True),
            cron(sweep_stale_syncs, second=set(range(2, 60, 5)), timeout=30),
            cron(enqueue_scheduled_syncs, second={25}, timeout=50),
            cron(evaluate_alerts, second={50}, timeout=50),
            cron(purge_expired_logs, minute={17}, second={20}, timeout=300),
            # Partitions ahead and retention; at startup too, after a long outage.
            cron(maintain_partitions, minute={27}, second={30}, run_at_startup=True, timeout=600),
            cron(renew_subscriptions, minute={7}, second={40}, timeout=600),
            *_oauth_crons,
        )
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(get_settings().redis_url or "redis://127.0.0.1:6379/0")
    queue_name = get_settings().queue_name
    max_jobs = 50
    job_timeout = 120
    keep_result = 60
    max_tries = 8
    health_check_interval = 30


# Reconnect delays: short at first (a restart of Redis takes a second), doubling to a cap
# that keeps a long outage cheap; a run this long resets them.
_FIRST_DELAY = 0.5
_MAX_DELAY = 5.0
_HEALTHY_RUN = 60.0


def run() -> None:
    """`switchboard worker`: the arq worker, reconnecting through outages until SIGINT/SIGTERM."""
    configure_json_logging(get_settings().log_level)
    asyncio.run(_serve())


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    delay = _FIRST_DELAY
    while not stop.is_set():
        started = loop.time()
        try:
            await _work_until(stop)
        except Exception as exc:
            if not is_outage(exc):
                raise
            if loop.time() - started > _HEALTHY_RUN:
                delay = _FIRST_DELAY
            pause = delay * random.uniform(0.8, 1.2)
            source, reason = outage_source(exc), _reason(exc)
            log.warning("%s is unreachable (%s); retrying in %.1f s", source, reason, pause)
            delay = min(delay * 2, _MAX_DELAY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
    log.info("worker stopped")


async def _work_until(stop: asyncio.Event) -> None:
    """One arq worker on one Redis connection, until `stop` or an error (raised)."""
    # One attempt per call: the retries and their log lines are ours.
    once = dataclasses.replace(WorkerSettings.redis_settings, conn_retries=0)
    redis = await create_pool(once, default_queue_name=WorkerSettings.queue_name)
    worker = create_worker(WorkerSettings, redis_pool=redis, handle_signals=False)  # type: ignore[arg-type]
    main = asyncio.ensure_future(worker.main())
    worker.main_task = main
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if main.done():
            main.result()
    finally:
        stopping.cancel()
        await _close(worker, redis)


async def _close(worker: Worker, redis: ArqRedis) -> None:
    """arq's close() cancels running jobs (they are retried later), then stops at the first
    Redis error when Redis is gone: finish what it skipped, whatever failed."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(worker.close(), return_exceptions=True), 15)
    await asyncio.gather(shutdown(worker.ctx), redis.aclose(), return_exceptions=True)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ else exc
    return f"{type(cause).__name__}: {cause}"

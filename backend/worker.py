"""arq worker: normalizes webhooks, refreshes tokens, sweeps; later syncs and alerts.

`WorkerSettings` lists every job and cron; the startup context opens the same resources
the api uses (database pool, vault, shared http client, tracing).
"""

from __future__ import annotations

import logging
from typing import Any

from arq import cron

from backend.lib import db, http
from backend.lib.redis import redis_settings
from backend.lib.telemetry import setup_tracing
from backend.settings import get_settings
from backend.tenants.vault import init_vault
from backend.webhooks.jobs import normalize_event, sweep_unqueued

log = logging.getLogger("switchboard.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    setup_tracing(settings.otel_service_name + "-worker", settings.otel_endpoint)
    init_vault(settings.master_keys)
    # Tests run a burst worker inside a process whose pool is already open.
    ctx["owns_pool"] = db.engine().pool is None
    if ctx["owns_pool"]:
        await db.open_pool(settings.db_pool_size)
    ctx["http"] = http.get_client(settings.http_timeout)
    ctx["settings"] = settings
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    if ctx.get("owns_pool"):
        await http.close_client()
        await db.close_pool()


def _oauth_jobs() -> tuple[list[Any], list[Any]]:
    """The OAuth package's jobs and crons (token refresh before expiry)."""
    from backend.oauth import jobs as oauth_jobs

    return list(getattr(oauth_jobs, "FUNCTIONS", [])), list(getattr(oauth_jobs, "CRON_JOBS", []))


_oauth_functions, _oauth_crons = _oauth_jobs()


class WorkerSettings:
    functions = [normalize_event, *_oauth_functions]
    cron_jobs = [
        cron(sweep_unqueued, second={0, 15, 30, 45}, run_at_startup=True),
        *_oauth_crons,
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

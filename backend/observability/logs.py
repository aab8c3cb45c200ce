"""Reading and expiring integration log entries: the filters of
`GET /api/integrations/{id}/logs` and the per-level retention the worker enforces.

Retention runs across tenants (it is the operator's policy, not a tenant's query) and
deletes in bounded batches so one run never holds a long lock or a huge transaction. The
log is partitioned by month: whole months past the longest level's retention are dropped
by backend/lib/partitions.py; this deletes the shorter-lived levels inside live months.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from piccolo.query import Select

from backend.lib.clock import utc_now
from backend.lib.db import pool
from backend.observability.tables import IntegrationLog
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Longest text search accepted: a search term, not a document.
MAX_QUERY_LENGTH = 200
RETENTION_BATCH = 1000
# Batches per level and run; whatever is left waits for the next run.
RETENTION_MAX_BATCHES = 50

_DELETE_BATCH = """
DELETE FROM integration_log WHERE id IN (
    SELECT id FROM integration_log WHERE level = $1 AND created_at < $2 LIMIT $3
)
"""


def escape_like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (PostgreSQL's default escape is `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_logs(
    query: Select,
    *,
    event: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    text: str | None = None,
) -> Select:
    """Narrow a log query: exact event name, [since, until), and a case-insensitive
    substring of the message or event name."""
    if event:
        query = query.where(IntegrationLog.event == event)
    if since is not None:
        query = query.where(IntegrationLog.created_at >= since)
    if until is not None:
        query = query.where(IntegrationLog.created_at < until)
    if text:
        pattern = f"%{escape_like(text)}%"
        query = query.where(
            IntegrationLog.message.ilike(pattern) | IntegrationLog.event.ilike(pattern)
        )
    return query


def retention_days(settings: Settings) -> dict[str, int]:
    return {
        "debug": settings.log_retention_days_debug,
        "info": settings.log_retention_days_info,
        "warning": settings.log_retention_days_warning,
        "error": settings.log_retention_days_error,
    }


async def purge_expired_logs(ctx: dict[str, Any] | None = None) -> int:
    """Worker cron: delete each level's entries older than its retention (0 or less keeps
    them); returns how many rows went."""
    del ctx
    now, deleted = utc_now(), 0
    for level, days in retention_days(get_settings()).items():
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        for _ in range(RETENTION_MAX_BATCHES):
            status = await pool().execute(_DELETE_BATCH, level, cutoff, RETENTION_BATCH)
            count = int(status.rsplit(" ", 1)[-1])
            deleted += count
            if count < RETENTION_BATCH:
                break
    if deleted:
        log.info("log retention deleted %d entries", deleted)
    return deleted

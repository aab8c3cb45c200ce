"""Worker jobs: refresh tokens before they expire; forget old OAuth states.

`refresh_expiring_tokens` runs every minute over every tenant (a system job: it selects ids
across tenants, then works inside each integration's own TenantScope). A failed refresh
backs off exponentially per integration (Redis keys), so a provider outage is retried
without hammering it, and a grant that is gone stops being tried (status needs_reauth).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from arq import cron
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.oauth.services import ReauthRequired, get_oauth_flows
from backend.oauth.states import purge_old_states

log = logging.getLogger("switchboard.oauth")

REFRESH_WINDOW = dt.timedelta(minutes=10)
BATCH = 200
BACKOFF_BASE = 60.0
BACKOFF_MAX = 3600.0


def _keys(integration_id: object) -> tuple[str, str]:
    base = f"sb:oauth:refresh-retry:{integration_id}"
    return base + ":attempts", base + ":wait"


async def _back_off(redis: Any, integration_id: object) -> float:
    attempts_key, wait_key = _keys(integration_id)
    attempts = int(await redis.incr(attempts_key))
    await redis.expire(attempts_key, 86400)
    delay = min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX) * (0.8 + 0.4 * random.random())
    await redis.set(wait_key, attempts, px=int(delay * 1000))
    return delay


#: Integrations whose tokens are kept fresh (one in error still has a grant worth keeping).
#: Literals, not bind parameters: the partial index `integration_token_refresh` repeats this
#: predicate, and the planner matches an index predicate only against constants, so a
#: parameter would lose the index as soon as the server switches to a generic plan.
REFRESHABLE = WhereRaw("status IN ('connected', 'error')")


def due_for_refresh(horizon: dt.datetime) -> Select:
    """The earliest-expiring tokens before `horizon`, across tenants (a system query)."""
    return (
        IntegrationRow.select(IntegrationRow.id, IntegrationRow.tenant)
        .where(
            REFRESHABLE
            & IntegrationRow.credentials.is_not_null()
            & IntegrationRow.token_expires_at.is_not_null()
            & (IntegrationRow.token_expires_at < horizon)
        )
        .order_by(IntegrationRow.token_expires_at)
        .limit(BATCH)
    )


async def refresh_expiring_tokens(ctx: dict[str, Any]) -> dict[str, int]:
    """Refresh every OAuth token that expires within REFRESH_WINDOW."""
    redis = ctx["redis"]
    flows = get_oauth_flows()
    due = await due_for_refresh(dt.datetime.now(dt.UTC) + REFRESH_WINDOW)
    counts = {"refreshed": 0, "needs_reauth": 0, "failed": 0, "waiting": 0}
    for item in due:
        attempts_key, wait_key = _keys(item["id"])
        if await redis.exists(wait_key):
            counts["waiting"] += 1
            continue
        scope = TenantScope(item["tenant"], actor="worker")
        try:
            row = await scope.get(IntegrationRow, item["id"], "integration")
            await flows.refresh(scope, row, redis=redis)
        except ReauthRequired:
            counts["needs_reauth"] += 1
        except Problem as exc:
            counts["failed"] += 1
            delay = await _back_off(redis, item["id"])
            log.warning(
                "token refresh of %s failed (%s); next try in %.0fs", item["id"], exc.status, delay
            )
        except Exception:
            counts["failed"] += 1
            await _back_off(redis, item["id"])
            log.exception("token refresh of %s failed unexpectedly", item["id"])
        else:
            counts["refreshed"] += 1
            await redis.delete(attempts_key, wait_key)
    return counts


async def purge_oauth_states(ctx: dict[str, Any]) -> None:
    await purge_old_states()


FUNCTIONS: list[Any] = [refresh_expiring_tokens]
CRON_JOBS = [
    cron(refresh_expiring_tokens, second={20}, timeout=300),
    cron(purge_oauth_states, minute={17}, second={40}),
]

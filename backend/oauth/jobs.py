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


def due_for_refresh(horizon: dt.datetime, after: tuple[dt.datetime, Any] | None = None) -> Select:
    """The earliest-expiring tokens before `horizon`, across tenants (a system query),
    continuing after `after` (expiry, id): keyset pages over the partial index."""
    query = IntegrationRow.select(
        IntegrationRow.id, IntegrationRow.tenant, IntegrationRow.token_expires_at
    ).where(
        REFRESHABLE
        & IntegrationRow.credentials.is_not_null()
        & IntegrationRow.token_expires_at.is_not_null()
        & (IntegrationRow.token_expires_at < horizon)
    )
    if after is not None:
        query = query.where(WhereRaw("(token_expires_at, id) > ({}, {})", *after))
    return query.order_by(IntegrationRow.token_expires_at, IntegrationRow.id).limit(BATCH)


async def _waiting(redis: Any, page: list[dict[str, Any]]) -> list[bool]:
    """Which of `page` are still backing off, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for item in page:
            pipe.exists(_keys(item["id"])[1])
        return [bool(n) for n in await pipe.execute()]


async def refresh_expiring_tokens(ctx: dict[str, Any]) -> dict[str, int]:
    """Refresh up to BATCH tokens that expire within REFRESH_WINDOW, earliest first.

    Integrations still backing off are skipped without using the budget, paging on past
    them, so a crowd of failing grants cannot starve healthy ones of their refresh.
    """
    redis = ctx["redis"]
    flows = get_oauth_flows()
    horizon = dt.datetime.now(dt.UTC) + REFRESH_WINDOW
    counts = {"refreshed": 0, "needs_reauth": 0, "failed": 0, "waiting": 0}
    after: tuple[dt.datetime, Any] | None = None
    attempted = 0
    while attempted < BATCH:
        page = await due_for_refresh(horizon, after)
        for item, waiting in zip(page, await _waiting(redis, page), strict=True):
            if waiting:
                counts["waiting"] += 1
            elif attempted < BATCH:
                attempted += 1
                counts[await _refresh_one(redis, flows, item)] += 1
        if len(page) < BATCH:
            break
        after = (page[-1]["token_expires_at"], page[-1]["id"])
    return counts


async def _refresh_one(redis: Any, flows: Any, item: dict[str, Any]) -> str:
    """Refresh one integration's token; the outcome's name for the counts."""
    scope = TenantScope(item["tenant"], actor="worker")
    try:
        row = await scope.get(IntegrationRow, item["id"], "integration")
        await flows.refresh(scope, row, redis=redis)
    except ReauthRequired:
        return "needs_reauth"
    except Problem as exc:
        delay = await _back_off(redis, item["id"])
        log.warning(
            "token refresh of %s failed (%s); next try in %.0fs", item["id"], exc.status, delay
        )
        return "failed"
    except Exception:
        await _back_off(redis, item["id"])
        log.exception("token refresh of %s failed unexpectedly", item["id"])
        return "failed"
    await redis.delete(*_keys(item["id"]))
    return "refreshed"


async def purge_oauth_states(ctx: dict[str, Any]) -> None:
    await purge_old_states()


FUNCTIONS: list[Any] = [refresh_expiring_tokens]
CRON_JOBS = [
    cron(refresh_expiring_tokens, second={20}, timeout=300),
    cron(purge_oauth_states, minute={17}, second={40}),
]

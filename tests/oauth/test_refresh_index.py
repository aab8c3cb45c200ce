"""The token-refresh query is served by its partial index (issue 10, item 13).

The cron job runs every minute over every tenant's integrations; the planner must reach the
few tokens about to expire through `integration_token_refresh`, not scan the table. 50,000
integrations with a realistic spread of statuses and expiries are inserted in a transaction
that is rolled back, so no other test sees them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from backend.lib.db import pool
from backend.oauth.jobs import REFRESH_WINDOW, due_for_refresh

INDEX = "integration_token_refresh"
ROWS = 50_000

# Most integrations are connected with tokens expiring over the next days; some are in error
# (still refreshed), some need re-authorization or are revoked (never refreshed), and a few
# hundred tokens expire within the refresh window.
_POPULATE = """
INSERT INTO integration (id, tenant, connector, name, status, test_mode, credentials,
    token_expires_at, scopes, config, health_status, health_reason, created_at, updated_at)
SELECT gen_random_uuid(), $1, 'gmail', 'load ' || n,
    CASE WHEN n % 20 = 0 THEN 'error' WHEN n % 20 = 1 THEN 'needs_reauth'
         WHEN n % 20 = 2 THEN 'revoked' ELSE 'connected' END,
    false,
    CASE WHEN n % 20 = 2 THEN NULL ELSE '\\x00'::bytea END,
    CASE WHEN n % 10 = 9 THEN NULL
         ELSE now() + make_interval(secs => (n * 7919) % (14 * 86400) - 3600) END,
    '[]', '{}', 'ok', '', now(), now()
FROM generate_series(1, $2) AS n
"""


def _index_names(plan: Any) -> set[str]:
    """Every index any node of an EXPLAIN (FORMAT JSON) plan reads."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= _index_names(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= _index_names(item)
    return found


def _literal(value: object) -> str:
    """A SQL literal for EXECUTE, which takes no bind parameters (our own values only)."""
    return "'" + str(value).replace("'", "''") + "'"


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_refresh_query_reads_the_partial_index(client, tenant, plan_cache_mode) -> None:
    # The job's own query, compiled exactly as Piccolo sends it (bind parameters included);
    # asyncpg prepares statements, so the plan must not depend on the parameters' values.
    query = due_for_refresh(dt.datetime.now(dt.UTC) + REFRESH_WINDOW)
    sql, args = query.querystrings[0].compile_string(engine_type="postgres")
    plans: list[Any] = []
    with pytest.raises(_Rollback):
        async with pool().acquire() as conn, conn.transaction():
            await conn.execute(_POPULATE, tenant.id, ROWS)
            await conn.execute("ANALYZE integration")
            # A server-side prepared statement, as asyncpg keeps it: after a few runs the
            # server may plan it once for any parameters (the generic plan).
            await conn.execute(f"SET LOCAL plan_cache_mode = {plan_cache_mode}")
            await conn.execute(f"PREPARE due_for_refresh AS {sql}")
            try:
                execute = f"EXECUTE due_for_refresh({', '.join(map(_literal, args))})"
                plans.append(json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {execute}")))
                plans.append(await conn.fetch(f"EXPLAIN {execute}"))
            finally:
                await conn.execute("DEALLOCATE due_for_refresh")  # outlives the transaction
            raise _Rollback
    plan, text = plans
    readable = "\n".join(row[0] for row in text)
    print(f"{plan_cache_mode}:\n{readable}")  # shown with -s: the plan quoted in issue 10
    assert _index_names(plan) == {INDEX}, readable
    assert "Seq Scan" not in readable, readable

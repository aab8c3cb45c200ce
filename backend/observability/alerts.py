"""Alert rules: findings of the health assessment open alerts, and alerts whose finding is
gone resolve on their own. Run by the worker's `evaluate_alerts` cron each minute.

Only the kinds below are managed here; the OAuth package opens and resolves its own
(`oauth.needs_reauth`, `oauth.refresh_failed`) where refreshes happen.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from backend.lib.clock import utc_now
from backend.lib.db import pool
from backend.observability import health
from backend.observability.tables import Alert

log = logging.getLogger("switchboard.alerts")

# finding code -> (alert kind, severity); a finding opens its alert only in these states.
RULES: dict[str, tuple[str, str]] = {
    "consecutive_failures": ("consecutive_failures", "critical"),
    "health_check_failed": ("health_check_failed", "critical"),
    "api_errors": ("provider_errors", "warning"),
    "signature_failures": ("signature_failures", "warning"),
    "token_expiring": ("token_expiring", "warning"),
    "token_expired": ("token_expired", "critical"),
    "stuck_sync": ("stuck_sync", "warning"),
    "no_events": ("no_events", "warning"),
}
MANAGED_KINDS = frozenset(kind for kind, _ in RULES.values())
_PAGE = 500

_ACTIVE = """
SELECT id, tenant FROM integration
WHERE revoked_at IS NULL AND status <> 'revoked' AND id > $1
ORDER BY id LIMIT $2
"""
_OPEN_KINDS = "SELECT kind FROM alert WHERE integration = $1 AND tenant = $2 AND status = 'open'"
_RESOLVE = """
UPDATE alert SET status = 'resolved', resolved_at = $4
WHERE integration = $1 AND tenant = $2 AND status = 'open' AND kind = ANY($3::text[])
"""


async def evaluate_integration(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, now: dt.datetime
) -> tuple[list[str], list[str]]:
    """Open and resolve this integration's managed alerts; returns (opened, resolved)."""
    evidence = await health.gather(tenant_id, integration_id, now)
    if evidence is None:
        return [], []
    _, findings = health.assess(evidence, now)
    wanted: dict[str, tuple[str, str]] = {}
    for finding in findings:
        rule = RULES.get(finding.code)
        if rule is not None and finding.state != "healthy":
            wanted.setdefault(rule[0], (rule[1], finding.message))
    db = pool()
    open_kinds = {r["kind"] for r in await db.fetch(_OPEN_KINDS, integration_id, tenant_id)}
    opened = sorted(set(wanted) - open_kinds)
    for kind in opened:
        severity, message = wanted[kind]
        await Alert.insert(
            Alert(
                tenant=tenant_id,
                integration=integration_id,
                kind=kind,
                severity=severity,
                message=message,
                opened_at=now,
            )
        )
    resolved = sorted((open_kinds & MANAGED_KINDS) - set(wanted))
    if resolved:
        await db.execute(_RESOLVE, integration_id, tenant_id, resolved, now)
    return opened, resolved


async def evaluate_alerts(ctx: dict[str, Any]) -> int:
    """Worker cron: evaluate every active integration; returns how many alerts changed."""
    del ctx
    now, changed = utc_now(), 0
    after = uuid.UUID(int=0)
    while True:
        rows = await pool().fetch(_ACTIVE, after, _PAGE)
        for row in rows:
            try:
                opened, resolved = await evaluate_integration(row["tenant"], row["id"], now)
            except Exception:
                log.exception("could not evaluate alerts of an integration")
                continue
            changed += len(opened) + len(resolved)
        if len(rows) < _PAGE:
            return changed
        after = rows[-1]["id"]

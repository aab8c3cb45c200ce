"""An integration's health from evidence, not from its last check alone.

Evidence: the connection's state and last health check, token expiry, the last hour's
counters (signature failures, provider errors, rate limits, failed normalizations), the
latest processed events, the integration's usual event rate, and sync jobs. Each finding
is a reason with a code the alert rules act on; the state is the worst finding's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from backend.lib.db import pool
from backend.lib.vocab import HealthStatus, IntegrationStatus

# Rules' thresholds: within the last hour unless said otherwise.
CONSECUTIVE_FAILURES = 5  # the last N events processed all failed
SIGNATURE_SPIKE = 20  # forged or mis-signed deliveries
TOKEN_EXPIRY_WARNING = dt.timedelta(hours=24)
STUCK_SYNC_AFTER = dt.timedelta(hours=1)
# "No events for longer than expected": the expected gap is learned from the last 7 days
# (7 d / events), so a busy integration going quiet is noticed in minutes and a daily one
# in days; at least QUIET_MIN_EVENTS make a pattern, and a gap under QUIET_FLOOR is no news.
RATE_WINDOW = dt.timedelta(days=7)
QUIET_MIN_EVENTS = 10
QUIET_FACTOR = 4
QUIET_FLOOR = dt.timedelta(hours=1)
_ORDER = {"healthy": 0, "degraded": 1, "failing": 2, "needs_reauth": 3}
_FAILING_CHECKS = {HealthStatus.PROVIDER_DOWN, HealthStatus.NETWORK, HealthStatus.MISCONFIGURED}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # consecutive_failures, signature_failures, token_expiring, ...
    state: str  # the state this finding alone implies
    message: str


@dataclass(frozen=True, slots=True)
class Evidence:
    status: str
    health_status: str
    health_reason: str
    token_expires_at: dt.datetime | None
    counters: dict[str, int]  # last hour, "name" or "name:reason"
    recent_event_statuses: list[str]  # newest first, processed or failed only
    stuck_syncs: int
    accepted_7d: int = 0  # deliveries accepted in RATE_WINDOW
    last_event_at: dt.datetime | None = None


_INTEGRATION = """
SELECT status, health_status, health_reason, token_expires_at FROM integration
WHERE id = $1 AND tenant = $2
"""
_COUNTERS = """
SELECT name, reason, sum(value)::bigint AS n FROM integration_metric
WHERE integration = $1 AND tenant = $2 AND bucket_start >= $3
GROUP BY 1, 2
"""
_RECENT_EVENTS = """
SELECT status FROM integration_webhook
WHERE integration = $1 AND tenant = $2 AND status IN ('processed', 'failed', 'dead')
ORDER BY received_at DESC LIMIT $3
"""
_RATE = """
SELECT coalesce(sum(value), 0)::bigint FROM integration_metric
WHERE integration = $1 AND tenant = $2 AND bucket_start >= $3 AND name = 'webhooks_accepted'
"""
_LAST_EVENT = """
SELECT received_at FROM integration_webhook WHERE integration = $1 AND tenant = $2
ORDER BY received_at DESC LIMIT 1
"""
_STUCK_SYNCS = """
SELECT count(*) FROM integration_sync_job
WHERE integration = $1 AND tenant = $2 AND status = 'running' AND started_at < $3
"""


async def gather(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, now: dt.datetime
) -> Evidence | None:
    """The evidence for one of the tenant's integrations (None when it is not theirs)."""
    db = pool()
    row = await db.fetchrow(_INTEGRATION, integration_id, tenant_id)
    if row is None:
        return None
    counters: dict[str, int] = {}
    since = now - dt.timedelta(hours=1)
    for r in await db.fetch(_COUNTERS, integration_id, tenant_id, since):
        counters[r["name"]] = counters.get(r["name"], 0) + r["n"]
        if r["reason"]:
            counters[f"{r['name']}:{r['reason']}"] = r["n"]
    recent = await db.fetch(_RECENT_EVENTS, integration_id, tenant_id, CONSECUTIVE_FAILURES)
    stuck = await db.fetchval(_STUCK_SYNCS, integration_id, tenant_id, now - STUCK_SYNC_AFTER)
    accepted_7d = await db.fetchval(_RATE, integration_id, tenant_id, now - RATE_WINDOW)
    last_event_at = await db.fetchval(_LAST_EVENT, integration_id, tenant_id)
    return Evidence(
        status=row["status"],
        health_status=row["health_status"],
        health_reason=row["health_reason"],
        token_expires_at=row["token_expires_at"],
        counters=counters,
        recent_event_statuses=[r["status"] for r in recent],
        stuck_syncs=int(stuck or 0),
        accepted_7d=int(accepted_7d or 0),
        last_event_at=last_event_at,
    )


def _connection_findings(e: Evidence, now: dt.datetime) -> list[Finding]:
    found: list[Finding] = []
    if e.status == IntegrationStatus.NEEDS_REAUTH or e.health_status == HealthStatus.AUTH_FAILED:
        found.append(Finding("needs_reauth", "needs_reauth", "The provider refused our access."))
    elif e.health_status in _FAILING_CHECKS:
        found.append(
            Finding("health_check_failed", "failing", f"Last health check: {e.health_reason}")
        )
    elif e.health_status == HealthStatus.RATE_LIMITED:
        found.append(Finding("rate_limited", "degraded", "The provider is rate limiting us."))
    if e.token_expires_at is not None:
        if e.token_expires_at <= now:
            found.append(Finding("token_expired", "needs_reauth", "The access token expired."))
        elif e.token_expires_at - now <= TOKEN_EXPIRY_WARNING:
            hours = max(1, int((e.token_expires_at - now).total_seconds() // 3600))
            found.append(
                Finding("token_expiring", "degraded", f"The access token expires in {hours} h.")
            )
    return found


def expected_gap(accepted_7d: int) -> dt.timedelta | None:
    """How long a silence is still normal, or None without an established pattern."""
    if accepted_7d < QUIET_MIN_EVENTS:
        return None
    return max(QUIET_FLOOR, QUIET_FACTOR * RATE_WINDOW / accepted_7d)


def _quiet_findings(e: Evidence, now: dt.datetime) -> list[Finding]:
    gap = expected_gap(e.accepted_7d)
    if gap is None or e.last_event_at is None or now - e.last_event_at <= gap:
        return []
    silent = int((now - e.last_event_at).total_seconds() // 60)
    return [
        Finding(
            "no_events",
            "degraded",
            f"No events for {silent} min; usually one every "
            f"{max(1, int((RATE_WINDOW / e.accepted_7d).total_seconds() // 60))} min.",
        )
    ]


def _traffic_findings(e: Evidence) -> list[Finding]:
    found: list[Finding] = []
    c = e.counters
    recent = e.recent_event_statuses
    if len(recent) >= CONSECUTIVE_FAILURES and all(s != "processed" for s in recent):
        found.append(
            Finding(
                "consecutive_failures",
                "failing",
                f"The last {CONSECUTIVE_FAILURES} events all failed to process.",
            )
        )
    elif c.get("events_failed", 0):
        found.append(
            Finding("events_failed", "degraded", f"{c['events_failed']} events failed in 1 h.")
        )
    signatures = c.get("webhooks_rejected:signature", 0)
    if signatures >= SIGNATURE_SPIKE:
        found.append(
            Finding(
                "signature_failures",
                "degraded",
                f"{signatures} deliveries failed signature checks in 1 h.",
            )
        )
    calls, errors = c.get("api_calls", 0), c.get("api_errors", 0)
    if errors and errors >= calls / 2:
        found.append(
            Finding("api_errors", "failing", f"{errors} of {calls} provider calls failed in 1 h.")
        )
    elif errors:
        found.append(
            Finding("api_errors", "degraded", f"{errors} of {calls} provider calls failed in 1 h.")
        )
    if c.get("rate_limited", 0) and not any(f.code == "rate_limited" for f in found):
        found.append(
            Finding("rate_limited", "degraded", f"{c['rate_limited']} rate-limited calls in 1 h.")
        )
    if e.stuck_syncs:
        found.append(
            Finding("stuck_sync", "failing", f"{e.stuck_syncs} sync job(s) running for over 1 h.")
        )
    return found


def assess(evidence: Evidence, now: dt.datetime) -> tuple[str, list[Finding]]:
    """The state (healthy | degraded | failing | needs_reauth) and the findings behind it."""
    findings = (
        _connection_findings(evidence, now)
        + _traffic_findings(evidence)
        + _quiet_findings(evidence, now)
    )
    state = max((f.state for f in findings), key=_ORDER.__getitem__, default="healthy")
    return state, findings


def describe(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"code": f.code, "message": f.message} for f in findings]

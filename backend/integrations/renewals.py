"""Renewing provider subscriptions before they lapse (issue 15): a Gmail watch ends after
7 days, Calendar and Drive channels at their expiration, and nothing tells us when they
stop, so the worker re-registers each one a margin ahead of the `expires_at` its last
registration recorded.

A failed renewal opens a `subscription_renewal_failed` alert (the integration goes quiet
without one); the next successful renewal resolves it. Integrations with that alert open
are retried on every run, since their recorded registration is no longer `registered`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from backend.connectors.registry import get_provider
from backend.integrations import webhook_registration as registration
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.clock import utc_now
from backend.lib.db import pool
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import WebhookRegistrationStatus
from backend.observability.services import open_alert, resolve_alerts

log = logging.getLogger(__name__)

ALERT_KIND = "subscription_renewal_failed"
# A day ahead of a 7-day watch: a whole day of hourly retries before it lapses.
RENEWAL_MARGIN = dt.timedelta(hours=24)
_PAGE = 100

# Registered subscriptions expiring before $1, and those whose renewal failed (alert open);
# $4 is the registration's config key, $5 the alert kind.
_DUE = """
SELECT i.id, i.tenant FROM integration i
WHERE i.status IN ('connected', 'error', 'needs_reauth') AND i.id > $2
  AND (
    (i.config -> $4 ->> 'status' = 'registered'
     AND (i.config -> $4 ->> 'expires_at')::timestamptz < $1)
    OR EXISTS (
      SELECT 1 FROM alert a
      WHERE a.integration = i.id AND a.kind = $5 AND a.status = 'open'
    )
  )
ORDER BY i.id LIMIT $3
"""


async def renew_subscriptions(ctx: dict[str, Any] | None = None) -> dict[str, int]:
    """Worker cron: renew every subscription due within RENEWAL_MARGIN; returns counts."""
    del ctx
    from backend.oauth.services import get_oauth_flows

    oauth = get_oauth_flows()
    cutoff = utc_now() + RENEWAL_MARGIN
    counts = {"renewed": 0, "failed": 0}
    after = uuid.UUID(int=0)
    while True:
        rows = await pool().fetch(_DUE, cutoff, after, _PAGE, registration.KEY, ALERT_KIND)
        for row in rows:
            try:
                renewed = await renew_one(row["tenant"], row["id"], oauth)
            except Exception:
                log.exception("could not renew an integration's subscription")
                renewed = False
            counts["renewed" if renewed else "failed"] += 1
        if len(rows) < _PAGE:
            return counts
        after = rows[-1]["id"]


async def renew_one(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    oauth: registration.TokenRefresher | None = None,
) -> bool:
    """Re-register one integration's subscription; opens or resolves its alert."""
    scope = TenantScope(tenant_id, actor="worker")
    row = await scope.get(IntegrationRow, str(integration_id), "integration")
    name = get_provider(row["connector"]).spec.name
    try:
        fresh = await registration.register(scope, row, oauth)
    except Problem as exc:  # revoked or otherwise unable to register any more
        outcome: dict[str, Any] = {"status": WebhookRegistrationStatus.FAILED, "reason": exc.detail}
    else:
        outcome = registration.recorded(fresh) or {}
    if outcome.get("status") == WebhookRegistrationStatus.REGISTERED:
        await resolve_alerts(integration_id, ALERT_KIND)
        return True
    await open_alert(
        tenant_id,
        integration_id,
        ALERT_KIND,
        f"Renewing the {name} subscription failed: {outcome.get('reason', 'unknown reason')}. "
        "Notifications stop when it expires.",
        severity="error",
    )
    return False

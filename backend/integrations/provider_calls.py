"""Calling a provider for one integration from a background run (actions, syncs): the
adapter built as the integration says (its simulator with its faults in test mode), the
OAuth token refreshed before it expires and once after the provider refuses it, then
`needs_reauth`; transient failures (rate limits, 5xx, network) waited out with exponential
backoff and jitter that never undercuts the provider's Retry-After.

Both runners import these, so a refusal means the same thing whichever one met it.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from backend.connectors.base import Adapter
from backend.connectors.registry import Provider
from backend.integrations import secrets as sealed
from backend.integrations.adapters import build_adapter
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import FailureKind, IntegrationStatus
from backend.oauth.services import OAuthService, ReauthRequired, get_oauth_flows
from backend.observability.services import write_log
from backend.testmode.faults import FaultOwner

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 20.0
# Failures worth asking again: the provider may answer the same request later.
RETRIED = (FailureKind.RATE_LIMITED, FailureKind.PROVIDER_DOWN, FailureKind.NETWORK)
_EXPIRY_MARGIN = dt.timedelta(seconds=30)


class RefreshFailed(Exception):
    """The token could not be refreshed: `needs_reauth` when only a person reconnecting
    restores it (the integration is marked so), else the token endpoint failed."""

    def __init__(self, message: str, *, needs_reauth: bool) -> None:
        super().__init__(message)
        self.message = message
        self.needs_reauth = needs_reauth


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never shorter than the provider's Retry-After."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


def refreshable(provider: Provider, row: dict[str, Any]) -> bool:
    """Whether a refused token can be refreshed (an OAuth connector with stored tokens)."""
    return provider.spec.oauth is not None and row.get("credentials") is not None


async def adapter_for(provider: Provider, row: dict[str, Any]) -> Adapter:
    """The integration's adapter (its simulator with its faults in test mode)."""
    credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
    owner = FaultOwner(row["tenant"], row["id"])
    return build_adapter(provider, credentials, row["config"] or {}, row["test_mode"], owner)


async def fresh_row(
    scope: TenantScope,
    provider: Provider,
    row: dict[str, Any],
    redis: Any = None,
    flows: OAuthService | None = None,
) -> dict[str, Any]:
    """The row, its OAuth token refreshed first when it is about to expire.

    Raises `ReauthRequired` (a revoked grant) or `Problem` (the refresh could not be made)."""
    expires = row.get("token_expires_at")
    if provider.spec.oauth is None or expires is None:
        return row
    if expires > utc_now() + _EXPIRY_MARGIN:
        return row
    return await (flows or get_oauth_flows()).refresh(scope, row, redis=redis)


async def refresh_refused_token(
    scope: TenantScope,
    provider: Provider,
    row: dict[str, Any],
    during: str,
    redis: Any = None,
    flows: OAuthService | None = None,
) -> dict[str, Any]:
    """One refresh after the provider refused the token (shared with concurrent ones);
    `during` names the run in the log line when the integration needs reconnecting."""
    try:
        return await (flows or get_oauth_flows()).refresh(scope, row, redis=redis)
    except ReauthRequired as exc:
        raise RefreshFailed(exc.detail, needs_reauth=True) from None
    except Problem as exc:
        if exc.status == 409:  # no refresh token: only reconnecting renews it
            await mark_needs_reauth(scope, provider, row["id"], exc.detail, during)
            raise RefreshFailed(exc.detail, needs_reauth=True) from None
        raise RefreshFailed(exc.detail, needs_reauth=False) from None


async def mark_needs_reauth(
    scope: TenantScope,
    provider: Provider,
    integration_id: Any,
    reason: str,
    during: str,
    context: dict[str, Any] | None = None,
) -> None:
    """The provider refused fresh credentials: only a person reconnecting restores them."""
    await scope.update(
        IntegrationRow,
        {
            IntegrationRow.status: IntegrationStatus.NEEDS_REAUTH,
            IntegrationRow.updated_at: utc_now(),
        },
    ).where(
        (IntegrationRow.id == integration_id)
        & (IntegrationRow.status == IntegrationStatus.CONNECTED)
    )
    await write_log(
        scope.tenant_id,
        integration_id,
        "integration.needs_reauth",
        f"{provider.spec.name} refused the credentials during {during}: {reason}",
        level="error",
        context=context or {},
    )

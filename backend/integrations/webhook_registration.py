"""Registering an integration's webhook at the provider, where its API allows it (Telegram
setWebhook, GitHub repository hooks, Stripe webhook endpoints); every other connector is set
up by hand from the instructions in its spec.

The outcome lives in the integration's reserved config key `_webhook_registration` and is
shown as `webhook_registration`. A failed registration never undoes the connection: the
setup instructions still work by hand, and `POST /api/integrations/{id}/webhook/register`
tries again. Provider messages are kept, with our webhook URL (a secret path) masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from backend.connectors.base import Adapter, ProviderError
from backend.connectors.registry import Provider, get_provider
from backend.integrations import secrets as sealed
from backend.integrations.adapters import build_adapter
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import FailureKind, IntegrationStatus, WebhookRegistrationStatus
from backend.observability.services import write_log
from backend.settings import Settings, get_settings
from backend.testmode.faults import FaultOwner

KEY = "_webhook_registration"
# A token this close to expiry is refreshed before the registration call.
_EXPIRY_MARGIN = dt.timedelta(seconds=30)


class TokenRefresher(Protocol):
    async def refresh(self, scope: TenantScope, integration: dict[str, Any]) -> dict[str, Any]: ...


def webhook_url(settings: Settings, connector_id: str, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/webhooks/{connector_id}/{token}"


def supported(provider: Provider) -> bool:
    webhook = provider.spec.webhook
    return webhook is not None and webhook.auto_register


def recorded(row: dict[str, Any]) -> dict[str, Any] | None:
    value = (row["config"] or {}).get(KEY)
    return value if isinstance(value, dict) else None


def _manual_reason(provider: Provider, row: dict[str, Any], secrets: list[Any]) -> str | None:
    config = row["config"] or {}
    if config.get("register_webhook") is False:
        return "automatic registration is turned off (config.register_webhook is false)"
    webhook = provider.spec.webhook
    previous = recorded(row) or {}
    if (
        webhook is not None
        and webhook.signing_secret_source == "user"
        # An app-level secret (Gmail's Pub/Sub audience) says nothing about the watch.
        and not webhook.app_level
        and secrets
        and not previous.get("provider_id")
    ):
        return "a signing secret was supplied, so the webhook is managed by hand"
    return None


async def register(
    scope: TenantScope, row: dict[str, Any], oauth: TokenRefresher | None = None
) -> dict[str, Any]:
    """Create or update the webhook at the provider and record the outcome; returns the row."""
    provider = get_provider(row["connector"])
    if not supported(provider):
        raise Problem(
            409,
            f"{provider.spec.name} webhooks are set up by hand: follow setup_instructions.",
        )
    if row["status"] in (IntegrationStatus.REVOKED, IntegrationStatus.PENDING):
        raise Problem(409, f"A {row['status']} integration cannot register a webhook.")
    current = await sealed.open_signing_secrets(row["tenant"], row["id"], row["webhook_secrets"])
    previous = recorded(row) or {}
    manual = _manual_reason(provider, row, current)
    values: dict[Any, Any] = {}
    if manual:
        outcome: dict[str, Any] = {"status": WebhookRegistrationStatus.MANUAL, "reason": manual}
    else:
        token = await sealed.open_token(row["tenant"], row["id"], row["webhook_token_sealed"])
        url = webhook_url(get_settings(), row["connector"], token or "")
        live = sealed.live_secrets(current)
        try:
            adapter = await _adapter(scope, row, provider, oauth)
            done = await adapter.register_webhook(
                url, live[0] if live else None, previous.get("provider_id")
            )
        except (KeyError, ValueError, TypeError) as exc:
            # An answer without the documented fields: recorded, never a 500 after connecting.
            outcome = {
                "status": WebhookRegistrationStatus.FAILED,
                "reason": f"unexpected answer from the provider ({type(exc).__name__})",
                "provider_id": previous.get("provider_id"),
            }
        except (ProviderError, Problem) as exc:
            misconfigured = isinstance(exc, ProviderError) and exc.kind == FailureKind.MISCONFIGURED
            outcome = {
                "status": (
                    WebhookRegistrationStatus.MANUAL
                    if misconfigured
                    else WebhookRegistrationStatus.FAILED
                ),
                "reason": _reason(exc).replace(url, "{webhook_url}"),
                "provider_id": previous.get("provider_id"),
            }
        else:
            outcome = {
                "status": WebhookRegistrationStatus.REGISTERED,
                "reason": f"registered as {done.description}",
                "provider_id": done.provider_id,
            }
            if done.expires_at is not None:
                # Read by the renewal cron (backend/integrations/renewals.py).
                outcome["expires_at"] = done.expires_at.isoformat()
            if done.signing_secret:
                values[IntegrationRow.webhook_secrets] = await sealed.seal_signing_secrets(
                    row["tenant"], row["id"], sealed.rotate(current, done.signing_secret)
                )
    return await _record(scope, row, outcome, values)


async def unregister(
    scope: TenantScope, row: dict[str, Any], oauth: TokenRefresher | None = None
) -> dict[str, Any] | None:
    """Remove the webhook we registered (before revoking). Returns the outcome to record,
    or None when there was nothing to remove. Never raises: revocation goes on regardless."""
    previous = recorded(row) or {}
    provider_id = previous.get("provider_id")
    if previous.get("status") != WebhookRegistrationStatus.REGISTERED or not provider_id:
        return None
    provider = get_provider(row["connector"])
    outcome: dict[str, Any] = {
        "status": WebhookRegistrationStatus.REMOVED,
        "provider_id": provider_id,
    }
    try:
        adapter = await _adapter(scope, row, provider, oauth)
        await adapter.unregister_webhook(str(provider_id))
    except (ProviderError, Problem) as exc:
        reason = f"could not remove it at the provider: {_reason(exc)}"
        outcome.update(status=WebhookRegistrationStatus.FAILED, reason=reason)
    else:
        outcome["reason"] = f"removed at {provider.spec.name}"
    outcome["at"] = utc_now().isoformat()
    return outcome


async def _adapter(
    scope: TenantScope, row: dict[str, Any], provider: Provider, oauth: TokenRefresher | None
) -> Adapter:
    """The integration's adapter, its OAuth token refreshed first when about to expire."""
    expires = row.get("token_expires_at")
    if oauth is not None and expires is not None and expires <= utc_now() + _EXPIRY_MARGIN:
        row = await oauth.refresh(scope, row)
    credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
    owner = FaultOwner(row["tenant"], row["id"])
    return build_adapter(provider, credentials, row["config"] or {}, row["test_mode"], owner)


def _reason(exc: ProviderError | Problem) -> str:
    return exc.message if isinstance(exc, ProviderError) else exc.detail


async def _record(
    scope: TenantScope, row: dict[str, Any], outcome: dict[str, Any], values: dict[Any, Any]
) -> dict[str, Any]:
    outcome["at"] = utc_now().isoformat()
    fresh = await scope.get(IntegrationRow, str(row["id"]), "integration")
    config = {**(fresh["config"] or {}), KEY: outcome}
    values = {**values, IntegrationRow.config: config, IntegrationRow.updated_at: utc_now()}
    async with IntegrationRow._meta.db.transaction():
        await scope.update(IntegrationRow, values).where(IntegrationRow.id == row["id"])
        await log_outcome(scope, row, outcome)
    return await scope.get(IntegrationRow, str(row["id"]), "integration")


async def log_outcome(scope: TenantScope, row: dict[str, Any], outcome: dict[str, Any]) -> None:
    """One integration_log entry per registration outcome, e.g. webhook.registration.failed."""
    await write_log(
        scope.tenant_id,
        row["id"],
        f"webhook.registration.{outcome['status']}",
        f"webhook registration {outcome['status']}: {outcome['reason']}",
        level="warning" if outcome["status"] == "failed" else "info",
        context={"provider_id": outcome.get("provider_id")},
    )

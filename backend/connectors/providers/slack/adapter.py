"""Slack health: auth.test. Slack reports most failures as HTTP 200 with `ok: false`."""

from __future__ import annotations

import httpx

from backend.connectors.base import Adapter, HealthResult, ProviderError, parse_retry_after
from backend.connectors.providers.slack.spec import SPEC

_AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}
)


class SlackAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return await self.health_via("POST", "auth.test")

    def classify(self, response: httpx.Response) -> ProviderError | None:
        status = response.status_code
        error = _slack_error(response)
        if status == 429 or error == "ratelimited":
            return ProviderError(
                "rate_limited",
                "the provider is rate limiting requests",
                status_code=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            return super().classify(response)
        if error is None:
            return None
        if error in _AUTH_ERRORS:
            return ProviderError(
                "auth_failed",
                f"the provider rejected the credentials ({error})",
                status_code=status,
            )
        return ProviderError("bad_request", f"the provider answered {error}", status_code=status)

    async def revoke(self) -> bool:
        await self.call("POST", "auth.revoke")
        return True


def _slack_error(response: httpx.Response) -> str | None:
    """Slack's `error` code when `ok` is false; None when the call succeeded."""
    try:
        body = response.json()
    except ValueError:
        return None if response.status_code < 400 else "invalid_response"
    if not isinstance(body, dict) or body.get("ok", True):
        return None
    # Error codes are short identifiers (never secrets); cap them anyway before echoing.
    return str(body.get("error", "unknown_error"))[:64]

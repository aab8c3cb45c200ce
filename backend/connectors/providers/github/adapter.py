"""GitHub health: GET /user. Rate limits come as 403 or 429 and are told apart from
permission errors by x-ratelimit-remaining and Retry-After."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from backend.connectors.base import Adapter, HealthResult, ProviderError, parse_retry_after
from backend.connectors.providers.github.spec import SPEC

_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# GitHub asks to wait at least a minute after a secondary limit without Retry-After.
_SECONDARY_WAIT = 60.0


class GitHubAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        return {**_HEADERS, **super().auth_headers()}

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "/user")

    def classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code in (403, 429):
            retry_after = _rate_limit_wait(response)
            if retry_after is not None:
                return ProviderError(
                    "rate_limited",
                    "the provider is rate limiting requests",
                    status_code=response.status_code,
                    retry_after=retry_after,
                )
        return super().classify(response)

    async def revoke(self) -> bool:
        """Delete the whole grant; needs the OAuth app's own client id and secret."""
        client_id = self.ctx.config.get("oauth_client_id")
        client_secret = self.ctx.config.get("oauth_client_secret")
        token = self.ctx.credentials.get("access_token")
        if not (client_id and client_secret and token):
            return False
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        body: dict[str, Any] = {"access_token": token}
        await self.call(
            "DELETE",
            f"/applications/{client_id}/grant",
            json=body,
            headers={"Authorization": f"Basic {basic}"},
        )
        return True


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait when the answer is a rate limit; None for a permission error."""
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if retry_after is not None:
        return retry_after
    if response.headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(response.headers.get("x-ratelimit-reset", ""))
        except ValueError:
            return _SECONDARY_WAIT
        return max(0.0, reset - time.time())
    if response.status_code == 429 or b"rate limit" in response.content.lower():
        return _SECONDARY_WAIT
    return None

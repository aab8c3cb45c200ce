"""WhatsApp health: read the phone number's display name with the access token.

Graph reports throttling and bad tokens by error code, sometimes under HTTP 400, so the
body's `error.code` decides rather than the status alone.
"""

from __future__ import annotations

import httpx

from backend.connectors.base import Adapter, HealthResult, ProviderError, parse_retry_after
from backend.connectors.providers.whatsapp.spec import SPEC

# https://developers.facebook.com/docs/graph-api/guides/error-handling
_AUTH_CODES = frozenset({102, 190})
_THROTTLE_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})


class WhatsAppAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        phone_number_id = str(self.ctx.credentials.get("phone_number_id", ""))
        if not phone_number_id.isdigit():
            return HealthResult(False, "misconfigured", "the phone number ID must be digits")
        return await self.health_via(
            "GET", phone_number_id, params={"fields": "display_phone_number,verified_name"}
        )

    def classify(self, response: httpx.Response) -> ProviderError | None:
        status = response.status_code
        if status < 400:
            return None
        code = _graph_error_code(response)
        if status == 429 or code in _THROTTLE_CODES:
            return ProviderError(
                "rate_limited",
                "the provider is rate limiting requests",
                status_code=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if code in _AUTH_CODES:
            return ProviderError(
                "auth_failed", "the provider rejected the credentials", status_code=status
            )
        return super().classify(response)


def _graph_error_code(response: httpx.Response) -> int | None:
    try:
        code = response.json().get("error", {}).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None

"""Stripe health: the balance, readable by any secret key and by restricted keys granted it.
Webhooks: Stripe's webhook endpoints API creates the endpoint and issues its signing secret.

Stripe keys cannot be revoked through the API (only rolled in the Dashboard): no `revoke`.
"""

from __future__ import annotations

import httpx

from backend.connectors.base import Adapter, HealthResult, ProviderError, WebhookRegistration
from backend.connectors.providers.stripe.spec import SPEC

# Every event: unknown types are kept with a generic envelope, so nothing is lost.
_DEFAULT_EVENTS = ("*",)


class StripeAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.credentials.get('secret_key', '')}"}

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "/v1/balance")

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """Create the endpoint (its whsec_ secret comes back once, on creation), or move an
        existing one to the new URL, keeping its secret."""
        path = f"/v1/webhook_endpoints/{existing_id}"
        # An endpoint deleted in the Dashboard answers 404: it is created again below.
        if existing_id and await self.call_if_exists("POST", path, data={"url": url}):
            return WebhookRegistration(existing_id, f"webhook endpoint {existing_id}")
        events = self.ctx.config.get("webhook_events") or list(_DEFAULT_EVENTS)
        response = await self.call(
            "POST",
            "/v1/webhook_endpoints",
            data={"url": url, "enabled_events[]": events, "description": "Switchboard"},
        )
        endpoint = response.json()
        return WebhookRegistration(
            str(endpoint["id"]),
            f"webhook endpoint {endpoint['id']}",
            signing_secret=str(endpoint["secret"]),
        )

    async def unregister_webhook(self, provider_id: str) -> None:
        await self.call_if_exists("DELETE", f"/v1/webhook_endpoints/{provider_id}")

    def classify(self, response: httpx.Response) -> ProviderError | None:
        error = super().classify(response)
        if error is not None and error.kind == "bad_request":
            return ProviderError("bad_request", _message(response), status_code=error.status_code)
        return error


def _message(response: httpx.Response) -> str:
    """Stripe's {"error": {"message": ...}}; its messages name no secret."""
    try:
        text = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        text = None
    if isinstance(text, str):
        return f"Stripe answered: {text[:300]}"
    return f"Stripe answered {response.status_code}"

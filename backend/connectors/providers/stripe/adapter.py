"""Stripe health: the balance, readable by any secret key and by restricted keys granted it.

Stripe keys cannot be revoked through the API (only rolled in the Dashboard): no `revoke`.
"""

from backend.connectors.base import Adapter, HealthResult
from backend.connectors.providers.stripe.spec import SPEC


class StripeAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.credentials.get('secret_key', '')}"}

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "/v1/balance")

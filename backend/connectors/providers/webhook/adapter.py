"""Generic webhook: there is no provider API, so there is nothing that can be unhealthy."""

from backend.connectors.base import Adapter, HealthResult
from backend.connectors.providers.webhook.spec import SPEC


class GenericWebhookAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return HealthResult(True, "healthy", "no provider API to check; webhooks are verified")

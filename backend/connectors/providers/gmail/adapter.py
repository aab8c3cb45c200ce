"""Gmail health: the mailbox profile is the cheapest call every Gmail scope may make."""

from backend.connectors.base import HealthResult
from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.gmail.spec import SPEC


class GmailAdapter(GoogleAdapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "/gmail/v1/users/me/profile")

"""Google Drive health: about.get limited to the user field (Drive requires `fields` here)."""

from backend.connectors.base import HealthResult
from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.google_drive.spec import SPEC


class GoogleDriveAdapter(GoogleAdapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "about", params={"fields": "user"})

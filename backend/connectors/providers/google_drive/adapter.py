"""Google Drive: its spec, the Google family's shared module, and the changes.watch channel,
which starts at the current startPageToken (changes.getStartPageToken) so a new channel
reports changes from now on."""

from backend.connectors.base import json_object
from backend.connectors.providers._google import (
    ChannelWatchAdapter,
    required_str,
)
from backend.connectors.providers.google_drive.spec import SPEC


class GoogleDriveAdapter(ChannelWatchAdapter):
    spec = SPEC

    async def watch_target(self) -> tuple[str, dict[str, str]]:
        body = json_object(await self.call("GET", "changes/startPageToken"))
        return "changes/watch", {"pageToken": required_str(body, "startPageToken")}

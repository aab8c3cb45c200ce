"""Google Drive: everything is data in its spec and the Google family's shared module."""

from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.google_drive.spec import SPEC


class GoogleDriveAdapter(GoogleAdapter):
    spec = SPEC

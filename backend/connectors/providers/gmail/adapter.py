"""Gmail: everything is data in its spec and the Google family's shared module."""

from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.gmail.spec import SPEC


class GmailAdapter(GoogleAdapter):
    spec = SPEC

"""Google Calendar: everything is data in its spec and the Google family's shared module."""

from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.google_calendar.spec import SPEC


class GoogleCalendarAdapter(GoogleAdapter):
    spec = SPEC

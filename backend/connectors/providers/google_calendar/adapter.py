"""Google Calendar: its spec, the Google family's shared module, and the events.watch channel
on the integration's calendar (config `calendar_id`, default the user's primary)."""

from urllib.parse import quote

from backend.connectors.providers._google import ChannelWatchAdapter
from backend.connectors.providers.google_calendar.spec import SPEC


class GoogleCalendarAdapter(ChannelWatchAdapter):
    spec = SPEC

    async def watch_target(self) -> tuple[str, dict[str, str]]:
        calendar = self.ctx.config.get("calendar_id")
        calendar_id = calendar if isinstance(calendar, str) and calendar else "primary"
        return f"calendars/{quote(calendar_id, safe='@')}/events/watch", {}

"""Google Calendar health: one calendar-list entry is the cheapest authenticated read."""

from backend.connectors.base import HealthResult
from backend.connectors.providers._google import GoogleAdapter
from backend.connectors.providers.google_calendar.spec import SPEC


class GoogleCalendarAdapter(GoogleAdapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "users/me/calendarList", params={"maxResults": 1})

"""Google Calendar push over HTTP: channel token, resource state, the initial sync."""

from __future__ import annotations

from .google_push import check_notification, check_sync_and_rejections


async def test_change_notification(hooks, tenant, make_integration) -> None:
    await check_notification(
        hooks, tenant, make_integration, "google_calendar", "exists__event_changed.json", "exists"
    )


async def test_sync_is_acknowledged_and_forgeries_rejected(hooks, tenant, make_integration):
    await check_sync_and_rejections(hooks, tenant, make_integration, "google_calendar")

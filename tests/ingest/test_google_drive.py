"""Google Drive push over HTTP: changes and file watches, the initial sync."""

from __future__ import annotations

import pytest

from .google_push import check_notification, check_sync_and_rejections


@pytest.mark.parametrize(
    ("name", "state"),
    [("change__files_changed.json", "change"), ("update__file_content.json", "update")],
)
async def test_change_notification(hooks, tenant, make_integration, name, state) -> None:
    await check_notification(hooks, tenant, make_integration, "google_drive", name, state)


async def test_sync_is_acknowledged_and_forgeries_rejected(hooks, tenant, make_integration):
    await check_sync_and_rejections(hooks, tenant, make_integration, "google_drive")

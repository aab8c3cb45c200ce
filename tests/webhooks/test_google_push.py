"""Google Calendar and Drive push channels: token, channel id, expiration, sync handshake."""

from __future__ import annotations

import json

import pytest

from backend.connectors.base import Reply, WebhookVerificationError

from .helpers import NOW, fixture, handler, request, secrets

TOKEN = "398348u3tu83ut8uu38"  # the channel token of Google's documentation example


def headers_of(provider: str, name: str) -> dict[str, str]:
    """Google push fixtures are the headers of the notification (its body is empty)."""
    return json.loads(fixture(provider, name))


CASES = [
    (
        "google_calendar",
        "exists__event_changed.json",
        "4ba78bf0-6a47-11e2-bcfd-0800200c9a66:10",
        "exists",
    ),
    ("google_drive", "change__files_changed.json", "01234567-89ab-cdef-0123456789ab:42", "change"),
    ("google_drive", "update__file_content.json", "01234567-89ab-cdef-0123456789ab:43", "update"),
]


@pytest.mark.parametrize(("provider", "name", "event_id", "event_type"), CASES)
async def test_notifications_verify(
    provider: str, name: str, event_id: str, event_type: str
) -> None:
    headers = headers_of(provider, name)
    config = {"channel_id": headers["x-goog-channel-id"]}
    delivery = await handler(provider).verify(request(b"", headers), secrets(TOKEN, config=config))
    assert (delivery.event_id, delivery.event_type, delivery.store) == (event_id, event_type, True)


@pytest.mark.parametrize("provider", ["google_calendar", "google_drive"])
async def test_sync_is_acknowledged_not_stored(provider: str) -> None:
    headers = headers_of("google_calendar", "sync__watch_started.json")
    delivery = await handler(provider).verify(request(b"", headers), secrets(TOKEN))
    assert delivery.store is False and delivery.reply == Reply(200, b"")


@pytest.mark.parametrize("provider", ["google_calendar", "google_drive"])
async def test_rejections(provider: str) -> None:
    good = headers_of("google_calendar", "exists__event_changed.json")
    hook = handler(provider)
    assert await hook.verify(request(b"", good), secrets("new-token", TOKEN))
    cases = [
        ({**good, "x-goog-channel-token": "guess"}, {}, "mismatch"),
        ({k: v for k, v in good.items() if k != "x-goog-channel-token"}, {}, "missing"),
        (good, {"channel_id": "another-channel"}, "unknown X-Goog-Channel-ID"),
        ({**good, "x-goog-channel-expiration": "Tue, 19 Nov 2013 01:13:52 GMT"}, {}, "expired"),
        ({**good, "x-goog-channel-expiration": "someday"}, {}, "malformed"),
        ({**good, "x-goog-message-number": "ten"}, {}, "malformed"),
        ({k: v for k, v in good.items() if k != "x-goog-resource-state"}, {}, "missing"),
    ]
    for headers, config, reason in cases:
        with pytest.raises(WebhookVerificationError, match=reason) as info:
            await hook.verify(request(b"", headers, received_at=NOW), secrets(TOKEN, config=config))
        assert TOKEN not in info.value.reason
    with pytest.raises(WebhookVerificationError, match="no signing secret"):
        await hook.verify(request(b"", good), secrets())


def test_normalize() -> None:
    calendar = handler("google_calendar").normalize(
        b"", headers_of("google_calendar", "exists__event_changed.json")
    )
    assert calendar.type == "exists"
    assert calendar.subject.startswith("https://www.googleapis.com/calendar/v3/calendars/")
    assert (
        calendar.data["message_number"] == 10
        and calendar.data["resource_id"] == "ret08u3rv24htgh289g"
    )
    assert "x-goog-channel-token" not in handler("google_calendar").stored_headers
    drive = handler("google_drive").normalize(
        b"", headers_of("google_drive", "update__file_content.json")
    )
    assert drive.type == "update" and drive.data["changed"] == ["content", "properties"]

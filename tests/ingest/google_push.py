"""Shared by the Google Calendar and Drive modules: push notifications carry only headers."""

from __future__ import annotations

import json
from typing import Any

from .support import fixture

TOKEN = "398348u3tu83ut8uu38"  # the channel token of Google's documentation example


def headers_of(provider: str, name: str, **overrides: str) -> dict[str, str]:
    headers = json.loads(fixture(provider, name))
    headers.pop("content-length")
    headers.update(overrides)
    return headers


async def check_notification(
    hooks: Any, tenant: Any, make_integration: Any, provider: str, name: str, state: str
) -> None:
    headers = headers_of(provider, name)
    channel = headers["x-goog-channel-id"]
    integration = await make_integration(
        tenant, provider, signing_secrets=(TOKEN,), config={"channel_id": channel}
    )
    event_id = f"{channel}:{headers['x-goog-message-number']}"
    row = await hooks.accept(integration, b"", headers, event_id=event_id, event_type=state)
    assert "x-goog-channel-token" not in row["headers"]  # the token is a secret
    _, envelope = await hooks.normalized(row, provider, state)
    assert envelope["data"]
    await hooks.duplicate(integration, b"", headers, row)


async def check_sync_and_rejections(hooks: Any, tenant: Any, make_integration: Any, provider: str):
    sync = headers_of("google_calendar", "sync__watch_started.json")
    integration = await make_integration(
        tenant, provider, signing_secrets=(TOKEN,), config={"channel_id": sync["x-goog-channel-id"]}
    )
    response = await hooks.post(integration, b"", sync)
    assert response.status_code == 200 and response.content == b""
    assert await hooks.events(integration) == []
    exists = headers_of("google_calendar", "exists__event_changed.json")
    await hooks.reject(integration, b"", {**exists, "x-goog-channel-token": "guessed"})
    no_token = {k: v for k, v in exists.items() if k != "x-goog-channel-token"}
    await hooks.reject(integration, b"", no_token, reason="missing X-Goog-Channel-Token")
    await hooks.reject(integration, b"", {**exists, "x-goog-channel-id": "another-channel"})
    expired = {**exists, "x-goog-channel-expiration": "Tue, 19 Nov 2013 01:13:52 GMT"}
    await hooks.reject(integration, b"", expired, reason="expired")
    # A sync message with a wrong token is not acknowledged either.
    await hooks.reject(integration, b"", {**sync, "x-goog-channel-token": "guessed"})

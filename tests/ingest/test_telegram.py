"""Telegram over HTTP: X-Telegram-Bot-Api-Secret-Token, dedupe on update_id."""

from __future__ import annotations

import pytest

from .support import fixture

SECRET = "s3cr3t_Token-for-setWebhook_0123456789"
CASES = [
    ("update__message.json", "10000", "message"),
    ("update__edited_message.json", "10001", "edited_message"),
    ("update__callback_query.json", "10002", "callback_query"),
]


def headers(token: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": token}


@pytest.mark.parametrize(("name", "update_id", "kind"), CASES)
async def test_update_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, update_id, kind
) -> None:
    integration = await make_integration(tenant, "telegram", signing_secrets=(SECRET,))
    body = fixture("telegram", name)
    row = await hooks.accept(integration, body, headers(), event_id=update_id, event_type=kind)
    _, envelope = await hooks.normalized(row, "telegram", kind)
    assert envelope["data"]["update_id"] == int(update_id)
    await hooks.duplicate(integration, body, headers(), row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "telegram", signing_secrets=(SECRET,))
    body = fixture("telegram", "update__message.json")
    await hooks.reject(integration, body, headers("not-the-token"))
    await hooks.reject(integration, body, headers(SECRET + "x"))
    await hooks.reject(integration, body, {"Content-Type": "application/json"})
    await hooks.reject(integration, b'{"message": {}}', headers())  # no update_id

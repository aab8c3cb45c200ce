"""WhatsApp (Meta) over HTTP: X-Hub-Signature-256 with the app secret; the GET handshake."""

from __future__ import annotations

import pytest
from webhooks.helpers import hub_signature

from .support import assert_problem, fixture

APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "meatyhamhock"
CASES = [
    (
        "messages__text.json",
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "message.text",
    ),
    ("messages__image.json", None, "message.image"),
    ("statuses__delivered.json", None, "status.delivered"),
]


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": hub_signature(secret, body)}


async def make(make_integration, tenant):
    return await make_integration(
        tenant, "whatsapp", signing_secrets=(APP_SECRET,), config={"verify_token": VERIFY_TOKEN}
    )


@pytest.mark.parametrize(("name", "event_id", "event_type"), CASES)
async def test_delivery_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, event_id, event_type
) -> None:
    integration = await make(make_integration, tenant)
    body = fixture("whatsapp", name)
    row = await hooks.accept(
        integration, body, signed(body), event_id=event_id, event_type=event_type
    )
    assert row["provider_event_id"].startswith("wamid.")
    await hooks.normalized(row, "whatsapp", event_type)
    await hooks.duplicate(integration, body, signed(body), row)


async def test_subscription_handshake(hooks, tenant, make_integration) -> None:
    integration = await make(make_integration, tenant)
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": VERIFY_TOKEN,
    }
    ok = await hooks.client.get(integration.path, params=params)
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await hooks.client.get(integration.path, params={**params, "hub.verify_token": "nope"})
    assert_problem(wrong, 403, "signature-invalid")
    assert await hooks.events(integration) == []


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make(make_integration, tenant)
    body = fixture("whatsapp", "messages__text.json")
    await hooks.reject(integration, body.replace(b"Sheena", b"Shawna"), signed(body))
    await hooks.reject(integration, body, signed(body, "the-verify-token-is-not-the-secret"))
    await hooks.reject(integration, body, {"Content-Type": "application/json"})
    sha1 = {"X-Hub-Signature": hub_signature(APP_SECRET, body)}
    await hooks.reject(integration, body, sha1, reason="missing X-Hub-Signature-256")

"""WhatsApp Cloud API: X-Hub-Signature-256 with the app secret, GET verify-token handshake."""

from __future__ import annotations

import pytest

from backend.connectors.base import Reply, WebhookVerificationError

from .helpers import fixture, handler, hub_signature, request, secrets

WHATSAPP = handler("whatsapp")
APP_SECRET = "6f1c0a5e3b2d4c8e9a7b1c2d3e4f5a6b"
OLD_SECRET = "a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1"
CONFIG = {"verify_token": "meatyhamhock-42"}


def wa_request(body: bytes, secret: str = APP_SECRET):
    headers = {
        "X-Hub-Signature-256": hub_signature(secret, body),
        "Content-Type": "application/json",
    }
    return request(body, headers)


@pytest.mark.parametrize(
    ("name", "event_id", "event_type"),
    [
        (
            "messages__text.json",
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            "message.text",
        ),
        (
            "messages__image.json",
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUNCNjM0ODI4RkI4RDdGN0FBMgA=",
            "message.image",
        ),
        (
            "statuses__delivered.json",
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA:delivered",
            "status.delivered",
        ),
    ],
)
async def test_fixtures_verify(name: str, event_id: str, event_type: str) -> None:
    delivery = await WHATSAPP.verify(wa_request(fixture("whatsapp", name)), secrets(APP_SECRET))
    assert (delivery.event_id, delivery.event_type) == (event_id, event_type)


async def test_other_fields_have_no_id() -> None:
    body = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":'
        b'[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}'
    )
    delivery = await WHATSAPP.verify(wa_request(body), secrets(APP_SECRET))
    assert (delivery.event_id, delivery.event_type) == (None, "account_update")


async def test_rotation_and_rejections() -> None:
    body = fixture("whatsapp", "messages__text.json")
    assert await WHATSAPP.verify(wa_request(body, OLD_SECRET), secrets(APP_SECRET, OLD_SECRET))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await WHATSAPP.verify(wa_request(body, OLD_SECRET), secrets(APP_SECRET))
    good = wa_request(body)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await WHATSAPP.verify(request(body[:-2] + b"}}", good.headers), secrets("x"))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await WHATSAPP.verify(request(body + b" ", good.headers), secrets(APP_SECRET))
    with pytest.raises(WebhookVerificationError, match="missing"):
        await WHATSAPP.verify(request(body, {}), secrets(APP_SECRET))
    for value in ("sha1=abc", "sha256=", "sha256=" + "g" * 64):
        with pytest.raises(WebhookVerificationError, match="malformed"):
            await WHATSAPP.verify(
                request(body, {"x-hub-signature-256": value}), secrets(APP_SECRET)
            )


async def test_handshake() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "meatyhamhock-42",
        "hub.challenge": "1158201444",
    }
    reply = await WHATSAPP.handshake(
        request(method="GET", query=query), secrets(APP_SECRET, config=CONFIG)
    )
    assert reply == Reply(200, b"1158201444")
    for bad in (
        {**query, "hub.verify_token": "wrong"},
        {**query, "hub.mode": "unsubscribe"},
        {k: v for k, v in query.items() if k != "hub.challenge"},
        {k: v for k, v in query.items() if k != "hub.verify_token"},
    ):
        with pytest.raises(WebhookVerificationError) as info:
            await WHATSAPP.handshake(request(method="GET", query=bad), secrets(config=CONFIG))
        assert "meatyhamhock" not in info.value.reason
    with pytest.raises(WebhookVerificationError, match="no verify_token"):
        await WHATSAPP.handshake(request(method="GET", query=query), secrets(APP_SECRET))


def test_normalize_messages_and_statuses() -> None:
    text = WHATSAPP.normalize(fixture("whatsapp", "messages__text.json"), {})
    assert text.type == "message.text"
    assert text.data["text"] == "Does it come in another color?"
    assert text.data["from"] == "16505551234" and text.data["contact_name"] == "Sheena Nelson"
    assert text.data["phone_number_id"] == "106540352242922"
    assert text.time is not None and int(text.time.timestamp()) == 1749416383
    image = WHATSAPP.normalize(fixture("whatsapp", "messages__image.json"), {})
    assert image.data["media_id"] == "1003383421387256"
    assert image.data["text"] == "Here is the damaged item"
    status = WHATSAPP.normalize(fixture("whatsapp", "statuses__delivered.json"), {})
    assert status.type == "status.delivered"
    assert status.data["recipient_id"] == "16505551234"
    assert status.data["conversation_id"] == "2e6e4f08e2c3b3e1d1a4c0c5c3c1b2a1"
    other = WHATSAPP.normalize(
        b'{"entry":[{"changes":[{"field":"x","value":{}}]}],"object":"o"}', {}
    )
    assert other.type == "x" and other.data == {"object": "o"}

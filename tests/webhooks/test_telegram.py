"""Telegram: the secret token header must equal a signing secret; type = the update's kind."""

from __future__ import annotations

import pytest

from backend.connectors.base import WebhookVerificationError

from .helpers import fixture, handler, request, secrets

TELEGRAM = handler("telegram")
TOKEN = "sb_tg-Secret_Token-0123456789"
OLD_TOKEN = "sb_tg-previous-token"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def tg_request(body: bytes, token: str = TOKEN):
    return request(body, {HEADER: token, "Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("name", "update_id", "kind"),
    [
        ("update__message.json", "10000", "message"),
        ("update__edited_message.json", "10001", "edited_message"),
        ("update__callback_query.json", "10002", "callback_query"),
    ],
)
async def test_fixtures_verify(name: str, update_id: str, kind: str) -> None:
    delivery = await TELEGRAM.verify(tg_request(fixture("telegram", name)), secrets(TOKEN))
    assert (delivery.event_id, delivery.event_type) == (update_id, kind)


async def test_rotation_and_rejections() -> None:
    body = fixture("telegram", "update__message.json")
    assert await TELEGRAM.verify(tg_request(body, OLD_TOKEN), secrets(TOKEN, OLD_TOKEN))
    for token in (OLD_TOKEN, TOKEN + "x", "", "é"):
        with pytest.raises(WebhookVerificationError) as info:
            await TELEGRAM.verify(tg_request(body, token), secrets(TOKEN))
        assert TOKEN not in info.value.reason
    with pytest.raises(WebhookVerificationError, match="missing"):
        await TELEGRAM.verify(request(body, {}), secrets(TOKEN))
    with pytest.raises(WebhookVerificationError, match="no signing secret"):
        await TELEGRAM.verify(tg_request(body), secrets())


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b'{"message":{}}', b'{"update_id":"12"}', b'{"update_id":1.5}']
)
async def test_malformed_updates(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        await TELEGRAM.verify(tg_request(body), secrets(TOKEN))


def test_normalize_message() -> None:
    event = TELEGRAM.normalize(fixture("telegram", "update__message.json"), {})
    assert event.type == "message"
    assert event.subject == "1111111"
    assert event.time is not None and int(event.time.timestamp()) == 1441645532
    assert event.data == {
        "update_id": 10000,
        "message_id": 1365,
        "chat_id": "1111111",
        "chat_type": "private",
        "from_id": "1111111",
        "from_username": "Testusername",
        "text": "/start",
    }


def test_normalize_edited_and_callback() -> None:
    edited = TELEGRAM.normalize(fixture("telegram", "update__edited_message.json"), {})
    assert edited.type == "edited_message" and edited.data["text"] == "/start now"
    assert edited.time is not None and int(edited.time.timestamp()) == 1441645600
    callback = TELEGRAM.normalize(fixture("telegram", "update__callback_query.json"), {})
    assert callback.type == "callback_query"
    assert callback.data["data"] == "vote:yes" and callback.data["chat_id"] == "1111111"
    poll = TELEGRAM.normalize(b'{"update_id":5,"poll":{"id":"1"}}', {})
    assert poll.type == "poll" and poll.data == {"update_id": 5}

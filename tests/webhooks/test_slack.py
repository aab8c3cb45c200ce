"""Slack: v0 signatures over "v0:{ts}:{body}" (signed here by slack_sdk), three body shapes."""

from __future__ import annotations

import pytest
from slack_sdk.signature import SignatureVerifier

from backend.connectors.base import Reply, WebhookVerificationError

from .helpers import NOW, fixture, handler, request, secrets

SLACK = handler("slack")
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OLD_SECRET = "0ld5ecret0ld5ecret0ld5ecret0ld5e"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def slack_request(
    body: bytes,
    content_type: str = JSON,
    secret: str = SECRET,
    ts: int = int(NOW),
    **extra: str,
):
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    assert signature is not None
    headers = {
        "X-Slack-Signature": signature,
        "X-Slack-Request-Timestamp": str(ts),
        "Content-Type": content_type,
        **extra,
    }
    return request(body, headers)


async def test_url_verification_answers_the_challenge_after_verifying() -> None:
    body = fixture("slack", "url_verification__challenge.json")
    delivery = await SLACK.verify(slack_request(body), secrets(SECRET))
    assert delivery.store is False
    assert delivery.reply == Reply(200, b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    with pytest.raises(WebhookVerificationError):
        await SLACK.verify(slack_request(body, secret="wrong-secret"), secrets(SECRET))


@pytest.mark.parametrize(
    ("name", "event_id", "event_type"),
    [
        ("event_callback__message.json", "Ev0PV52K21", "message"),
        ("event_callback__app_mention.json", "Ev0LAN670R", "app_mention"),
    ],
)
async def test_event_callbacks(name: str, event_id: str, event_type: str) -> None:
    delivery = await SLACK.verify(slack_request(fixture("slack", name)), secrets(SECRET))
    assert (delivery.event_id, delivery.event_type, delivery.store) == (event_id, event_type, True)


async def test_subtype_and_retry_keep_the_event_id() -> None:
    body = (
        b'{"type":"event_callback","event_id":"Ev1","event_time":1,'
        b'"event":{"type":"message","subtype":"bot_message","channel":"C1"}}'
    )
    first = await SLACK.verify(slack_request(body), secrets(SECRET))
    retry = await SLACK.verify(
        slack_request(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
        secrets(SECRET),
    )
    assert first.event_id == retry.event_id == "Ev1"
    assert first.event_type == "message.bot_message"
    assert "x-slack-retry-num" in SLACK.stored_headers


async def test_slash_command_and_interactivity_forms() -> None:
    command = fixture("slack", "slash_command__weather.form")
    delivery = await SLACK.verify(slack_request(command, FORM), secrets(SECRET))
    assert delivery.event_type == "slash_command"
    assert delivery.event_id == "13345224609.738474920.8088930838d88f008e0"
    action = fixture("slack", "block_actions__button.form")
    delivery = await SLACK.verify(slack_request(action, FORM), secrets(SECRET))
    assert (delivery.event_type, delivery.event_id) == ("block_actions", "12466734323.1395872398")


async def test_ssl_check_is_acknowledged_not_stored() -> None:
    delivery = await SLACK.verify(slack_request(b"ssl_check=1&token=x", FORM), secrets(SECRET))
    assert delivery.store is False and delivery.reply == Reply(200, b"")


async def test_rotation() -> None:
    req = slack_request(fixture("slack", "event_callback__message.json"), secret=OLD_SECRET)
    assert (await SLACK.verify(req, secrets(SECRET, OLD_SECRET))).event_id == "Ev0PV52K21"
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await SLACK.verify(req, secrets(SECRET))


@pytest.mark.parametrize("skew", [301, -301, 10_000])
async def test_timestamp_outside_tolerance(skew: int) -> None:
    req = slack_request(fixture("slack", "event_callback__message.json"), ts=int(NOW) - skew)
    with pytest.raises(WebhookVerificationError, match="300 s tolerance"):
        await SLACK.verify(req, secrets(SECRET))


@pytest.mark.parametrize(
    "overrides",
    [
        {"x-slack-signature": "v1=abc"},
        {"x-slack-signature": "v0=nothex"},
        {"x-slack-signature": ""},
        {"x-slack-request-timestamp": "soon"},
        {"x-slack-request-timestamp": "-5"},
        {"x-slack-request-timestamp": "١٢٣"},
    ],
)
async def test_malformed_headers(overrides: dict[str, str]) -> None:
    base = slack_request(fixture("slack", "event_callback__message.json"))
    with pytest.raises(WebhookVerificationError) as info:
        await SLACK.verify(request(base.body, {**base.headers, **overrides}), secrets(SECRET))
    assert SECRET not in info.value.reason


async def test_tampered_body() -> None:
    base = slack_request(fixture("slack", "event_callback__message.json"))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await SLACK.verify(request(base.body + b"\n", base.headers), secrets(SECRET))


def test_normalize_message_and_mention() -> None:
    message = SLACK.normalize(fixture("slack", "event_callback__message.json"), {})
    assert message.type == "message"
    assert message.subject == "C024BE91L"
    assert message.time is not None and int(message.time.timestamp()) == 1355517523
    assert message.data["text"] == "Live long and prospect."
    assert message.data["user"] == "U2147483697"
    mention = SLACK.normalize(fixture("slack", "event_callback__app_mention.json"), {})
    assert mention.type == "app_mention" and mention.data["channel"] == "C0LAN2Q65"


def test_normalize_forms() -> None:
    headers = {"content-type": FORM}
    command = SLACK.normalize(fixture("slack", "slash_command__weather.form"), headers)
    assert command.type == "slash_command"
    assert command.data["command"] == "/weather" and command.data["text"] == "94070"
    action = SLACK.normalize(fixture("slack", "block_actions__button.form"), headers)
    assert action.type == "block_actions"
    assert action.data["action_ids"] == ["approve_request"]
    assert action.data["user"] == "U0CA5"


def test_normalize_other_types() -> None:
    event = SLACK.normalize(b'{"type":"app_rate_limited","minute_rate_limited":1518467820}', {})
    assert event.type == "app_rate_limited"
    with pytest.raises(ValueError):
        SLACK.normalize(b"[", {})

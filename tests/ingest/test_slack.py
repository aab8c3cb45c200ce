"""Slack over HTTP, signed with slack_sdk: v0 over "v0:{ts}:{body}", ±300 s, retries."""

from __future__ import annotations

import time

import pytest
from slack_sdk.signature import SignatureVerifier

from .support import fixture

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CASES = [
    ("event_callback__message.json", "application/json", "message", "message"),
    ("event_callback__app_mention.json", "application/json", "app_mention", "app_mention"),
    (
        "slash_command__weather.form",
        "application/x-www-form-urlencoded",
        "slash_command",
        "slash_command",
    ),
    (
        "block_actions__button.form",
        "application/x-www-form-urlencoded",
        "block_actions",
        "block_actions",
    ),
]


def signed(
    body: bytes,
    content_type: str = "application/json",
    secret: str = SECRET,
    timestamp: int | None = None,
) -> dict[str, str]:
    ts = str(timestamp or int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


@pytest.mark.parametrize(("name", "content_type", "event_type", "normalized_type"), CASES)
async def test_valid_request_is_stored_and_normalized(
    hooks, tenant, make_integration, name, content_type, event_type, normalized_type
) -> None:
    integration = await make_integration(tenant, "slack", signing_secrets=(SECRET,))
    body = fixture("slack", name)
    headers = signed(body, content_type)
    assert SignatureVerifier(SECRET).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    row = await hooks.accept(integration, body, headers, event_id=None, event_type=event_type)
    await hooks.normalized(row, "slack", normalized_type)


async def test_retries_do_not_duplicate(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "slack", signing_secrets=(SECRET,))
    body = fixture("slack", "event_callback__message.json")
    row = await hooks.accept(
        integration, body, signed(body), event_id="Ev0PV52K21", event_type="message"
    )
    await hooks.normalized(row, "slack", "message")
    for attempt in (1, 2):
        retry = {
            **signed(body, timestamp=int(time.time()) + attempt),
            "X-Slack-Retry-Num": str(attempt),
            "X-Slack-Retry-Reason": "http_timeout",
        }
        await hooks.duplicate(integration, body, retry, row)


async def test_url_verification_answers_the_challenge_and_stores_nothing(
    hooks, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "slack", signing_secrets=(SECRET,))
    body = fixture("slack", "url_verification__challenge.json")
    response = await hooks.post(integration, body, signed(body))
    assert response.status_code == 200
    assert response.text == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert await hooks.events(integration) == []
    # Unsigned, the challenge is not answered.
    await hooks.reject(integration, body, signed(body, secret="not-the-secret"))


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "slack", signing_secrets=(SECRET,))
    body = fixture("slack", "event_callback__app_mention.json")
    headers = signed(body)
    await hooks.reject(integration, body.replace(b"river", b"ocean"), headers)
    await hooks.reject(integration, body, signed(body, secret="wrong-secret"))
    no_ts = {k: v for k, v in headers.items() if k != "X-Slack-Request-Timestamp"}
    await hooks.reject(integration, body, no_ts, reason="missing X-Slack-Request-Timestamp")
    no_sig = {k: v for k, v in headers.items() if k != "X-Slack-Signature"}
    await hooks.reject(integration, body, no_sig)
    await hooks.reject(integration, body, signed(body, timestamp=int(time.time()) - 301))
    await hooks.reject(integration, body, signed(body, timestamp=int(time.time()) + 301))

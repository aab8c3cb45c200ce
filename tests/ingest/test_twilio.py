"""Twilio over HTTP, signed with the SDK's RequestValidator over the public URL.

Form-encoded SMS and call webhooks sign the URL plus sorted parameters; JSON bodies add
`bodySHA256` to the query and sign only the URL. The URL is PUBLIC_BASE_URL + path.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from .support import fixture, new_id

AUTH_TOKEN = "12345abcdef67890abcdef12345abcde"
FORM = "application/x-www-form-urlencoded"
CASES = [
    ("sms__inbound.form", "SM1f0e8ae6ade43cb3c0ce4525424e404f", "sms.inbound"),
    ("sms__status_delivered.form", "SM1f0e8ae6ade43cb3c0ce4525424e404f:delivered", "sms.status"),
    ("call__inbound_ringing.form", "CA5b6c1f1e2d3c4b5a69788796a5b4c3d2", "call.inbound"),
    (
        "call__status_completed.form",
        "CA5b6c1f1e2d3c4b5a69788796a5b4c3d2:completed",
        "call.status",
    ),
]


def form_headers(url: str, body: bytes, token: str = AUTH_TOKEN) -> dict[str, str]:
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    signature = RequestValidator(token).compute_signature(url, params)
    assert RequestValidator(token).validate(url, params, signature)
    return {
        "Content-Type": FORM,
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": new_id(),
        "X-Home-Region": "us1",
    }


async def make(make_integration, tenant):
    return await make_integration(tenant, "twilio", credentials={"auth_token": AUTH_TOKEN})


@pytest.mark.parametrize(("name", "event_id", "event_type"), CASES)
async def test_form_webhook_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, event_id, event_type
) -> None:
    integration = await make(make_integration, tenant)
    body = fixture("twilio", name)
    headers = form_headers(integration.url, body)
    row = await hooks.accept(integration, body, headers, event_id=event_id, event_type=event_type)
    _, envelope = await hooks.normalized(row, "twilio", event_type)
    if event_type == "sms.inbound":
        assert envelope["data"]["body"] == "Hello from Twilio \N{WAVING HAND SIGN}"
    if event_type == "sms.status":
        assert envelope["data"]["status"] == "delivered"
    # A retry carries a new idempotency token but the same SID and status.
    await hooks.duplicate(integration, body, form_headers(integration.url, body), row)


async def test_json_body_sha256_variant(hooks, tenant, make_integration) -> None:
    integration = await make(make_integration, tenant)
    body = json.dumps({"type": "com.twilio.messaging.inbound-message.received", "n": 1}).encode()
    query = "bodySHA256=" + hashlib.sha256(body).hexdigest()
    url = f"{integration.url}?{query}"
    validator = RequestValidator(AUTH_TOKEN)
    signature = validator.compute_signature(url, {})
    assert validator.validate(url, body.decode(), signature)
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": "idem-" + new_id(),
    }
    row = await hooks.accept(
        integration,
        body,
        headers,
        query=query,
        event_id=headers["I-Twilio-Idempotency-Token"],
        event_type="com.twilio.messaging.inbound-message.received",
    )
    await hooks.normalized(row, "twilio", "com.twilio.messaging.inbound-message.received")
    await hooks.duplicate(integration, body, headers, row, query=query)
    # The body no longer matches its hash; and without the hash a JSON body is refused.
    await hooks.reject(integration, body + b" ", headers, query=query, reason="bodySHA256")
    await hooks.reject(integration, body, headers)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make(make_integration, tenant)
    body = fixture("twilio", "sms__inbound.form")
    headers = form_headers(integration.url, body)
    await hooks.reject(integration, body.replace(b"Hello", b"Hellx"), headers)
    await hooks.reject(integration, body, form_headers(integration.url, body, "wrong-token"))
    other_url = integration.url.replace("https://hooks.example.test", "https://evil.example")
    await hooks.reject(integration, body, form_headers(other_url, body))
    await hooks.reject(integration, body, {"Content-Type": FORM}, reason="X-Twilio-Signature")
    # Signed for the URL without a query, delivered with one.
    await hooks.reject(integration, body, headers, query="extra=1")

"""Generic webhooks: Standard Webhooks (signed by the `standardwebhooks` library), plain HMAC."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from standardwebhooks.webhooks import Webhook

from backend.connectors.base import WebhookVerificationError

from .helpers import NOW, fixture, handler, hub_signature, request, secrets

GENERIC = handler("webhook")
SECRET = "whsec_" + base64.b64encode(b"switchboard-generic-test-key-32b").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"an-older-generic-key-still-valid").decode()
PLAIN = {"signature_mode": "hmac_sha256"}


def std_request(body: bytes, msg_id: str = "msg_2mXf", secret: str = SECRET, ts: float = NOW):
    signature = Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(ts, dt.UTC), body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(ts)),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return request(body, headers)


async def test_published_example_from_the_spec() -> None:
    body = b'{"test": 2432232314}'
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    req = request(body, headers, received_at=1614265330 + 10)
    delivery = await GENERIC.verify(req, secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    assert (delivery.event_id, delivery.event_type) == (
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook.received",
    )


@pytest.mark.parametrize(
    ("name", "event_type"),
    [("invoice__paid.json", "invoice.paid"), ("order__created.json", "order.created")],
)
async def test_fixtures_verify(name: str, event_type: str) -> None:
    delivery = await GENERIC.verify(std_request(fixture("webhook", name)), secrets(SECRET))
    assert (delivery.event_id, delivery.event_type) == ("msg_2mXf", event_type)


async def test_signature_list_rotation_and_other_versions() -> None:
    body = fixture("webhook", "invoice__paid.json")
    req = std_request(body, secret=OLD_SECRET)
    listed = "v2,abc v1,!!notbase64 " + req.headers["webhook-signature"]
    assert await GENERIC.verify(
        request(body, {**req.headers, "webhook-signature": listed}), secrets(SECRET, OLD_SECRET)
    )
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GENERIC.verify(req, secrets(SECRET))


@pytest.mark.parametrize("skew", [301, -301])
async def test_timestamp_tolerance(skew: int) -> None:
    req = std_request(fixture("webhook", "invoice__paid.json"), ts=NOW - skew)
    with pytest.raises(WebhookVerificationError, match="300 s tolerance"):
        await GENERIC.verify(req, secrets(SECRET))


@pytest.mark.parametrize(
    "overrides",
    [
        {"webhook-signature": "v1,!!!"},  # the pitfall: binascii.Error in the reference library
        {"webhook-signature": "v1"},
        {"webhook-signature": ""},
        {"webhook-timestamp": "1750000000.5"},
        {"webhook-timestamp": "yesterday"},
        {"webhook-id": ""},
    ],
)
async def test_malformed_headers(overrides: dict[str, str]) -> None:
    base = std_request(fixture("webhook", "invoice__paid.json"))
    with pytest.raises(WebhookVerificationError):
        await GENERIC.verify(request(base.body, {**base.headers, **overrides}), secrets(SECRET))


async def test_tampered_body_wrong_and_bad_secrets() -> None:
    base = std_request(fixture("webhook", "invoice__paid.json"))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GENERIC.verify(request(base.body + b" ", base.headers), secrets(SECRET))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GENERIC.verify(base, secrets(OLD_SECRET))
    with pytest.raises(WebhookVerificationError, match="not valid base64") as info:
        await GENERIC.verify(base, secrets("whsec_***"))
    assert "***" not in info.value.reason
    with pytest.raises(WebhookVerificationError, match="unsupported signature_mode"):
        await GENERIC.verify(base, secrets(SECRET, config={"signature_mode": "none"}))


async def test_plain_hmac_mode() -> None:
    body = fixture("webhook", "order__created.json")
    for value in (hub_signature("plain-secret", body), hub_signature("plain-secret", body, "")):
        delivery = await GENERIC.verify(
            request(body, {"X-Signature": value}), secrets("plain-secret", config=PLAIN)
        )
        assert (delivery.event_id, delivery.event_type) == ("1048", "order.created")
    custom = {**PLAIN, "signature_header": "X-Shop-Hmac"}
    headers = {"X-Shop-Hmac": hub_signature("plain-secret", body), "X-Event-Id": "ev-9"}
    delivery = await GENERIC.verify(
        request(body, headers), secrets("old", "plain-secret", config=custom)
    )
    assert delivery.event_id == "ev-9"
    with pytest.raises(WebhookVerificationError, match="missing X-Shop-Hmac"):
        await GENERIC.verify(
            request(body, {"X-Signature": headers["X-Shop-Hmac"]}),
            secrets("plain-secret", config=custom),
        )
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GENERIC.verify(
            request(body + b"\n", {"X-Signature": hub_signature("plain-secret", body)}),
            secrets("plain-secret", config=PLAIN),
        )
    text = b"plain text body"
    delivery = await GENERIC.verify(
        request(text, {"X-Signature": hub_signature("k", text)}), secrets("k", config=PLAIN)
    )
    assert (delivery.event_id, delivery.event_type) == (None, "webhook.received")


def test_normalize() -> None:
    invoice = GENERIC.normalize(fixture("webhook", "invoice__paid.json"), {})
    assert invoice.type == "invoice.paid" and invoice.subject == "evt_2mXfQ0l2Jv3Qe9u"
    assert invoice.time is not None and invoice.time.year == 2025
    assert invoice.data == {
        "id": "evt_2mXfQ0l2Jv3Qe9u",
        "type": "invoice.paid",
        "timestamp": "2025-06-10T12:00:00Z",
        "customer": "cus_118",
        "livemode": False,
    }
    order = GENERIC.normalize(fixture("webhook", "order__created.json"), {})
    assert order.type == "order.created" and order.subject == "1048"
    assert order.time is not None and int(order.time.timestamp()) == 1749556800
    form = GENERIC.normalize(b"a=1&event=x", {"content-type": "application/x-www-form-urlencoded"})
    assert form.type == "x" and form.data == {"a": "1", "event": "x"}
    assert GENERIC.normalize(b"[1,2]", {}).data == {"value": [1, 2]}
    # Whatever else a sender posts is kept whole in the generic envelope...
    plain = GENERIC.normalize(b"plain text", {"content-type": "text/plain; charset=utf-8"})
    assert plain.type == "webhook.received"
    assert plain.data == {"content_type": "text/plain", "text": "plain text"}
    binary = GENERIC.normalize(b"\xff\x00", {})
    assert binary.data == {"content_type": None, "body_base64": "/wA="}
    # ...but a body that says it is JSON and is not fails (kept raw, retried, dead-lettered).
    for content_type in ("application/json", "application/cloudevents+json"):
        with pytest.raises(ValueError):
            GENERIC.normalize(b"plain text", {"content-type": content_type})

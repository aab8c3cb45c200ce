"""Twilio: base64 HMAC-SHA1 of URL + sorted params (signed here by twilio's RequestValidator)."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from backend.connectors.base import WebhookVerificationError

from .helpers import fixture, handler, request, secrets

TWILIO = handler("twilio")
TOKEN = "0123456789abcdef0123456789abcdef"
OLD_TOKEN = "fedcba9876543210fedcba9876543210"
URL = "https://switchboard.example.com/api/webhooks/twilio/tok_abc"
FORM = "application/x-www-form-urlencoded"


def creds(token: str = TOKEN) -> dict[str, str]:
    return {"account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "auth_token": token}


def form_request(body: bytes, url: str = URL, token: str = TOKEN, signed_url: str | None = None):
    params: dict[str, str] = dict(parse_qsl(body.decode(), keep_blank_values=True))
    signature = RequestValidator(token).compute_signature(signed_url or url, params)
    return request(body, {"X-Twilio-Signature": signature, "Content-Type": FORM}, url=url)


async def test_published_example_from_the_docs() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }
    body = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in params.items()).encode()
    req = request(
        body,
        {"X-Twilio-Signature": "GvWf1cFY/Q7PnoempGyD5oXAezc=", "Content-Type": FORM},
        url=url,
    )
    delivery = await TWILIO.verify(req, secrets(credentials={"auth_token": "12345"}))
    assert delivery.event_type == "call.gather"
    assert delivery.event_id is None  # no idempotency token header: ingest hashes the body


@pytest.mark.parametrize(
    ("name", "event_id", "event_type"),
    [
        ("sms__inbound.form", "SM1f0e8ae6ade43cb3c0ce4525424e404f", "sms.inbound"),
        (
            "sms__status_delivered.form",
            "SM1f0e8ae6ade43cb3c0ce4525424e404f:delivered",
            "sms.status",
        ),
        (
            "call__status_completed.form",
            "CA5b6c1f1e2d3c4b5a69788796a5b4c3d2:completed",
            "call.status",
        ),
        ("call__inbound_ringing.form", "CA5b6c1f1e2d3c4b5a69788796a5b4c3d2", "call.inbound"),
    ],
)
async def test_sdk_signed_fixtures(name: str, event_id: str, event_type: str) -> None:
    body = fixture("twilio", name)
    req = form_request(body)
    assert RequestValidator(TOKEN).validate(
        URL, dict(parse_qsl(body.decode())), req.headers["x-twilio-signature"]
    )
    delivery = await TWILIO.verify(req, secrets(credentials=creds()))
    assert (delivery.event_id, delivery.event_type) == (event_id, event_type)


async def test_repeated_params_are_signed_like_the_sdk() -> None:
    body = b"MessageSid=SM1&MediaUrl=b&MediaUrl=a&Body="
    params = {"MessageSid": "SM1", "MediaUrl": "a", "Body": ""}

    class Multi(dict):  # the SDK reads repeated values through getall()
        def getall(self, name: str) -> list[str]:
            return ["b", "a"] if name == "MediaUrl" else [self[name]]

    signature = RequestValidator(TOKEN).compute_signature(URL, Multi(params))
    req = request(body, {"X-Twilio-Signature": signature, "Content-Type": FORM}, url=URL)
    assert (await TWILIO.verify(req, secrets(credentials=creds()))).event_id == "SM1"


@pytest.mark.parametrize(
    ("received_url", "signed_url"),
    [
        ("https://switchboard.example.com:443/api/webhooks/twilio/tok", None),
        (
            "https://switchboard.example.com/api/webhooks/twilio/tok",
            "https://switchboard.example.com:443/api/webhooks/twilio/tok",
        ),
        (
            "https://switchboard.example.com:443/api/webhooks/twilio/tok",
            "https://switchboard.example.com/api/webhooks/twilio/tok",
        ),
    ],
)
async def test_url_with_and_without_default_port(received_url: str, signed_url: str | None) -> None:
    body = fixture("twilio", "sms__inbound.form")
    req = form_request(body, url=received_url, signed_url=signed_url)
    assert (await TWILIO.verify(req, secrets(credentials=creds()))).event_type == "sms.inbound"


async def test_json_body_uses_body_sha256() -> None:
    body = b'{"type":"com.twilio.messaging.message.delivered","data":{"messageSid":"SM1"}}'
    url = f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    assert RequestValidator(TOKEN).validate(url, body.decode(), signature)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/json",
        "I-Twilio-Idempotency-Token": "idem-123",
    }
    delivery = await TWILIO.verify(request(body, headers, url=url), secrets(credentials=creds()))
    assert (delivery.event_id, delivery.event_type) == (
        "idem-123",
        "com.twilio.messaging.message.delivered",
    )
    with pytest.raises(WebhookVerificationError, match="bodySHA256"):
        await TWILIO.verify(request(body + b" ", headers, url=url), secrets(credentials=creds()))
    # A JSON body without bodySHA256 would be unauthenticated: refused.
    unsigned = {**headers, "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, {})}
    with pytest.raises(WebhookVerificationError, match="bodySHA256"):
        await TWILIO.verify(request(body, unsigned, url=URL), secrets(credentials=creds()))


async def test_sha256_shared_key_signatures() -> None:
    body = fixture("twilio", "sms__inbound.form")
    params = dict(parse_qsl(body.decode()))
    signature = RequestValidator("shared-key-secret").compute_signature(URL, params, "HMAC_SHA256")
    headers = {
        "X-Twilio-Signature": signature,
        "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
        "Content-Type": FORM,
    }
    req = request(body, headers, url=URL)
    assert await TWILIO.verify(req, secrets("shared-key-secret", credentials=creds()))
    bad = {**headers, "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    with pytest.raises(WebhookVerificationError, match="unsupported"):
        await TWILIO.verify(request(body, bad, url=URL), secrets("shared-key-secret"))


async def test_rotation_and_rejections() -> None:
    body = fixture("twilio", "sms__inbound.form")
    old = form_request(body, token=OLD_TOKEN)
    assert await TWILIO.verify(old, secrets(OLD_TOKEN, credentials=creds()))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await TWILIO.verify(old, secrets(credentials=creds()))
    good = form_request(body)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await TWILIO.verify(
            request(body.replace(b"Hello", b"Howdy"), good.headers, url=URL),
            secrets(credentials=creds()),
        )
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await TWILIO.verify(
            request(body, good.headers, url=URL + "x"), secrets(credentials=creds())
        )
    with pytest.raises(WebhookVerificationError, match="missing X-Twilio-Signature"):
        await TWILIO.verify(request(body, {"Content-Type": FORM}), secrets(credentials=creds()))
    with pytest.raises(WebhookVerificationError, match="malformed"):
        await TWILIO.verify(
            request(body, {"X-Twilio-Signature": "not base64!", "Content-Type": FORM}),
            secrets(credentials=creds()),
        )
    with pytest.raises(WebhookVerificationError, match="no auth token"):
        await TWILIO.verify(good, secrets())
    with pytest.raises(WebhookVerificationError, match="malformed request URL"):
        await TWILIO.verify(
            request(body, good.headers, url="https://host:99999/x"), secrets(credentials=creds())
        )


def test_normalize_messages() -> None:
    headers = {"content-type": FORM}
    inbound = TWILIO.normalize(fixture("twilio", "sms__inbound.form"), headers)
    assert inbound.type == "sms.inbound"
    assert inbound.subject == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert inbound.data["body"] == "Hello from Twilio 👋"
    assert inbound.data["from"] == "+14155550199" and inbound.data["num_media"] == 0
    status = TWILIO.normalize(fixture("twilio", "sms__status_delivered.form"), headers)
    assert status.type == "sms.status" and status.data["status"] == "delivered"


def test_normalize_calls() -> None:
    headers = {"content-type": FORM}
    done = TWILIO.normalize(fixture("twilio", "call__status_completed.form"), headers)
    assert done.type == "call.status"
    assert done.data["status"] == "completed" and done.data["duration"] == 42
    assert done.time is not None and done.time.year == 2025
    ringing = TWILIO.normalize(fixture("twilio", "call__inbound_ringing.form"), headers)
    assert ringing.type == "call.inbound" and ringing.data["direction"] == "inbound"
    event = TWILIO.normalize(b'{"type":"x.y","n":1}', {"content-type": "application/json"})
    assert event.type == "x.y" and event.data == {"type": "x.y", "n": 1}

"""JSON nested past the decoder's depth limit is malformed input, never an unhandled error.

msgspec raises RecursionError (not DecodeError) for it, even inside fields it skips. Each
case here is a correctly signed delivery, or PayPal's own answer, so the check past the
signature is what is exercised.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest
from twilio.request_validator import RequestValidator

from backend.connectors.base import WebhookVerificationError
from backend.connectors.providers.paypal import webhook as paypal_webhook

from .helpers import NOW, fixture, handler, request, secrets
from .paypal_signing import WEBHOOK_ID, paypal_headers

DEEP = b'{"id":"evt_1","type":"order.paid","extra":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
SECRET = "shop-shared-secret"
TWILIO_TOKEN = "12345abcdef67890abcdef12345abcde"
TWILIO_URL = "https://switchboard.example.com/api/webhooks/twilio/tok"


async def test_generic_hmac_delivery_with_a_deep_body() -> None:
    digest = hmac.new(SECRET.encode(), DEEP, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Signature": digest, "X-Event-Id": "e1"}
    config = {"signature_mode": "hmac_sha256"}
    delivery = await handler("webhook").verify(
        request(DEEP, headers), secrets(SECRET, config=config)
    )
    assert delivery.event_type == "webhook.received"  # signed, stored; its fields unread


async def test_twilio_json_delivery_with_a_deep_body() -> None:
    url = f"{TWILIO_URL}?bodySHA256={hashlib.sha256(DEEP).hexdigest()}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, {})
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    delivery = await handler("twilio").verify(
        request(DEEP, headers, url=url), secrets(credentials={"auth_token": TWILIO_TOKEN})
    )
    assert delivery.event_type == "twilio.event"


async def test_paypal_api_answer_nested_too_deep() -> None:
    body = fixture("paypal", "payment_capture__completed.json")

    def paypal_api(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/v1/oauth2/token":
            return httpx.Response(200, json={"access_token": "A21AAF", "expires_in": 32400})
        return httpx.Response(200, content=b"[" * 50_000 + b"]" * 50_000)

    async with httpx.AsyncClient(transport=httpx.MockTransport(paypal_api)) as http:
        hook = paypal_webhook.PayPalWebhook(api=paypal_webhook.PayPalApiVerifier(http=http))
        sec = secrets(WEBHOOK_ID, credentials={"client_id": "cid", "client_secret": "csecret"})
        with pytest.raises(WebhookVerificationError, match="malformed JSON"):
            await hook.verify(request(body, paypal_headers(body, sent_at=NOW)), sec)

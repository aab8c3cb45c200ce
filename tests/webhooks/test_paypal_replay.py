"""PayPal replays and forgeries: certificate mode binds the body only through CRC32, so a
captured signature must not admit a second event — the signed transmission id is the dedupe
key, the signed transmission time must be fresh, and PayPal's own check is the default."""

from __future__ import annotations

import hashlib
import json
import zlib

import httpx
import pytest

from backend.connectors.base import WebhookVerificationError
from backend.connectors.providers.paypal import webhook as paypal_webhook

from .crc32_forgery import forge_json
from .helpers import NOW, fixture, request, secrets
from .paypal_signing import TRANSMISSION_ID, WEBHOOK_ID, paypal_headers
from .test_paypal import PAYPAL, LocalCertificates

CERTIFICATE = {"paypal_verification": "certificate"}
CLIENT = {"client_id": "cid", "client_secret": "csecret"}


def forged_capture(original: bytes) -> bytes:
    """Another capture event, ten thousand dollars, with the original's CRC32."""
    document = json.loads(original)
    document["id"] = "WH-FORGED0000000000-0000000000000000"
    document["resource"]["amount"]["value"] = "10000.00"
    return forge_json(document, zlib.crc32(original))


def test_the_forgery_is_real() -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    forged = forged_capture(body)
    assert zlib.crc32(forged) == zlib.crc32(body) and forged != body
    event = json.loads(forged)
    assert event["id"] != json.loads(body)["id"]
    assert event["resource"]["amount"]["value"] == "10000.00"


async def test_a_forged_body_under_a_captured_signature_is_the_same_delivery() -> None:
    """The forgery passes the certificate check (CRC32 only), so it must carry the captured
    transmission's key and be stored as a duplicate of it, never as a new event."""
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body)
    sec = secrets(WEBHOOK_ID, config=CERTIFICATE)
    original = await PAYPAL.verify(request(body, headers), sec)
    forged = await PAYPAL.verify(request(forged_capture(body), headers), sec)
    assert original.event_id == forged.event_id == TRANSMISSION_ID


async def test_the_same_event_in_a_new_transmission_has_the_same_second_key() -> None:
    """A retry may come as a new transmission: the body's digest dedupes it instead."""
    body = fixture("paypal", "payment_capture__completed.json")
    sec = secrets(WEBHOOK_ID, config=CERTIFICATE)
    first = await PAYPAL.verify(request(body, paypal_headers(body)), sec)
    again = await PAYPAL.verify(
        request(body, paypal_headers(body, transmission_id="7a1e-retry", sent_at=NOW + 60)), sec
    )
    assert first.event_id != again.event_id
    assert first.signed_digest == again.signed_digest == hashlib.sha256(body).digest()


@pytest.mark.parametrize("offset", [-301, 301, -86400 * 3])
async def test_a_transmission_outside_the_window_is_rejected(offset: int) -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body, sent_at=NOW + offset)
    with pytest.raises(WebhookVerificationError, match="PAYPAL-TRANSMISSION-TIME") as info:
        await PAYPAL.verify(request(body, headers), secrets(WEBHOOK_ID, config=CERTIFICATE))
    assert WEBHOOK_ID not in info.value.reason


@pytest.mark.parametrize("offset", [-300, -5, 0, 299])
async def test_a_transmission_inside_the_window_verifies(offset: int) -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body, sent_at=NOW + offset)
    assert await PAYPAL.verify(request(body, headers), secrets(WEBHOOK_ID, config=CERTIFICATE))


@pytest.mark.parametrize(
    "value",
    ["", "yesterday", "2025-06-15", "2025-06-15T15:06:40", "1750000000", "2025-06-15T15:06:40Zé"],
)
async def test_a_malformed_transmission_time_is_rejected(value: str) -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body, **{"PAYPAL-TRANSMISSION-TIME": value})
    with pytest.raises(WebhookVerificationError, match="PAYPAL-TRANSMISSION-TIME"):
        await PAYPAL.verify(request(body, headers), secrets(WEBHOOK_ID, config=CERTIFICATE))


async def test_api_mode_is_the_default_with_client_credentials() -> None:
    """With the app's client id and secret at hand PayPal checks its own signature; the
    certificate path (CRC32-bound) is used only without them or when configured."""
    body = fixture("paypal", "payment_capture__completed.json")
    asked: list[str] = []

    def paypal_api(req: httpx.Request) -> httpx.Response:
        asked.append(req.url.path)
        if req.url.path == "/v1/oauth2/token":
            return httpx.Response(200, json={"access_token": "A21AAF", "expires_in": 32400})
        return httpx.Response(200, json={"verification_status": "SUCCESS"})

    certificates = LocalCertificates()
    async with httpx.AsyncClient(transport=httpx.MockTransport(paypal_api)) as http:
        hook = paypal_webhook.PayPalWebhook(
            certificates=certificates, api=paypal_webhook.PayPalApiVerifier(http=http)
        )
        delivery = await hook.verify(
            request(body, paypal_headers(body)), secrets(WEBHOOK_ID, credentials=CLIENT)
        )
        assert delivery.event_id == TRANSMISSION_ID
        assert asked == ["/v1/oauth2/token", "/v1/notifications/verify-webhook-signature"]
        assert certificates.urls == []
        # Stale transmissions are refused before PayPal is asked.
        stale = paypal_headers(body, sent_at=NOW - 3600)
        with pytest.raises(WebhookVerificationError, match="PAYPAL-TRANSMISSION-TIME"):
            await hook.verify(request(body, stale), secrets(WEBHOOK_ID, credentials=CLIENT))
        assert len(asked) == 2
    assert await hook.verify(request(body, paypal_headers(body)), secrets(WEBHOOK_ID))
    assert certificates.urls != []


def test_signature_headers_are_not_stored() -> None:
    """Stored headers come back from the events API; a signature there is a replay kit."""
    stored = set(PAYPAL.stored_headers)
    assert not stored & {"paypal-transmission-sig", "paypal-cert-url", "paypal-auth-algo"}

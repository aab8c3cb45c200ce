"""PayPal over HTTP: certificate mode with a local key and certificate injected through
CERTIFICATE_SOURCE, API mode (the default with client credentials) answered by a local
PayPal, and what a captured signature can no longer do."""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from webhooks.crc32_forgery import forge_json
from webhooks.helpers import self_signed_certificate
from webhooks.paypal_signing import CERT_URL, KEY, WEBHOOK_ID, paypal_headers

from backend.connectors.providers.paypal import webhook as paypal_webhook

from .support import fixture, new_id

CERT = self_signed_certificate(KEY, not_before=time.time() - 86400, not_after=time.time() + 86400)
SIGNATURE_HEADERS = ("paypal-transmission-sig", "paypal-cert-url", "paypal-auth-algo")
CASES = [
    ("payment_capture__completed.json", "PAYMENT.CAPTURE.COMPLETED"),
    ("checkout_order__approved.json", "CHECKOUT.ORDER.APPROVED"),
]


class LocalCertificates:
    def __init__(self) -> None:
        self.urls: list[str] = []

    async def certificate(self, url: str) -> x509.Certificate:
        self.urls.append(url)
        return CERT


@pytest.fixture(autouse=True)
def certificates(monkeypatch: pytest.MonkeyPatch) -> LocalCertificates:
    source = LocalCertificates()
    monkeypatch.setattr(paypal_webhook, "CERTIFICATE_SOURCE", source)
    return source


def signed(body: bytes, webhook_id: str = WEBHOOK_ID, **overrides: str) -> dict[str, str]:
    """A fresh transmission, as PayPal sends each one: new id, current time."""
    return paypal_headers(
        body, webhook_id, transmission_id=new_id(), sent_at=time.time(), **overrides
    )


@pytest.mark.parametrize(("name", "event_type"), CASES)
async def test_event_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, certificates, name, event_type
) -> None:
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", name)
    headers = signed(body)
    transmission = headers["PAYPAL-TRANSMISSION-ID"]
    row = await hooks.accept(
        integration, body, headers, event_id=transmission, event_type=event_type
    )
    assert certificates.urls == [CERT_URL]
    _, envelope = await hooks.normalized(row, "paypal", event_type)
    assert envelope["data"]["event_id"] == json.loads(body)["id"]
    await hooks.duplicate(integration, body, headers, row)  # the transmission replayed
    await hooks.duplicate(integration, body, signed(body), row)  # the event sent again


async def test_forged_body_under_a_captured_signature_is_a_duplicate(
    hooks, tenant, make_integration
) -> None:
    """A body with the captured delivery's CRC32 passes the certificate check; it is keyed
    to the signed transmission id, so it is answered as a duplicate and never stored."""
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", "payment_capture__completed.json")
    headers = signed(body)
    row = await hooks.accept(
        integration,
        body,
        headers,
        event_id=headers["PAYPAL-TRANSMISSION-ID"],
        event_type="PAYMENT.CAPTURE.COMPLETED",
    )
    await hooks.normalized(row, "paypal", "PAYMENT.CAPTURE.COMPLETED")
    document = json.loads(body)
    document["id"] = "WH-FORGED0000000000-0000000000000000"
    document["resource"]["amount"]["value"] = "10000.00"
    forged = forge_json(document, zlib.crc32(body))
    await hooks.duplicate(integration, forged, headers, row)
    (stored,) = await hooks.events(integration)
    assert bytes(stored["raw_body"]) == body


async def test_stale_and_future_transmissions_are_rejected(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", "payment_capture__completed.json")
    for offset in (-600, 600):
        headers = paypal_headers(body, transmission_id=new_id(), sent_at=time.time() + offset)
        await hooks.reject(integration, body, headers, reason="PAYPAL-TRANSMISSION-TIME")


async def test_events_api_returns_no_signature_headers(
    hooks, client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", "checkout_order__approved.json")
    headers = signed(body)
    row = await hooks.accept(
        integration,
        body,
        headers,
        event_id=headers["PAYPAL-TRANSMISSION-ID"],
        event_type="CHECKOUT.ORDER.APPROVED",
    )
    detail = await client.get(
        f"/api/integrations/{integration.id}/events/{row['id']}", headers=tenant.headers
    )
    assert detail.status_code == 200, detail.text
    shown = detail.json()["headers"]
    assert shown["paypal-transmission-id"] == headers["PAYPAL-TRANSMISSION-ID"]
    assert not set(shown) & set(SIGNATURE_HEADERS)
    assert headers["PAYPAL-TRANSMISSION-SIG"] not in detail.text


def paypal_checks(document: bytes) -> str:
    """What PayPal's verify-webhook-signature does: the signature over the transmission,
    the webhook id and the CRC32 of the event as sent, under the certificate's key."""
    head, _, rest = document.partition(b',"webhook_event":')
    fields = json.loads(head + b"}")
    crc = zlib.crc32(rest[:-1])
    message = "|".join(
        [fields["transmission_id"], fields["transmission_time"], fields["webhook_id"], str(crc)]
    )
    try:
        KEY.public_key().verify(
            base64.b64decode(fields["transmission_sig"]),
            message.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return "FAILURE"
    return "SUCCESS"


@pytest.fixture
async def paypal_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[httpx.Request]]:
    """PayPal's token and verify-webhook-signature endpoints, answered locally."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/oauth2/token":
            return httpx.Response(200, json={"access_token": "A21AAlocal", "expires_in": 32400})
        return httpx.Response(200, json={"verification_status": paypal_checks(request.content)})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        verifier = paypal_webhook.PayPalApiVerifier(http=http)
        monkeypatch.setattr(paypal_webhook, "API_VERIFIER", verifier)
        yield seen


async def test_client_credentials_make_api_mode_the_default(
    hooks, tenant, make_integration, certificates, paypal_api
) -> None:
    integration = await make_integration(
        tenant,
        "paypal",
        signing_secrets=(WEBHOOK_ID,),
        credentials={"client_id": "AeJ7Cq1Zlocal", "client_secret": "EL2k9Jlocal"},
    )
    body = fixture("paypal", "payment_capture__completed.json")
    headers = signed(body)
    await hooks.accept(
        integration,
        body,
        headers,
        event_id=headers["PAYPAL-TRANSMISSION-ID"],
        event_type="PAYMENT.CAPTURE.COMPLETED",
    )
    assert [r.url.path for r in paypal_api] == [
        "/v1/oauth2/token",
        "/v1/notifications/verify-webhook-signature",
    ]
    assert certificates.urls == []
    await hooks.reject(
        integration, body, signed(body, "WRONG-WEBHOOK-ID"), reason="did not confirm"
    )


async def test_rejections(hooks, tenant, make_integration, certificates) -> None:
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", "payment_capture__completed.json")
    await hooks.reject(integration, body.replace(b"30.00", b"0.30"), signed(body))
    await hooks.reject(integration, body, signed(body, "WRONG-WEBHOOK-ID"))
    headers = signed(body)
    no_sig = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    await hooks.reject(integration, body, no_sig, reason="missing PAYPAL-TRANSMISSION-SIG")
    evil = signed(body, **{"PAYPAL-CERT-URL": "https://evil.example/cert.pem"})
    await hooks.reject(integration, body, evil, reason="not a PayPal certificate URL")
    await hooks.reject(integration, body, signed(body, **{"PAYPAL-AUTH-ALGO": "SHA1withRSA"}))
    assert "https://evil.example/cert.pem" not in certificates.urls

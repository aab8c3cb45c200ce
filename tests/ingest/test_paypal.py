"""PayPal over HTTP in certificate mode: SHA256withRSA over "id|time|webhook_id|crc32",
with a local key and certificate injected through CERTIFICATE_SOURCE."""

from __future__ import annotations

import base64
import time
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from webhooks.helpers import rsa_key, self_signed_certificate

from backend.connectors.providers.paypal import webhook as paypal_webhook

from .support import fixture, new_id

WEBHOOK_ID = "1JE4291016473214C"
CERT_URL = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-5edc0ebc"
KEY = rsa_key("paypal")
CERT = self_signed_certificate(KEY, not_before=time.time() - 86400, not_after=time.time() + 86400)
CASES = [
    (
        "payment_capture__completed.json",
        "WH-58D329510W468432D-8HN650336L201105X",
        "PAYMENT.CAPTURE.COMPLETED",
    ),
    (
        "checkout_order__approved.json",
        "WH-COC11055RA711503B-4YM959094A144403T",
        "CHECKOUT.ORDER.APPROVED",
    ),
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
    transmission_id = new_id()
    transmission_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": CERT_URL,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "Content-Type": "application/json",
        **overrides,
    }


@pytest.mark.parametrize(("name", "event_id", "event_type"), CASES)
async def test_event_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, certificates, name, event_id, event_type
) -> None:
    integration = await make_integration(tenant, "paypal", signing_secrets=(WEBHOOK_ID,))
    body = fixture("paypal", name)
    row = await hooks.accept(
        integration, body, signed(body), event_id=event_id, event_type=event_type
    )
    assert certificates.urls == [CERT_URL]
    _, envelope = await hooks.normalized(row, "paypal", event_type)
    assert envelope["data"]["event_id"] == event_id
    await hooks.duplicate(integration, body, signed(body), row)


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

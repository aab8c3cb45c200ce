"""PayPal: SHA256withRSA over "id|time|webhook_id|crc32" with a local certificate, and API mode."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography import x509

from backend.connectors.base import WebhookVerificationError
from backend.connectors.providers.paypal import webhook as paypal_webhook

from .helpers import NOW, fixture, handler, pem, request, secrets, self_signed_certificate
from .paypal_signing import CERT_URL, KEY, TRANSMISSION_ID, WEBHOOK_ID, paypal_headers

OLD_WEBHOOK_ID = "8PT597110X687430LKGECATA"
CERT = self_signed_certificate(KEY)


class LocalCertificates:
    def __init__(self, cert: x509.Certificate = CERT) -> None:
        self.cert = cert
        self.urls: list[str] = []

    async def certificate(self, url: str) -> x509.Certificate:
        self.urls.append(url)
        return self.cert


PAYPAL = paypal_webhook.PayPalWebhook(certificates=LocalCertificates())


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("payment_capture__completed.json", "PAYMENT.CAPTURE.COMPLETED"),
        ("checkout_order__approved.json", "CHECKOUT.ORDER.APPROVED"),
    ],
)
async def test_certificate_mode(name: str, event_type: str) -> None:
    """Without client credentials the certificate check runs; the signed transmission id
    is the dedupe key (the body's id is not signed, see test_paypal_replay.py)."""
    body = fixture("paypal", name)
    delivery = await PAYPAL.verify(request(body, paypal_headers(body)), secrets(WEBHOOK_ID))
    assert (delivery.event_id, delivery.event_type) == (TRANSMISSION_ID, event_type)


async def test_module_level_certificate_source(monkeypatch: pytest.MonkeyPatch) -> None:
    local = LocalCertificates()
    monkeypatch.setattr(paypal_webhook, "CERTIFICATE_SOURCE", local)
    body = fixture("paypal", "payment_capture__completed.json")
    assert await handler("paypal").verify(request(body, paypal_headers(body)), secrets(WEBHOOK_ID))
    assert local.urls == [CERT_URL]


async def test_webhook_id_rotation() -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    req = request(body, paypal_headers(body, OLD_WEBHOOK_ID))
    assert await PAYPAL.verify(req, secrets(WEBHOOK_ID, OLD_WEBHOOK_ID))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await PAYPAL.verify(req, secrets(WEBHOOK_ID))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"PAYPAL-CERT-URL": "https://evil.example.com/cert.pem"}, "not a PayPal certificate URL"),
        ({"PAYPAL-CERT-URL": "http://api-m.paypal.com/v1/notifications/certs/C"}, "not a PayPal"),
        ({"PAYPAL-CERT-URL": "https://api-m.paypal.com:8443/c"}, "not a PayPal"),
        ({"PAYPAL-CERT-URL": "https://u:p@api-m.paypal.com/c"}, "not a PayPal"),
        ({"PAYPAL-CERT-URL": "https://api-m.paypal.com.evil.com/c"}, "not a PayPal"),
        ({"PAYPAL-CERT-URL": "https://[::1/c"}, "malformed"),
        ({"PAYPAL-AUTH-ALGO": "SHA1withRSA"}, "unsupported PAYPAL-AUTH-ALGO"),
        ({"PAYPAL-TRANSMISSION-SIG": "***"}, "malformed PAYPAL-TRANSMISSION-SIG"),
        ({"PAYPAL-TRANSMISSION-SIG": base64.b64encode(b"x" * 256).decode()}, "signature mismatch"),
        ({"PAYPAL-TRANSMISSION-ID": "another-id"}, "signature mismatch"),
        ({"PAYPAL-TRANSMISSION-TIME": ""}, "missing PAYPAL-TRANSMISSION-TIME"),
    ],
)
async def test_rejections(overrides: dict[str, str], reason: str) -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        await PAYPAL.verify(request(body, paypal_headers(body, **overrides)), secrets(WEBHOOK_ID))
    assert WEBHOOK_ID not in info.value.reason


async def test_tampered_body_wrong_id_expired_certificate() -> None:
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await PAYPAL.verify(request(body.replace(b"30.00", b"3.00"), headers), secrets(WEBHOOK_ID))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await PAYPAL.verify(request(body, headers), secrets("WRONGWEBHOOKID"))
    with pytest.raises(WebhookVerificationError, match="no PayPal webhook id"):
        await PAYPAL.verify(request(body, headers), secrets())
    expired = self_signed_certificate(KEY, not_before=NOW - 1000, not_after=NOW - 10)
    hook = paypal_webhook.PayPalWebhook(certificates=LocalCertificates(expired))
    with pytest.raises(WebhookVerificationError, match="not currently valid"):
        await hook.verify(request(body, headers), secrets(WEBHOOK_ID))
    with pytest.raises(WebhookVerificationError, match="unsupported paypal_verification"):
        await PAYPAL.verify(
            request(body, headers), secrets(WEBHOOK_ID, config={"paypal_verification": "x"})
        )


async def test_certificate_source_fetches_paypal_hosts_only_and_caches() -> None:
    fetched: list[str] = []

    def answer(req: httpx.Request) -> httpx.Response:
        fetched.append(str(req.url))
        return httpx.Response(200, content=pem(CERT))

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        source = paypal_webhook.PayPalCertificateSource(http=http)
        assert await source.certificate(CERT_URL) == await source.certificate(CERT_URL) == CERT
        with pytest.raises(WebhookVerificationError, match="not a PayPal"):
            await source.certificate("https://169.254.169.254/latest/meta-data")
    assert fetched == [CERT_URL]


async def test_api_mode_posts_the_raw_event_and_requires_success() -> None:
    body = fixture("paypal", "checkout_order__approved.json")
    seen: list[httpx.Request] = []
    status = {"value": "SUCCESS"}

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path == "/v1/oauth2/token":
            assert (
                req.headers["authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
            )
            return httpx.Response(200, json={"access_token": "A21AAF", "expires_in": 32400})
        assert req.url.path == "/v1/notifications/verify-webhook-signature"
        assert req.headers["authorization"] == "Bearer A21AAF"
        return httpx.Response(200, json={"verification_status": status["value"]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        hook = paypal_webhook.PayPalWebhook(api=paypal_webhook.PayPalApiVerifier(http=http))
        api_secrets = secrets(
            WEBHOOK_ID,
            credentials={"client_id": "cid", "client_secret": "csecret"},
            config={
                "paypal_verification": "api",
                "api_base_url": "https://api-m.sandbox.paypal.com",
            },
        )
        headers = paypal_headers(body)
        delivery = await hook.verify(request(body, headers), api_secrets)
        assert delivery.event_type == "CHECKOUT.ORDER.APPROVED"
        sent = seen[-1].content
        assert sent.endswith(b',"webhook_event":' + body + b"}")
        document = json.loads(sent)
        assert document["webhook_id"] == WEBHOOK_ID
        assert document["transmission_sig"] == headers["PAYPAL-TRANSMISSION-SIG"]
        status["value"] = "FAILURE"
        with pytest.raises(WebhookVerificationError, match="did not confirm"):
            await hook.verify(request(body, headers), api_secrets)
        assert sum(r.url.path == "/v1/oauth2/token" for r in seen) == 1  # token cached
        with pytest.raises(WebhookVerificationError, match="client credentials"):
            await hook.verify(
                request(body, headers), secrets(WEBHOOK_ID, config={"paypal_verification": "api"})
            )


def test_normalize_payment_and_order() -> None:
    capture = PAYPAL.normalize(fixture("paypal", "payment_capture__completed.json"), {})
    assert capture.type == "PAYMENT.CAPTURE.COMPLETED" and capture.subject == "0KG12345VG343800K"
    assert capture.data["amount"] == "30.00" and capture.data["currency"] == "USD"
    assert capture.data["status"] == "COMPLETED" and capture.data["order_id"] == "1AB234567A1234567"
    assert capture.time is not None and capture.time.year == 2019
    order = PAYPAL.normalize(fixture("paypal", "checkout_order__approved.json"), {})
    assert order.type == "CHECKOUT.ORDER.APPROVED" and order.data["amount"] == "100.00"
    assert order.data["payer_id"] == "QYR5Z8XDVJNXQ"
    other = PAYPAL.normalize(
        b'{"id":"WH-1","event_type":"CUSTOMER.DISPUTE.CREATED","resource":{"id":"PP-D-1"}}', {}
    )
    assert other.type == "CUSTOMER.DISPUTE.CREATED" and other.subject == "PP-D-1"

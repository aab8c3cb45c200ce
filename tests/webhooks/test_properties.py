"""Properties over every provider: verify returns or raises WebhookVerificationError, never
anything else; normalize turns any valid JSON into an event and anything else into ValueError."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import KeySet, RSAKey

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookVerificationError,
)
from backend.connectors.providers.gmail import webhook as gmail_webhook
from backend.connectors.providers.paypal import webhook as paypal_webhook

from .helpers import KEYS, NOW, handler, rsa_key, secrets, self_signed_certificate

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Header names any provider reads, so generated requests reach past the first check.
HEADER_NAMES = [
    "authorization",
    "content-type",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-github-event",
    "x-github-delivery",
    "stripe-signature",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-twilio-signature",
    "x-twilio-webhooks-signature-settings",
    "i-twilio-idempotency-token",
    "x-telegram-bot-api-secret-token",
    "x-goog-channel-id",
    "x-goog-channel-token",
    "x-goog-channel-expiration",
    "x-goog-resource-state",
    "x-goog-message-number",
    "x-atlassian-webhook-identifier",
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-signature",
    "x-event-id",
]
SECRET = "s3cret"

header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            SECRET,
            "sha256=" + "0" * 64,
            "sha256=zz",
            "t=1750000000,v1=00",
            "v0=abc",
            "1750000000",
            "application/x-www-form-urlencoded",
            "application/json",
            "Bearer a.b.c",
            "Bearer eyJhbGciOiJSUzI1NiJ9.e30.AA",
            "v1,AAAA",
            "v1,!!",
            "sync",
            "exists",
            "https://api-m.paypal.com/cert",
            "SHA256withRSA",
            "algorithm=HMAC_SHA256",
            "é\udc80",
        ]
    ),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"{}",
            b"[]",
            b'{"message":{"messageId":1}}',
            b'{"update_id":1}',
            b'{"type":"url_verification"}',
            b'{"id":"evt","type":"x"}',
            b"payload=%7B%7D",
            b'{"entry":[{"changes":[{"value":{"messages":[{}]}}]}]}',
            b"command=%2Fx",
            b'{"type":"event_callback","event":[]}',
            b'{"update_id":99999999999999999999999}',
        ]
    ),
)
configs = st.fixed_dictionaries(
    {},
    optional={
        "channel_id": st.sampled_from(["", "c1", 5]),
        "verify_token": st.sampled_from([SECRET, "", None, 1]),
        "service_account_email": st.text(max_size=10),
        "signature_mode": st.sampled_from(["standard", "hmac_sha256", "other", None]),
        "signature_header": st.sampled_from(["X-Signature", "x-event-id", "", 3]),
        "paypal_verification": st.sampled_from(["certificate", "api", "x", None]),
        "api_base_url": st.sampled_from(["https://api-m.paypal.com", "ftp://x", "", 7]),
    },
)
requests = st.builds(
    WebhookRequest,
    method=st.sampled_from(["POST", "GET"]),
    url=st.one_of(
        st.text(max_size=60),
        st.sampled_from(
            [
                "https://h.example/x?bodySHA256=00",
                "https://h.example:443/x",
                "https://h:99999/x",
                "https://[::1/x",
                "http://h/x?bodySHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ]
        ),
    ),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=10),
    query=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "x"]),
        st.one_of(st.text(max_size=20), st.just("subscribe"), st.just(SECRET)),
        max_size=4,
    ),
    body=bodies,
    received_at=st.sampled_from([NOW, 0.0, 1e12]),
)
secret_sets = st.builds(
    lambda signing, token, config: secrets(*signing, credentials=token, config=config),
    st.lists(
        st.sampled_from([SECRET, "", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "é"]), max_size=3
    ),
    st.sampled_from(
        [{}, {"auth_token": SECRET}, {"auth_token": 5}, {"client_id": "a", "client_secret": "b"}]
    ),
    configs,
)


class _LocalKeys:
    def __init__(self) -> None:
        key = RSAKey.import_key(rsa_key("gmail-properties"), parameters={"kid": "k"})
        self.key_set = KeySet.import_key_set({"keys": [key.as_dict(private=False)]})

    async def keys(self) -> KeySet:
        return self.key_set


class _LocalCertificates:
    cert = self_signed_certificate(rsa_key("paypal-properties"))

    async def certificate(self, url: str):
        return self.cert


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Key and certificate sources stay local; PayPal's API answers from a mock."""
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", _LocalKeys())
    monkeypatch.setattr(paypal_webhook, "CERTIFICATE_SOURCE", _LocalCertificates())
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"access_token": "t"}))
    monkeypatch.setattr(
        paypal_webhook,
        "API_VERIFIER",
        paypal_webhook.PayPalApiVerifier(http=httpx.AsyncClient(transport=transport)),
    )
    yield


def _run(hook: WebhookHandler, req: WebhookRequest, sec, *, handshake: bool = False) -> None:
    async def go() -> object:
        if handshake:
            return await hook.handshake(req, sec)
        return await hook.verify(req, sec)

    try:
        result = asyncio.run(go())
    except WebhookVerificationError as exc:
        assert exc.reason and SECRET not in exc.reason
        return
    assert handshake or isinstance(result, VerifiedDelivery)


@pytest.mark.parametrize("key", KEYS)
def test_verify_only_ever_raises_verification_errors(key: str) -> None:
    hook = handler(key)

    @SETTINGS
    @given(req=requests, sec=secret_sets)
    def check(req: WebhookRequest, sec) -> None:
        _run(hook, req, sec)
        _run(hook, req, sec, handshake=True)

    check()


def _hub(body: bytes) -> dict[str, str]:
    return {
        "x-hub-signature-256": "sha256="
        + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    }


@pytest.mark.parametrize("key", ["github", "whatsapp", "jira", "webhook"])
def test_correctly_signed_arbitrary_bodies(key: str) -> None:
    """Past the signature, an odd body is still only ever a verification error."""
    hook = handler(key)

    @SETTINGS
    @given(body=bodies, event=st.text(min_size=1, max_size=10))
    def check(body: bytes, event: str) -> None:
        sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            **_hub(body),
            "x-hub-signature": "sha256=" + sig,
            "x-signature": sig,
            "x-github-event": event,
            "x-github-delivery": "d",
        }
        req = WebhookRequest("POST", "https://h/x", headers, {}, body, NOW)
        _run(hook, req, secrets(SECRET, config={"signature_mode": "hmac_sha256"}))

    check()


@pytest.mark.parametrize("key", KEYS)
def test_normalize_any_json_or_value_error(key: str) -> None:
    hook = handler(key)

    @SETTINGS
    @given(
        value=json_values,
        raw=st.binary(max_size=100),
        headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=6),
    )
    def check(value: object, raw: bytes, headers: dict[str, str]) -> None:
        headers = {k: v for k, v in headers.items() if k != "content-type"}
        assert isinstance(hook.normalize(json.dumps(value).encode(), headers), NormalizedEvent)
        try:
            event = hook.normalize(raw, headers)
        except ValueError:
            return
        assert isinstance(event, NormalizedEvent)

    check()

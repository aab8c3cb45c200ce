"""Fuzz every registered webhook handler's header parsing: whatever a sender puts in the
headers a handler reads, only `WebhookVerificationError` may escape (→ 401 problem JSON).

No hand-kept list of providers or header names: handlers come from the registry, and the
headers are a mapping that draws a value (or absence) at the moment a handler asks for a
name, so each handler is fed exactly the headers it reads, in the order it reads them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import KeySet, RSAKey

from backend.connectors.base import (
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookVerificationError,
)
from backend.connectors.providers.gmail import webhook as gmail_webhook
from backend.connectors.providers.paypal import webhook as paypal_webhook
from backend.connectors.registry import providers

from .helpers import NOW, rsa_key, secrets, self_signed_certificate

HANDLERS = {key: p.webhook for key, p in providers().items() if p.webhook is not None}
SECRET = "s3cret-signing-value"
CLIENT_SECRET = "paypal-client-secret-value"
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# -- header values: the shapes parsers split, decode and compare ---------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=16),
    st.sampled_from(["RS256", "HS256", "none", "SHA256withRSA", "JWT"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x5u"]) | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
deep = st.integers(min_value=2_000, max_value=60_000)  # past any decoder depth limit
json_texts = st.one_of(
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    deep.map(_nested),
    deep.map(lambda n: '{"alg":"RS256","kid":"k","ext":' + _nested(n) + "}"),
    deep.map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(min_value=1, max_value=5000).map(lambda n: '{"alg":"' + "A" * n * 10 + '"}'),
    st.text(max_size=40),
)
segments = st.one_of(
    json_texts.map(lambda t: _b64url(t.encode("utf-8", "surrogatepass"))),
    deep.map(lambda n: _b64url(('{"alg":"RS256","x":' + _nested(n) + "}").encode())),
    st.binary(max_size=64).map(_b64url),
    st.text(max_size=20),
    st.sampled_from(["", "e30", "!!", "====", "é"]),
)
jwts = st.builds(lambda *parts: ".".join(parts), segments, segments, segments)
atoms = st.one_of(
    st.sampled_from(
        ["t", "v1", "v0", "sha256", "sha1", "algorithm", "HMAC_SHA256", "Bearer", "sync", ""]
    ),
    st.integers().map(str),
    st.binary(max_size=40).map(bytes.hex),
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=12),
)
joined = st.builds(
    lambda sep, parts: sep.join(parts),
    st.sampled_from([",", "=", " ", ";", ".", "|", ":", ", ", "=="]),
    st.lists(atoms, max_size=8),
)
times = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z"),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: email.utils.format_datetime(d, True)),
    st.integers().map(str),
    st.floats().map(str),
)
urls = st.builds(
    lambda scheme, host, rest: f"{scheme}://{host}{rest}",
    st.sampled_from(["https", "http", "ftp", "", "HTTPS"]),
    st.sampled_from(["api-m.paypal.com", "api.sandbox.paypal.com", "[::1", "h:99999", "é", ""]),
    st.text(max_size=20),
)
bearer_tokens = jwts.map(lambda j: "Bearer " + j)
# A well-formed token but for its header's depth: the header is parsed before any key.
nested_bearer_tokens = deep.map(
    lambda n: (
        "Bearer "
        + _b64url(('{"alg":"RS256","kid":"k","ext":' + _nested(n) + "}").encode())
        + ".e30.c2ln"
    )
)
# Structured shapes are listed more than once: one_of picks branches about evenly, and
# they are what gets past the first split or prefix check into the deeper parsers.
header_values = st.one_of(
    st.text(max_size=120),  # any Unicode
    st.text(st.characters(max_codepoint=255), max_size=120),  # what ASGI servers decode
    st.sampled_from(["é\udc80", "\x00", "\r\n", " ", "\t"]),
    joined,
    joined,
    jwts,
    bearer_tokens,
    bearer_tokens,
    nested_bearer_tokens,
    json_texts,
    times,
    times,
    urls,
    st.integers(min_value=1, max_value=200_000).map(lambda n: "A" * n),
)


class DrawnHeaders(dict[str, str]):
    """Header mapping whose values are drawn on first read (absent drawn as None)."""

    def __init__(self, draw: Any) -> None:
        super().__init__()
        self._draw = draw
        self.read: list[str] = []

    def _lookup(self, name: str) -> str | None:
        if name not in self.read:
            self.read.append(name)
            value = self._draw(st.none() | header_values, label=name)
            if value is not None:
                super().__setitem__(name, value)
        return super().get(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self._lookup(name)
        return default if value is None else value

    def __getitem__(self, name: str) -> str:
        value = self._lookup(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None


secret_sets = st.builds(
    lambda config: secrets(
        SECRET,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        credentials={"client_id": "cid", "client_secret": CLIENT_SECRET, "auth_token": SECRET},
        config=config,
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "paypal_verification": st.sampled_from(["certificate", "api"]),
            "service_account_email": st.just("push@example-project.iam.gserviceaccount.com"),
            "channel_id": st.just("channel-1"),
            "signature_mode": st.sampled_from(["standard", "hmac_sha256"]),
            "signature_header": st.sampled_from(["X-Signature", "X-Hub-Signature"]),
            "verify_token": st.just(SECRET),
        },
    ),
)
bodies = st.sampled_from(
    [
        b"",
        b"{}",
        b'{"id":"evt_1","type":"x","event_type":"X","message":{"messageId":"1"}}',
        b"MessageSid=SM1&AccountSid=AC1",
        b'{"update_id":1}',
    ]
)
queries = st.sampled_from(
    [{}, {"hub.mode": "subscribe", "hub.verify_token": SECRET, "hub.challenge": "c"}]
)


class _LocalKeys:
    def __init__(self) -> None:
        key = RSAKey.import_key(rsa_key("gmail-fuzz"), parameters={"kid": "k"})
        self.key_set = KeySet.import_key_set({"keys": [key.as_dict(private=False)]})

    async def keys(self) -> KeySet:
        return self.key_set


class _LocalCertificates:
    cert = self_signed_certificate(rsa_key("paypal-fuzz"))

    async def certificate(self, url: str) -> Any:
        return self.cert


def _paypal_api(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/oauth2/token":
        return httpx.Response(200, json={"access_token": "A21AA-fuzz", "expires_in": 32400})
    return httpx.Response(200, json={"verification_status": "FAILURE"})


@pytest.fixture(autouse=True)
def providers_at_the_boundary(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Google's keys, PayPal's certificates and PayPal's API answer locally."""
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", _LocalKeys())
    monkeypatch.setattr(paypal_webhook, "CERTIFICATE_SOURCE", _LocalCertificates())
    http = httpx.AsyncClient(transport=httpx.MockTransport(_paypal_api))
    monkeypatch.setattr(paypal_webhook, "API_VERIFIER", paypal_webhook.PayPalApiVerifier(http=http))
    yield
    asyncio.run(http.aclose())


def _only_verification_errors(
    hook: WebhookHandler, request: WebhookRequest, sec: Any, *, handshake: bool
) -> None:
    async def run() -> object:
        if handshake:
            return await hook.handshake(request, sec)
        return await hook.verify(request, sec)

    try:
        result = asyncio.run(run())
    except WebhookVerificationError as exc:
        assert exc.reason
        assert SECRET not in exc.reason and CLIENT_SECRET not in exc.reason
        return
    assert handshake or isinstance(result, VerifiedDelivery)


def test_every_registered_handler_is_fuzzed() -> None:
    assert {"gmail", "paypal", "stripe", "slack", "github"} <= set(HANDLERS)


@pytest.mark.parametrize("key", sorted(HANDLERS))
def test_header_parsers_raise_only_verification_errors(key: str) -> None:
    hook = HANDLERS[key]
    read: set[str] = set()

    @FUZZ
    @given(data=st.data(), sec=secret_sets, body=bodies, query=queries)
    def check(data: st.DataObject, sec: Any, body: bytes, query: dict[str, str]) -> None:
        for handshake in (False, True):
            headers = DrawnHeaders(data.draw)
            request = WebhookRequest(
                method="GET" if handshake else "POST",
                url="https://switchboard.example.com/api/webhooks/x/tok",
                headers=headers,
                query=query,
                body=body,
                received_at=NOW,
            )
            _only_verification_errors(hook, request, sec, handshake=handshake)
            read.update(headers.read)

    check()
    assert read, f"{key}: the fuzz never reached a header"

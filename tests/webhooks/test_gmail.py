"""Gmail via Pub/Sub push: a Google-signed RS256 OIDC token, checked against an injected key set."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from backend.connectors.base import WebhookVerificationError
from backend.connectors.providers.gmail import webhook as gmail_webhook

from .helpers import NOW, fixture, handler, request, secrets

AUDIENCE = "https://switchboard.example.com/api/webhooks/gmail/tok_123"
SERVICE_ACCOUNT = "gmail-push@example-project.iam.gserviceaccount.com"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "google-test-1"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "google-test-1"}, private=True)


class LocalKeys:
    """A KeySource holding the public half of a local key (as Google's JWKS would)."""

    def __init__(self, *keys: RSAKey) -> None:
        self.key_set = KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})
        self.calls = 0

    async def keys(self) -> KeySet:
        self.calls += 1
        return self.key_set


GMAIL = gmail_webhook.GmailWebhook(key_source=LocalKeys(SIGNING_KEY))
PUSH = {"service_account_email": SERVICE_ACCOUNT}


def push_secrets(*audiences: str, config: dict[str, Any] | None = None):
    return secrets(*audiences, config=PUSH if config is None else config)


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "112233445566778899000",
        "sub": "112233445566778899000",
        "email": SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 3590,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(key: RSAKey = SIGNING_KEY, alg: str = "RS256", **overrides: Any) -> str:
    return jwt.encode({"alg": alg, "kid": "google-test-1", "typ": "JWT"}, claims(**overrides), key)


def push_request(bearer: str, body: bytes | None = None):
    body = fixture("gmail", "pubsub_push__history.json") if body is None else body
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
    return request(body, headers)


async def test_valid_push_verifies() -> None:
    delivery = await GMAIL.verify(push_request(token()), push_secrets(AUDIENCE))
    assert (delivery.event_id, delivery.event_type) == ("2070443601311540", "gmail.history")
    assert "authorization" not in GMAIL.stored_headers


async def test_module_level_key_source_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    local = LocalKeys(SIGNING_KEY)
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", local)
    assert await handler("gmail").verify(push_request(token()), push_secrets(AUDIENCE))
    assert local.calls == 1


async def test_audience_rotation_and_short_issuer() -> None:
    old = token(aud="https://old.example.com/hook", iss="accounts.google.com")
    both = push_secrets(AUDIENCE, "https://old.example.com/hook")
    assert await GMAIL.verify(push_request(old), both)


async def test_service_account_email_is_compared_without_case() -> None:
    config = {"service_account_email": " " + SERVICE_ACCOUNT.upper() + " "}
    assert await GMAIL.verify(push_request(token()), push_secrets(AUDIENCE, config=config))


@pytest.mark.parametrize(
    "config", [{}, {"service_account_email": ""}, {"service_account_email": 7}]
)
async def test_a_push_service_account_must_be_configured(config: dict[str, Any]) -> None:
    """Any Google account can mint a token for our audience: without the expected account
    configured, nothing tells the push subscription's token from anyone else's."""
    source = LocalKeys(SIGNING_KEY)
    hook = gmail_webhook.GmailWebhook(key_source=source)
    with pytest.raises(WebhookVerificationError, match="no push service account configured"):
        await hook.verify(push_request(token()), push_secrets(AUDIENCE, config=config))
    assert source.calls == 0


@pytest.mark.parametrize(
    "claims_of_another_account",
    [
        {"email": "attacker@gmail.com"},
        {"email": "mallory@attacker-project.iam.gserviceaccount.com"},
        {"email": None},
        {"email": ["gmail-push@example-project.iam.gserviceaccount.com"]},
        {"email_verified": None},
        {"email_verified": "true"},
    ],
)
async def test_a_token_minted_for_another_account_is_rejected(
    claims_of_another_account: dict[str, Any],
) -> None:
    bearer = token(**claims_of_another_account)
    with pytest.raises(WebhookVerificationError, match=r"service account|not verified"):
        await GMAIL.verify(push_request(bearer), push_secrets(AUDIENCE))


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [
        # Nesting in a field the check skips: past msgspec's depth it raises RecursionError.
        b'{"alg":"RS256","ext":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"ext":' * 50_000 + b"1" + b"}" * 50_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"alg":5}',
        b"\xff\xfe",
    ],
)
async def test_a_malformed_token_header_is_a_verification_error(header: bytes) -> None:
    """The token header is parsed before the signature check, so it is attacker input."""
    source = LocalKeys(SIGNING_KEY)
    hook = gmail_webhook.GmailWebhook(key_source=source)
    bearer = f"{_segment(header)}.{token().split('.', 1)[1]}"
    with pytest.raises(WebhookVerificationError, match="malformed bearer token"):
        await hook.verify(push_request(bearer), push_secrets(AUDIENCE))
    assert source.calls == 0


@pytest.mark.parametrize(
    ("bearer", "reason"),
    [
        (token(key=OTHER_KEY), "invalid bearer token"),
        (token(aud="https://evil.example.com"), "audience"),
        (token(iss="https://evil.example.com"), "issuer"),
        (token(exp=int(NOW) - 61), "expired"),
        (token(iat=int(NOW) + 3600), "future"),
        (token(email_verified=False), "not verified"),
        (token(email="someone@else.iam.gserviceaccount.com"), "service account"),
        (token(exp=None), "exp or iat"),
        (token()[:-4] + "AAAA", "invalid bearer token"),
        ("not-a-jwt", "malformed Authorization"),
        ("a.b.c", "malformed"),
        ("!!.b.c", "malformed"),
    ],
)
async def test_rejections(bearer: str, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        await GMAIL.verify(push_request(bearer), push_secrets(AUDIENCE))
    assert bearer not in info.value.reason


async def test_other_algorithms_refused_before_fetching_keys() -> None:
    source = LocalKeys(SIGNING_KEY)
    hook = gmail_webhook.GmailWebhook(key_source=source)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    with pytest.raises(WebhookVerificationError, match="not RS256"):
        await hook.verify(push_request(f"{header}.e30.sig"), push_secrets(AUDIENCE))
    assert source.calls == 0


async def test_missing_header_scheme_and_audience() -> None:
    body = fixture("gmail", "pubsub_push__history.json")
    with pytest.raises(WebhookVerificationError, match="missing Authorization"):
        await GMAIL.verify(request(body, {}), push_secrets(AUDIENCE))
    with pytest.raises(WebhookVerificationError, match="malformed Authorization"):
        basic = request(body, {"Authorization": f"Basic {token()}"})
        await GMAIL.verify(basic, push_secrets(AUDIENCE))
    with pytest.raises(WebhookVerificationError, match="no audience"):
        await GMAIL.verify(push_request(token()), push_secrets())
    with pytest.raises(WebhookVerificationError, match="JSON"):
        await GMAIL.verify(push_request(token(), b'{"subscription":"x"}'), push_secrets(AUDIENCE))


async def test_google_key_source_caches_for_max_age() -> None:
    calls: list[str] = []
    jwks = {"keys": [SIGNING_KEY.as_dict(private=False)]}

    def answer(req: httpx.Request) -> httpx.Response:
        calls.append(str(req.url))
        return httpx.Response(200, json=jwks, headers={"Cache-Control": "public, max-age=19800"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        source = gmail_webhook.GoogleKeySource(http=http)
        first, second = await source.keys(), await source.keys()
    assert first is second and calls == [gmail_webhook.GOOGLE_JWKS_URL]

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(503))
    ) as down:
        with pytest.raises(WebhookVerificationError, match="could not load"):
            await gmail_webhook.GoogleKeySource(http=down).keys()


def test_normalize_history() -> None:
    event = GMAIL.normalize(fixture("gmail", "pubsub_push__history.json"), {})
    assert event.type == "gmail.history" and event.subject == "user@example.com"
    assert event.data == {
        "email_address": "user@example.com",
        "history_id": "1234567890",
        "message_id": "2070443601311540",
        "subscription": "projects/myproject/subscriptions/mysubscription",
    }
    assert event.time is not None and event.time.year == 2021
    garbled = GMAIL.normalize(b'{"message":{"data":"%%%","messageId":"1"}}', {})
    assert garbled.data["email_address"] is None and garbled.data["message_id"] == "1"

"""Gmail change notifications, delivered by a Pub/Sub push subscription.

Pub/Sub signs nothing in the body: it sends `Authorization: Bearer <Google-signed OIDC JWT>`
(RS256). We check the signature against Google's published keys (JWKS, cached as long as
Cache-Control allows), the issuer, the audience the tenant configured on the subscription
(kept as the signing secret), expiry, and that the token was minted for the push service
account the tenant configured (`config.service_account_email`, required, with
`email_verified`): any Google account can mint a token for any audience, so the audience
alone proves nothing. The key source is injectable so tests use a local RSA key set.

A test-mode integration's Google is the simulator: its tokens are checked against the
simulator's keys (and every claim as above), never Google's; a live integration never trusts
the simulator's keys.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any, Final, Protocol

import httpx
import msgspec
from joserfc import jwt
from joserfc.jwk import KeySet

from backend.connectors.base import (
    DeliveryPart,
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.providers.gmail import simulator
from backend.connectors.webhook_normalize import dig, from_iso, load_json, load_object, text
from backend.connectors.webhook_schemes import constant_time_equals, decode_json, require_header
from backend.lib.http import get_client

GOOGLE_JWKS_URL: Final = "https://www.googleapis.com/oauth2/v3/certs"
ISSUERS: Final = frozenset({"accounts.google.com", "https://accounts.google.com"})
LEEWAY_SECONDS: Final = 60
_MAX_AGE = re.compile(r"max-age=(\d+)")


class KeySource(Protocol):
    """Where trusted token-signing keys come from."""

    async def keys(self) -> KeySet: ...


class GoogleKeySource:
    """Google's JWKS over HTTPS, cached in process for the Cache-Control max-age.

    A failed refresh falls back to the keys already held (Google rotates with overlap), and
    fails closed when there are none.
    """

    def __init__(
        self,
        url: str = GOOGLE_JWKS_URL,
        default_max_age: int = 3600,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.http = http
        self.default_max_age = default_max_age
        self._keys: KeySet | None = None
        self._expires_at = 0.0

    async def keys(self) -> KeySet:
        if self._keys is not None and time.monotonic() < self._expires_at:
            return self._keys
        try:
            response = await (self.http or get_client()).get(self.url)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, TypeError, KeyError) as exc:
            if self._keys is not None:
                return self._keys
            raise WebhookVerificationError("could not load Google's token keys") from exc
        match = _MAX_AGE.search(response.headers.get("cache-control", ""))
        max_age = int(match.group(1)) if match else self.default_max_age
        self._keys, self._expires_at = keys, time.monotonic() + max_age
        return keys


class SimulatorKeySource:
    """The simulated Google's keys (test mode's trust root), held in process."""

    async def keys(self) -> KeySet:
        return simulator.public_keys()


#: The process-wide key source; tests replace it (or pass one to `GmailWebhook`).
KEY_SOURCE: KeySource = GoogleKeySource()
#: The key source of test-mode integrations only.
TEST_MODE_KEY_SOURCE: KeySource = SimulatorKeySource()


class _TokenHeader(msgspec.Struct):
    alg: str
    kid: str | None = None


class _Message(msgspec.Struct):
    message_id: str | None = msgspec.field(default=None, name="messageId")


class _Push(msgspec.Struct):
    message: _Message


def _bearer_token(request: WebhookRequest) -> str:
    scheme, _, token = require_header(request, "Authorization").partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        raise WebhookVerificationError("malformed Authorization header")
    return token.strip()


def _check_header(token: str) -> None:
    """Reject anything but RS256 before any key is fetched."""
    segment = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        alg = decode_json(raw, _TokenHeader).alg
    except (ValueError, WebhookVerificationError) as exc:  # bad base64, JSON, shape, depth
        raise WebhookVerificationError("malformed bearer token") from exc
    if alg != "RS256":
        raise WebhookVerificationError("bearer token is not RS256")


def push_service_account(secrets: WebhookSecrets) -> str:
    """The configured push service account's email (lower case); none → reject."""
    email = secrets.config.get("service_account_email")
    if not isinstance(email, str) or not email.strip():
        raise WebhookVerificationError("no push service account configured")
    return email.strip().lower()


def check_claims(claims: dict[str, Any], secrets: WebhookSecrets, now: float) -> None:
    """Issuer, audience, lifetime, and the verified email of the push service account."""
    if claims.get("iss") not in ISSUERS:
        raise WebhookVerificationError("unexpected token issuer")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or not any(
        isinstance(a, str) and constant_time_equals(a, s)
        for a in audiences
        for s in secrets.signing_secrets
        if s
    ):
        raise WebhookVerificationError("unexpected token audience")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise WebhookVerificationError("token without exp or iat")
    if exp < now - LEEWAY_SECONDS:
        raise WebhookVerificationError("token expired")
    if iat > now + LEEWAY_SECONDS:
        raise WebhookVerificationError("token issued in the future")
    if claims.get("email_verified") is not True:
        raise WebhookVerificationError("token email is not verified")
    email = claims.get("email")
    if not isinstance(email, str) or email.lower() != push_service_account(secrets):
        raise WebhookVerificationError("unexpected push service account")


class GmailWebhook(WebhookHandler):
    # Never the Authorization header: the bearer token is a credential.
    stored_headers = ("content-type", "user-agent")

    def __init__(self, key_source: KeySource | None = None) -> None:
        self.key_source = key_source

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        if not any(secrets.signing_secrets):
            raise WebhookVerificationError("no audience configured")
        push_service_account(secrets)
        token = _bearer_token(request)
        _check_header(token)
        source = TEST_MODE_KEY_SOURCE if secrets.test_mode else self.key_source or KEY_SOURCE
        keys = await source.keys()
        try:
            claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
        except Exception as exc:  # joserfc raises JoseError and, on odd input, others
            raise WebhookVerificationError("invalid bearer token") from exc
        check_claims(claims, secrets, request.received_at)
        push = decode_json(request.body, _Push)
        return VerifiedDelivery(push.message.message_id, "gmail.history")

    def split(self, request: WebhookRequest, delivery: VerifiedDelivery) -> list[DeliveryPart]:
        """One notification per push; its mailbox (`emailAddress`) is inside the base64
        `message.data`, so the decoded notification is what the account path reads."""
        try:
            notification = _decode_data(dig(load_json(request.body), "message", "data"))
        except (ValueError, RecursionError):
            notification = {}
        return [DeliveryPart(request.body, delivery.event_id, delivery.event_type, notification)]

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        message = dig(payload, "message")
        notification = _decode_data(dig(message, "data"))
        email = text(notification.get("emailAddress"))
        data = {
            "email_address": email,
            "history_id": text(notification.get("historyId")),
            "message_id": text(dig(message, "messageId")) or text(dig(message, "message_id")),
            "subscription": text(dig(payload, "subscription")),
        }
        return NormalizedEvent("gmail.history", email, from_iso(dig(message, "publishTime")), data)


def _decode_data(value: Any) -> dict[str, Any]:
    """The Gmail notification inside Pub/Sub's base64 `data` ({} when absent or garbled)."""
    if not isinstance(value, str):
        return {}
    try:
        return load_object(base64.b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return {}


HANDLER = GmailWebhook()

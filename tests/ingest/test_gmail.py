"""Gmail via Pub/Sub push over HTTP: an RS256 OIDC token signed by a local key that the
handler trusts through its injected KEY_SOURCE."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from backend.connectors.providers.gmail import webhook as gmail_webhook

from .support import fixture

SERVICE_ACCOUNT = "gmail-push@example-project.iam.gserviceaccount.com"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "local-google-1"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "local-google-1"}, private=True)


class LocalKeys:
    def __init__(self, *keys: RSAKey) -> None:
        self.key_set = KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})

    async def keys(self) -> KeySet:
        return self.key_set


@pytest.fixture(autouse=True)
def google_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", LocalKeys(SIGNING_KEY))


def bearer(audience: str, key: RSAKey = SIGNING_KEY, **overrides: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": audience,
        "azp": "112233445566778899000",
        "sub": "112233445566778899000",
        "email": SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": now - 5,
        "exp": now + 3595,
        **overrides,
    }
    token = jwt.encode({"alg": "RS256", "kid": "local-google-1", "typ": "JWT"}, claims, key)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_push_is_stored_normalized_and_deduplicated(hooks, tenant, make_integration):
    integration = await make_integration(
        tenant,
        "gmail",
        signing_secrets=("https://hooks.example.test/gmail-audience",),
        config={"service_account_email": SERVICE_ACCOUNT},
    )
    audience = "https://hooks.example.test/gmail-audience"
    body = fixture("gmail", "pubsub_push__history.json")
    headers = bearer(audience)
    row = await hooks.accept(
        integration, body, headers, event_id="2070443601311540", event_type="gmail.history"
    )
    assert "authorization" not in json.dumps(row["headers"]).lower()
    _, envelope = await hooks.normalized(row, "gmail", "gmail.history")
    assert envelope["data"]["email_address"] == "user@example.com"
    assert envelope["data"]["history_id"] == "1234567890"
    await hooks.duplicate(integration, body, bearer(audience), row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    audience = "https://hooks.example.test/gmail-audience"
    integration = await make_integration(
        tenant,
        "gmail",
        signing_secrets=(audience,),
        config={"service_account_email": SERVICE_ACCOUNT},
    )
    body = fixture("gmail", "pubsub_push__history.json")
    await hooks.reject(integration, body, bearer(audience, OTHER_KEY), reason="invalid bearer")
    await hooks.reject(integration, body, bearer("https://elsewhere.example/aud"))
    await hooks.reject(integration, body, bearer(audience, iss="https://evil.example"))
    await hooks.reject(integration, body, bearer(audience, email="someone@evil.example"))
    await hooks.reject(integration, body, bearer(audience, email_verified=False))
    stale = int(time.time()) - 7200
    await hooks.reject(integration, body, bearer(audience, iat=stale, exp=stale + 3600))
    await hooks.reject(integration, body, {"Content-Type": "application/json"})
    await hooks.reject(integration, body, {"Authorization": "Bearer not.a.jwt"})


async def test_without_a_configured_service_account_nothing_is_accepted(
    hooks, tenant, make_integration
) -> None:
    """A token minted by any Google account for the audience is not the push subscription's:
    with no service account to pin, every push is refused (and the setup text says so)."""
    audience = "https://hooks.example.test/gmail-audience"
    integration = await make_integration(tenant, "gmail", signing_secrets=(audience,))
    body = fixture("gmail", "pubsub_push__history.json")
    await hooks.reject(
        integration, body, bearer(audience), reason="no push service account configured"
    )
    await hooks.reject(
        integration,
        body,
        bearer(audience, email="anyone@gmail.com"),
        reason="no push service account configured",
    )


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_deeply_nested_token_header_is_a_problem_not_a_500(
    hooks, tenant, make_integration
) -> None:
    """The JWT header is parsed before the signature check: nesting past the decoder's
    depth limit answers 401 problem JSON like any other malformed token."""
    audience = "https://hooks.example.test/gmail-audience"
    integration = await make_integration(
        tenant,
        "gmail",
        signing_secrets=(audience,),
        config={"service_account_email": SERVICE_ACCOUNT},
    )
    body = fixture("gmail", "pubsub_push__history.json")
    header = _segment(
        b'{"alg":"RS256","kid":"local-google-1","ext":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    )
    _, claims, signature = bearer(audience)["Authorization"].split(".")
    nested = {"Authorization": f"Bearer {header}.{claims}.{signature}"}
    await hooks.reject(integration, body, nested, reason="malformed bearer token")

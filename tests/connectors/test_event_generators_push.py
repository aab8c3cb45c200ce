"""What is special about the generated deliveries of Gmail, Calendar, Drive, Telegram,
WhatsApp and Twilio (issue 14), beyond the registry-wide contract (test_event_generators.py):

- each generated delivery goes over HTTP through the real ingest path of a test-mode
  integration (verification, storage, the worker's normalization);
- Gmail's push token is signed by the Gmail simulator, which the handler trusts for test-mode
  integrations only: a live integration refuses the very same delivery;
- Twilio's signature is checked by the official SDK's RequestValidator;
- Calendar and Drive notifications use the integration's own watch channel.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from twilio.request_validator import RequestValidator

from backend.connectors.base import WebhookRequest, WebhookSecrets, WebhookVerificationError
from backend.connectors.event_generators import (
    OutboundDelivery,
    SigningContext,
    SimulationContext,
)
from backend.connectors.providers.gmail import events as gmail_events
from backend.connectors.providers.gmail import simulator as gmail_simulator
from backend.connectors.providers.gmail import webhook as gmail_webhook
from backend.connectors.providers.google_calendar import events as calendar_events
from backend.connectors.providers.google_drive import events as drive_events
from backend.connectors.providers.telegram import events as telegram_events
from backend.connectors.providers.twilio import events as twilio_events
from backend.connectors.providers.whatsapp import events as whatsapp_events
from backend.connectors.registry import get_provider
from backend.connectors.simulator import SimRequest
from tests.ingest.support import Hooks, assert_problem

AUDIENCE = "https://hooks.example.test/gmail-audience"
AUTH_TOKEN = "12345abcdef67890abcdef12345abcde"
SECRET = "simulated-shared-secret-0123456789"
# A stand-in for Google's published keys: what a live integration trusts.
GOOGLE_KEY = RSAKey.generate_key(2048, parameters={"kid": "local-google-1"}, private=True)

# connector → (events module, signing secrets, credentials, config) of its integration.
SETUPS: dict[str, tuple[ModuleType, tuple[str, ...], dict[str, Any], dict[str, Any]]] = {
    "gmail": (
        gmail_events,
        (AUDIENCE,),
        {},
        {"service_account_email": gmail_simulator.PUSH_SERVICE_ACCOUNT},
    ),
    "google_calendar": (calendar_events, (SECRET,), {}, {}),
    "google_drive": (drive_events, (SECRET,), {}, {}),
    "telegram": (telegram_events, (SECRET,), {}, {}),
    "whatsapp": (whatsapp_events, (SECRET,), {}, {}),
    "twilio": (
        twilio_events,
        (),
        {"account_sid": "ACf3a1b2c4d5e6f708192a3b4c5d6e7f80", "auth_token": AUTH_TOKEN},
        {},
    ),
}


class LocalKeys:
    def __init__(self, *keys: RSAKey) -> None:
        self.key_set = KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})

    async def keys(self) -> KeySet:
        return self.key_set


@pytest.fixture(autouse=True)
def google_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live Gmail integrations trust a local "Google" (never the network)."""
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", LocalKeys(GOOGLE_KEY))


@pytest.fixture
def hooks(client: Any, raw_rows: Any, run_worker: Any, wait_for: Any) -> Hooks:
    return Hooks(client, raw_rows, run_worker, wait_for)


def context(
    sequence: int = 0,
    *,
    now: float | None = None,
    account_id: str | None = None,
    config: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> SimulationContext:
    return SimulationContext(
        integration_id=str(uuid.uuid4()),
        account_id=account_id,
        config=config or {},
        now=time.time() if now is None else now,
        sequence=sequence,
        overrides=overrides or {},
    )


def signed_headers(
    module: ModuleType,
    delivery: OutboundDelivery,
    url: str,
    secret: str | None,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    timestamp: float | None = None,
) -> dict[str, str]:
    signing = SigningContext(
        url,
        secret,
        credentials or {},
        config or {},
        time.time() if timestamp is None else timestamp,
    )
    return {**delivery.headers, **module.sign(delivery, signing)}


async def make_test_mode(make_integration: Any, raw_rows: Any, tenant: Any, key: str) -> Any:
    _, signing, credentials, config = SETUPS[key]
    integration = await make_integration(
        tenant, key, signing_secrets=signing, credentials=credentials, config=config
    )
    await raw_rows(
        "UPDATE integration SET test_mode = true WHERE id = $1 RETURNING id", integration.id
    )
    return integration


# -- through the real ingest path --------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SETUPS))
async def test_every_generated_event_is_accepted_stored_and_normalized_over_http(
    key: str, hooks: Hooks, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    module, signing, credentials, config = SETUPS[key]
    integration = await make_test_mode(make_integration, raw_rows, tenant, key)
    rows = []
    for sequence, event in enumerate(module.EVENT_TYPES):
        delivery = event.build(context(sequence, config=config))
        headers = signed_headers(
            module, delivery, integration.url, (signing or (None,))[0], credentials, config
        )
        rows.append(
            await hooks.accept(
                integration,
                delivery.body,
                headers,
                event_id=delivery.provider_event_id,
                event_type=event.name,
            )
        )
        # The provider's retry of the same delivery is a duplicate, not a new event.
        response = await hooks.post(integration, delivery.body, headers)
        assert response.json() == {"status": "duplicate", "event_id": str(rows[-1]["id"])}
    await hooks.run_worker()
    for row, event in zip(rows, module.EVENT_TYPES, strict=True):
        (done,) = await raw_rows("SELECT * FROM integration_webhook WHERE id = $1", row["id"])
        assert done["status"] == "processed", done["error"]
        assert json.loads(done["normalized"])["type"] == f"{key}.{event.name}"


async def test_a_live_gmail_integration_refuses_the_simulators_token(
    hooks: Hooks, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    """The simulator is a trust root for test mode only: the same signed delivery that a
    test-mode integration stores is refused by a live one (which trusts Google's keys)."""
    _, signing, _, config = SETUPS["gmail"]
    test_mode = await make_test_mode(make_integration, raw_rows, tenant, "gmail")
    live = await make_integration(tenant, "gmail", signing_secrets=signing, config=config)
    delivery = gmail_events.EVENT_TYPES[0].build(context(config=config))
    headers = signed_headers(gmail_events, delivery, live.url, AUDIENCE, config=config)

    await hooks.reject(live, delivery.body, headers, reason="invalid bearer token")
    await hooks.accept(
        test_mode,
        delivery.body,
        headers,
        event_id=delivery.provider_event_id,
        event_type="gmail.history",
    )


async def test_a_test_mode_gmail_integration_refuses_tokens_of_other_keys(
    hooks: Hooks, tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    """Test mode swaps the trust root, it does not drop it: a token signed by any other key
    (Google's included) is refused."""
    integration = await make_test_mode(make_integration, raw_rows, tenant, "gmail")
    delivery = gmail_events.EVENT_TYPES[0].build(context())
    token = headers_token(
        signed_headers(gmail_events, delivery, integration.url, AUDIENCE, config=SETUPS["gmail"][3])
    )
    claims = jwt.decode(token, gmail_simulator.public_keys()).claims
    forged = jwt.encode({"alg": "RS256", "kid": "local-google-1"}, claims, GOOGLE_KEY)
    headers = {**delivery.headers, "authorization": f"Bearer {forged}"}
    response = await hooks.post(integration, delivery.body, headers)
    assert_problem(response, 401, "signature-invalid")


def headers_token(headers: dict[str, str]) -> str:
    scheme, _, token = headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


# -- Gmail's token and notification ------------------------------------------------------


def gmail_request(delivery: OutboundDelivery, headers: dict[str, str], now: float) -> Any:
    return WebhookRequest(
        "POST", "https://hooks.example.test/x", headers, {}, delivery.body, received_at=now
    )


async def test_gmail_token_names_the_audience_and_push_account_and_lives_an_hour() -> None:
    now = time.time()
    config = {"service_account_email": "push@tenant-project.iam.gserviceaccount.com"}
    delivery = gmail_events.EVENT_TYPES[0].build(context(now=now, config=config))
    headers = signed_headers(gmail_events, delivery, "u", AUDIENCE, config=config, timestamp=now)
    claims = jwt.decode(headers_token(headers), gmail_simulator.public_keys()).claims
    assert claims["aud"] == AUDIENCE and claims["email"] == config["service_account_email"]
    assert claims["email_verified"] is True and claims["iss"] == "https://accounts.google.com"
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] == int(now)

    secrets = WebhookSecrets((AUDIENCE,), {}, config, test_mode=True)
    handler = gmail_webhook.HANDLER
    verified = await handler.verify(gmail_request(delivery, headers, now), secrets)
    assert verified.event_id == delivery.provider_event_id
    # Signed two hours ago (the stale variant): the token has expired.
    stale = signed_headers(
        gmail_events, delivery, "u", AUDIENCE, config=config, timestamp=now - 7200
    )
    with pytest.raises(WebhookVerificationError, match="expired"):
        await handler.verify(gmail_request(delivery, stale, now), secrets)


def test_gmail_notification_names_the_connected_mailbox_and_takes_overrides() -> None:
    delivery = gmail_events.EVENT_TYPES[0].build(
        context(
            account_id="ops@tenant.example",
            overrides={"message": {"data": {"historyId": "777"}}, "subscription": "projects/p/s"},
        )
    )
    push = json.loads(delivery.body)
    notification = json.loads(base64.b64decode(push["message"]["data"]))
    assert notification == {"emailAddress": "ops@tenant.example", "historyId": "777"}
    assert push["subscription"] == "projects/p/s"
    assert push["message"]["messageId"] == delivery.provider_event_id
    event = gmail_webhook.HANDLER.normalize(delivery.body, {})
    assert event.subject == "ops@tenant.example" and event.data["history_id"] == "777"


def test_the_gmail_simulator_serves_its_jwks() -> None:
    simulator = get_provider("gmail").simulator
    assert simulator is gmail_simulator.SIMULATOR
    answer = gmail_simulator.certs(SimRequest("GET", "/oauth2/v3/certs", {}, {}, b""))
    served = json.loads(answer.body)
    assert [k["kid"] for k in served["keys"]] == [gmail_simulator.signing_key().kid]
    assert all("d" not in k for k in served["keys"])  # public halves only


# -- Twilio, checked by the official SDK ---------------------------------------------------


@pytest.mark.parametrize("event", twilio_events.EVENT_TYPES, ids=lambda e: e.name)
def test_twilio_signature_passes_the_sdks_request_validator(event: Any) -> None:
    url = "https://hooks.example.test/api/webhooks/twilio/tok"
    ctx = context(account_id="AC0123456789abcdef0123456789abcdef")
    delivery = event.build(ctx)
    signature = signed_headers(twilio_events, delivery, url, None, {"auth_token": AUTH_TOKEN})[
        "x-twilio-signature"
    ]
    params = dict(parse_qsl(delivery.body.decode(), keep_blank_values=True))
    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert not RequestValidator(AUTH_TOKEN + "x").validate(url, params, signature)
    assert params["AccountSid"] == ctx.account_id


# -- Calendar and Drive: the integration's own channel -------------------------------------


@pytest.mark.parametrize("module", [calendar_events, drive_events], ids=["calendar", "drive"])
async def test_channel_notifications_use_the_watch_channel_and_number_messages_upward(
    module: ModuleType,
) -> None:
    now = time.time()
    config = {"channel_id": "4ba78bf0-6a47-11e2-bcfd-0800200c9a66"}
    handler = get_provider(
        "google_calendar" if module is calendar_events else "google_drive"
    ).webhook
    assert handler is not None
    numbers = []
    for call, sequence in ((now, 0), (now, 1), (now + 1, 0)):
        delivery = module.EVENT_TYPES[0].build(context(sequence, now=call, config=config))
        headers = signed_headers(module, delivery, "u", SECRET)
        assert headers["x-goog-channel-token"] == SECRET and delivery.body == b""
        request = WebhookRequest("POST", "u", headers, {}, b"", received_at=now)
        verified = await handler.verify(request, WebhookSecrets((SECRET,), {}, config))
        assert verified.event_id == delivery.provider_event_id
        numbers.append(int(headers["x-goog-message-number"]))
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    # Another channel's notification is refused even with the right token.
    with pytest.raises(WebhookVerificationError, match="X-Goog-Channel-ID"):
        await handler.verify(
            request, WebhookSecrets((SECRET,), {}, {"channel_id": "another-channel"})
        )


def test_whatsapp_changes_name_the_connected_phone_number() -> None:
    for event in whatsapp_events.EVENT_TYPES:
        delivery = event.build(context(account_id="109876543210987"))
        value = json.loads(delivery.body)["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == "109876543210987"


def test_telegram_sends_no_secret_header_without_a_secret() -> None:
    delivery = telegram_events.EVENT_TYPES[0].build(context())
    assert telegram_events.sign(delivery, SigningContext("u", None, {}, {}, time.time())) == {}
    signed = telegram_events.sign(delivery, SigningContext("u", SECRET, {}, {}, time.time()))
    assert signed == {"x-telegram-bot-api-secret-token": SECRET}

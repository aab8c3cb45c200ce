"""The event generators' contract (issue 14): every provider with a webhook handler has an
`events.py`, and every delivery it generates, signed as the provider signs, passes that
provider's own handler, fails under another secret, normalizes to its declared type, names
the integration's account, and (Stripe, GitHub) validates against the provider's published
API description. Signatures are also checked by the providers' official SDKs, evidence from
outside our code. New folders are covered by the registry, without being listed here.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import importlib
import json
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import slack_sdk.signature
import stripe
from hubspot.utils.signature import Signature as HubSpotSignature
from openapi_schema_validator import OAS30Validator

from backend.connectors.base import (
    VerifiedDelivery,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
)
from backend.connectors.providers.paypal.webhook import PayPalWebhook
from backend.connectors.registry import Provider, providers
from backend.webhooks.routing import account_of, account_path, delivery_parts
from tests.connectors.helpers import adapter_for
from tests.webhooks.helpers import rsa_key, self_signed_certificate

DESCRIPTIONS = Path(__file__).resolve().parents[1] / "contract" / "provider_apis"
URL = "https://switchboard.example.com/api/webhooks/int/tok_simulated"
NOW = time.time()  # the SDKs check timestamps against the real clock
SECRET = "whsec_" + base64.b64encode(b"simulated-signing-secret-32bytes").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-signing-secret-of-32byte").decode()

WEBHOOK_KEYS = tuple(key for key, p in providers().items() if p.webhook is not None)


def events_module(key: str) -> ModuleType | None:
    name = f"backend.connectors.providers.{key}.events"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


GENERATED = tuple(key for key in WEBHOOK_KEYS if events_module(key) is not None)
CASES = [
    pytest.param(key, event.name, id=f"{key}:{event.name}")
    for key in GENERATED
    for event in events_module(key).EVENT_TYPES  # type: ignore[union-attr]
]


def event_type(key: str, name: str) -> EventType:
    module = events_module(key)
    assert module is not None
    return next(e for e in module.EVENT_TYPES if e.name == name)


def other_credentials(credentials: dict[str, Any]) -> dict[str, Any]:
    """The same credentials with every string changed (a provider signing with, say, its
    auth token instead of a signing secret is then signing with another secret)."""
    return {k: f"{v}x" if isinstance(v, str) else v for k, v in credentials.items()}


async def _accounts() -> dict[str, str | None]:
    """The account each simulator's health answer names: what connect records."""
    found: dict[str, str | None] = {}
    for key in GENERATED:
        provider = providers()[key]
        transport = provider.simulator.transport()
        async with adapter_for(provider, provider.spec.api_base_url, transport=transport) as a:
            result = await a.check_health()
        account = result.details.get("account")
        found[key] = str(account["id"]) if account else None
    return found


ACCOUNTS = asyncio.run(_accounts())


def simulation(
    key: str, sequence: int = 0, overrides: dict[str, Any] | None = None, **config: Any
) -> SimulationContext:
    provider = providers()[key]
    return SimulationContext(
        integration_id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        account_id=ACCOUNTS[key],
        config={**provider.simulator.sample_config, **config},
        now=NOW,
        sequence=sequence,
        overrides=overrides or {},
    )


def signed_request(
    key: str,
    delivery: OutboundDelivery,
    secret: str,
    credentials: dict[str, Any],
    config: dict[str, Any],
) -> WebhookRequest:
    sign = events_module(key).sign  # type: ignore[union-attr]
    headers = sign(delivery, SigningContext(URL, secret, credentials, config, NOW))
    url = f"{URL}?{delivery.query}" if delivery.query else URL
    return WebhookRequest(
        method=delivery.method,
        url=url,
        headers={k.lower(): v for k, v in {**delivery.headers, **headers}.items()},
        query=dict(parse_qsl(delivery.query)),
        body=delivery.body,
        received_at=NOW,
    )


def secrets_for(provider: Provider, config: dict[str, Any]) -> WebhookSecrets:
    credentials = dict(provider.simulator.sample_credentials)
    return WebhookSecrets((SECRET,), credentials, config, test_mode=True)


async def verify(key: str, delivery: OutboundDelivery, **config: Any) -> VerifiedDelivery:
    provider = providers()[key]
    secrets = secrets_for(provider, {**provider.simulator.sample_config, **config})
    request = signed_request(key, delivery, SECRET, secrets.credentials, secrets.config)
    handler = provider.webhook
    assert handler is not None
    return await handler.verify(request, secrets)


# -- coverage --------------------------------------------------------------------------------


def test_every_provider_with_a_webhook_handler_has_event_generators() -> None:
    missing = [key for key in WEBHOOK_KEYS if events_module(key) is None]
    assert not missing, f"no events.py in: {missing}"


@pytest.mark.parametrize("key", GENERATED)
def test_event_types_are_distinct_and_described(key: str) -> None:
    module = events_module(key)
    assert module is not None
    names = [e.name for e in module.EVENT_TYPES]
    assert names and len(names) == len(set(names))
    assert all(e.description for e in module.EVENT_TYPES)
    assert callable(module.sign)


# -- every generated delivery ----------------------------------------------------------------


@pytest.mark.parametrize(("key", "name"), CASES)
async def test_generated_delivery_verifies_normalizes_and_names_the_account(
    key: str, name: str
) -> None:
    provider = providers()[key]
    handler = provider.webhook
    assert handler is not None and provider.spec.webhook is not None
    ctx = simulation(key)
    delivery = event_type(key, name).build(ctx)
    assert delivery.event_type == name
    secrets = secrets_for(provider, ctx.config)
    request = signed_request(key, delivery, SECRET, secrets.credentials, ctx.config)

    verified = await handler.verify(request, secrets)

    assert verified.store and verified.event_type == name
    assert verified.event_id is None or verified.event_id == delivery.provider_event_id
    parts = delivery_parts(handler, provider.spec.webhook, request, verified)
    assert len(parts) == 1
    stored = {h: v for h, v in request.headers.items() if h in handler.stored_headers}
    normalized = handler.normalize(parts[0].body, stored)
    assert normalized.type == name
    path = account_path(provider.spec.webhook)
    if path:
        assert account_of(parts[0], path) == ctx.account_id


@pytest.mark.parametrize(("key", "name"), CASES)
async def test_generated_delivery_fails_under_another_secret(key: str, name: str) -> None:
    provider = providers()[key]
    handler = provider.webhook
    assert handler is not None
    ctx = simulation(key)
    delivery = event_type(key, name).build(ctx)
    secrets = secrets_for(provider, ctx.config)
    forged = signed_request(
        key, delivery, OTHER_SECRET, other_credentials(secrets.credentials), ctx.config
    )
    with pytest.raises(WebhookVerificationError):
        await handler.verify(forged, secrets)


@pytest.mark.parametrize(("key", "name"), CASES)
def test_ids_are_unique_and_times_increase_within_a_call(key: str, name: str) -> None:
    build = event_type(key, name).build
    first, second = build(simulation(key, 0)), build(simulation(key, 1))
    assert first.provider_event_id != second.provider_event_id
    assert (first.body, first.headers) != (second.body, second.headers)
    assert second.occurred_at >= first.occurred_at
    assert build(simulation(key, 0)) == first  # a resend is the same delivery


@pytest.mark.parametrize("key", GENERATED)
def test_overrides_are_deep_merged_into_the_payload(key: str) -> None:
    build = event_type(key, events_module(key).EVENT_TYPES[0].name).build  # type: ignore[union-attr]
    delivery = build(simulation(key, overrides={"simulated_note": {"by": "test"}}))
    # Some providers carry the event in headers (Google's channel notifications).
    assert "simulated_note" in delivery.body.decode() + repr(delivery.headers)


# -- the providers' published descriptions -------------------------------------------------


def _nullable_as_oas31(node: Any) -> None:
    """Stripe's description marks `nullable: true` beside `anyOf` and `enum`, where OAS 3.0
    validators apply it only to `type`: make null explicit, which is what Stripe means."""
    if isinstance(node, dict):
        if node.get("nullable") is True:
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
            for key in ("anyOf", "oneOf"):
                if key in node:
                    node[key] = [*node[key], {"enum": [None]}]
        for value in node.values():
            _nullable_as_oas31(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_as_oas31(value)


@functools.cache
def description(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DESCRIPTIONS / f"{name}.json").read_bytes())
    document = copy.deepcopy(document)
    _nullable_as_oas31(document)
    return document


def schema_errors(document: str, schema: str, instance: Any) -> list[str]:
    components = description(document)["components"]
    validator = OAS30Validator({"$ref": f"#/components/schemas/{schema}", "components": components})
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    ]


def _names(key: str) -> list[str]:
    module = events_module(key)
    return [e.name for e in module.EVENT_TYPES] if module is not None else []


@pytest.mark.parametrize("name", _names("stripe"))
def test_stripe_events_validate_against_stripes_description(name: str) -> None:
    """The event and its object (charge, payment_intent, invoice, subscription) as Stripe's
    OpenAPI description defines them (its `event.data.object` is free-form)."""
    payload = json.loads(event_type("stripe", name).build(simulation("stripe")).body)
    assert schema_errors("stripe", "event", payload) == []
    obj = payload["data"]["object"]
    assert schema_errors("stripe", obj["object"], obj) == []


@pytest.mark.parametrize("name", _names("stripe"))
async def test_stripe_events_name_customers_the_simulator_holds(name: str) -> None:
    payload = json.loads(event_type("stripe", name).build(simulation("stripe")).body)
    customer = payload["data"]["object"]["customer"]
    provider = providers()["stripe"]
    key = provider.simulator.sample_credentials["secret_key"]
    async with httpx.AsyncClient(transport=provider.simulator.transport()) as http:
        answer = await http.get(
            f"https://api.stripe.com/v1/customers/{customer}",
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 200 and answer.json()["id"] == customer
    assert schema_errors("stripe", "customer", answer.json()) == []


def test_stripe_sale_objects_reference_each_other() -> None:
    def built(name: str) -> dict[str, Any]:
        body = event_type("stripe", name).build(simulation("stripe", 3)).body
        return json.loads(body)["data"]["object"]

    charge, intent = built("charge.succeeded"), built("payment_intent.succeeded")
    invoice, subscription = built("invoice.paid"), built("customer.subscription.created")
    assert charge["payment_intent"] == intent["id"] and intent["invoice"] == invoice["id"]
    assert invoice["charge"] == charge["id"] and invoice["subscription"] == subscription["id"]
    assert len({charge["customer"], intent["customer"], invoice["customer"]}) == 1


# -- the providers' official SDKs -----------------------------------------------------------


@pytest.mark.parametrize("name", _names("stripe"))
def test_stripe_sdk_accepts_the_signature(name: str) -> None:
    delivery = event_type("stripe", name).build(simulation("stripe"))
    request = signed_request("stripe", delivery, SECRET, {}, {})
    event = stripe.Webhook.construct_event(
        delivery.body.decode(), request.headers["stripe-signature"], SECRET
    )
    assert event["type"] == name
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.decode(), request.headers["stripe-signature"], OTHER_SECRET
        )


# GitHub's description has no webhook payloads; the objects they carry are described.
_GITHUB_OBJECTS = {
    "repository": "repository",
    "sender": "simple-user",
    "issue": "issue",
    "hook": "hook",
    "pull_request": "pull-request-simple",
}


@pytest.mark.parametrize("name", _names("github"))
def test_github_payload_objects_validate_against_githubs_description(name: str) -> None:
    payload = json.loads(event_type("github", name).build(simulation("github")).body)
    checked = {field: schema for field, schema in _GITHUB_OBJECTS.items() if field in payload}
    # A push names its repository with unix times (pushed_at, created_at) where the REST
    # description has strings: GitHub's documented quirk, kept, so not checked here.
    if name == "push":
        checked.pop("repository")
    assert {"sender"} <= checked.keys()
    for field, schema in checked.items():
        assert schema_errors("github", schema, payload[field]) == [], field


@pytest.mark.parametrize("name", _names("github"))
def test_github_deliveries_name_the_configured_repository(name: str) -> None:
    ctx = simulation("github", repository="acme-corp/widgets")
    delivery = event_type("github", name).build(ctx)
    payload = json.loads(delivery.body)
    assert payload["repository"]["full_name"] == "acme-corp/widgets"
    assert payload["repository"]["owner"]["login"] == "acme-corp"
    assert b"Codertocat/Hello-World" not in delivery.body
    assert delivery.headers["x-github-hook-installation-target-id"] == str(
        payload["repository"]["id"]
    )


@pytest.mark.parametrize("name", _names("slack"))
def test_slack_sdk_accepts_the_signature(name: str) -> None:
    delivery = event_type("slack", name).build(simulation("slack"))
    request = signed_request("slack", delivery, SECRET, {}, {})
    timestamp = request.headers["x-slack-request-timestamp"]
    signature = request.headers["x-slack-signature"]
    assert slack_sdk.signature.SignatureVerifier(SECRET).is_valid(
        delivery.body, timestamp, signature
    )
    assert not slack_sdk.signature.SignatureVerifier(OTHER_SECRET).is_valid(
        delivery.body, timestamp, signature
    )


@pytest.mark.parametrize("name", _names("hubspot"))
def test_hubspot_sdk_accepts_the_signature(name: str) -> None:
    delivery = event_type("hubspot", name).build(simulation("hubspot"))
    request = signed_request("hubspot", delivery, SECRET, {}, {})

    def valid(secret: str) -> bool:
        return HubSpotSignature.is_valid(
            signature=request.headers["x-hubspot-signature-v3"],
            client_secret=secret,
            request_body=delivery.body.decode(),
            http_uri=URL,
            http_method="POST",
            signature_version="v3",
            timestamp=request.headers["x-hubspot-request-timestamp"],
        )

    assert valid(SECRET) and not valid(OTHER_SECRET)


@pytest.mark.parametrize("name", _names("webhook"))
async def test_generic_deliveries_verify_in_plain_hmac_mode(name: str) -> None:
    config = {"signature_mode": "hmac_sha256", "signature_header": "X-Shop-Signature"}
    delivery = event_type("webhook", name).build(simulation("webhook", **config))
    verified = await verify("webhook", delivery, **config)
    assert verified.event_type == name and verified.event_id == delivery.provider_event_id
    request = signed_request("webhook", delivery, SECRET, {}, config)
    assert "x-shop-signature" in request.headers and "webhook-signature" not in request.headers


# -- PayPal: the simulator is the trust root of test-mode integrations only ----------------


@pytest.mark.parametrize("name", _names("paypal"))
async def test_paypal_test_mode_verifies_by_the_simulators_certificate(name: str) -> None:
    delivery = event_type("paypal", name).build(simulation("paypal"))
    verified = await verify("paypal", delivery, paypal_verification="certificate")
    assert verified.event_type == name and verified.event_id == delivery.provider_event_id


class _RecordingCertificates:
    """PayPal's certificate as a live integration would fetch it (here: another key's)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def certificate(self, url: str) -> Any:
        self.asked.append(url)
        return self_signed_certificate(
            rsa_key("paypal-live"), not_before=NOW - 60, not_after=NOW + 86400
        )


async def test_paypal_live_integration_does_not_trust_the_simulator() -> None:
    certificates = _RecordingCertificates()
    handler = PayPalWebhook(certificates=certificates)
    provider = providers()["paypal"]
    config = {"paypal_verification": "certificate"}
    delivery = event_type("paypal", _names("paypal")[0]).build(simulation("paypal"))
    request = signed_request("paypal", delivery, SECRET, {}, config)
    live = WebhookSecrets((SECRET,), dict(provider.simulator.sample_credentials), config)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await handler.verify(request, live)
    assert certificates.asked == [request.headers["paypal-cert-url"]]
    # The same delivery for a test-mode integration: the simulator's certificate.
    test_mode = WebhookSecrets(live.signing_secrets, live.credentials, config, test_mode=True)
    assert (await handler.verify(request, test_mode)).event_type == delivery.event_type


async def test_paypal_simulator_refuses_a_changed_body() -> None:
    provider = providers()["paypal"]
    delivery = event_type("paypal", _names("paypal")[0]).build(simulation("paypal"))
    request = signed_request("paypal", delivery, SECRET, {}, {})
    fields = {
        "transmission_id": request.headers["paypal-transmission-id"],
        "transmission_time": request.headers["paypal-transmission-time"],
        "transmission_sig": request.headers["paypal-transmission-sig"],
        "cert_url": request.headers["paypal-cert-url"],
        "auth_algo": request.headers["paypal-auth-algo"],
        "webhook_id": SECRET,
    }

    async def status(body: bytes) -> str:
        document = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body + b"}"
        async with httpx.AsyncClient(transport=provider.simulator.transport()) as http:
            answer = await http.post(
                "https://api-m.paypal.com/v1/notifications/verify-webhook-signature",
                content=document,
                headers={"Authorization": "Bearer A21AAsimulated"},
            )
        return str(answer.json()["verification_status"])

    assert await status(delivery.body) == "SUCCESS"
    assert await status(delivery.body.replace(b'"USD"', b'"EUR"')) == "FAILURE"

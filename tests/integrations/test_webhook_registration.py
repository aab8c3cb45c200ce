"""Automatic webhook registration at the provider: Telegram setWebhook, GitHub repository
hooks, Stripe webhook endpoints — created on connect, moved on rotation, removed on revoke.

Telegram and Stripe are driven over real HTTP against a loopback server answering as the
provider does; GitHub (OAuth) through test mode's simulated consent, whose adapter calls
reach the same simulator in process. Each test then proves the registration works by
sending a delivery signed with what the provider was given.
"""

from __future__ import annotations

import time

import pytest
import stripe

from backend.connectors.providers.github import simulator as github_sim
from backend.connectors.providers.stripe import simulator as stripe_sim
from backend.connectors.providers.telegram import simulator as telegram_sim
from backend.connectors.registry import get_provider
from backend.connectors.simulator import ProviderSimulator, Route, json_response
from tests.oauth.helpers import callback
from tests.provider_server import ProviderServer

BOT_TOKEN = "7104998812:AAGk9Zr1xQ8vBn2LmP4sT6uW0yE3cD5fH7j"
STRIPE_KEY = "sk_test_" + "51RegistrationKey0000000000000000"


def path_of(url: str) -> str:
    return url.removeprefix("https://hooks.example.test")


def serve(simulator, key: str, monkeypatch):
    """The connector's API base pointed at a loopback server answering as the provider."""
    with ProviderServer(simulator) as server:
        monkeypatch.setenv(f"SWITCHBOARD_{key.upper()}_API_BASE_URL", server.url)
        yield server
    simulator.fail_with = None


@pytest.fixture
def telegram_api(monkeypatch):
    yield from serve(telegram_sim.SIMULATOR, "telegram", monkeypatch)


@pytest.fixture
def stripe_api(monkeypatch):
    yield from serve(stripe_sim.SIMULATOR, "stripe", monkeypatch)


async def logs_of(client, tenant, iid: str) -> list[dict]:
    response = await client.get(f"/api/integrations/{iid}/logs", headers=tenant.headers)
    return response.json()["items"]


async def test_telegram_set_webhook_on_connect_rotate_and_revoke(
    client, tenant, telegram_api
) -> None:
    bot_id = BOT_TOKEN.split(":")[0]
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "telegram", "name": "Bot", "credentials": {"bot_token": BOT_TOKEN}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    integration, secret = body["integration"], body["webhook_signing_secret"]
    registration = integration["webhook_registration"]
    assert registration["status"] == "registered", registration
    assert registration["provider_id"] == bot_id
    # Telegram was given exactly our URL and the secret it will echo in each delivery.
    assert telegram_sim.WEBHOOKS[bot_id] == {
        "url": integration["webhook_url"],
        "secret_token": secret,
    }
    delivery = await client.post(
        path_of(integration["webhook_url"]),
        json={"update_id": 912_000_001, "message": {"message_id": 1, "text": "hi"}},
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert delivery.status_code == 200, delivery.text

    iid = integration["id"]
    rotated = await client.post(f"/api/integrations/{iid}/webhook/rotate", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["integration"]["webhook_url"] != integration["webhook_url"]
    assert telegram_sim.WEBHOOKS[bot_id] == {
        "url": new["integration"]["webhook_url"],
        "secret_token": new["webhook_signing_secret"],
    }
    assert new["integration"]["webhook_registration"]["status"] == "registered"

    revoked = await client.post(f"/api/integrations/{iid}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200
    assert bot_id not in telegram_sim.WEBHOOKS
    gone = revoked.json()["integration"]["webhook_registration"]
    assert gone["status"] == "removed" and gone["provider_id"] == bot_id
    events = [entry["event"] for entry in await logs_of(client, tenant, iid)]
    assert "webhook.registration.removed" in events
    assert events.count("webhook.registration.registered") == 2


async def test_a_refusal_is_recorded_not_fatal_and_can_be_retried(
    client, tenant, telegram_api
) -> None:
    token = "7104998813:AAGk9Zr1xQ8vBn2LmP4sT6uW0yE3cD5fH7k"
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "telegram", "name": "Bot", "credentials": {"bot_token": token}},
        headers=tenant.headers,
    )
    iid = created.json()["integration"]["id"]
    telegram_sim.SIMULATOR.fail_with = "429"
    try:
        retried = await client.post(
            f"/api/integrations/{iid}/webhook/register", headers=tenant.headers
        )
    finally:
        telegram_sim.SIMULATOR.fail_with = None
    assert retried.status_code == 200, retried.text
    integration = retried.json()["integration"]
    assert integration["status"] == "connected"
    assert integration["webhook_registration"]["status"] == "failed"
    assert "rate limiting" in integration["webhook_registration"]["reason"]
    failed = (await logs_of(client, tenant, iid))[0]
    assert failed["event"] == "webhook.registration.failed" and failed["level"] == "warning"
    assert token not in str(integration) and token not in str(failed)

    again = await client.post(f"/api/integrations/{iid}/webhook/register", headers=tenant.headers)
    assert again.json()["integration"]["webhook_registration"]["status"] == "registered"
    audit = (await client.get("/api/audit", headers=tenant.headers)).json()["items"]
    assert audit[0]["action"] == "integration.webhook.register"
    assert audit[0]["details"] == {"outcome": "registered"}


async def test_opting_out_leaves_the_webhook_to_the_user(client, tenant, telegram_api) -> None:
    token = "7104998814:AAGk9Zr1xQ8vBn2LmP4sT6uW0yE3cD5fH7m"
    created = await client.post(
        "/api/integrations",
        json={
            "connector_id": "telegram",
            "name": "Bot",
            "credentials": {"bot_token": token},
            "config": {"register_webhook": False},
        },
        headers=tenant.headers,
    )
    registration = created.json()["integration"]["webhook_registration"]
    assert registration["status"] == "manual" and "turned off" in registration["reason"]
    assert token.split(":")[0] not in telegram_sim.WEBHOOKS

    bad = await client.post(
        "/api/integrations",
        json={
            "connector_id": "telegram",
            "name": "Bot",
            "credentials": {"bot_token": token},
            "config": {"register_webhook": "yes"},
        },
        headers=tenant.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.register_webhook"


async def test_stripe_endpoint_created_and_its_secret_verifies_deliveries(
    client, tenant, stripe_api
) -> None:
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "stripe", "name": "Pay", "credentials": {"secret_key": STRIPE_KEY}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]
    registration = integration["webhook_registration"]
    assert registration["status"] == "registered", registration
    endpoint = stripe_sim.ENDPOINTS[registration["provider_id"]]
    assert endpoint["url"] == integration["webhook_url"]
    assert endpoint["enabled_events"] == ["*"]
    # Stripe's whsec_ is never shown to the tenant, yet deliveries signed with it verify.
    assert str(endpoint["secret"]) not in created.text

    body = b'{"id": "evt_registration_1", "object": "event", "type": "customer.created"}'
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), str(endpoint["secret"]), timestamp=int(time.time())
    )
    delivery = await client.post(
        path_of(integration["webhook_url"]),
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert delivery.status_code == 200, delivery.text

    iid = integration["id"]
    rotated = await client.post(f"/api/integrations/{iid}/webhook/rotate", headers=tenant.headers)
    moved = rotated.json()["integration"]
    assert moved["webhook_registration"]["provider_id"] == registration["provider_id"]
    assert endpoint["url"] == moved["webhook_url"] != integration["webhook_url"]

    await client.post(f"/api/integrations/{iid}/revoke", headers=tenant.headers)
    assert registration["provider_id"] not in stripe_sim.ENDPOINTS


async def test_stripe_with_a_supplied_secret_is_managed_by_hand(client, tenant, stripe_api) -> None:
    before = set(stripe_sim.ENDPOINTS)
    created = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "Pay",
            "credentials": {"secret_key": STRIPE_KEY},
            "webhook_signing_secret": "whsec_supplied_by_the_user",
        },
        headers=tenant.headers,
    )
    registration = created.json()["integration"]["webhook_registration"]
    assert registration["status"] == "manual" and "supplied" in registration["reason"]
    assert set(stripe_sim.ENDPOINTS) == before


async def connect_github(client, tenant, config: dict) -> tuple[dict, str]:
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "github", "name": "Repo", "test_mode": True, "config": config},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    landed = await callback(client, body["authorization_url"])
    assert landed.status_code == 303 and "oauth=connected" in landed.headers["location"]
    iid = body["integration"]["id"]
    integration = (await client.get(f"/api/integrations/{iid}", headers=tenant.headers)).json()
    return integration, body["webhook_signing_secret"]


async def test_github_repository_hook_follows_the_integration(client, tenant) -> None:
    integration, secret = await connect_github(client, tenant, {"repository": "octo/hello"})
    registration = integration["webhook_registration"]
    assert registration["status"] == "registered", registration
    hook = github_sim.HOOKS[registration["provider_id"]]
    assert hook["repository"] == "octo/hello" and hook["events"] == ["*"]
    assert hook["config"] == {
        "url": integration["webhook_url"],
        "content_type": "json",
        "insecure_ssl": "0",
        "secret": secret,
    }

    iid = integration["id"]
    rotated = (
        await client.post(f"/api/integrations/{iid}/webhook/rotate", headers=tenant.headers)
    ).json()
    assert rotated["integration"]["webhook_registration"]["provider_id"] == hook_id(integration)
    assert hook["config"]["url"] == rotated["integration"]["webhook_url"]
    assert hook["config"]["secret"] == rotated["webhook_signing_secret"]

    await client.post(f"/api/integrations/{iid}/revoke", headers=tenant.headers)
    assert hook_id(integration) not in github_sim.HOOKS


def hook_id(integration: dict) -> str:
    return str(integration["webhook_registration"]["provider_id"])


async def test_github_without_a_repository_or_access(client, tenant) -> None:
    integration, _ = await connect_github(client, tenant, {})
    registration = integration["webhook_registration"]
    assert registration["status"] == "manual"
    assert "config.repository" in registration["reason"]

    integration, _ = await connect_github(client, tenant, {"repository": "octo/missing"})
    registration = integration["webhook_registration"]
    assert registration["status"] == "failed"
    assert "admin:repo_hook" in registration["reason"]
    assert integration["status"] == "connected"

    # Fixing the config and asking again registers it; the recorded outcome survives PATCH.
    iid = integration["id"]
    patched = await client.patch(
        f"/api/integrations/{iid}",
        json={"config": {"repository": "octo/found"}},
        headers=tenant.headers,
    )
    assert patched.json()["webhook_registration"]["status"] == "failed"
    again = await client.post(f"/api/integrations/{iid}/webhook/register", headers=tenant.headers)
    assert again.json()["integration"]["webhook_registration"]["status"] == "registered"


async def test_connectors_set_up_by_hand_answer_409(client, tenant) -> None:
    creds = dict(get_provider("twilio").simulator.sample_credentials)
    created = await client.post(
        "/api/integrations",
        json={"connector_id": "twilio", "name": "SMS", "credentials": creds, "test_mode": True},
        headers=tenant.headers,
    )
    integration = created.json()["integration"]
    assert integration["webhook_registration"] is None
    response = await client.post(
        f"/api/integrations/{integration['id']}/webhook/register", headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "setup_instructions" in response.json()["detail"]


async def test_an_answer_without_the_documented_fields_is_recorded(
    client, tenant, monkeypatch
) -> None:
    """A provider answering 200 without the endpoint's id and secret: the integration
    still connects, the registration is `failed` with a reason, nothing answers 500."""
    real = stripe_sim.SIMULATOR
    odd = ProviderSimulator(
        key="stripe",
        api_base_url="https://api.stripe.com",
        routes=(
            real.routes[0][0],
            Route(
                "POST",
                r"/v1/webhook_endpoints",
                lambda request: json_response(200, {"object": "webhook_endpoint"}),
            ),
        ),
        credential=lambda request: True,
        unauthorized=stripe_sim.unauthorized,
        rate_limited=stripe_sim.rate_limited,
    )
    with ProviderServer(odd) as server:
        monkeypatch.setenv("SWITCHBOARD_STRIPE_API_BASE_URL", server.url)
        created = await client.post(
            "/api/integrations",
            json={
                "connector_id": "stripe",
                "name": "Pay",
                "credentials": {"secret_key": STRIPE_KEY},
            },
            headers=tenant.headers,
        )
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]
    assert integration["status"] == "connected"
    registration = integration["webhook_registration"]
    assert registration["status"] == "failed"
    assert "unexpected answer" in registration["reason"]

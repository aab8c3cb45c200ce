"""The provider account an integration is connected to: learned from the provider's answer
at connect, shown on the integration, and what app-level deliveries are routed by; and the
one statement that stores a routed batch."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import msgspec
import pytest
from oauth.helpers import CALLBACK_PATH, point, start
from slack_sdk.signature import SignatureVerifier

from backend.connectors.base import DeliveryPart, VerifiedDelivery, WebhookRequest
from backend.connectors.providers.webhook.webhook import HANDLER as GENERIC_HANDLER
from backend.connectors.registry import get_provider
from backend.connectors.spec import WebhookContract
from backend.integrations.adapters import build_adapter
from backend.webhooks import routing
from backend.webhooks.store import store_routed

from .support import fixture

APP_SECRET = "0d6c3f7e9a8b4c2d1e0f9a8b7c6d5e4f"


async def test_a_slack_consent_learns_the_team_and_app_level_events_reach_it(
    client: Any, make_tenant: Any, httpserver: Any, monkeypatch: Any, raw_rows: Any
) -> None:
    team = "T" + uuid.uuid4().hex[:10].upper()
    point(monkeypatch, "slack", httpserver, "/oauth/v2/authorize", "/api/oauth.v2.access", "/api")
    monkeypatch.setenv("SWITCHBOARD_SLACK_WEBHOOK_SECRET", APP_SECRET)
    # Slack's documented answers (docs.slack.dev/reference/methods/oauth.v2.access, auth.test).
    httpserver.expect_request("/api/oauth.v2.access", method="POST").respond_with_json(
        {
            "ok": True,
            "access_token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
            "token_type": "bot",
            "scope": "channels:read,channels:history",
            "bot_user_id": "U0KRQLJ9H",
            "app_id": "A0KRD7HC3",
            "team": {"name": "Slack Softball Team", "id": team},
            "enterprise": None,
            "is_enterprise_install": False,
        }
    )
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
        {
            "ok": True,
            "url": "https://subarachnoid.slack.com/",
            "team": "Subarachnoid Workspace",
            "user": "bot",
            "team_id": team,
            "user_id": "U0KRQLJ9H",
            "bot_id": "B0KRQLJ9H",
        }
    )
    tenant = await make_tenant("slack-account")
    started = await start(client, tenant.headers, "slack")
    assert started.integration["account"] is None  # nothing is known before the consent
    callback = await client.get(f"{CALLBACK_PATH}?code=1234.5678&state={started.query['state']}")
    assert callback.status_code == 303, callback.text

    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["account"] == {"id": team, "name": "Subarachnoid Workspace"}
    listed = (await client.get("/api/integrations", headers=tenant.headers)).json()["items"]
    assert [i["account"] for i in listed if i["id"] == started.id] == [body["account"]]

    event = fixture("slack", "event_callback__message.json").replace(b"T061EG9R6", team.encode())
    ts = str(int(time.time()))
    signature = SignatureVerifier(APP_SECRET).generate_signature(timestamp=ts, body=event)
    assert signature is not None
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    delivered = await client.post("/api/webhooks/slack", content=event, headers=headers)
    assert delivered.status_code == 200 and delivered.json()["stored"] == 1, delivered.text
    (row,) = await raw_rows(
        "SELECT tenant, raw_body FROM integration_webhook WHERE integration = $1",
        uuid.UUID(started.id),
    )
    assert row["tenant"] == tenant.id and bytes(row["raw_body"]) == event


async def test_an_api_key_connect_learns_the_whatsapp_number(client: Any, tenant: Any) -> None:
    number = "106540352242922"
    created = await client.post(
        "/api/integrations",
        json={
            "connector_id": "whatsapp",
            "name": "Support line",
            "test_mode": True,
            "credentials": {
                "access_token": "EAAGm0PX4ZCpsBO7ZBsimulatedSystemUserAccessToken0ZD",
                "phone_number_id": number,
            },
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]
    # The simulator answers GET /{phone-number-id} as the Graph API documents it.
    assert integration["account"] == {"id": number, "name": "+1 555-010-0199"}
    tested = await client.post(
        f"/api/integrations/{integration['id']}/test", headers=tenant.headers
    )
    assert tested.json()["integration"]["account"] == integration["account"]


async def test_a_batch_becomes_one_stored_event_per_element_and_account(
    tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    """A JSON array is a batch: each element is stored as its exact bytes for the
    integrations of its account, deduplicated by its id; other accounts are dropped."""
    portal, other_portal, unknown = (str(uuid.uuid4().int)[:9] for _ in range(3))
    first = await make_integration(tenant, "webhook")
    second = await make_integration(tenant, "webhook")
    third = await make_integration(tenant, "webhook")
    for integration, account in ((first, portal), (second, portal), (third, other_portal)):
        await raw_rows(
            "UPDATE integration SET account_id = $2 WHERE id = $1 RETURNING id",
            integration.id,
            account,
        )
    elements = [
        f'{{"eventId": 1, "portalId": {portal}, "subscriptionType": "contact.creation"}}',
        f'{{ "eventId" : 2, "portalId": {other_portal}, "subscriptionType": "deal.creation"}}',
        f'{{"eventId": 1, "portalId": {portal}, "subscriptionType": "contact.creation"}}',
        f'{{"eventId": 3, "portalId": {unknown}, "subscriptionType": "contact.deletion"}}',
    ]
    body = ("[" + ",\n ".join(elements) + "]").encode()
    contract = WebhookContract(
        scheme="test",
        signing_secret_source="user",
        event_id_source="body:eventId",
        event_type_source="body:subscriptionType",
        docs_url="https://example.com",
        account_id_source="body:portalId",
    )
    request = WebhookRequest("POST", "https://hooks.example.test/", {}, {}, body, time.time())
    parts = routing.delivery_parts(
        GENERIC_HANDLER, contract, request, VerifiedDelivery(None, "batch")
    )
    assert [p.body for p in parts] == [e.encode() for e in elements]
    events = routing.routed_events(parts, routing.account_path(contract))
    assert [(e.account_id, e.event_id) for e in events] == [
        (portal, "1"),
        (other_portal, "2"),
        (unknown, "3"),
    ]

    result = await store_routed("webhook", events, {"content-type": "application/json"}, "")
    assert (len(result.inserted), result.duplicates, result.unrouted) == (3, 0, 1)
    stored = await raw_rows(
        "SELECT integration, provider_event_id, event_type, raw_body, headers "
        "FROM integration_webhook WHERE id = ANY($1::uuid[])",
        result.inserted,
    )
    by_integration = {(r["integration"], r["provider_event_id"]): r for r in stored}
    assert set(by_integration) == {(first.id, "1"), (second.id, "1"), (third.id, "2")}
    assert bytes(by_integration[(third.id, "2")]["raw_body"]) == elements[1].encode()
    assert by_integration[(first.id, "1")]["event_type"] == "contact.creation"
    assert json.loads(by_integration[(first.id, "1")]["headers"]) == {
        "content-type": "application/json"
    }

    again = await store_routed("webhook", events, {}, "")
    assert (again.inserted, again.duplicates, again.unrouted) == ([], 3, 1)


async def test_text_postgresql_cannot_hold_is_never_a_failed_insert(
    tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    """U+0000 in a signed event's id or type is stored replaced; in an account id it names
    no account (never a 503 the provider would retry forever)."""
    account = uuid.uuid4().hex
    integration = await make_integration(tenant, "webhook")
    await raw_rows(
        "UPDATE integration SET account_id = $2 WHERE id = $1 RETURNING id",
        integration.id,
        account,
    )
    events = [
        routing.RoutedEvent(account, "id\x00", "type\x00", b"{}"),
        routing.RoutedEvent(account + "\x00", "other", "type", b"{}"),
    ]
    result = await store_routed("webhook", events, {}, "")
    assert (len(result.inserted), result.unrouted) == (1, 1)
    (row,) = await raw_rows(
        "SELECT provider_event_id, event_type FROM integration_webhook WHERE integration = $1",
        integration.id,
    )
    assert (row["provider_event_id"], row["event_type"]) == ("id\ufffd", "type\ufffd")


def test_account_paths_read_from_each_event_document() -> None:
    document = msgspec.json.decode(b'{"team_id": "T1", "event": {"team": 42}}')
    part = DeliveryPart(b"", "e", "t", document)
    assert routing.account_of(part, "team_id") == "T1"
    assert routing.account_of(part, "event.team") == "42"
    assert routing.account_of(part, "missing") == ""
    assert routing.names_other_account([part], "team_id", "T2")
    assert not routing.names_other_account([part], "team_id", "T1")
    assert not routing.names_other_account([part], "missing", "T1")  # names none: passes


async def test_a_stripe_key_connects_to_its_account(client: Any, tenant: Any) -> None:
    """GET /v1/account (the health check) names the key's account."""
    created = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "Payments",
            "test_mode": True,
            "credentials": {"secret_key": "rk_test_51MzQ2aLkdIwHu7ixSimulatedKey0000000000"},
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    account = created.json()["integration"]["account"]
    assert account == {"id": "acct_1Nv0FGQ9RKHgCVdK", "name": "Switchboard Test Shop"}


async def test_a_jira_site_is_the_account_its_consent_granted() -> None:
    """Jira's health answer is the user; the account is the site the consent named."""
    cloud_id = "11223344-a1b2-3b33-c444-def123456789"
    adapter = build_adapter(
        get_provider("jira"),
        {"access_token": "simulated-jira-access-token-0000000000"},
        {"cloud_id": cloud_id, "site_name": "your-domain", "site_url": "https://x.example"},
        test_mode=True,
    )
    health = await adapter.check_health()
    assert health.ok, health.reason
    assert health.details["account"] == {"id": cloud_id, "name": "your-domain"}


@pytest.mark.parametrize(
    ("connector", "name", "content_type", "account"),
    [
        ("slack", "event_callback__message.json", "application/json", "T061EG9R6"),
        ("slack", "slash_command__weather.form", "application/x-www-form-urlencoded", "T0001"),
        ("slack", "block_actions__button.form", "application/x-www-form-urlencoded", "T0CA5"),
        ("whatsapp", "messages__text.json", "application/json", "106540352242922"),
        ("gmail", "pubsub_push__history.json", "application/json", "user@example.com"),
    ],
)
def test_each_documented_delivery_names_its_account(
    connector: str, name: str, content_type: str, account: str
) -> None:
    """Slack's JSON and form bodies, Meta's envelope and Gmail's base64 notification all
    yield one event, kept byte for byte, naming the account the spec's path points at."""
    provider = get_provider(connector)
    assert provider.webhook is not None and provider.spec.webhook is not None
    body = fixture(connector, name)
    request = WebhookRequest(
        "POST", "https://hooks.example.test/", {"content-type": content_type}, {}, body, 0.0
    )
    (part,) = routing.delivery_parts(
        provider.webhook, provider.spec.webhook, request, VerifiedDelivery("id", "type")
    )
    assert part.body == body and (part.event_id, part.event_type) == ("id", "type")
    assert routing.account_of(part, routing.account_path(provider.spec.webhook)) == account

"""The operator's app URL, `POST /api/webhooks/{connector_id}`, over HTTP with real
PostgreSQL and Redis: deliveries signed like the provider signs them (slack_sdk for Slack)
with the operator's secret from the environment, routed by the account each event names to
every integration connected to it, whichever tenant owns it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from slack_sdk.signature import SignatureVerifier
from webhooks.helpers import hub_signature

from backend.connectors.providers.gmail import webhook as gmail_webhook
from backend.lib.db import pool as real_pool
from backend.settings import get_settings
from backend.webhooks import metrics, store

from . import test_gmail as gmail_push
from .support import Hooks, assert_problem, fixture

APP_SECRET = "e3b9ac4f2d8a44d1bb3f0c6a9e1d7f55"  # the operator's Slack app signing secret
TENANT_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a tenant's own Slack app
META_APP_SECRET = "7a1f0c9d3b2e4a5f8c6d1e0b9a8f7e6d"
META_VERIFY_TOKEN = "operator-verify-token"

Connect = Callable[..., Awaitable[Any]]


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_SLACK_WEBHOOK_SECRET", APP_SECRET)
    monkeypatch.setenv("SWITCHBOARD_WHATSAPP_WEBHOOK_SECRET", META_APP_SECRET)
    monkeypatch.setenv("SWITCHBOARD_WHATSAPP_VERIFY_TOKEN", META_VERIFY_TOKEN)


@pytest.fixture
def connect(make_integration: Any, raw_rows: Any) -> Connect:
    """An integration connected to a provider account (as the health check at connect
    records it)."""

    async def make(tenant: Any, connector: str, account: str, **kwargs: Any) -> Any:
        integration = await make_integration(tenant, connector, **kwargs)
        await raw_rows(
            "UPDATE integration SET account_id = $2, account_name = $3 WHERE id = $1 RETURNING id",
            integration.id,
            account,
            f"{account} name",
        )
        return integration

    return make


def team_id() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


def slack_event(team: str, event_id: str | None = None) -> bytes:
    """Slack's documented message event, for `team` under a fresh event id."""
    body = fixture("slack", "event_callback__message.json").replace(b"T061EG9R6", team.encode())
    return body.replace(b"Ev0PV52K21", (event_id or "Ev" + uuid.uuid4().hex[:10]).encode())


def slack_signed(
    body: bytes, secret: str = APP_SECRET, content_type: str = "application/json"
) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


async def post_app(hooks: Hooks, connector: str, body: bytes, headers: dict[str, str]) -> Any:
    return await hooks.client.post(f"/api/webhooks/{connector}", content=body, headers=headers)


async def test_two_tenants_connected_to_one_slack_team_both_receive_the_event(
    hooks: Hooks, make_tenant: Any, connect: Connect, operator_env: None
) -> None:
    team, other_team = team_id(), team_id()
    first = await connect(await make_tenant("first"), "slack", team)
    second = await connect(await make_tenant("second"), "slack", team)
    elsewhere = await connect(await make_tenant("third"), "slack", other_team)
    body = slack_event(team)
    event_id = json.loads(body)["event_id"]

    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "accepted",
        "events": 1,
        "stored": 2,
        "duplicates": 0,
        "unrouted": 0,
    }
    rows = [await hooks.events(first), await hooks.events(second)]
    for integration, (row,) in zip((first, second), rows, strict=True):
        assert row["integration"] == integration.id
        assert bytes(row["raw_body"]) == body
        assert row["provider_event_id"] == event_id and row["event_type"] == "message"
        assert "x-slack-signature" in row["headers"]
        _, envelope = await hooks.normalized(row, "slack", "message")
        assert envelope["data"]["team_id"] == team
    assert rows[0][0]["tenant"] != rows[1][0]["tenant"]
    assert await hooks.events(elsewhere) == []

    # Slack retries the event: each integration counts a duplicate, nothing new is stored.
    again = await post_app(hooks, "slack", body, slack_signed(body))
    assert again.json() == {
        "status": "accepted",
        "events": 1,
        "stored": 0,
        "duplicates": 2,
        "unrouted": 0,
    }
    for integration in (first, second):
        (row,) = await hooks.events(integration)
        assert row["duplicates"] == 1


async def test_an_unknown_team_is_dropped_with_200_and_counted(
    hooks: Hooks, tenant: Any, connect: Connect, operator_env: None
) -> None:
    known = await connect(tenant, "slack", team_id())
    counted = metrics.counts["unknown_account:slack"]
    body = slack_event(team_id())
    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 0 and response.json()["unrouted"] == 1
    assert metrics.counts["unknown_account:slack"] == counted + 1
    assert await hooks.events(known) == []


async def test_only_live_integrations_connected_for_real_receive_events(
    hooks: Hooks, make_tenant: Any, connect: Connect, operator_env: None, client: Any
) -> None:
    """Revoked, pending and test-mode integrations of the account get nothing: a test-mode
    account is whatever the simulator says, so it proves no connection to the team."""
    team = team_id()
    tenant = await make_tenant("routing")
    live = await connect(tenant, "slack", team)
    pending = await connect(tenant, "slack", team, status="pending")
    revoked = await connect(tenant, "slack", team)
    answer = await client.post(f"/api/integrations/{revoked.id}/revoke", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    simulated = await connect(tenant, "slack", team)
    await hooks.rows(
        "UPDATE integration SET test_mode = true WHERE id = $1 RETURNING id", simulated.id
    )
    body = slack_event(team)
    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert response.json()["stored"] == 1, response.text
    assert len(await hooks.events(live)) == 1
    for skipped in (pending, revoked, simulated):
        assert await hooks.events(skipped) == []


async def test_the_app_url_verifies_with_the_operators_secret(
    hooks: Hooks, tenant: Any, connect: Connect, operator_env: None
) -> None:
    team = team_id()
    integration = await connect(tenant, "slack", team, signing_secrets=(TENANT_SECRET,))
    body = slack_event(team)
    counted = metrics.counts["rejected:slack"]
    for headers in (
        slack_signed(body, secret=TENANT_SECRET),  # a tenant's secret is not the app's
        {k: v for k, v in slack_signed(body).items() if k != "X-Slack-Signature"},
        {**slack_signed(body), "X-Slack-Request-Timestamp": str(int(time.time()) - 301)},
    ):
        response = await post_app(hooks, "slack", body, headers)
        assert_problem(response, 401, "signature-invalid")
    assert metrics.counts["rejected:slack"] == counted + 3
    tampered = body.replace(b"prospect", b"prosper")
    assert_problem(
        await post_app(hooks, "slack", tampered, slack_signed(body)), 401, "signature-invalid"
    )
    assert await hooks.events(integration) == []


async def test_slack_url_verification_is_answered_for_the_app(
    hooks: Hooks, operator_env: None
) -> None:
    body = fixture("slack", "url_verification__challenge.json")
    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert response.status_code == 200
    assert response.text == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    forged = await post_app(hooks, "slack", body, slack_signed(body, secret="guess"))
    assert_problem(forged, 401, "signature-invalid")


async def test_app_urls_that_do_not_exist_are_the_same_404(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No operator secret, a connector without app-level deliveries, an unknown connector:
    the same problem, before the body is read."""
    monkeypatch.delenv("SWITCHBOARD_SLACK_WEBHOOK_SECRET", raising=False)
    body = slack_event(team_id())
    answers = [
        await post_app(hooks, connector, body, slack_signed(body))
        for connector in ("slack", "github", "nosuch")
    ]
    problems = [assert_problem(a, 404, "not-found") for a in answers]
    assert all(p["detail"] == problems[0]["detail"] for p in problems)
    assert all(a.headers.get("connection") == "close" for a in answers)


async def test_a_per_integration_url_refuses_another_teams_event(
    hooks: Hooks, tenant: Any, connect: Connect, make_integration: Any
) -> None:
    team = team_id()
    integration = await connect(tenant, "slack", team, signing_secrets=(TENANT_SECRET,))
    foreign = slack_event(team_id())
    logged = len(await hooks.logs(integration, "webhook.rejected"))
    counted = metrics.counts["account_mismatch:slack"]
    response = await hooks.post(integration, foreign, slack_signed(foreign, TENANT_SECRET))
    problem = assert_problem(response, 403, "account-mismatch")
    assert team not in problem["detail"]
    assert await hooks.events(integration) == []
    assert metrics.counts["account_mismatch:slack"] == counted + 1

    async def logged_once() -> bool:
        return len(await hooks.logs(integration, "webhook.rejected")) == logged + 1

    await hooks.wait_for(logged_once)

    # A slash command (a form) of another team is refused the same way; its own team's
    # event is accepted.
    form = fixture("slack", "slash_command__weather.form")
    form_headers = slack_signed(form, TENANT_SECRET, "application/x-www-form-urlencoded")
    assert_problem(await hooks.post(integration, form, form_headers), 403, "account-mismatch")
    own = slack_event(team)
    await hooks.accept(
        integration,
        own,
        slack_signed(own, TENANT_SECRET),
        event_id=json.loads(own)["event_id"],
        event_type="message",
    )
    # An integration whose account is not known yet (no connect answer) keeps accepting.
    unknown = await make_integration(tenant, "slack", signing_secrets=(TENANT_SECRET,))
    await hooks.accept(
        unknown,
        foreign,
        slack_signed(foreign, TENANT_SECRET),
        event_id=json.loads(foreign)["event_id"],
        event_type="message",
    )


def meta_delivery(*changes: tuple[str, str]) -> bytes:
    """One Meta delivery holding a text message per (phone number id, message id), each in
    its own entry (one per WhatsApp Business Account), as Meta batches them."""
    template = json.loads(fixture("whatsapp", "messages__text.json"))
    entries = []
    for number, message_id in changes:
        entry = json.loads(json.dumps(template["entry"][0]))
        value = entry["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = number
        value["messages"][0]["id"] = message_id
        entries.append(entry)
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}).encode()


def meta_signed(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": hub_signature(META_APP_SECRET, body),
    }


async def test_a_meta_batch_is_split_per_phone_number(
    hooks: Hooks, make_tenant: Any, connect: Connect, operator_env: None
) -> None:
    first_number, second_number = (str(uuid.uuid4().int)[:15] for _ in range(2))
    first = await connect(await make_tenant("shop"), "whatsapp", first_number)
    second = await connect(await make_tenant("clinic"), "whatsapp", second_number)
    body = meta_delivery((first_number, "wamid.first"), (second_number, "wamid.second"))
    response = await post_app(hooks, "whatsapp", body, meta_signed(body))
    assert response.json() == {
        "status": "accepted",
        "events": 2,
        "stored": 2,
        "duplicates": 0,
        "unrouted": 0,
    }
    for integration, number, message_id in (
        (first, first_number, "wamid.first"),
        (second, second_number, "wamid.second"),
    ):
        (row,) = await hooks.events(integration)
        assert row["provider_event_id"] == message_id
        stored = json.loads(bytes(row["raw_body"]))
        # The documented envelope around this number's change only, its bytes untouched.
        assert [
            c["value"]["metadata"]["phone_number_id"] for e in stored["entry"] for c in e["changes"]
        ] == [number]
        _, envelope = await hooks.normalized(row, "whatsapp", "message.text")
        assert envelope["data"]["phone_number_id"] == number


async def test_meta_subscription_handshake_uses_the_operators_verify_token(
    hooks: Hooks, operator_env: None
) -> None:
    query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
    ok = await hooks.client.get(f"/api/webhooks/whatsapp?{query}{META_VERIFY_TOKEN}")
    assert ok.status_code == 200 and ok.text == "1158201444"
    refused = await hooks.client.get(f"/api/webhooks/whatsapp?{query}guessed")
    assert_problem(refused, 403, "signature-invalid")
    slack = await hooks.client.get("/api/webhooks/slack")
    assert slack.status_code == 405


async def test_gmail_pushes_are_routed_by_the_mailbox_inside_the_message(
    hooks: Hooks, tenant: Any, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    audience = "https://hooks.example.test/api/webhooks/gmail"
    monkeypatch.setenv("SWITCHBOARD_GMAIL_WEBHOOK_SECRET", audience)
    monkeypatch.setenv("SWITCHBOARD_GMAIL_PUSH_SERVICE_ACCOUNT", gmail_push.SERVICE_ACCOUNT)
    monkeypatch.setattr(gmail_webhook, "KEY_SOURCE", gmail_push.LocalKeys(gmail_push.SIGNING_KEY))
    mailbox = f"{uuid.uuid4().hex[:12]}@example.com"
    inbox = await connect(tenant, "gmail", mailbox)
    other = await connect(tenant, "gmail", f"other-{mailbox}")
    push = json.loads(fixture("gmail", "pubsub_push__history.json"))
    notification = {"emailAddress": mailbox, "historyId": "9876543210"}
    push["message"]["data"] = base64.b64encode(json.dumps(notification).encode()).decode()
    push["message"]["messageId"] = str(uuid.uuid4().int)[:16]
    body = json.dumps(push).encode()

    response = await post_app(hooks, "gmail", body, gmail_push.bearer(audience))
    assert response.status_code == 200 and response.json()["stored"] == 1, response.text
    (row,) = await hooks.events(inbox)
    assert bytes(row["raw_body"]) == body
    assert row["provider_event_id"] == push["message"]["messageId"]
    _, envelope = await hooks.normalized(row, "gmail", "gmail.history")
    assert envelope["data"]["email_address"] == mailbox
    assert await hooks.events(other) == []
    # A token minted by another Google account for the same audience is refused.
    forged = gmail_push.bearer(audience, email="someone@evil.example")
    assert_problem(await post_app(hooks, "gmail", body, forged), 401, "signature-invalid")


@pytest.fixture
async def dead_pool() -> Any:
    pool = await asyncpg.create_pool(
        "postgresql://postgres@127.0.0.1:1/none", min_size=0, max_size=1
    )  # nothing listens on port 1
    yield pool
    await pool.close()


async def test_postgres_down_answers_503_so_the_provider_retries(
    hooks: Hooks,
    tenant: Any,
    connect: Connect,
    operator_env: None,
    dead_pool: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    team = team_id()
    integration = await connect(tenant, "slack", team)
    body = slack_event(team)
    monkeypatch.setattr(store, "pool", lambda: dead_pool)
    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"]
    monkeypatch.setattr(store, "pool", lambda: real_pool())
    retried = await post_app(hooks, "slack", body, slack_signed(body))
    assert retried.json()["stored"] == 1
    assert len(await hooks.events(integration)) == 1


async def test_an_oversized_app_delivery_is_refused_before_it_is_read(
    hooks: Hooks, operator_env: None
) -> None:
    body = b"[" + b"0," * (get_settings().max_body_bytes // 2) + b"0]"
    response = await post_app(hooks, "slack", body, slack_signed(body))
    assert_problem(response, 413, "payload-too-large")

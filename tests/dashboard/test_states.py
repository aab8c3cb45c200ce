"""State handlers and computed vars, without a browser."""

from __future__ import annotations

import asyncio

import httpx
from dashboard_testkit import API_KEY, FakeApi, make_state, problem, run, signed_in

from dashboard import live
from dashboard.state import session
from dashboard.state.catalog import CatalogState
from dashboard.state.connect import ConnectState, field_key
from dashboard.state.integration import IntegrationState, oauth_error_text

CONNECTORS = [
    {
        "id": "stripe",
        "name": "Stripe",
        "category": "payments",
        "description": "Payments",
        "icon": "credit-card",
        "auth_type": "api_key",
        "configured": True,
    },
    {
        "id": "slack",
        "name": "Slack",
        "category": "messaging",
        "description": "Chat",
        "icon": "message-square",
        "auth_type": "oauth2",
        "configured": False,
        "configured_reason": "SLACK_CLIENT_ID is not set",
    },
    {
        "id": "webhook",
        "name": "Generic webhook",
        "category": "developer",
        "icon": "webhook",
        "auth_type": "none",
        "configured": True,
    },
]
TWILIO = {
    "id": "twilio",
    "name": "Twilio",
    "category": "messaging",
    "icon": "phone",
    "auth_type": "api_key",
    "configured": True,
    "credential_fields": [
        {"name": "account_sid", "label": "Account SID", "secret": False, "required": True},
        {
            "name": "auth_token",
            "label": "Auth token",
            "secret": True,
            "required": True,
            "help": "From the Twilio console",
        },
    ],
    "webhook": {"signing_secret_source": "credentials"},
}
INTEGRATION = {
    "id": "i1",
    "connector_id": "twilio",
    "name": "SMS",
    "status": "connected",
    "test_mode": False,
    "health": {"status": "healthy", "reason": "200 from provider"},
    "webhook_url": "http://localhost:8000/api/webhooks/twilio/tok",
}


async def test_sign_in_keeps_key_server_side_only(fake_api: FakeApi) -> None:
    state = make_state(session.AuthState, "/login")
    updates = await run(state.sign_in({"api_key": API_KEY}))
    assert state.tenant_name == "Acme" and state.signed_in
    assert state.session_id and API_KEY not in state.session_id
    assert all(API_KEY not in repr(value) for value in state.dict().values())
    assert session.SESSIONS.get(state.session_id).api_key == API_KEY
    assert updates  # the redirect
    state.sign_out()
    assert session.SESSIONS.get(state.session_id) is None and not state.tenant_name


async def test_sign_in_rejected_key_says_so(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/me", problem(401, "unauthorized", "Unauthorized"))
    state = make_state(session.AuthState, "/login")
    await run(state.sign_in({"api_key": "sb_wrong"}))
    assert "not accepted" in state.login_error and not state.session_id


def test_next_is_local_only() -> None:
    assert session._safe_next("/audit") == "/audit"
    assert session._safe_next("//evil.example") == "/"
    assert session._safe_next("https://evil.example") == "/"


async def test_pages_redirect_to_login_when_signed_out(fake_api: FakeApi) -> None:
    state = make_state(CatalogState, "/")
    updates = await run(state.load())
    assert updates and not fake_api.requests


async def test_catalog_search_and_filters(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/connectors", {"items": CONNECTORS})
    fake_api.on(
        "GET",
        "/api/integrations",
        {
            "items": [
                {**INTEGRATION, "connector_id": "stripe", "id": "i1", "name": "Billing"},
                {
                    **INTEGRATION,
                    "connector_id": "slack",
                    "id": "i2",
                    "name": "Team chat",
                    "status": "needs_reauth",
                },
            ],
            "next_cursor": None,
        },
    )
    state = signed_in(make_state(CatalogState, "/"))
    await run(state.load())
    assert [c.id for c in state.filtered_connectors] == ["stripe", "slack", "webhook"]
    assert state.categories == ["all", "developer", "messaging", "payments"]
    state.set_search("SLA")
    assert [c.id for c in state.filtered_connectors] == ["slack"]
    assert [i.id for i in state.filtered_integrations] == ["i2"]
    state.clear_filters()
    state.set_category("payments")
    assert [c.id for c in state.filtered_connectors] == ["stripe"]
    state.set_category("all")
    state.set_status("needs_reauth")
    assert [i.name for i in state.filtered_integrations] == ["Team chat"]
    assert state.filters_active
    slack = next(c for c in state.connectors if c.id == "slack")
    assert not slack.configured and slack.configured_reason == "SLACK_CLIENT_ID is not set"


async def test_catalog_api_down_shows_callout_not_crash(fake_api: FakeApi) -> None:
    fake_api.on(
        "GET",
        "/api/connectors",
        problem(503, "unavailable", "Service unavailable", "database is down"),
    )
    state = signed_in(make_state(CatalogState, "/"))
    await run(state.load())
    assert (state.problem_title, state.problem_detail) == (
        "Service unavailable",
        "database is down",
    )
    assert not state.loading


async def test_revoked_key_signs_out(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/connectors", problem(401, "unauthorized", "Unauthorized"))
    state = signed_in(make_state(CatalogState, "/"))
    sid = state.session_id
    updates = await run(state.load())
    assert updates and session.SESSIONS.get(sid) is None and state.problem_title == ""


async def test_connect_form_fields_and_api_errors_at_the_field(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/connectors/twilio", TWILIO)
    fake_api.on(
        "POST",
        "/api/integrations",
        problem(
            422,
            "validation",
            "Invalid request",
            "bad token",
            [
                {
                    "field": "credentials.auth_token",
                    "message": "does not match the expected format",
                },
                {"field": "config.region", "message": "unknown region"},
            ],
        ),
    )
    state = signed_in(
        make_state(ConnectState, "/connect/twilio", params={"connector_id": "twilio"})
    )
    await run(state.load())
    assert [(f.name, f.input_type, f.required) for f in state.fields] == [
        ("credentials.account_sid", "text", True),
        ("credentials.auth_token", "password", True),
    ]
    # Required fields are checked before any call.
    await run(state.submit({"name": "", "credentials.account_sid": "AC1"}))
    assert set(state.field_errors) == {"name", "credentials.auth_token"}
    assert not any(r.method == "POST" for r in fake_api.requests)
    await run(
        state.submit(
            {"name": "SMS", "credentials.account_sid": "AC1", "credentials.auth_token": "tok"}
        )
    )
    assert state.field_errors["credentials.auth_token"] == "does not match the expected format"
    assert state.unplaced_errors == ["config.region: unknown region"]
    assert state.problem_title == "Invalid request" and state.busy == ""
    sent = fake_api.requests[-1]
    assert b'"auth_token":"tok"' in sent.content.replace(b" ", b"")


def test_field_key_strips_location_prefixes() -> None:
    assert field_key("body.credentials.auth_token") == "credentials.auth_token"
    assert field_key("$.name") == "name"


async def test_connect_oauth_redirects_to_provider(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/connectors/slack", {**CONNECTORS[1], "configured": True})
    fake_api.on(
        "POST",
        "/api/integrations",
        {
            "integration": {**INTEGRATION, "status": "pending", "connector_id": "slack"},
            "authorization_url": "https://slack.com/oauth/v2/authorize?state=s",
        },
        status=201,
    )
    state = signed_in(make_state(ConnectState, "/connect/slack", params={"connector_id": "slack"}))
    await run(state.load())
    assert state.is_oauth and state.fields == []
    updates = await run(state.submit({"name": "Team"}))
    assert "slack.com/oauth" in str(updates[-1])


async def test_one_time_secret_is_handed_over_then_gone(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/connectors/webhook", CONNECTORS[2])
    fake_api.on(
        "POST",
        "/api/integrations",
        {
            "integration": {**INTEGRATION, "connector_id": "webhook"},
            "webhook_signing_secret": "whsec_once",
        },
        status=201,
    )
    fake_api.on("GET", "/api/integrations/i1", INTEGRATION)
    fake_api.on("GET", "/api/connectors/twilio", TWILIO)
    fake_api.on("GET", "/api/integrations/i1/events", {"items": [], "next_cursor": None})
    connect = signed_in(
        make_state(ConnectState, "/connect/webhook", params={"connector_id": "webhook"})
    )
    await run(connect.load())
    updates = await run(connect.submit({"name": "Inbound"}))
    assert "/integrations/i1" in str(updates[-1]) and "whsec_once" not in str(updates[-1])
    detail = await connect.get_state(IntegrationState)
    detail.router = connect.router.__class__.from_router_data(
        {"pathname": "/integrations/i1", "query": {"integration_id": "i1"}, "token": "tab-1"}
    )
    await run(detail.load())
    assert detail.revealed_secret == "whsec_once" and detail.has_secret
    detail.dismiss_secret()
    assert detail.revealed_secret == ""
    await run(detail.load())  # a reload never shows it again
    assert detail.revealed_secret == ""


async def test_rotate_shows_new_secret_until_leaving(fake_api: FakeApi) -> None:
    fake_api.on(
        "POST",
        "/api/integrations/i1/webhook/rotate",
        {"integration": INTEGRATION, "webhook_signing_secret": "whsec_new"},
    )
    state = signed_in(
        make_state(IntegrationState, "/integrations/i1", params={"integration_id": "i1"})
    )
    state.integration.id = "i1"
    await run(state.rotate_secret())
    assert state.revealed_secret == "whsec_new" and state.busy == ""
    await run(IntegrationState.leave.fn(state))
    assert state.revealed_secret == ""


async def test_webhook_registration_outcome_and_retry(fake_api: FakeApi) -> None:
    telegram = {**INTEGRATION, "connector_id": "telegram"}
    failed = {"status": "failed", "reason": "Telegram answered: Bad Request: bad webhook"}
    fake_api.on(
        "POST",
        "/api/integrations/i1/webhook/register",
        {"integration": {**telegram, "webhook_registration": failed}},
    )
    state = signed_in(
        make_state(IntegrationState, "/integrations/i1", params={"integration_id": "i1"})
    )
    state.integration.id = "i1"
    await run(state.register_webhook())
    assert state.integration.registration_status == "failed"
    assert state.problem_title == "The webhook was not registered"
    assert state.problem_detail == failed["reason"] and state.action_message == ""

    registered = {"status": "registered", "reason": "registered as webhook of bot 1"}
    fake_api.on(
        "POST",
        "/api/integrations/i1/webhook/register",
        {"integration": {**telegram, "webhook_registration": registered}},
    )
    await run(state.register_webhook())
    assert state.problem_detail == "" and state.busy == ""
    assert state.action_message == "The webhook is registered at the provider."

    fake_api.on(
        "POST",
        "/api/integrations/i1/webhook/rotate",
        {"integration": {**telegram, "webhook_registration": registered}},
    )
    await run(state.rotate_secret())
    assert state.action_message == "The webhook URL was rotated and updated at the provider."


def test_oauth_outcome_in_words() -> None:
    state = make_state(IntegrationState, "/integrations/i1", query="oauth=error&reason=x")
    state._read_oauth_outcome()
    assert state.oauth_message == oauth_error_text("x") and not state.oauth_ok
    state = make_state(IntegrationState, "/integrations/i1", query="oauth=connected")
    state._read_oauth_outcome()
    assert state.oauth_ok and "connected" in state.oauth_message


async def test_live_loop_refuses_double_start_and_stops() -> None:
    class Fake:
        class router:
            class session:
                client_token = "tab-9"

    ticks: list[int] = []

    async def tick() -> bool:
        ticks.append(1)
        return True

    live.client_connected = lambda _token: True
    first = asyncio.create_task(live.run_poll_loop(Fake(), "events", tick, interval=0.01))
    await asyncio.sleep(0.05)
    assert await live.run_poll_loop(Fake(), "events", tick, interval=0.01) is False
    assert live.running_count() == 1
    assert live.stop("tab-9", "events")
    assert await asyncio.wait_for(first, 1) is True
    assert live.running_count() == 0 and len(ticks) >= 2
    # After a stop, a new mount may start again (StrictMode: mount, unmount, mount).
    live.client_connected = lambda _token: False
    assert (
        await asyncio.wait_for(
            live.run_poll_loop(Fake(), "events", tick, interval=0.01, grace=0.02), 1
        )
        is True
    )


async def test_live_tick_updates_events(fake_api: FakeApi) -> None:
    fake_api.on(
        "GET",
        "/api/integrations/i1/events",
        {
            "items": [
                {
                    "id": "e1",
                    "type": "message.received",
                    "status": "processed",
                    "received_at": "2026-11-25T18:00:00Z",
                    "attempts": 1,
                }
            ],
            "next_cursor": None,
        },
    )
    state = signed_in(make_state(IntegrationState, "/integrations/i1"))
    state.integration.id = "i1"
    # A plain State's `async with self:` is a no-op, so the tick runs outside Reflex's
    # background machinery.
    assert await state._poll_once() is True
    assert [e.id for e in state.events] == ["e1"] and state.event_count == 1


async def test_a_poll_started_before_a_connection_test_does_not_undo_it(
    fake_api: FakeApi,
) -> None:
    """The poll asks for the integration, "Test connection" answers meanwhile with the new
    health, then the poll's older answer arrives: the badge keeps the test's result."""
    from dashboard.state.integration import SLOW_EVERY_TICKS

    before = {**INTEGRATION, "health": {"status": "auth_failed", "reason": "401 from provider"}}
    after = {**INTEGRATION, "health": {"status": "healthy", "reason": "200 from provider"}}
    asked, answer_now = asyncio.Event(), asyncio.Event()

    async def slow_get(_request: httpx.Request) -> httpx.Response:
        asked.set()
        await answer_now.wait()
        return httpx.Response(200, json=before)  # read before the test changed it

    fake_api.on("GET", "/api/integrations/i1", slow_get)
    fake_api.on("GET", "/api/integrations/i1/events", {"items": [], "next_cursor": None})
    fake_api.on(
        "POST",
        "/api/integrations/i1/test",
        {"integration": after, "health": after["health"]},
    )
    state = signed_in(make_state(IntegrationState, "/integrations/i1"))
    state.integration.id = "i1"
    state.integration.health_status = "auth_failed"
    state._ticks = SLOW_EVERY_TICKS - 1  # the next tick also fetches the integration
    poll = asyncio.create_task(state._poll_once())
    await asyncio.wait_for(asked.wait(), 1)

    await run(state.test_connection())
    assert state.integration.health_status == "healthy"
    answer_now.set()
    assert await asyncio.wait_for(poll, 1) is True
    assert state.integration.health_status == "healthy"
    assert state.action_message.startswith("Connection test: healthy")

    # With no action in between, the next slow poll's answer is shown as usual.
    fake_api.on("GET", "/api/integrations/i1", before)
    state._ticks = SLOW_EVERY_TICKS - 1
    assert await state._poll_once() is True
    assert state.integration.health_status == "auth_failed"


def test_api_readiness_words() -> None:
    from dashboard.client import ApiError
    from dashboard.state.system import describe_readiness

    assert describe_readiness({"status": "ready"}, None)[0] == "ready"
    degraded = ApiError(503, "Service unavailable", "database unavailable")
    assert describe_readiness(None, degraded) == ("degraded", "API up, but database unavailable")
    down = ApiError(0, "The API is unreachable", "Could not connect", type="unreachable")
    status, words = describe_readiness(None, down)
    assert status == "unreachable" and "Could not connect" in words

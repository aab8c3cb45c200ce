"""The integration page's live loop across the page lifecycle, in the order Reflex really
delivers events after a click in the catalog: the page mounts (on_mount starts the loop)
before its on_load handler has loaded the integration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from dashboard_testkit import FakeApi, make_state, run, signed_in

from dashboard import live
from dashboard.state.integration import LIVE_NAME, IntegrationState

TOKEN = "tab-1"


def integration(integration_id: str, name: str) -> dict[str, Any]:
    return {
        "id": integration_id,
        "connector_id": "stripe",
        "name": name,
        "status": "connected",
        "health": {"status": "healthy"},
        "webhook_url": f"http://api.test/api/webhooks/stripe/{integration_id}",
    }


def serve_integration(fake_api: FakeApi, integration_id: str, name: str) -> None:
    """The api's answers for one integration with one stored event named after it."""
    base = f"/api/integrations/{integration_id}"
    fake_api.on("GET", base, integration(integration_id, name))
    fake_api.on(
        "GET",
        base + "/events",
        {
            "items": [
                {
                    "id": f"evt-{integration_id}",
                    "type": f"{integration_id}.delivered",
                    "status": "processed",
                    "received_at": "2026-11-25T18:00:00Z",
                    "attempts": 1,
                }
            ],
            "next_cursor": None,
        },
    )


def navigate(state: Any, integration_id: str) -> None:
    """What a click does to the router the state sees (the page itself stays mounted)."""
    state.router = state.router.__class__.from_router_data(
        {
            "pathname": f"/integrations/{integration_id}",
            "query": {"integration_id": integration_id},
            "token": TOKEN,
        }
    )


def event_polls(fake_api: FakeApi) -> list[str]:
    return [r.url.path for r in fake_api.requests if r.url.path.endswith("/events")]


async def eventually(check: Callable[[], bool], timeout: float = 1.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def start_loop(state: Any) -> asyncio.Task[bool]:
    """start_live's loop, ticking every 10 ms (the real one ticks every second)."""
    live.client_connected = lambda _token: True
    task = asyncio.create_task(
        live.run_poll_loop(state, LIVE_NAME, state._poll_once, interval=0.01)
    )
    await asyncio.sleep(0)
    return task


def page_state(fake_api: FakeApi, integration_id: str) -> Any:
    fake_api.on("GET", "/api/connectors/stripe", {"id": "stripe", "name": "Stripe"})
    return signed_in(
        make_state(
            IntegrationState,
            f"/integrations/{integration_id}",
            params={"integration_id": integration_id},
            token=TOKEN,
        )
    )


async def test_loop_started_before_load_waits_for_it_then_streams(fake_api: FakeApi) -> None:
    serve_integration(fake_api, "i1", "One")
    state = page_state(fake_api, "i1")
    loop = await start_loop(state)  # on_mount overtakes on_load
    await asyncio.sleep(0.05)
    assert live.is_running(TOKEN, LIVE_NAME), "the loop ended before the page loaded"
    assert event_polls(fake_api) == []  # nothing to poll until the page knows its integration

    await run(state.load())
    polls_after_load = len(event_polls(fake_api))
    await eventually(lambda: len(event_polls(fake_api)) >= polls_after_load + 2)
    assert [e.id for e in state.events] == ["evt-i1"]
    assert live.stop(TOKEN, LIVE_NAME)
    assert await asyncio.wait_for(loop, 1) is True


async def test_loop_refreshes_what_the_page_shows_and_nothing_else(fake_api: FakeApi) -> None:
    """Events every tick and the summary (its health badge) every few; the logs are the Logs
    tab's own loop (dashboard/state/integration_logs.py), never fetched by this one."""
    serve_integration(fake_api, "i1", "One")
    state = page_state(fake_api, "i1")
    await run(state.load())
    assert state.integration.health_status == "healthy"
    failing = {**integration("i1", "One"), "health": {"status": "auth_failed", "reason": "401"}}
    fake_api.on("GET", "/api/integrations/i1", failing)
    loop = await start_loop(state)
    await eventually(lambda: state.integration.health_status == "auth_failed")
    assert state.integration.health_reason == "401"
    assert len(event_polls(fake_api)) >= 2
    paths = {r.url.path for r in fake_api.requests}
    assert paths <= {
        "/api/integrations/i1",
        "/api/integrations/i1/events",
        "/api/connectors/stripe",
    }, paths
    live.stop(TOKEN, LIVE_NAME)
    await asyncio.wait_for(loop, 1)


async def test_loop_follows_the_integration_on_screen(fake_api: FakeApi) -> None:
    serve_integration(fake_api, "i1", "One")
    serve_integration(fake_api, "i2", "Two")
    state = page_state(fake_api, "i1")
    await run(state.load())
    loop = await start_loop(state)
    await eventually(lambda: len(event_polls(fake_api)) >= 2)

    navigate(state, "i2")
    await run(state.load())
    switched = len(fake_api.requests)
    await eventually(lambda: len(event_polls(fake_api)[switched:]) >= 2)
    assert state.integration.id == "i2" and [e.id for e in state.events] == ["evt-i2"]
    later = [r.url.path for r in fake_api.requests[switched:]]
    assert all(path.startswith("/api/integrations/i2") for path in later), later
    live.stop(TOKEN, LIVE_NAME)
    await asyncio.wait_for(loop, 1)


async def test_leaving_stops_the_loop_and_forgets_the_page(fake_api: FakeApi) -> None:
    serve_integration(fake_api, "i1", "One")
    state = page_state(fake_api, "i1")
    await run(state.load())
    state.revealed_secret = "whsec_once"
    loop = await start_loop(state)
    await eventually(lambda: len(event_polls(fake_api)) >= 2)

    await run(IntegrationState.leave.fn(state))
    assert await asyncio.wait_for(loop, 1) is True
    assert not live.is_running(TOKEN, LIVE_NAME)
    polls = len(event_polls(fake_api))
    await asyncio.sleep(0.05)
    assert len(event_polls(fake_api)) == polls
    # The next integration page mounts before its on_load: it must not show this one.
    assert state.integration.id == "" and state.events == []
    assert state.revealed_secret == ""


def test_leave_is_not_overtaken_by_the_next_pages_start() -> None:
    """Reflex runs background events as they arrive and queues the others per tab behind
    whatever is still running (a slow on_load). A queued leave could then run after the next
    integration page's start_live and stop that page's new loop; two background events keep
    the order the browser sent them in."""
    handlers = IntegrationState.event_handlers
    assert handlers["start_live"].is_background
    assert handlers["leave"].is_background

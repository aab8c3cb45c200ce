"""The alerts page and the sidebar badge: listing, acknowledging, and the badge's count of
open alerts nobody acknowledged — the api faked at the network boundary."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from dashboard_testkit import FakeApi, make_state, problem, run, signed_in

from dashboard import live
from dashboard.state import alerts as alerts_state
from dashboard.state.alerts import (
    PAGE_LIVE_NAME,
    PAUSED,
    AlertBadgeState,
    AlertsState,
    badge_text,
)


def alert(alert_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": alert_id,
        "integration_id": "i1",
        "kind": "provider_errors",
        "severity": "warning",
        "status": "open",
        "message": "3 of 3 provider calls failed in 1 h.",
        "opened_at": "2026-11-27T14:00:50Z",
        "resolved_at": None,
        "acknowledged_at": None,
        **changes,
    }


class AlertsApi:
    """A tiny alert store behind the fake api: list by status, ack sets acknowledged_at."""

    def __init__(self, fake_api: FakeApi, alerts: list[dict[str, Any]]) -> None:
        self.alerts = alerts
        fake_api.on("GET", "/api/alerts", self.list)
        fake_api.on(
            "GET",
            "/api/integrations",
            {"items": [{"id": "i1", "name": "Billing"}], "next_cursor": None},
        )
        for a in alerts:
            fake_api.on("POST", f"/api/alerts/{a['id']}/ack", self.ack)

    def list(self, request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        items = [a for a in self.alerts if status in (None, a["status"])]
        return httpx.Response(200, json={"items": items, "next_cursor": None})

    def ack(self, request: httpx.Request) -> httpx.Response:
        alert_id = request.url.path.split("/")[-2]
        found = next(a for a in self.alerts if a["id"] == alert_id)
        found["acknowledged_at"] = found["acknowledged_at"] or "2026-11-27T14:02:00Z"
        return httpx.Response(200, json=found)


async def test_lists_open_alerts_with_integration_names(fake_api: FakeApi) -> None:
    AlertsApi(fake_api, [alert("a1"), alert("a2", status="resolved")])
    state = signed_in(make_state(AlertsState, "/alerts"))
    await run(state.load())
    assert [a.id for a in state.alerts] == ["a1"]
    assert state.alerts[0].integration_name == "Billing"
    assert fake_api.requests[-1].url.params["status"] == "open"
    await run(state.set_status_filter("all"))
    assert [a.id for a in state.alerts] == ["a1", "a2"]
    assert "status" not in fake_api.requests[-1].url.params
    await run(state.set_status_filter("resolved"))
    assert [a.id for a in state.alerts] == ["a2"] and state.alerts[0].status == "resolved"


async def test_acknowledge_updates_the_row_and_the_badge(fake_api: FakeApi) -> None:
    AlertsApi(fake_api, [alert("a1"), alert("a2", kind="health_check_failed")])
    state = signed_in(make_state(AlertsState, "/alerts"))
    badge = await state.get_state(AlertBadgeState)
    assert await badge._badge_tick() is True
    assert badge.badge_count == 2 and badge.badge == "2"

    await run(state.load())
    await run(state.acknowledge("a1"))
    assert state.alerts[0].acknowledged_at == "2026-11-27T14:02:00Z"
    assert state.message.startswith("Acknowledged") and state.busy == ""
    assert badge.badge_count == 1 and badge.badge == "1"
    # Acknowledging twice is harmless (the api is idempotent).
    await run(state.acknowledge("a1"))
    assert badge.badge_count == 1


async def test_a_refused_acknowledge_says_so(fake_api: FakeApi) -> None:
    AlertsApi(fake_api, [alert("a1")])
    fake_api.on(
        "POST", "/api/alerts/a1/ack", problem(404, "not-found", "Not found", "no such alert")
    )
    state = signed_in(make_state(AlertsState, "/alerts"))
    await run(state.load())
    await run(state.acknowledge("a1"))
    assert state.problem_title == "The alert was not acknowledged: Not found"
    assert state.alerts[0].acknowledged_at == "" and state.busy == ""


async def test_badge_counts_only_unacknowledged_and_goes_quiet_on_401(fake_api: FakeApi) -> None:
    store = AlertsApi(
        fake_api,
        [alert("a1"), alert("a2", acknowledged_at="2026-11-27T14:01:00Z"), alert("a3")],
    )
    badge = signed_in(make_state(AlertBadgeState, "/"))
    assert await badge._badge_tick() is True and badge.badge == "2"
    store.alerts[0]["status"] = "resolved"
    assert await badge._badge_tick() is True and badge.badge == "1"
    # The api down: the badge keeps its count and the loop goes on.
    fake_api.on("GET", "/api/alerts", problem(503, "unavailable", "Service unavailable"))
    assert await badge._badge_tick() is True and badge.badge == "1"
    # The key revoked: the loop ends, the badge empties, the tab is not sent anywhere.
    fake_api.on("GET", "/api/alerts", problem(401, "unauthorized", "Unauthorized"))
    assert await badge._badge_tick() is False and badge.badge == ""
    requests = [json.loads(r.content) for r in fake_api.requests if r.content]
    assert requests == []  # the badge only reads


async def test_badge_waits_while_signed_out(fake_api: FakeApi) -> None:
    badge = make_state(AlertBadgeState, "/login")
    assert await badge._badge_tick() is True
    assert not fake_api.requests and badge.badge == ""


def test_badge_text() -> None:
    assert badge_text(0, False) == ""
    assert badge_text(3, False) == "3"
    assert badge_text(200, True) == "200+"


# -- the live list ---------------------------------------------------------------------------


async def test_the_list_follows_the_api_while_shown(fake_api: FakeApi) -> None:
    store = AlertsApi(fake_api, [alert("a1")])
    state = signed_in(make_state(AlertsState, "/alerts"))
    await run(state.load())
    # A new alert on an integration the page has not seen yet, named once it appears.
    store.alerts.insert(0, alert("a2", integration_id="i2", kind="health_check_failed"))
    fake_api.on(
        "GET",
        "/api/integrations",
        {"items": [{"id": "i1", "name": "Billing"}, {"id": "i2", "name": "Payroll"}]},
    )
    assert await state._live_tick() is True
    assert [(a.id, a.integration_name) for a in state.alerts] == [
        ("a2", "Payroll"),
        ("a1", "Billing"),
    ]
    # A resolved alert leaves the open list; the filter in force is what a tick reads.
    store.alerts[1]["status"] = "resolved"
    assert await state._live_tick() is True
    assert [a.id for a in state.alerts] == ["a2"]
    assert fake_api.requests[-1].url.params["status"] == "open"
    await run(state.set_status_filter("resolved"))
    assert await state._live_tick() is True
    assert [a.id for a in state.alerts] == ["a1"]
    assert fake_api.requests[-1].url.params["status"] == "resolved"
    # The api down: the list stays, the page says updates paused, then recovers.
    fake_api.on("GET", "/api/alerts", problem(503, "unavailable", "Service unavailable"))
    assert await state._live_tick() is True
    assert [a.id for a in state.alerts] == ["a1"] and state.problem_title == PAUSED
    fake_api.on("GET", "/api/alerts", store.list)
    assert await state._live_tick() is True and state.problem_title == ""


async def test_a_tick_never_undoes_an_acknowledge(fake_api: FakeApi) -> None:
    """The tick reads the list, an acknowledge lands meanwhile, the older read arrives."""
    store = AlertsApi(fake_api, [alert("a1")])
    state = signed_in(make_state(AlertsState, "/alerts"))
    await run(state.load())
    asked, answer_now = asyncio.Event(), asyncio.Event()
    stale = [dict(a) for a in store.alerts]

    async def slow_list(_request: httpx.Request) -> httpx.Response:
        asked.set()
        await answer_now.wait()
        return httpx.Response(200, json={"items": stale, "next_cursor": None})

    fake_api.on("GET", "/api/alerts", slow_list)
    tick = asyncio.create_task(state._live_tick())
    await asyncio.wait_for(asked.wait(), 1)
    fake_api.on("GET", "/api/alerts", store.list)
    await run(state.acknowledge("a1"))
    answer_now.set()
    assert await asyncio.wait_for(tick, 1) is True
    assert state.alerts[0].acknowledged_at == "2026-11-27T14:02:00Z"


async def test_the_loop_runs_while_mounted_and_stops(fake_api: FakeApi, monkeypatch) -> None:
    AlertsApi(fake_api, [alert("a1")])
    monkeypatch.setattr(alerts_state, "PAGE_INTERVAL_SECONDS", 0.01)
    live.client_connected = lambda _token: True
    state = signed_in(make_state(AlertsState, "/alerts", token="tab-a"))
    loop = asyncio.create_task(AlertsState.start_live.fn(state))
    await eventually(lambda: list_calls(fake_api) >= 2)
    assert live.is_running("tab-a", PAGE_LIVE_NAME)
    await run(AlertsState.stop_live.fn(state))  # on_unmount
    assert await asyncio.wait_for(loop, 1) is None
    calls = list_calls(fake_api)
    await asyncio.sleep(0.05)
    assert list_calls(fake_api) == calls and not live.is_running("tab-a", PAGE_LIVE_NAME)

    # The tab's socket gone: the page's loop ends by itself.
    live.client_connected = lambda _token: False
    gone = live.run_poll_loop(state, PAGE_LIVE_NAME, state._live_tick, interval=0.01, grace=0.02)
    assert await asyncio.wait_for(gone, 1) is True
    assert not live.is_running("tab-a", PAGE_LIVE_NAME)

    # The key revoked: the loop ends and the tab goes to /login.
    live.client_connected = lambda _token: True
    fake_api.on("GET", "/api/alerts", problem(401, "unauthorized", "Unauthorized"))
    outcome = await asyncio.wait_for(AlertsState.start_live.fn(state), 1)
    assert "/login" in str(outcome) and not state.signed_in


def test_the_page_starts_and_stops_its_loop_in_the_background() -> None:
    handlers = AlertsState.event_handlers
    assert handlers["start_live"].is_background and handlers["stop_live"].is_background


def list_calls(fake_api: FakeApi) -> int:
    return sum(1 for r in fake_api.requests if r.url.path == "/api/alerts")


async def eventually(check: Any, timeout: float = 1.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)

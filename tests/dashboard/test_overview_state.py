"""The tenant overview's state: integrations by evidence health (worst first), events and
errors over 24 h from the metrics summary, and the open alerts."""

from __future__ import annotations

from typing import Any

from dashboard_testkit import FakeApi, make_state, problem, run, signed_in

from dashboard.state.overview import OverviewState, chart_points, stored_state


def integration(integration_id: str, name: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": integration_id,
        "name": name,
        "connector_id": "stripe",
        "status": "connected",
        "health": {"status": "healthy", "reason": None},
        **changes,
    }


def counters(**values: int) -> dict[str, int]:
    return {"webhooks_accepted": 0, "events_failed": 0, "api_errors": 0, **values}


def serve(fake_api: FakeApi) -> None:
    fake_api.on(
        "GET",
        "/api/integrations",
        {
            "items": [
                integration("i1", "Billing"),
                integration("i2", "Shop"),
                integration("i3", "Old", status="revoked"),
                integration(
                    "i4", "Chat", health={"status": "rate_limited", "reason": "retry after 4 s"}
                ),
            ],
            "next_cursor": None,
        },
    )
    fake_api.on(
        "GET",
        "/api/integrations/i1/health",
        {"state": "healthy", "reasons": [], "assessed_at": "2026-11-27T14:00:00Z"},
    )
    fake_api.on(
        "GET",
        "/api/integrations/i2/health",
        {
            "state": "failing",
            "reasons": [{"code": "api_errors", "message": "3 of 3 provider calls failed in 1 h."}],
            "assessed_at": "2026-11-27T14:00:00Z",
        },
    )
    # i4's assessment fails: its stored check stands in.
    fake_api.on("GET", "/api/integrations/i4/health", problem(503, "unavailable", "Unavailable"))
    fake_api.on(
        "GET",
        "/api/metrics/summary",
        {
            "window": "24h",
            "totals": counters(webhooks_accepted=12, events_failed=1, api_errors=3),
            "latency_ms": {},
            "series": [
                {"at": "2026-11-27T13:00:00Z", **counters(webhooks_accepted=10)},
                {"at": "2026-11-27T14:00:00Z", **counters(webhooks_accepted=2, api_errors=3)},
            ],
            "breakdown": {},
            "integrations": [
                {"integration_id": "i2", "totals": counters(webhooks_accepted=2, api_errors=3)}
            ],
        },
    )
    fake_api.on(
        "GET",
        "/api/alerts",
        {
            "items": [
                {
                    "id": "a1",
                    "integration_id": "i2",
                    "kind": "provider_errors",
                    "severity": "critical",
                    "status": "open",
                    "message": "3 of 3 provider calls failed in 1 h.",
                    "opened_at": "2026-11-27T14:00:50Z",
                    "resolved_at": None,
                    "acknowledged_at": None,
                }
            ],
            "next_cursor": None,
        },
    )


async def test_overview_groups_by_health_and_counts_24h(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = signed_in(make_state(OverviewState, "/overview"))
    await run(state.load())
    assert state.problem_title == "" and state.loaded
    # Worst first; the revoked integration is not on the overview.
    assert [(r.name, r.state) for r in state.rows] == [
        ("Shop", "failing"),
        ("Chat", "degraded"),
        ("Billing", "healthy"),
    ]
    assert state.rows[0].reason == "3 of 3 provider calls failed in 1 h."
    assert (state.rows[0].events, state.rows[0].errors) == (2, 3)
    assert {g.state: g.count for g in state.groups} == {
        "healthy": 1,
        "degraded": 1,
        "failing": 1,
        "needs_reauth": 0,
    }
    assert (state.events_24h, state.errors_24h) == (12, 4)
    assert state.chart == [
        {"at": "13:00", "events": 10, "errors": 0},
        {"at": "14:00", "events": 2, "errors": 3},
    ]
    assert [a.integration_name for a in state.open_alerts] == ["Shop"]
    assert state.open_alert_count == "1"
    summary = next(r for r in fake_api.requests if r.url.path == "/api/metrics/summary")
    assert summary.url.params["window"] == "24h"


async def test_overview_says_when_the_api_fails(fake_api: FakeApi) -> None:
    serve(fake_api)
    fake_api.on("GET", "/api/metrics/summary", problem(503, "unavailable", "Unavailable", "down"))
    state = signed_in(make_state(OverviewState, "/overview"))
    await run(state.load())
    assert state.problem_title == "Unavailable" and not state.loading


async def test_overview_sends_a_revoked_key_to_sign_in(fake_api: FakeApi) -> None:
    serve(fake_api)
    fake_api.on("GET", "/api/integrations/i1/health", problem(401, "unauthorized", "No"))
    state = signed_in(make_state(OverviewState, "/overview"))
    updates = await run(state.load())
    assert updates and not state.session_id


def test_stored_state_and_chart_points() -> None:
    assert stored_state(integration("i", "x", status="needs_reauth")) == "needs_reauth"
    assert stored_state(integration("i", "x", health={"status": "provider_down"})) == "failing"
    assert stored_state(integration("i", "x", health=None)) == "healthy"
    assert chart_points({"series": []}) == []  # type: ignore[typeddict-item]

"""The integration page's panels (health, metrics, syncs, logs, test mode, actions) without a
browser: their states against the api faked at the network boundary, answering the shapes the
OpenAPI document serves (test_client_openapi.py holds the client's types to it)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from dashboard_testkit import FakeApi, make_state, problem, run, signed_in

from dashboard import live
from dashboard.state.integration_actions import (
    ActionsPanelState,
    action_input,
    field_errors_of,
    schema_fields,
)
from dashboard.state.integration_health import HealthPanelState
from dashboard.state.integration_logs import LogsPanelState
from dashboard.state.integration_metrics import MetricsPanelState, chart_rows, latency_rows
from dashboard.state.integration_panel import PAUSED
from dashboard.state.integration_syncs import SyncPanelState, rfc3339
from dashboard.state.integration_testmode import ALL_TYPES, SimulationPanelState

BASE = "/api/integrations/i1"
INTEGRATION = {
    "id": "i1",
    "connector_id": "stripe",
    "name": "Payments",
    "status": "connected",
    "test_mode": True,
    "health": {"status": "healthy", "reason": "", "checked_at": None},
}
CREATE_CUSTOMER_SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "name": {"type": "string", "description": "Full name"},
        "balance": {"type": "integer"},
        "metadata": {"type": "object"},
        "tax_exempt": {"type": "string", "enum": ["none", "exempt", "reverse"]},
        "api_token": {"type": "string"},
    },
    "required": ["email"],
    "additionalProperties": False,
}
CONNECTOR = {
    "id": "stripe",
    "name": "Stripe",
    "auth_type": "api_key",
    "streams": [
        {"name": "customers", "modes": ["full", "incremental", "backfill"], "unavailable": ""},
        {"name": "balance", "modes": [], "unavailable": "Stripe keeps no history of it"},
    ],
    "event_types": [{"name": "charge.succeeded"}, {"name": "invoice.paid"}],
    "actions": [
        {
            "name": "create_customer",
            "description": "Create a customer.",
            "input_schema": CREATE_CUSTOMER_SCHEMA,
            "required_scopes": [],
            "idempotent_at_provider": True,
        }
    ],
}


def job(status: str, pages: int = 0, records: int = 0) -> dict[str, Any]:
    return {
        "id": "job1",
        "integration_id": "i1",
        "stream": "customers",
        "mode": "full",
        "trigger": "manual",
        "status": status,
        "pages": pages,
        "records_upserted": records,
        "records_deleted": 0,
        "attempts": 1,
        "cursor_before": None,
        "cursor_after": None,
        "error": "",
        "created_at": "2026-11-27T10:00:00Z",
        "started_at": None,
        "finished_at": None,
    }


def panel(cls: type, fake_api: FakeApi) -> Any:
    fake_api.on("GET", BASE, INTEGRATION)
    fake_api.on("GET", "/api/connectors/stripe", CONNECTOR)
    return signed_in(
        make_state(cls, "/integrations/i1", params={"integration_id": "i1"}, token="tab-1")
    )


def sent(fake_api: FakeApi, method: str, path: str) -> list[httpx.Request]:
    return [r for r in fake_api.requests if r.method == method and r.url.path == path]


# -- health ----------------------------------------------------------------------------------


async def test_health_shows_every_reason_and_only_this_integrations_alerts(
    fake_api: FakeApi,
) -> None:
    fake_api.on(
        "GET",
        BASE + "/health",
        {
            "state": "failing",
            "reasons": [
                {"code": "provider_errors", "message": "12 of 20 calls failed in the last hour"},
                {"code": "token_expiring", "message": "The token expires in 3 h"},
            ],
            "assessed_at": "2026-11-27T10:05:09Z",
        },
    )
    alert = {
        "kind": "provider_errors",
        "severity": "error",
        "status": "open",
        "message": "Provider errors",
        "opened_at": "2026-11-27T10:04:00Z",
        "resolved_at": None,
        "acknowledged_at": None,
    }
    fake_api.on(
        "GET",
        "/api/alerts",
        {
            "items": [
                {**alert, "id": "a1", "integration_id": "i1"},
                {**alert, "id": "a2", "integration_id": "other"},
            ],
            "next_cursor": None,
        },
    )
    state = panel(HealthPanelState, fake_api)
    assert await state._refresh()
    assert state.state == "failing"
    assert [r.code for r in state.reasons] == ["provider_errors", "token_expiring"]
    assert state.assessed_at == "11-27 10:05"
    assert [a.id for a in state.alerts] == ["a1"]
    assert sent(fake_api, "GET", "/api/alerts")[0].url.params["status"] == "open"


async def test_a_failed_refresh_says_so_and_keeps_what_was_shown(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/health", {"state": "healthy", "reasons": [], "assessed_at": "x"})
    fake_api.on("GET", "/api/alerts", {"items": [], "next_cursor": None})
    state = panel(HealthPanelState, fake_api)
    await state._refresh()
    fake_api.on("GET", BASE + "/health", problem(503, "unavailable", "Unavailable", "db down"))
    assert await state._refresh() is True  # the loop keeps going
    assert state.state == "healthy"
    assert state.problem_title == PAUSED and "db down" in state.problem_detail


# -- metrics ---------------------------------------------------------------------------------


METRICS = {
    "window": "1h",
    "totals": {"events_processed": 5, "events_failed": 1, "records_synced": 40},
    "latency_ms": {
        "ingest_p50": 5.0,
        "ingest_p99": 25.0,
        "provider_p50": None,
        "provider_p99": None,
    },
    "series": [
        {"at": "2026-11-27T10:00:00Z", "events_processed": 2, "records_synced": 40},
        {"at": "2026-11-27T10:05:00Z", "events_processed": 3, "events_failed": 1},
    ],
    "breakdown": {},
}


def test_chart_rows_keep_zeros_and_leave_out_percentiles_without_samples() -> None:
    rows = chart_rows(METRICS)  # type: ignore[arg-type]
    assert rows[0]["at"] == "11-27 10:00" and rows[0]["events_failed"] == 0
    assert rows[1]["events_failed"] == 1 and rows[0]["records_synced"] == 40
    assert [r["name"] for r in latency_rows(METRICS)] == ["ingest p50", "ingest p99"]  # type: ignore[arg-type]


async def test_metrics_follow_the_chosen_window(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/metrics", METRICS)
    state = panel(MetricsPanelState, fake_api)
    await state._refresh()
    assert {t.key: t.value for t in state.totals}["events_processed"] == 5
    await MetricsPanelState.choose_window.fn(state, "7d")
    assert state.window == "7d"
    assert sent(fake_api, "GET", BASE + "/metrics")[-1].url.params["window"] == "7d"
    await MetricsPanelState.choose_window.fn(state, "1y")  # not a window: ignored
    assert state.window == "7d"


# -- syncs ---------------------------------------------------------------------------------


async def test_sync_streams_trigger_and_live_progress(fake_api: FakeApi) -> None:
    fake_api.on("POST", BASE + "/sync", {"job": job("queued")}, status=202)
    fake_api.on("GET", BASE + "/schedule", {"streams": {}, "paused": False})
    fake_api.on("GET", BASE + "/records", {"items": [], "next_cursor": None})
    state = panel(SyncPanelState, fake_api)
    await state._load_streams()
    assert state.stream_names == ["customers"]  # a stream without modes cannot be synced
    assert [s.name for s in state.unavailable_streams] == ["balance"]
    state.set_mode("full")

    await run(state.trigger({}))
    body = json.loads(sent(fake_api, "POST", BASE + "/sync")[0].content)
    assert body == {"stream": "customers", "mode": "full"}
    assert state.jobs[0].status == "queued" and state.jobs[0].active
    assert "queued" in state.sync_message and state.busy == ""

    fake_api.on(
        "GET", BASE + "/sync-jobs", {"items": [job("running", 2, 200)], "next_cursor": None}
    )
    await state._refresh()
    assert (state.jobs[0].pages, state.jobs[0].records_upserted) == (2, 200)
    fake_api.on(
        "GET", BASE + "/sync-jobs", {"items": [job("succeeded", 3, 250)], "next_cursor": None}
    )
    await state._refresh()
    assert state.jobs[0].status == "succeeded" and not state.jobs[0].active


async def test_backfill_sends_its_window_as_rfc3339(fake_api: FakeApi) -> None:
    fake_api.on("POST", BASE + "/sync", {"job": job("queued")}, status=202)
    state = panel(SyncPanelState, fake_api)
    await state._load_streams()
    state.set_mode("backfill")
    await run(state.trigger({"since": "2026-11-01T08:30", "until": ""}))
    body = json.loads(sent(fake_api, "POST", BASE + "/sync")[0].content)
    assert body == {"stream": "customers", "mode": "backfill", "since": "2026-11-01T08:30:00Z"}
    assert rfc3339("2026-11-01T08:30:00+01:00") == "2026-11-01T07:30:00Z"


async def test_a_refused_sync_reads_as_the_apis_words(fake_api: FakeApi) -> None:
    fake_api.on(
        "POST",
        BASE + "/sync",
        problem(409, "conflict", "Conflict", "The integration needs to be reconnected"),
    )
    state = panel(SyncPanelState, fake_api)
    await state._load_streams()
    await run(state.trigger({}))
    assert state.problem_title == "Conflict"
    assert state.problem_detail == "The integration needs to be reconnected"
    assert state.busy == "" and state.jobs == []


async def test_pause_resume_and_schedule_a_stream(fake_api: FakeApi) -> None:
    answers: list[dict[str, Any]] = []

    def put(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        answers.append(body)
        return httpx.Response(200, json={"streams": body["streams"], "paused": body["paused"]})

    fake_api.on("PUT", BASE + "/schedule", put)
    state = panel(SyncPanelState, fake_api)
    await state._load_streams()
    await run(state.save_stream_schedule({"schedule_stream": "customers", "every_minutes": "30"}))
    assert answers[-1] == {
        "streams": {"customers": {"every_minutes": 30, "mode": "incremental"}},
        "paused": False,
    }
    await run(state.set_paused(True))
    assert answers[-1]["paused"] is True and state.paused
    assert [r.stream for r in state.schedule] == ["customers"]
    await run(state.set_paused(False))
    assert not state.paused and "resumed" in state.sync_message
    await run(state.save_stream_schedule({"schedule_stream": "customers", "every_minutes": "x"}))
    assert "every_minutes" in state.form_errors and len(answers) == 3


async def test_cancel_a_running_job(fake_api: FakeApi) -> None:
    fake_api.on("POST", BASE + "/sync-jobs/job1/cancel", {"job": job("cancelled", 1, 100)})
    state = panel(SyncPanelState, fake_api)
    from dashboard.state.integration_syncs import job_row

    state.jobs = [job_row(job("running", 1, 100))]  # type: ignore[arg-type]
    await run(state.cancel("job1"))
    assert state.jobs[0].status == "cancelled" and "cancelled" in state.sync_message


# -- logs ------------------------------------------------------------------------------------


async def test_log_filters_reach_the_api_and_clear(fake_api: FakeApi) -> None:
    fake_api.on(
        "GET",
        BASE + "/logs",
        {
            "items": [
                {
                    "id": "l1",
                    "level": "error",
                    "event": "sync.failed",
                    "message": "boom",
                    "context": {},
                    "trace_id": "",
                    "created_at": "2026-11-27T10:00:00Z",
                }
            ],
            "next_cursor": None,
        },
    )
    state = panel(LogsPanelState, fake_api)
    state.set_level("error")
    await LogsPanelState.apply_filters.fn(state, {"event": " sync.failed ", "q": "bo"})
    params = sent(fake_api, "GET", BASE + "/logs")[-1].url.params
    assert (params["level"], params["event"], params["q"]) == ("error", "sync.failed", "bo")
    assert state.filtered and [line.id for line in state.lines] == ["l1"]
    await LogsPanelState.clear_filters.fn(state)
    params = sent(fake_api, "GET", BASE + "/logs")[-1].url.params
    assert "level" not in params and "q" not in params and not state.filtered
    state.set_level("trace")  # not a level: back to all
    assert state.level == "all"


# -- test mode -------------------------------------------------------------------------------


async def test_simulate_reports_what_our_endpoint_answered(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/faults", {"faults": []})
    fake_api.on(
        "POST",
        BASE + "/simulate",
        {
            "sent": 2,
            "deliveries": [
                {"event_type": "invoice.paid", "provider_event_id": "evt_1", "status": 401},
                {"event_type": "invoice.paid", "provider_event_id": "evt_2", "status": 401},
            ],
        },
        status=202,
    )
    state = panel(SimulationPanelState, fake_api)
    await run(state.load())
    assert state.type_choices == [ALL_TYPES, "charge.succeeded", "invoice.paid"]
    state.set_event_type("invoice.paid")
    state.set_variant("bad_signature")
    await run(state.simulate({"count": "2"}))
    body = json.loads(sent(fake_api, "POST", BASE + "/simulate")[0].content)
    assert body == {"count": 2, "variant": "bad_signature", "event_type": "invoice.paid"}
    assert state.testmode_message == "Sent 2 deliveries: 401 (2)"
    await run(state.simulate({"count": "500"}))
    assert "count" in state.form_errors and len(sent(fake_api, "POST", BASE + "/simulate")) == 1


async def test_inject_and_clear_faults(fake_api: FakeApi) -> None:
    fault = {
        "kind": "rate_limit",
        "probability": 1.0,
        "count": 3,
        "remaining": 3,
        "retry_after": 30,
    }
    fake_api.on("GET", BASE + "/faults", {"faults": []})
    fake_api.on("PUT", BASE + "/faults", {"faults": [fault]})
    fake_api.on("DELETE", BASE + "/faults", {"faults": []})
    state = panel(SimulationPanelState, fake_api)
    await run(state.load())
    state.set_fault_kind("rate_limit")
    await run(state.inject_fault({"probability": "", "fault_count": "3", "retry_after": "30"}))
    body = json.loads(sent(fake_api, "PUT", BASE + "/faults")[0].content)
    assert body == {"kind": "rate_limit", "count": 3, "retry_after": 30}
    assert [(f.kind, f.remaining) for f in state.faults] == [("rate_limit", "3 calls")]
    await run(state.inject_fault({"probability": "2"}))
    assert state.form_errors == {"probability": "A number from 0 to 1."}
    await run(state.clear_faults())
    assert state.faults == [] and state.testmode_message == "Every fault was cleared."


# -- actions ---------------------------------------------------------------------------------


def test_a_form_from_the_json_schema() -> None:
    fields = {f.name: f for f in schema_fields(CREATE_CUSTOMER_SCHEMA)}
    assert fields["email"].kind == "email" and fields["email"].required
    assert fields["balance"].kind == "integer" and fields["metadata"].kind == "json"
    assert fields["tax_exempt"].options == ["none", "exempt", "reverse"]
    assert fields["api_token"].secret and not fields["name"].secret
    values = action_input(
        list(fields.values()),
        {"email": "a@example.com", "balance": "12", "metadata": '{"k": "v"}', "name": ""},
    )
    assert values == {"email": "a@example.com", "balance": 12, "metadata": {"k": "v"}}
    try:
        action_input(list(fields.values()), {"metadata": "{not json"})
    except ValueError as exc:
        assert exc.args == ("metadata", "Enter valid JSON.")
    else:
        raise AssertionError("bad JSON was accepted")
    assert field_errors_of({"/input/email": "is not an email"}) == {"email": "is not an email"}


async def test_run_an_action_and_show_its_result(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/actions/runs", {"items": [], "next_cursor": None})
    fake_api.on(
        "POST",
        BASE + "/actions/create_customer",
        {
            "action": "create_customer",
            "status": "succeeded",
            "result": {"id": "cus_1"},
            "provider_response": {"id": "cus_1", "object": "customer"},
            "run_id": "r1",
        },
    )
    state = panel(ActionsPanelState, fake_api)
    await run(state.load())
    assert state.actions == ["create_customer"] and state.action == "create_customer"
    await run(state.run({"email": "a@example.com"}))
    request = sent(fake_api, "POST", BASE + "/actions/create_customer")[0]
    body = json.loads(request.content)
    assert body["input"] == {"email": "a@example.com"}
    assert body["idempotency_key"].startswith("dashboard-")
    assert state.result_status == "succeeded" and '"cus_1"' in state.result


async def test_a_refused_action_names_the_field(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/actions/runs", {"items": [], "next_cursor": None})
    fake_api.on(
        "POST",
        BASE + "/actions/create_customer",
        problem(
            422,
            "validation",
            "Invalid request",
            "input.email is not an email",
            errors=[{"field": "/input/email", "message": "is not an email"}],
        ),
    )
    state = panel(ActionsPanelState, fake_api)
    await run(state.load())
    await run(state.run({"email": "nope"}))
    assert state.result_status == "failed" and state.problem_title == "Invalid request"
    assert state.field_errors == {"email": "is not an email"} and state.busy == ""


# -- the panels' live loops --------------------------------------------------------------------


async def test_a_panel_loop_polls_until_unmounted(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/metrics", METRICS)
    state = panel(MetricsPanelState, fake_api)
    live.client_connected = lambda _token: True
    loop = asyncio.create_task(state._run_panel_loop("metrics-test", state._refresh, 0.01))
    await asyncio.sleep(0.1)
    polls = len(sent(fake_api, "GET", BASE + "/metrics"))
    assert polls >= 2 and not state.panel_loading
    state._stop_panel_loop("metrics-test")
    assert await asyncio.wait_for(loop, 1) is None
    await asyncio.sleep(0.05)
    assert len(sent(fake_api, "GET", BASE + "/metrics")) == polls


async def test_a_refused_key_ends_the_panel_loop_at_the_login_page(fake_api: FakeApi) -> None:
    fake_api.on("GET", BASE + "/metrics", problem(401, "unauthorized", "Unauthorized"))
    state = panel(MetricsPanelState, fake_api)
    live.client_connected = lambda _token: True
    redirect = await asyncio.wait_for(
        state._run_panel_loop("metrics-test", state._refresh, 0.01), 1
    )
    assert redirect is not None and "/login" in str(redirect)
    assert state.session_id == "" and not live.is_running("tab-1", "metrics-test")

"""The generic actions framework (issue 17): one made-up action on the GitHub connector, its
provider API replaced by a local HTTP server (pytest-httpserver) at the network boundary.

Checked through the REST API: success, 422 naming the field, 403 naming the scope and the
reconnect call, 409 when not connected, 404 for an unknown action, idempotency (the second
call and a concurrent one make no provider request, counted at the server), 429 with
Retry-After retried, 401 refreshed once then retried, async runs completed by a real arq
burst worker, the runs list redacted, and the catalog listing actions with their schemas.
"""

from __future__ import annotations

import asyncio
import json
import time
import types
import uuid
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter
from backend.connectors.registry import _load_actions, get_provider
from backend.connectors.spec import SpecError
from backend.integrations.tables import Integration
from backend.lib.telemetry import setup_tracing

ACTION = "make_widget"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "body": {"type": "string"},
        "count": {"type": "integer", "minimum": 1},
    },
    "required": ["title"],
    "additionalProperties": False,
}


async def _make_widget(adapter: Adapter, call: ActionCall) -> ActionResult:
    headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else {}
    response = await adapter.call("POST", "/widgets", json=call.input, headers=headers)
    body = response.json()
    return ActionResult({"id": str(body["id"]), "url": body["html_url"]}, body)


WIDGET = Action(
    name=ACTION,
    description="Make a widget (a test action).",
    input_schema=SCHEMA,
    run=_make_widget,
    required_scopes=(("repo", "read:org"),),
    redact_fields=("body",),
    idempotent_at_provider=False,
)


@pytest.fixture
def api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """GitHub's API and token endpoint at the local server; the test action registered."""
    base = httpserver.url_for("/").rstrip("/")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_API_BASE_URL", base)
    monkeypatch.setenv("SWITCHBOARD_GITHUB_TOKEN_URL", base + "/token")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_CLIENT_ID", "github-client")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_CLIENT_SECRET", "github-secret")
    monkeypatch.setitem(get_provider("github").actions, ACTION, WIDGET)  # type: ignore[arg-type]
    return httpserver


def widget(number: int = 7) -> dict[str, Any]:
    return {"id": number, "html_url": f"https://github.example/widgets/{number}", "ok": True}


def widget_calls(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log if request.path == "/widgets"]


async def connected(make_integration: Any, tenant: Any, **kwargs: Any) -> Any:
    made = await make_integration(
        tenant,
        "github",
        credentials={"access_token": "tok-1", "refresh_token": "ref-1", "token_type": "bearer"},
        **kwargs,
    )
    await Integration.update({Integration.scopes: ["repo"]}).where(Integration.id == made.id)
    return made


def url(made: Any, action: str = ACTION, suffix: str = "") -> str:
    return f"/api/integrations/{made.id}/actions/{action}{suffix}"


async def test_a_call_answers_the_normalized_result_and_the_provider_response(
    client, tenant, make_integration, api
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(widget(), status=201)
    made = await connected(make_integration, tenant)

    response = await client.post(
        url(made), json={"input": {"title": "Hi", "body": "secret text"}}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["action"] == ACTION and body["status"] == "succeeded"
    assert body["result"] == {"id": "7", "url": "https://github.example/widgets/7"}
    assert body["provider_response"]["ok"] is True
    (sent,) = widget_calls(api)
    assert sent.json == {"title": "Hi", "body": "secret text"}
    assert sent.headers["Authorization"] == "Bearer tok-1"

    runs = await client.get(url(made, "runs"), headers=tenant.headers)
    (run,) = runs.json()["items"]
    assert run["input"] == {"title": "Hi", "body": "[redacted]"}  # redact_fields
    assert run["status"] == "succeeded" and run["attempts"] == 1 and run["duration_ms"] >= 0
    assert "secret text" not in runs.text


@pytest.fixture(scope="module")
def spans(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("switchboard-tests", extra=SimpleSpanProcessor(exporter))
    return exporter


async def test_a_call_is_logged_audited_and_traced_without_its_input(
    client, tenant, make_integration, api, spans
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(widget(), status=201)
    made = await connected(make_integration, tenant)
    spans.clear()

    response = await client.post(
        url(made), json={"input": {"title": "Top secret title"}}, headers=tenant.headers
    )

    run_id = response.json()["run_id"]
    (span,) = [s for s in spans.get_finished_spans() if s.name == "action.run"]
    attributes = dict(span.attributes or {})
    assert attributes["switchboard.action_run_id"] == run_id
    assert attributes["switchboard.integration_id"] == str(made.id)
    assert attributes["switchboard.connector"] == "github"
    assert attributes["switchboard.action"] == ACTION
    assert "Top secret" not in repr(attributes)
    logs = await client.get(f"/api/integrations/{made.id}/logs", headers=tenant.headers)
    (entry,) = [e for e in logs.json()["items"] if e["event"] == "action.succeeded"]
    assert entry["context"]["run_id"] == run_id and "Top secret" not in logs.text
    audit = await client.get("/api/audit", headers=tenant.headers)
    assert any(
        e["action"] == f"action.{ACTION}" and e["details"]["run_id"] == run_id
        for e in audit.json()["items"]
    )


async def test_input_breaking_the_schema_is_422_naming_each_field(
    client, tenant, make_integration, api
) -> None:
    made = await connected(make_integration, tenant)

    response = await client.post(
        url(made), json={"input": {"count": "three", "extra": 1}}, headers=tenant.headers
    )

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"/input/title", "/input/count", "/input"} <= fields
    assert widget_calls(api) == []


async def test_a_missing_scope_is_403_naming_it_and_how_to_reconnect(
    client, tenant, make_integration, api
) -> None:
    made = await connected(make_integration, tenant)
    await Integration.update({Integration.scopes: ["read:user"]}).where(Integration.id == made.id)

    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "repo or read:org" in detail
    assert f"POST /api/integrations/{made.id}/reconnect" in detail and '"scopes"' in detail
    assert widget_calls(api) == []


async def test_an_integration_not_connected_is_409(client, tenant, make_integration, api) -> None:
    made = await connected(make_integration, tenant, status="needs_reauth")

    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 409
    assert "needs_reauth" in response.json()["detail"]


async def test_an_unknown_action_and_another_tenants_integration_are_404(
    client, tenant, make_tenant, make_integration, api
) -> None:
    made = await connected(make_integration, tenant)
    other = await make_tenant("other")

    unknown = await client.post(
        url(made, "no_such_action"), json={"input": {}}, headers=tenant.headers
    )
    foreign = await client.post(url(made), json={"input": {"title": "x"}}, headers=other.headers)

    assert unknown.status_code == 404 and "no action 'no_such_action'" in unknown.text
    assert foreign.status_code == 404


async def test_the_same_key_answers_the_first_result_without_calling_again(
    client, tenant, make_integration, api
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(widget(), status=201)
    made = await connected(make_integration, tenant)
    call = {"input": {"title": "once"}, "idempotency_key": "order-42"}

    first = await client.post(url(made), json=call, headers=tenant.headers)
    second = await client.post(url(made), json=call, headers=tenant.headers)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    (sent,) = widget_calls(api)
    assert sent.headers["Idempotency-Key"] == "order-42"  # passed to ActionCall

    reused = await client.post(
        url(made), json={**call, "input": {"title": "other"}}, headers=tenant.headers
    )
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "idempotency_key"


async def test_concurrent_calls_with_one_key_make_one_provider_request(
    client, tenant, make_integration, api
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(json.dumps(widget(9)), status=201, content_type="application/json")

    api.expect_request("/widgets", method="POST").respond_with_handler(slow)
    made = await connected(make_integration, tenant)
    call = {"input": {"title": "race"}, "idempotency_key": f"k-{uuid.uuid4().hex}"}

    answers = await asyncio.gather(
        *(client.post(url(made), json=call, headers=tenant.headers) for _ in range(3))
    )

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json()["run_id"] for a in answers}) == 1
    assert len(widget_calls(api)) == 1


async def test_a_rate_limit_is_retried_after_retry_after_then_succeeds(
    client, tenant, make_integration, api
) -> None:
    api.expect_oneshot_request("/widgets", method="POST").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "1"}
    )
    api.expect_request("/widgets", method="POST").respond_with_json(widget(), status=201)
    made = await connected(make_integration, tenant)

    started = time.monotonic()
    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert time.monotonic() - started >= 1.0  # waited as the provider asked
    assert len(widget_calls(api)) == 2
    runs = (await client.get(url(made, "runs"), headers=tenant.headers)).json()["items"]
    assert runs[0]["attempts"] == 2


async def test_a_wait_longer_than_the_budget_answers_429_at_once(
    client, tenant, make_integration, api
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "120"}
    )
    made = await connected(make_integration, tenant)

    started = time.monotonic()
    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 429
    assert "retry after 120 s" in response.json()["detail"]
    assert time.monotonic() - started < 5 and len(widget_calls(api)) == 1


async def test_a_refused_token_is_refreshed_once_then_the_call_retried(
    client, tenant, make_integration, api
) -> None:
    api.expect_request(
        "/widgets", method="POST", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json({"message": "Bad credentials"}, status=401)
    api.expect_request(
        "/widgets", method="POST", headers={"Authorization": "Bearer tok-2"}
    ).respond_with_json(widget(), status=201)
    api.expect_request("/token", method="POST").respond_with_json(
        {
            "access_token": "tok-2",
            "refresh_token": "ref-2",
            "token_type": "bearer",
            "expires_in": 28800,
            "scope": "repo",
        }
    )
    made = await connected(make_integration, tenant)

    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert [r.headers["Authorization"] for r in widget_calls(api)] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert len([r for r, _ in api.log if r.path == "/token"]) == 1


async def test_a_token_refused_after_refresh_marks_needs_reauth(
    client, tenant, make_integration, api
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(
        {"message": "Bad credentials"}, status=401
    )
    api.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "tok-2", "refresh_token": "ref-2", "token_type": "bearer"}
    )
    made = await connected(make_integration, tenant)

    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 409 and "reconnect" in response.json()["detail"]
    assert len(widget_calls(api)) == 2
    row = await Integration.select(Integration.status).where(Integration.id == made.id).first()
    assert row is not None and row["status"] == "needs_reauth"
    runs = (await client.get(url(made, "runs"), headers=tenant.headers)).json()["items"]
    assert runs[0]["status"] == "needs_reauth"


async def test_a_provider_refusal_fails_the_run_with_its_message(
    client, tenant, make_integration, api
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(
        {"message": "Validation Failed: title is too long"}, status=422
    )
    made = await connected(make_integration, tenant)

    response = await client.post(url(made), json={"input": {"title": "x"}}, headers=tenant.headers)

    assert response.status_code == 422
    assert "title is too long" in response.json()["detail"]
    assert len(widget_calls(api)) == 1  # a permanent error is not retried


async def test_an_async_call_is_queued_and_run_by_the_worker(
    client, tenant, make_integration, api, run_worker
) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(widget(11), status=201)
    made = await connected(make_integration, tenant)

    queued = await client.post(
        url(made, suffix="?async=true"),
        json={"input": {"title": "later", "body": "hidden"}},
        headers=tenant.headers,
    )

    assert queued.status_code == 202, queued.text
    run = queued.json()
    assert run["status"] == "queued" and run["input"]["body"] == "[redacted]"
    assert queued.headers["Location"].endswith(f"/actions/runs/{run['id']}")
    assert widget_calls(api) == []
    assert await run_worker() >= 1
    polled = await client.get(url(made, "runs", f"/{run['id']}"), headers=tenant.headers)
    assert polled.status_code == 200
    assert polled.json()["status"] == "succeeded"
    assert polled.json()["result"]["id"] == "11"
    assert widget_calls(api)[0].json == {"title": "later", "body": "hidden"}
    sealed = await Integration.raw("SELECT input_sealed FROM action_run WHERE id = {}", run["id"])
    assert sealed[0]["input_sealed"] is None  # the full input is dropped once run


async def test_runs_page_with_a_cursor(client, tenant, make_integration, api) -> None:
    api.expect_request("/widgets", method="POST").respond_with_json(widget(), status=201)
    made = await connected(make_integration, tenant)
    for n in range(3):
        await client.post(url(made), json={"input": {"title": f"t{n}"}}, headers=tenant.headers)

    first = (await client.get(url(made, "runs", "?limit=2"), headers=tenant.headers)).json()
    rest = await client.get(
        url(made, "runs", f"?limit=2&cursor={first['next_cursor']}"), headers=tenant.headers
    )

    titles = [r["input"]["title"] for r in first["items"] + rest.json()["items"]]
    assert titles == ["t2", "t1", "t0"] and rest.json()["next_cursor"] is None


async def test_the_catalog_lists_actions_with_their_input_schemas(client, tenant, api) -> None:
    response = await client.get("/api/connectors/github", headers=tenant.headers)

    actions = {a["name"]: a for a in response.json()["actions"]}
    assert actions[ACTION]["input_schema"] == SCHEMA
    assert actions[ACTION]["required_scopes"] == [["repo", "read:org"]]


async def test_in_test_mode_the_simulator_answers_and_faults_apply(
    client, tenant, make_integration
) -> None:
    """A real action (Telegram send_message) on a test-mode integration: the simulator
    answers, and an injected rate limit goes through the same retry path as a real one."""
    made = await make_integration(
        tenant,
        "telegram",
        credentials={"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"},
    )
    await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)
    fault = {"kind": "rate_limit", "count": 1, "retry_after": 1}
    put = await client.put(
        f"/api/integrations/{made.id}/faults", json=fault, headers=tenant.headers
    )
    assert put.status_code == 200, put.text

    response = await client.post(
        url(made, "send_message"),
        json={"input": {"chat_id": 42, "text": "hello"}},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    runs = (await client.get(url(made, "runs"), headers=tenant.headers)).json()["items"]
    assert runs[0]["attempts"] == 2  # the fault answered first, then the simulator


def _module(*actions: Any) -> types.ModuleType:
    module = types.ModuleType("made_up_actions")
    module.ACTIONS = actions  # type: ignore[attr-defined]
    return module


def test_the_registry_refuses_broken_action_declarations() -> None:
    spec = get_provider("github").spec
    bad_schema = Action("bad", "", {"type": "object", "minLength": "x"}, _make_widget)
    unknown_scope = Action("scoped", "", SCHEMA, _make_widget, required_scopes=(("nope",),))
    cases = {
        "duplicate action names: make_widget": (WIDGET, WIDGET),
        "not a valid JSON Schema": (bad_schema,),
        "not offered by the spec's OAuth scopes: nope": (unknown_scope,),
        "snake_case": (Action("Bad-Name", "", SCHEMA, _make_widget),),
        "must describe an object": (Action("listy", "", {"type": "array"}, _make_widget),),
    }
    for message, declared in cases.items():
        with pytest.raises(SpecError, match=message):
            _load_actions(spec, _module(*declared))
    assert list(_load_actions(spec, _module(WIDGET))) == [ACTION]

"""Traces: the stored trace id is the request span's, and no span carries a secret."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from webhooks.helpers import hub_signature

from backend.lib.telemetry import setup_tracing

from .support import Hooks, fixture, new_id

SECRET = "trace-signing-secret-do-not-leak"


@pytest.fixture(scope="session")
def spans(app) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("switchboard-tests", extra=SimpleSpanProcessor(exporter))
    return exporter


def dump(span) -> str:
    return json.dumps(
        {
            "name": span.name,
            "attributes": dict(span.attributes or {}),
            "events": [(e.name, dict(e.attributes or {})) for e in span.events],
            "status": str(span.status.description),
        },
        default=str,
    )


async def test_stored_trace_id_is_the_request_span_and_spans_hold_no_secret(
    hooks: Hooks, spans, tenant, make_integration
) -> None:
    spans.clear()
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", "issues__opened.json")
    signature = hub_signature(SECRET, body)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": new_id(),
        "X-Hub-Signature-256": signature,
    }
    row = await hooks.accept(integration, body, headers, event_id=None, event_type="issues.opened")
    await hooks.reject(integration, body, {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64})
    await hooks.normalized(row, "github", "issues.opened")

    verify_token = "meta-verify-token-do-not-leak"
    meta = await make_integration(
        tenant, "whatsapp", signing_secrets=("app-secret",), config={"verify_token": verify_token}
    )
    params = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": verify_token}
    assert (await hooks.client.get(meta.path, params=params)).text == "42"

    trace_id = int(row["trace_id"], 16)
    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    assert in_trace, "the request's span was exported"
    server = [s for s in in_trace if s.parent is None]
    assert len(server) == 1
    assert server[0].kind.name == "SERVER"
    assert server[0].name == "POST /api/webhooks/github/{token}"
    worker = [s for s in spans.get_finished_spans() if s.name == "webhook.normalize"]
    assert any(s.attributes.get("event.id") == str(row["id"]) for s in worker)
    handshake = [s for s in spans.get_finished_spans() if s.name.startswith("GET /api/webhooks")]
    assert [s.name for s in handshake] == ["GET /api/webhooks/whatsapp/{token}"]
    assert handshake[0].attributes["http.response.status_code"] == 200
    everything = "\n".join(dump(s) for s in spans.get_finished_spans())
    secrets = (SECRET, integration.token, signature.removeprefix("sha256="), meta.token)
    for secret in (*secrets, verify_token):
        assert secret not in everything


async def test_token_redacted_even_when_routing_fails(client, tenant, make_integration, spans):
    """A URL the router rejects (extra segment, wrong method) never reaches the webhook
    handler; its span must still not carry the path token."""
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    spans.clear()
    await client.post(integration.path + "/extra", content=b"{}")
    await client.put(integration.path, content=b"{}")
    dump = " ".join(f"{s.name} {dict(s.attributes or {})}" for s in spans.get_finished_spans())
    assert integration.token not in dump

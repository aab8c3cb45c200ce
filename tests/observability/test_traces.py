"""One trace from a webhook's request to the provider, as an OTLP collector receives it.

A local OTLP/HTTP receiver decodes the exporter's ExportTraceServiceRequest protobufs, so
the assertions read what really leaves the process. The delivery is a signed PayPal event
on an integration with client credentials (API mode): verifying it calls PayPal's
verify-webhook-signature, answered locally at the network boundary.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from ingest.support import Hooks, fixture, new_id
from ingest.test_paypal import paypal_checks
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind
from webhooks.paypal_signing import WEBHOOK_ID, paypal_headers

from backend.connectors.providers.paypal import webhook as paypal_webhook
from backend.connectors.registry import get_provider
from backend.integrations.adapters import build_adapter
from backend.lib.json_logs import JsonLinesFormatter
from backend.lib.telemetry import (
    _WhenExporting,
    instrument_http_client,
    otlp_exporter,
    sampler_from_env,
    setup_tracing,
    traced_job,
)
from backend.testmode.faults import FaultOwner

CLIENT_SECRET = "EL2k9J-client-secret-do-not-leak"
ACCESS_TOKEN = "A21AA-access-token-do-not-leak"


# -- a local OTLP/HTTP collector ----------------------------------------------------------------


class Receiver:
    """Spans as the collector decoded them: one dict per span, attributes flattened."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.requests = 0
        self.lock = threading.Lock()

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            self.requests += 1
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            {
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": span.kind,
                                "attributes": {a.key: _value(a.value) for a in span.attributes},
                                "events": [
                                    (e.name, {a.key: _value(a.value) for a in e.attributes})
                                    for e in span.events
                                ],
                                "status": span.status.message,
                                "links": [link.trace_id.hex() for link in span.links],
                            }
                        )


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != "/v1/traces" or self.headers["Content-Type"] != (
                "application/x-protobuf"
            ):
                self.send_error(404)
                return
            received.take(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def exported(app: Any, receiver: tuple[Receiver, str]) -> Iterator[tuple[Receiver, Any]]:
    """The process exports to the local receiver (as OTEL_EXPORTER_OTLP_ENDPOINT would make
    it) for this module; the processor is shut down afterwards so other tests export nothing."""
    received, endpoint = receiver
    processor = BatchSpanProcessor(otlp_exporter(endpoint, "http/protobuf"))
    setup_tracing("switchboard-tests", extra=processor)
    try:
        yield received, processor
    finally:
        processor.shutdown()


@pytest.fixture
def hooks(client: Any, raw_rows: Any, run_worker: Any, wait_for: Any) -> Hooks:
    return Hooks(client, raw_rows, run_worker, wait_for)


@pytest.fixture
async def paypal(
    monkeypatch: pytest.MonkeyPatch, exported: Any
) -> AsyncIterator[list[httpx.Request]]:
    """PayPal's token and verify-webhook-signature endpoints at the network boundary."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/oauth2/token":
            return httpx.Response(200, json={"access_token": ACCESS_TOKEN, "expires_in": 32400})
        return httpx.Response(200, json={"verification_status": paypal_checks(request.content)})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        instrument_http_client(http)
        monkeypatch.setattr(paypal_webhook, "API_VERIFIER", paypal_webhook.PayPalApiVerifier(http))
        yield seen


# -- the trace ----------------------------------------------------------------------------------


def _children(spans: list[dict[str, Any]], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in spans if s["parent"] == parent["span_id"]]


def _url(span: dict[str, Any]) -> Any:
    return span["attributes"].get("url.full") or span["attributes"].get("http.url")


def _status(span: dict[str, Any]) -> Any:
    attributes = span["attributes"]
    return attributes.get("http.response.status_code") or attributes.get("http.status_code")


def _one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, (name, [s["name"] for s in spans])
    return found[0]


async def test_one_signed_webhook_is_one_trace_from_request_to_provider(
    hooks: Hooks, tenant: Any, make_integration: Any, exported: Any, paypal: Any
) -> None:
    received, processor = exported
    integration = await make_integration(
        tenant,
        "paypal",
        signing_secrets=(WEBHOOK_ID,),
        credentials={"client_id": "AeJ7Cq1Z-trace", "client_secret": CLIENT_SECRET},
    )
    body = fixture("paypal", "payment_capture__completed.json")
    headers = paypal_headers(body, WEBHOOK_ID, transmission_id=new_id(), sent_at=time.time())
    row = await hooks.accept(
        integration,
        body,
        headers,
        event_id=headers["PAYPAL-TRANSMISSION-ID"],
        event_type="PAYMENT.CAPTURE.COMPLETED",
    )
    await hooks.normalized(row, "paypal", "PAYMENT.CAPTURE.COMPLETED")
    assert [r.url.path for r in paypal] == [
        "/v1/oauth2/token",
        "/v1/notifications/verify-webhook-signature",
    ]
    assert processor.force_flush(10_000)

    spans = [s for s in received.spans if s["trace_id"] == row["trace_id"]]
    # ONE trace for the request; normalization runs in its batch's trace, linked to it:
    # every span naming this integration is in the request's trace or links to it.
    naming = [
        s
        for s in received.spans
        if s["attributes"].get("switchboard.integration") == str(integration.id)
    ]
    assert naming and all(
        s["trace_id"] == row["trace_id"] or row["trace_id"] in s["links"] for s in naming
    )
    # Connected: one root, the request's server span; every other span's parent is exported.
    ids = {s["span_id"] for s in spans}
    (root,) = [s for s in spans if not s["parent"]]
    assert all(s["parent"] in ids for s in spans if s is not root)
    assert root["name"] == "POST /api/webhooks/paypal/{token}"
    assert root["kind"] == SpanKind.SERVER.value + 1  # protobuf kinds count from UNSPECIFIED
    assert root["attributes"]["switchboard.tenant"] == str(tenant.id)
    assert root["attributes"]["switchboard.integration"] == str(integration.id)
    assert root["attributes"]["switchboard.connector"] == "paypal"
    assert root["attributes"]["http.response.status_code"] == 200

    # The request: verification (and PayPal's API under it), the insert; the wake-up it
    # sends carries no trace (a batch serves many requests).
    under_root = _children(spans, root)
    verify = _one(under_root, "webhook.verify")
    provider_calls = [s for s in _children(spans, verify) if s["name"] == "POST"]
    assert [_url(c) for c in provider_calls] == [
        "https://api-m.paypal.com/v1/oauth2/token",
        "https://api-m.paypal.com/v1/notifications/verify-webhook-signature",
    ]
    assert all(_status(c) == 200 for c in provider_calls)
    statements = [s["attributes"].get("db.query.text", "") for s in under_root]
    assert any("INSERT INTO integration_webhook" in text for text in statements)
    assert not [s for s in spans if s["name"].startswith(("job ", "webhook.normalize"))]

    # The worker: a batch span linked to the receipt, under the wake-up job; the event's
    # own span (linked too) with mapping under it; the batch's one UPDATE under the batch.
    (normalize,) = [
        s
        for s in received.spans
        if s["name"] == "webhook.normalize" and s["attributes"]["event.id"] == str(row["id"])
    ]
    assert row["trace_id"] in normalize["links"]
    assert normalize["attributes"]["switchboard.integration"] == str(integration.id)
    assert normalize["attributes"]["switchboard.tenant"] == str(tenant.id)
    worker = [s for s in received.spans if s["trace_id"] == normalize["trace_id"]]
    (batch,) = [s for s in worker if s["span_id"] == normalize["parent"]]
    assert batch["name"] == "webhook.normalize_batch"
    assert row["trace_id"] in batch["links"]
    (job,) = [s for s in worker if s["span_id"] == batch["parent"]]
    assert job["name"] == "job normalize_batch" and not job["parent"]
    _one(_children(worker, normalize), "mapping.apply")
    updates = [
        s for s in _children(worker, batch) if s["attributes"].get("db.operation.name") == "UPDATE"
    ]
    assert len(updates) == 1, "one UPDATE writes the batch, a child of the batch span"

    everything = json.dumps(received.spans)
    secrets = (
        integration.token,
        CLIENT_SECRET,
        ACCESS_TOKEN,
        WEBHOOK_ID,
        headers["PAYPAL-TRANSMISSION-SIG"],
    )
    for secret in secrets:
        assert secret not in everything


# -- configuration by the standard variables ---------------------------------------------------


def test_the_standard_sampler_decides_only_while_exporting() -> None:
    gate = _WhenExporting()
    gate.inner = sampler_from_env(
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    )
    assert "TraceIdRatioBased{0.1}" in gate.get_description()
    low, high = 1, (1 << 128) - 1  # trace ids below / above the 10% bound
    assert gate.should_sample(None, low, "root").decision is Decision.DROP  # nothing exports
    gate.active = True
    assert gate.should_sample(None, low, "root").decision is Decision.RECORD_AND_SAMPLE
    assert gate.should_sample(None, high, "root").decision is Decision.DROP


def test_sampler_names_and_bad_arguments_fall_back() -> None:
    assert sampler_from_env({}).get_description().startswith("ParentBased{root:AlwaysOnSampler")
    assert sampler_from_env({"OTEL_TRACES_SAMPLER": "always_off"}).get_description() == (
        "AlwaysOffSampler"
    )
    ratio = sampler_from_env(
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}
    )
    assert ratio.get_description() == "TraceIdRatioBased{1.0}"
    unknown = sampler_from_env({"OTEL_TRACES_SAMPLER": "jaeger_remote"})
    assert unknown.get_description().startswith("ParentBased{root:AlwaysOnSampler")


def test_the_protocol_picks_the_exporter() -> None:
    grpc = otlp_exporter("http://collector:4317", "grpc")
    assert isinstance(grpc, GrpcSpanExporter)
    http = otlp_exporter("http://collector:4318", "http/protobuf")
    assert isinstance(http, HttpSpanExporter)
    assert http._endpoint == "http://collector:4318/v1/traces"
    exact = otlp_exporter("http://collector:4318/custom", "http/protobuf", exact=True)
    assert exact._endpoint == "http://collector:4318/custom"
    with pytest.raises(ValueError, match="grpc or http/protobuf"):
        otlp_exporter("http://collector:4318", "http/json")
    grpc.shutdown()
    http.shutdown()
    exact.shutdown()


def test_log_lines_are_json_with_the_current_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    record = logging.LogRecord("switchboard.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    record.event_id = "e-1"
    with tracer.start_as_current_span("work") as span:
        line = json.loads(JsonLinesFormatter().format(record))
    ctx = span.get_span_context()
    assert line["message"] == "a b" and line["level"] == "WARNING"
    assert line["trace_id"] == format(ctx.trace_id, "032x")
    assert line["span_id"] == format(ctx.span_id, "016x")
    assert line["event_id"] == "e-1"
    outside = json.loads(JsonLinesFormatter().format(record))
    assert "trace_id" not in outside and "span_id" not in outside


async def test_a_test_mode_provider_call_is_a_child_span_without_its_token(
    exported: Any, tenant: Any, make_integration: Any
) -> None:
    """Simulated providers (test mode) are traced like real ones: the call is a client span
    under whatever made it (an action, a health check), its bearer token nowhere."""
    received, processor = exported
    integration = await make_integration(tenant, "jira")
    token = "simulated-jira-access-token-trace-0000000"
    adapter = build_adapter(
        get_provider("jira"),
        {"access_token": token},
        {"cloud_id": "11223344-a1b2-3b33-c444-def123456789", "site_name": "your-domain"},
        test_mode=True,
        owner=FaultOwner(tenant.id, integration.id),
    )
    with trace.get_tracer("tests").start_as_current_span("caller") as caller:
        health = await adapter.check_health()
    assert health.ok, health.reason
    assert processor.force_flush(10_000)
    parent = format(caller.get_span_context().span_id, "016x")
    calls = [s for s in received.spans if s["parent"] == parent]
    assert calls and all(s["kind"] == SpanKind.CLIENT.value + 1 for s in calls)
    assert all(_status(s) == 200 for s in calls)
    assert token not in json.dumps(received.spans)


async def test_a_job_continues_its_traceparent_and_keeps_its_sampling_decision(
    exported: Any,
) -> None:
    seen: list[Any] = []

    async def job(ctx: dict[str, Any], value: str) -> str:
        span = trace.get_current_span()
        seen.append((span, span.is_recording()))
        return value

    run = traced_job(job)
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    assert await run({"job_id": "j1"}, "a", traceparent=f"00-{trace_id}-{span_id}-01") == "a"
    assert await run({"job_id": "j2"}, "b", traceparent=f"00-{trace_id}-{span_id}-00") == "b"
    assert await run({"job_id": "j3"}, "c", traceparent="not-a-traceparent") == "c"
    (sampled, recorded), (sampled_out, recorded_out), (fresh, recorded_fresh) = seen
    assert format(sampled.get_span_context().trace_id, "032x") == trace_id
    assert recorded and sampled.parent.span_id == int(span_id, 16)
    assert format(sampled_out.get_span_context().trace_id, "032x") == trace_id
    assert not recorded_out  # the request was sampled out: so is its job
    assert format(fresh.get_span_context().trace_id, "032x") != trace_id
    assert recorded_fresh and fresh.parent is None

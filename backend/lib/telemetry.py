"""OpenTelemetry setup: one tracer provider per process, exported over OTLP when configured."""

from __future__ import annotations

import re
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)

_provider: TracerProvider | None = None


class _WhenExporting(Sampler):
    """Record spans only once something consumes them (an OTLP exporter or a test's
    processor). Unrecorded spans still carry trace ids — stored with each webhook — but
    skip attribute and processor work on every request, which the webhook path measures."""

    def __init__(self) -> None:
        self.active = False

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if not self.active:
            return SamplingResult(Decision.DROP)
        # The span's attributes are what the sampler hands back.
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "SwitchboardWhenExporting"


_sampler = _WhenExporting()


def setup_tracing(
    service_name: str, otlp_endpoint: str = "", extra: SpanProcessor | None = None
) -> TracerProvider:
    """Install the global tracer provider (idempotent). Exports nothing unless an OTLP
    endpoint is configured, so tracing costs little when no one is watching."""
    global _provider
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=ParentBased(_sampler),
        )
        if otlp_endpoint:
            _sampler.active = True
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = otlp_endpoint.rstrip("/")
            if not endpoint.endswith("/v1/traces"):
                endpoint += "/v1/traces"
            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(_provider)
    if extra is not None:
        _sampler.active = True
        _provider.add_span_processor(extra)
    return _provider


def tracer(name: str = "switchboard") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


# -- keeping secrets out of request spans ---------------------------------------------------

_WEBHOOK_PATH = re.compile(r"^(/api/webhooks/[^/]+/)[^/]+")
_URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full", "url.query", "http.route")


def redact_path(path: str) -> str:
    """A webhook URL's path token is a secret: traces and logs see the route template."""
    return _WEBHOOK_PATH.sub(r"\1{token}", path)


def span_details(scope: Any) -> tuple[str, dict[str, str]]:
    """Span name and route for Litestar's OpenTelemetry middleware, tokens redacted."""
    method = str(scope.get("method", "")).strip()
    path = redact_path(str(scope.get("path", "")).strip())
    return f"{method} {path}", {"http.route": f"{method} {path}"}


def redact_request_span(span: Any, scope: Any) -> None:
    """Server request hook: rewrite the URL attributes of webhook requests (path token, and
    query strings such as Meta's hub.verify_token) before anything is exported."""
    path = str(scope.get("path", ""))
    if not span.is_recording() or not _WEBHOOK_PATH.match(path):
        return
    template = redact_path(path)
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, template)
    span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{template}")
    span.set_attribute("url.full", f"{scope.get('scheme', 'http')}://{host}{template}")
    span.set_attribute("url.query", "")
    span.update_name(f"{scope.get('method', '')} {template}")

"""OpenTelemetry setup: one tracer provider per process, exported over OTLP when configured."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes

from backend.lib.logs import install_log_redaction
from backend.lib.redaction import redact_path, redact_query, redact_text

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
    endpoint is configured, so tracing costs little when no one is watching.

    Every processor sees spans through `RedactingSpanProcessor`, and the process's log
    records are scrubbed too: secrets stay out of both signals from the first span on."""
    global _provider
    install_log_redaction()
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
            _provider.add_span_processor(
                RedactingSpanProcessor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
            )
        trace.set_tracer_provider(_provider)
    if extra is not None:
        _sampler.active = True
        _provider.add_span_processor(RedactingSpanProcessor(extra))
    return _provider


def tracer(name: str = "switchboard") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


# -- keeping secrets out of spans ------------------------------------------------------------


class RedactingSpanProcessor(SpanProcessor):
    """Hands its processor a scrubbed copy of every finished span: name, string attributes,
    events and status. The last line of defence for spans whose attributes no hook of ours
    sets (outbound httpx calls, exceptions quoting a URL, future instrumentations)."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.inner.on_end(_redacted_span(span))

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _redacted_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, tuple | list) and any(isinstance(v, str) for v in value):
        return tuple(redact_text(v) if isinstance(v, str) else v for v in value)
    return value


def _redacted_attributes(attributes: Attributes) -> Attributes:
    if not attributes:
        return attributes
    return {k: _redacted_value(v) for k, v in attributes.items()}


def _redacted_span(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    if status.description:
        status = Status(status.status_code, redact_text(status.description))
    return ReadableSpan(
        name=redact_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_redacted_attributes(span.attributes),
        events=[
            Event(e.name, _redacted_attributes(e.attributes), e.timestamp) for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def span_details(scope: Any) -> tuple[str, dict[str, str]]:
    """Span name and route for Litestar's OpenTelemetry middleware, tokens redacted."""
    method = str(scope.get("method", "")).strip()
    path = redact_path(str(scope.get("path", "")).strip())
    return f"{method} {path}", {"http.route": f"{method} {path}"}


def redact_request_span(span: Any, scope: Any) -> None:
    """Server request hook: rebuild the URL attributes from the raw request with secret query
    values (OAuth `code`/`state`, `hub.verify_token`, …) and webhook path tokens replaced.

    The ASGI instrumentation puts the percent-decoded query in `http.url`; rebuilding from
    the still-encoded `query_string` keeps an `&` inside a value from splitting a secret.
    """
    if not span.is_recording():
        return
    raw_path = str(scope.get("path", ""))
    raw_query = bytes(scope.get("query_string") or b"").decode("latin-1")
    path, query = redact_path(raw_path), redact_query(raw_query)
    if path == raw_path and query == raw_query:
        return
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    url = f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")
    span.set_attribute("http.url", url)
    span.set_attribute("url.full", url)
    span.set_attribute("http.target", path)
    span.set_attribute("url.path", path)
    span.set_attribute("url.query", query)
    if path != raw_path:
        span.set_attribute("http.route", path)
        span.update_name(f"{scope.get('method', '')} {path}")

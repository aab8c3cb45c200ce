"""OpenTelemetry setup: one tracer provider per process, exported over OTLP when configured.

Sections: the provider (standard OTEL_* variables: OTLP http/protobuf or grpc, the
OTEL_TRACES_SAMPLER choice, nothing recorded while nothing exports); carrying a trace into
arq jobs (W3C traceparent) and spans for asyncpg statements; the redacting processor that
keeps secrets out of every exported span; the request hooks of the ASGI instrumentation.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from backend.lib.logs import install_log_redaction
from backend.lib.redaction import redact_path, redact_query, redact_text

log = logging.getLogger("switchboard.telemetry")

_provider: TracerProvider | None = None

# The job keyword argument that carries a W3C traceparent from the enqueuer to the worker.
TRACEPARENT = "traceparent"


def sampler_from_env(environ: Mapping[str, str]) -> Sampler:
    """The standard `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` choice (default
    parentbased_always_on); an unknown name or a bad ratio falls back with a warning."""
    name = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() or "parentbased_always_on"
    parent_based = name.startswith("parentbased_")
    root = name.removeprefix("parentbased_")
    chosen: Sampler
    if root == "always_on":
        chosen = ALWAYS_ON
    elif root == "always_off":
        chosen = ALWAYS_OFF
    elif root == "traceidratio":
        chosen = TraceIdRatioBased(_ratio(environ.get("OTEL_TRACES_SAMPLER_ARG", "")))
    else:
        log.warning("unknown OTEL_TRACES_SAMPLER %r; sampling every trace", name)
        parent_based, chosen = True, ALWAYS_ON
    return ParentBased(chosen) if parent_based else chosen


def _ratio(arg: str) -> float:
    try:
        ratio = float(arg) if arg.strip() else 1.0
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        log.warning("OTEL_TRACES_SAMPLER_ARG %r is not a ratio in [0, 1]; using 1.0", arg)
        return 1.0
    return ratio


class _WhenExporting(Sampler):
    """Record spans only once something consumes them (an OTLP exporter or a test's
    processor). Unrecorded spans still carry trace ids — stored with each webhook — but
    skip attribute and processor work on every request, which the webhook path measures.
    When something consumes them, the standard sampler (OTEL_TRACES_SAMPLER) decides."""

    def __init__(self) -> None:
        self.active = False
        self.inner: Sampler = ParentBased(ALWAYS_ON)

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
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"SwitchboardWhenExporting({self.inner.get_description()})"


_sampler = _WhenExporting()


def setup_tracing(
    service_name: str,
    otlp_endpoint: str = "",
    extra: SpanProcessor | None = None,
    environ: Mapping[str, str] | None = None,
) -> TracerProvider:
    """Install the global tracer provider (idempotent). Exports nothing unless an OTLP
    endpoint is configured, so tracing costs little when no one is watching.

    The standard variables choose the rest: OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf,
    the default, or grpc; the _TRACES_ variants win), OTEL_TRACES_SAMPLER(+_ARG).

    Every processor sees spans through `RedactingSpanProcessor`, and the process's log
    records are scrubbed too: secrets stay out of both signals from the first span on."""
    global _provider
    install_log_redaction()
    env = os.environ if environ is None else environ
    if _provider is None:
        _sampler.inner = sampler_from_env(env)
        _provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}), sampler=_sampler
        )
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") or otlp_endpoint
        if endpoint and env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none":
            exporter = otlp_exporter(endpoint, _protocol(env), exact=_exact_endpoint(env))
            _provider.add_span_processor(RedactingSpanProcessor(BatchSpanProcessor(exporter)))
            _activate()
        trace.set_tracer_provider(_provider)
    if extra is not None:
        _provider.add_span_processor(RedactingSpanProcessor(extra))
        _activate()
    return _provider


def _protocol(env: Mapping[str, str]) -> str:
    chosen = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", ""
    )
    return chosen.strip().lower() or "http/protobuf"


def _exact_endpoint(env: Mapping[str, str]) -> bool:
    # The signal-specific variable is used as given; the generic one gets /v1/traces (HTTP).
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def otlp_exporter(endpoint: str, protocol: str, *, exact: bool = False) -> SpanExporter:
    """An OTLP span exporter for `grpc` or `http/protobuf` (anything else: refused)."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(endpoint=endpoint)
    if protocol not in ("http/protobuf", "http"):
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r}: use grpc or http/protobuf")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint.rstrip("/")
    if not exact and not url.endswith("/v1/traces"):
        url += "/v1/traces"
    return OTLPSpanExporter(endpoint=url)


def _activate() -> None:
    """Start recording, and instrument outbound HTTP once (all transports built on
    httpx's AsyncHTTPTransport, the SSRF-guarded one included)."""
    if _sampler.active:
        return
    _sampler.active = True
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=_provider)


def tracing_active() -> bool:
    return _sampler.active


def instrument_http_client(client: Any) -> Any:
    """Trace one client whose transport is not httpx's network transport (an in-process
    simulator, a test's network boundary); a no-op until tracing records."""
    # httpx's network transport is instrumented already (a second wrap doubles its spans).
    network = isinstance(getattr(client, "_transport", None), httpx.AsyncHTTPTransport)
    if _sampler.active and not network:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider)
    return client


# -- carrying a trace across the queue and into the database ----------------------------------

_propagator = TraceContextTextMapPropagator()


def current_traceparent() -> str:
    """The W3C traceparent of the current span ("" when nothing records: no cost then).
    Unsampled spans propagate too, so the worker keeps the request's sampling decision."""
    if not _sampler.active:
        return ""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return ""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def context_from(traceparent: str) -> Context | None:
    """The remote parent a traceparent names (None when empty or malformed)."""
    if not traceparent:
        return None
    extracted = _propagator.extract({TRACEPARENT: traceparent})
    valid = trace.get_current_span(extracted).get_span_context().is_valid
    return extracted if valid else None


def traced_job(
    job: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Wrap an arq job: its `traceparent` keyword (set by FastEnqueuer or `job_trace()`)
    becomes the parent of a consumer span around the run, so the request that enqueued the
    job and everything the job does (queries, provider calls) form one trace."""
    name = job.__name__

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        parent = context_from(str(kwargs.pop(TRACEPARENT, "") or ""))
        attributes = {"messaging.system": "arq", "messaging.operation.type": "process"}
        if ctx.get("job_id"):
            attributes["messaging.message.id"] = str(ctx["job_id"])
        with tracer().start_as_current_span(
            f"job {name}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
        ) as span:
            span.set_attribute("switchboard.job.try", int(ctx.get("job_try") or 1))
            return await job(ctx, *args, **kwargs)

    return run


def job_trace() -> dict[str, str]:
    """Keyword arguments that carry the current trace into a job enqueued with arq's
    `enqueue_job(name, *args, **job_trace())` (actions, syncs); the job must be wrapped by
    `traced_job` in the worker."""
    traceparent = current_traceparent()
    return {TRACEPARENT: traceparent} if traceparent else {}


async def trace_queries(connection: Any) -> None:
    """asyncpg `init` hook: a client span per statement, child of the span that ran it.

    Built on asyncpg's query logger (called after each statement, in the caller's context,
    with its duration): the statement text names only placeholders, never the values."""
    connection.add_query_logger(_query_span)


_db_tracer = trace.get_tracer("switchboard.asyncpg")


def _query_span(record: Any) -> None:
    # Runs just after the statement, when its span may have ended: the sampled flag, not
    # is_recording(), says whether the trace is kept.
    parent = trace.get_current_span().get_span_context()
    if not (_sampler.active and parent.is_valid and parent.trace_flags.sampled):
        return
    end = time.time_ns()
    statement = " ".join(str(record.query).split())
    operation = statement.split(" ", 1)[0].upper()
    addr = record.conn_addr if isinstance(record.conn_addr, tuple) else ("", 0)
    span = _db_tracer.start_span(
        f"{operation} {getattr(record.conn_params, 'database', '') or ''}".strip(),
        kind=SpanKind.CLIENT,
        start_time=end - int(record.elapsed * 1e9),
        attributes={
            "db.system.name": "postgresql",
            "db.operation.name": operation,
            "db.query.text": statement[:2000],
            "server.address": str(addr[0]),
            "server.port": int(addr[1]) if len(addr) > 1 else 0,
        },
    )
    if record.exception is not None:
        span.set_status(Status(trace.StatusCode.ERROR, type(record.exception).__name__))
    span.end(end_time=end)


@functools.cache
def tracer(name: str = "switchboard") -> trace.Tracer:
    """One tracer per name: get_tracer builds a new one per call (~0.1 ms), which the
    webhook path would pay per span. A proxy until the provider is set, then the real one."""
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


# Span values repeat (statements, routes, method names): scrubbing each once saves the
# regular expressions on nearly every span; results are what redact_text returns anyway.
_redact_cached = functools.lru_cache(maxsize=4096)(redact_text)


def _redacted_value(value: Any) -> Any:
    if isinstance(value, str):
        return _redact_cached(value)
    if isinstance(value, tuple | list) and any(isinstance(v, str) for v in value):
        return tuple(_redact_cached(v) if isinstance(v, str) else v for v in value)
    return value


def _redacted_attributes(attributes: Attributes) -> Attributes:
    """The same object when nothing needed redacting (the common case: no copy)."""
    if not attributes:
        return attributes
    redacted = {k: _redacted_value(v) for k, v in attributes.items()}
    if all(redacted[k] is v or redacted[k] == v for k, v in attributes.items()):
        return attributes
    return redacted


def _redacted_span(span: ReadableSpan) -> ReadableSpan:
    """A scrubbed copy, or the span itself when nothing in it needed scrubbing (copying
    every span cost about a third of a recorded request)."""
    status = span.status
    if status.description:
        description = redact_text(status.description)
        if description != status.description:
            status = Status(status.status_code, description)
    name = redact_text(span.name)
    original = span.attributes  # a new read-only view per access
    attributes = _redacted_attributes(original)
    events = [(e, _redacted_attributes(e.attributes)) for e in span.events]
    unchanged = (
        name == span.name
        and attributes is original
        and status is span.status
        and all(redacted is e.attributes for e, redacted in events)
    )
    if unchanged:
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=[Event(e.name, redacted, e.timestamp) for e, redacted in events],
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


_NO_SPAN = contextlib.nullcontext()


def span_if_tracing(
    name: str, attributes: dict[str, Any] | None = None
) -> contextlib.AbstractContextManager[Any]:
    """A child span while the current trace records, else a shared no-op: hot-path steps
    (verification) cost one call when nobody is watching or the trace is sampled out."""
    # An unsampled parent's child would be dropped too: skip making it.
    if not _sampler.active or not trace.get_current_span().is_recording():
        return _NO_SPAN
    return tracer().start_as_current_span(name, attributes=attributes)


def describe_integration(tenant_id: Any, integration_id: Any, connector: str) -> None:
    """Name the integration on the current span (ids only: never a secret)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("switchboard.tenant", str(tenant_id))
        span.set_attribute("switchboard.integration", str(integration_id))
        span.set_attribute("switchboard.connector", connector)

"""Webhook POSTs served straight from ASGI, in front of Litestar.

Deliveries are the product's hottest path; Litestar's routing, parameter parsing, response
building and the generic OpenTelemetry middleware cost about three times the work the
delivery itself needs (benchmarks/webhook_ingest.py). This adapter handles exactly
`POST /api/webhooks/{connector_id}/{token}` and the operator's app URL
`POST /api/webhooks/{connector_id}` with one manual span, the body cap, and the
framework-free `Ingestor`; every other request, GET handshakes included, goes to Litestar.
The URL is resolved before the body is read: unknown tokens cost no body and, thanks to
the material cache's misses, mostly no database lookup.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from backend.lib.errors import Problem
from backend.webhooks.ingest import (
    Answer,
    AppEndpoint,
    Endpoint,
    Inbound,
    Ingestor,
    problem_answer,
)

_PATH = re.compile(r"^/api/webhooks/([^/]+)/([^/]+)$")
_APP_PATH = re.compile(r"^/api/webhooks/([^/]+)$")
_TOO_LARGE = Problem(413, "The request body exceeds the size limit.")
_tracer = trace.get_tracer("switchboard.webhooks")


def receipt_span(method: str, connector_id: str, app_level: bool = False) -> Any:
    """The one server span a delivery or handshake gets (the generic ASGI spans skip the
    webhook routes). Named by route template: the path token never appears in it."""
    suffix = "" if app_level else "/{token}"
    route = "/api/webhooks/{connector_id}" + suffix
    return _tracer.start_as_current_span(
        f"{method} /api/webhooks/{connector_id}{suffix}",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": method,
            "http.route": route,
            "switchboard.connector": connector_id,
        },
    )


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


async def _send(send: Any, answer: Answer) -> None:
    headers = [
        (b"content-type", answer.content_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


class WebhookFastPath:
    """ASGI app: webhook POSTs here, everything else to `app` (the Litestar application).
    Attribute access falls through to `app`, so callers can treat it as the application."""

    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        match = _PATH.match(scope["path"]) or _APP_PATH.match(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        connector_id, token = match[1], match[2] if match.re is _PATH else ""
        with receipt_span("POST", connector_id, app_level=not token) as span:
            answer = await self._answer(scope, receive, connector_id, token)
            span.set_attribute("http.response.status_code", answer.status)
            await _send(send, answer)

    async def _answer(self, scope: Any, receive: Any, connector_id: str, token: str) -> Answer:
        """A per-integration delivery (`token` set) or one to the operator's app URL."""
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            # Repeated headers join with ", " as HTTP allows (the signature headers never repeat).
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        ingestor: Ingestor = self.app.state.ingestor
        # The URL first: an unknown one is refused before a byte of its body is read (and
        # the connection closed, so the client cannot make the server drain it).
        try:
            if token:
                endpoint: Endpoint | AppEndpoint = await ingestor.resolve(connector_id, token)
            else:
                endpoint = ingestor.resolve_app(connector_id)
        except Problem as problem:
            answer = problem_answer(problem)
            return replace(answer, headers={**answer.headers, "Connection": "close"})
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return problem_answer(_TOO_LARGE)
        try:
            body = await _read_body(receive, self.max_body_bytes)
        except _BodyTooLarge:
            return problem_answer(_TOO_LARGE)
        client = scope.get("client")
        inbound = Inbound(
            method="POST",
            connector_id=connector_id,
            token=token,
            headers=headers,
            raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            body=body,
            client_host=client[0] if client else "",
        )
        if isinstance(endpoint, AppEndpoint):
            return await ingestor.ingest_app(inbound, endpoint)
        return await ingestor.ingest(inbound, endpoint)

"""Secrets in URLs (OAuth `code`/`state`, tokens, keys, passwords, signatures) never reach
a span or a log line: inbound requests, outbound httpx calls and exception tracebacks."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pytest_httpserver import HTTPServer

from backend.lib import http
from backend.lib.telemetry import setup_tracing

# One value per kind of sensitive query parameter; none may appear anywhere.
SECRET_PARAMS = {
    "code": "SECRETCODE",
    # `&` inside a value: a scrubber that works on the decoded URL would leak the tail.
    "state": "SECRETSTATE&tail=SECRETTAIL",
    "access_token": "SECRETACCESS",
    "api_key": "SECRETAPIKEY",
    "client_secret": "SECRETCLIENT",
    "password": "SECRETPASSWORD",
    "X-Amz-Signature": "SECRETSIGNATURE",
    "hub.verify_token": "SECRETVERIFY",
}
SECRETS = ("SECRETCODE", "SECRETSTATE", "SECRETTAIL", "SECRETACCESS", "SECRETAPIKEY")
SECRETS += ("SECRETCLIENT", "SECRETPASSWORD", "SECRETSIGNATURE", "SECRETVERIFY")
BOT_TOKEN = "123456789:SECRETBOTTOKEN"  # Telegram puts its bot token in the path
CALLBACK = "/api/connectors/oauth/callback"


@pytest.fixture(scope="session")
def spans(app) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("switchboard-tests", extra=SimpleSpanProcessor(exporter))
    return exporter


def dump_spans(exporter: InMemorySpanExporter) -> str:
    return "\n".join(
        json.dumps(
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [(e.name, dict(e.attributes or {})) for e in s.events],
                "status": s.status.description,
            },
            default=str,
        )
        for s in exporter.get_finished_spans()
    )


def assert_clean(text: str) -> None:
    leaked = [s for s in (*SECRETS, "SECRETBOTTOKEN") if s in text]
    assert not leaked, f"{leaked} in:\n{text}"


async def test_oauth_callback_query_never_reaches_spans(client, spans, tenant) -> None:
    spans.clear()
    callback = await client.get(CALLBACK, params={**SECRET_PARAMS, "other": "kept"})
    assert callback.status_code < 500
    listed = await client.get("/api/connectors", params=SECRET_PARAMS, headers=tenant.headers)
    assert listed.status_code == 200
    server = [s for s in spans.get_finished_spans() if s.kind.name == "SERVER"]
    assert len(server) == 2, [s.name for s in spans.get_finished_spans()]
    urls = [str(s.attributes.get("http.url") or s.attributes.get("url.full")) for s in server]
    assert all("code=REDACTED" in u and "other=kept" in u for u in urls[:1]), urls
    assert_clean(dump_spans(spans))


async def test_outbound_httpx_spans_carry_no_secrets(spans, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/me").respond_with_json({"ok": True})
    httpserver.expect_request(f"/bot{BOT_TOKEN}/getMe").respond_with_json({"ok": True})
    spans.clear()
    # Tracing instruments every client on httpx's network transport once it records.
    async with httpx.AsyncClient() as outbound:
        await outbound.get(httpserver.url_for("/v1/me"), params=SECRET_PARAMS)
        await outbound.get(httpserver.url_for(f"/bot{BOT_TOKEN}/getMe"))
    client_spans = [s for s in spans.get_finished_spans() if s.kind.name == "CLIENT"]
    assert len(client_spans) == 2
    assert_clean(dump_spans(spans))


async def test_logs_carry_no_secrets(client, caplog, httpserver: HTTPServer) -> None:
    """The test client's request line, the app's shared client's request lines (httpx logs
    every URL at INFO) and an exception's traceback all go through the process's logging."""
    httpserver.expect_request("/v1/me").respond_with_json({"error": "nope"}, status=401)
    httpserver.expect_request(f"/bot{BOT_TOKEN}/getMe").respond_with_json({"ok": True})
    caplog.set_level(logging.DEBUG)
    await client.get(CALLBACK, params=SECRET_PARAMS)
    shared = http.get_client()
    await shared.get(httpserver.url_for(f"/bot{BOT_TOKEN}/getMe"))
    response = await shared.get(httpserver.url_for("/v1/me"), params=SECRET_PARAMS)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError:
        logging.getLogger("switchboard.tests").exception("provider call failed")
    logging.getLogger("switchboard.tests").info("callback was %s", str(response.request.url))
    assert any("REDACTED" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info for r in caplog.records)
    assert_clean(caplog.text)
    assert_clean("\n".join(r.getMessage() for r in caplog.records))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            'token endpoint said {"access_token": "SECRETJSON", "token_type": "bearer"}',
            "SECRETJSON",
        ),
        ("{'refresh_token': 'SECRETREPR'}", "SECRETREPR"),
        ("POST /api/webhooks/github/SECRETPATHTOKEN failed", "SECRETPATHTOKEN"),
        ("https://example.test/x?Code=SECRETUPPER", "SECRETUPPER"),
        ("GET https://user:SECRETUSERINFO@example.test/x failed", "SECRETUSERINFO"),
    ],
)
def test_free_text_redaction(text: str, secret: str) -> None:
    from backend.lib.redaction import redact_text

    assert secret not in redact_text(text)

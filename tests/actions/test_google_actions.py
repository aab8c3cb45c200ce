"""Google actions (issue 17): Gmail send_email, Calendar create_event / update_event, Drive
upload_file.

Evidence per action: its requests pass Prism serving Google's published Discovery document
(tests/contract/provider_apis, the adapter contract tests' test copies); input breaking its
schema is refused 422 naming the field; through the action API, a repeated idempotency key
makes no second provider request and a 429 with Retry-After is retried to success (both
counted at a local server standing in for Google). The Gmail message parses back with the
standard library into the same headers, parts and attachments; Drive's resumable protocol
runs against a local server that implements it (308 Resume Incomplete with Range).

Not checked by Prism: Drive's resumable session (`uploadType=resumable` and the PUTs to the
session URI), which Google's Discovery document does not describe (its upload variant lists
`media` and `multipart` only); the local server below implements Google's written protocol.
"""

from __future__ import annotations

import base64
import email
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openapi_core import OpenAPI
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from backend.actions.services import validate_input
from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import ProviderError
from backend.connectors.providers._google import SCOPE_PREFIX
from backend.connectors.providers.gmail import actions as gmail_actions
from backend.connectors.providers.gmail import simulator as gmail_simulator
from backend.connectors.providers.google_calendar import simulator as calendar_simulator
from backend.connectors.providers.google_drive import actions as drive_actions
from backend.connectors.providers.google_drive import simulator as drive_simulator
from backend.connectors.registry import Provider, load_provider
from backend.integrations.tables import Integration
from backend.lib.errors import Problem
from backend.lib.vocab import FailureKind
from tests.actions.provider_at import connected
from tests.contract.adapter_calls import RecordingTransport, make_adapter
from tests.contract.descriptions import write_test_copy
from tests.contract.prism import PrismServer, rejection
from tests.contract.test_simulators_against_descriptions import (
    described_request,
    described_response,
)

GOOGLE = ("gmail", "google_calendar", "google_drive")
# Above Gmail's and Drive's 5 MB simple-request limit.
LARGE = bytes(range(256)) * (6 * 1024 * 1024 // 256)
PDF = b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n1 0 obj\n<<>>\nendobj\n"


def _provider(key: str) -> Provider:
    return load_provider(key, "backend.connectors.providers")


def _action(key: str, name: str) -> Action:
    return _provider(key).actions[name]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


SEND_REPLY = {
    "to": [{"email": "zoe@example.com", "name": "Zoë Ångström"}],
    "cc": [{"email": "ops@example.com"}],
    "bcc": [{"email": "audit@example.com", "name": "Audit, Team"}],
    "reply_to": {"email": "support@example.com", "name": "Support"},
    "subject": "Re: Grüße aus Köln — 会議",
    "text": "Hallo Zoë,\nanbei die Rechnung.\n",
    "html": "<p>Hallo Zoë,</p><p>anbei die <b>Rechnung</b>.</p>",
    "attachments": [
        {
            "filename": "Rechnung-März.pdf",
            "mime_type": "application/pdf",
            "content_base64": b64(PDF),
        },
        {"filename": "notes.txt", "mime_type": "text/plain", "content_base64": b64(b"a\r\nb\n")},
    ],
    "thread_id": "18c1f2a3b4d5e6f7",
    "in_reply_to": "<CAF=abc123@mail.gmail.com>",
    "references": ["<root@mail.example.com>", "<CAF=abc123@mail.gmail.com>"],
}

# Inputs each action must send in a form Google's description accepts.
VALID_INPUTS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("gmail", "send_email"): {
        "text only": {"to": [{"email": "a@example.com"}], "subject": "Hi", "text": "Hello"},
        "reply with attachments": SEND_REPLY,
        "large, on the upload URI": {
            "to": [{"email": "a@example.com"}],
            "subject": "Scans",
            "text": "Attached.",
            "attachments": [
                {"filename": "scan.tiff", "mime_type": "image/tiff", "content_base64": b64(LARGE)}
            ],
            "thread_id": "18c1f2a3b4d5e6f7",
        },
    },
    ("google_calendar", "create_event"): {
        "timed": {
            "summary": "Planning",
            "description": "Q1 roadmap",
            "location": "Room 4",
            "start": {"date_time": "2026-12-01T10:00:00", "time_zone": "Europe/Berlin"},
            "end": {"date_time": "2026-12-01T11:00:00+01:00"},
            "attendees": [{"email": "b@example.com", "display_name": "Bea", "optional": True}],
            "send_updates": "all",
        },
        "all day": {
            "calendar_id": "team@group.calendar.google.com",
            "summary": "Offsite",
            "start": {"date": "2026-12-02"},
            "end": {"date": "2026-12-03"},
        },
    },
    ("google_calendar", "update_event"): {
        "new time": {
            "event_id": "4c1b8a2e0f9d3c7b6a5e4d3c2b",
            "start": {"date_time": "2026-12-01T14:00:00Z"},
            "end": {"date_time": "2026-12-01T15:00:00Z"},
            "send_updates": "externalOnly",
        },
        "new title": {"event_id": "abc123def456_20261201T100000Z", "summary": "Renamed"},
    },
    ("google_drive", "upload_file"): {
        "into a folder": {
            "name": "Rechnung März.pdf",
            "mime_type": "application/pdf",
            "content_base64": b64(PDF),
            "folder_id": "1Zx9ABCdefGHIjklMNOpqrSTUvwxYZ012",
            "description": "Invoice",
        },
        "empty file": {"name": "empty.txt", "mime_type": "text/plain", "content_base64": ""},
    },
}
ACTIONS = list(VALID_INPUTS)
RESULT_KEYS = {
    "send_email": {"id", "thread_id"},
    "create_event": {"id", "url"},
    "update_event": {"id", "url"},
    "upload_file": {"id", "url"},
}

# Input that breaks each schema, and the field (JSON pointer) the 422 must name.
INVALID_INPUTS: dict[tuple[str, str], list[tuple[dict[str, Any], str]]] = {
    ("gmail", "send_email"): [
        ({"subject": "Hi", "text": "x"}, "/input/to"),
        (
            {"to": [{"email": "a@example.com"}], "subject": "Hi\r\nBcc: x@evil.test", "text": "x"},
            "/input/subject",
        ),
        (
            {"to": [{"email": "a@example.com\nBcc: x@evil.test"}], "subject": "s", "text": "x"},
            "/input/to/0/email",
        ),
        (
            {"to": [{"email": "a@example.com", "name": "A\nB"}], "subject": "s", "text": "x"},
            "/input/to/0/name",
        ),
        (
            {"to": [{"email": "a@example.com"}], "subject": "s", "text": "x", "from": "b@x.y"},
            "/input",
        ),
        (
            {
                "to": [{"email": "a@example.com"}],
                "subject": "s",
                "text": "x",
                "attachments": [
                    {"filename": "a", "mime_type": "text/plain", "content_base64": "%%%"}
                ],
            },
            "/input/attachments/0/content_base64",
        ),
        (
            {"to": [{"email": "a@example.com"}], "subject": "s", "in_reply_to": "abc", "text": "x"},
            "/input/in_reply_to",
        ),
    ],
    ("google_calendar", "create_event"): [
        ({"start": {"date": "2026-12-01"}}, "/input/end"),
        (
            {"start": {"date_time": "2026-12-01T10:00:00"}, "end": {"date": "2026-12-02"}},
            "/input/start",
        ),
        (
            {
                "start": {"date_time": "2026-12-01T25:00:00", "time_zone": "Europe/Berlin"},
                "end": {"date": "2026-12-02"},
            },
            "/input/start",
        ),
        ({"start": {"date": "2026-13-01"}, "end": {"date": "2026-12-02"}}, "/input/start"),
        (
            {"start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}, "send_updates": "yes"},
            "/input/send_updates",
        ),
        (
            {"start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}, "attendees": [{}]},
            "/input/attendees/0/email",
        ),
    ],
    ("google_calendar", "update_event"): [
        ({"summary": "x"}, "/input/event_id"),
        ({"event_id": "abc"}, "/input"),
        ({"event_id": "../calendars", "summary": "x"}, "/input/event_id"),
    ],
    ("google_drive", "upload_file"): [
        ({"mime_type": "text/plain", "content_base64": ""}, "/input/name"),
        ({"name": "a", "mime_type": "text", "content_base64": ""}, "/input/mime_type"),
        (
            {"name": "a", "mime_type": "text/plain", "content_base64": "abc"},
            "/input/content_base64",
        ),
        ({"name": "a\r\n", "mime_type": "text/plain", "content_base64": ""}, "/input/name"),
        (
            {"name": "a", "mime_type": "text/plain", "content_base64": "", "folder_id": "../x"},
            "/input/folder_id",
        ),
    ],
}


async def _run(
    adapter: Any, key: str, name: str, data: dict[str, Any], idempotency_key: str | None = None
) -> ActionResult:
    action = _action(key, name)
    validate_input(action, data)
    return await action.run(adapter, ActionCall(input=data, idempotency_key=idempotency_key))


# -- declarations ----------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "name"), ACTIONS)
def test_declared_scopes_are_offered_and_bodies_redacted(key: str, name: str) -> None:
    provider = _provider(key)
    action = provider.actions[name]
    assert provider.spec.oauth is not None
    offered = {*provider.spec.oauth.default_scopes, *provider.spec.oauth.optional_scopes}
    assert action.required_scopes and all(set(group) <= offered for group in action.required_scopes)
    assert action.input_schema["additionalProperties"] is False
    expected_redacted = {
        "send_email": {"text", "html", "attachments"},
        "create_event": {"description"},
        "update_event": {"description"},
        "upload_file": {"content_base64"},
    }
    assert set(action.redact_fields) == expected_redacted[name]


@pytest.mark.parametrize(
    ("key", "name", "data", "field"),
    [(k, n, d, f) for (k, n), cases in INVALID_INPUTS.items() for d, f in cases],
)
def test_input_breaking_the_schema_is_refused_naming_the_field(
    key: str, name: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(Problem) as refused:
        validate_input(_action(key, name), data)
    assert refused.value.status == 422
    assert field in [e.field for e in refused.value.errors], refused.value.detail


@pytest.mark.parametrize(("key", "name"), ACTIONS)
def test_documented_inputs_are_accepted(key: str, name: str) -> None:
    for data in VALID_INPUTS[(key, name)].values():
        validate_input(_action(key, name), data)


# -- Prism: Google's published description ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    key: str
    prism: PrismServer
    api_base_url: str


def calendar_local_times(doc: dict[str, Any]) -> None:
    """Google's EventDateTime says "a time zone offset is required unless a time zone is
    explicitly specified in timeZone", but its schema gives dateTime the strict RFC 3339
    `date-time` format, which requires the offset always: a local time is accepted here
    only beside a timeZone, as the description's own text allows."""
    when = doc["components"]["schemas"]["EventDateTime"]
    local = {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?$"}
    when["anyOf"] = [
        {"properties": {"dateTime": when["properties"]["dateTime"]}},
        {"properties": {"dateTime": local}, "required": ["dateTime", "timeZone"]},
    ]
    when["properties"]["dateTime"] = {"type": "string"}


@pytest.fixture(scope="module", params=GOOGLE)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Prism for one Google Discovery document, started once and stopped by its PID."""
    key = request.param
    document = write_test_copy(key, tmp_path_factory.mktemp(key))
    doc = json.loads(document.read_text(encoding="utf-8"))
    if key == "google_calendar":
        calendar_local_times(doc)
        document.write_text(json.dumps(doc), encoding="utf-8")
    # Google's servers have no path; the API base's path (/calendar/v3) starts each path.
    server_path = urlsplit(doc["servers"][0]["url"]).path.rstrip("/")
    base_path = urlsplit(_provider(key).spec.api_base_url).path.rstrip("/")
    with PrismServer(document) as prism:
        yield Served(key, prism, prism.url + base_path.removeprefix(server_path))


async def test_action_requests_conform_to_the_published_description(served: Served) -> None:
    provider, origin = _provider(served.key), httpx.URL(served.prism.url)
    to_prism = httpx.AsyncHTTPTransport()

    def route(request: httpx.Request) -> httpx.AsyncBaseTransport:
        assert (request.url.host, request.url.port) == (origin.host, origin.port)
        return to_prism

    recorder = RecordingTransport(route)
    cases = [
        (name, label, data)
        for (key, name), inputs in VALID_INPUTS.items()
        if key == served.key
        for label, data in inputs.items()
    ]
    async with to_prism, httpx.AsyncClient(transport=recorder, timeout=30) as http:
        adapter = make_adapter(provider, served.api_base_url, http)
        for name, label, data in cases:
            recorder.call = f"{name}: {label}"
            # With a key, as the action API calls it (Calendar then chooses the event id).
            result = await _run(adapter, served.key, name, data, f"prism {name} {label}")
            assert set(result.result) == RESULT_KEYS[name], label
            assert all(isinstance(v, str) and v for v in result.result.values()), label
    assert [e.call for e in recorder.exchanges] == [f"{n}: {label}" for n, label, _ in cases]
    refused = [f"{e.call}: {r}" for e in recorder.exchanges if (r := rejection(e.response))]
    assert not refused, "Prism refused requests:\n" + "\n".join(refused)

    # Control: the same requests with the body's required content taken out are refused, so
    # the description really checked them (Prism skips schemas it cannot compile).
    async with httpx.AsyncClient(timeout=30) as http:
        for exchange in recorder.exchanges:
            headers = {k: v for k, v in exchange.request.headers.items() if k != "content-length"}
            content_type = exchange.request.headers["content-type"]
            if content_type.startswith("multipart/related"):
                # The upload variant's body is binary: refuse the media type instead.
                headers["content-type"] = "application/x-www-form-urlencoded"
                body = b"name=x"
            else:
                body = b"[]"
            answer = await http.request(
                exchange.request.method, exchange.request.url, headers=headers, content=body
            )
            assert rejection(answer), f"{exchange.call}: Prism accepted a body without content"
        if served.key == "google_calendar":
            # The patched EventDateTime still refuses a local time without a zone.
            zoneless = {"start": {"dateTime": "2026-12-01T10:00:00"}, "end": {"date": "2026-12-02"}}
            answer = await http.post(
                served.api_base_url + "/calendars/primary/events",
                json=zoneless,
                headers={"Authorization": "Bearer ya29.a0AfB_simulated_access_token"},
            )
            assert rejection(answer), "a local dateTime without timeZone passed"


# -- Gmail: the message as Google receives it --------------------------------------------------


def _simulated(key: str, http: httpx.AsyncClient) -> Any:
    provider = _provider(key)
    return make_adapter(provider, provider.spec.api_base_url, http)


async def test_gmail_message_parses_back_into_the_same_headers_parts_and_attachments() -> None:
    sent: list[httpx.Request] = []
    simulator = _provider("gmail").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        result = await _run(_simulated("gmail", http), "gmail", "send_email", SEND_REPLY)

    (request,) = sent
    assert (request.method, request.url.path) == ("POST", "/gmail/v1/users/me/messages/send")
    body = json.loads(request.content)
    assert set(body) == {"raw", "threadId"} and body["threadId"] == "18c1f2a3b4d5e6f7"
    assert not set(body["raw"]) & set("+/\r\n"), "raw is base64url, in one line"
    raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
    assert raw.isascii(), "non-ASCII headers are RFC 2047 encoded, bodies transfer-encoded"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "RFC 5322 CRLF lines"

    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert str(message["To"]) == "Zoë Ångström <zoe@example.com>"
    assert message["To"].addresses[0].display_name == "Zoë Ångström"
    assert str(message["Cc"]) == "ops@example.com"
    assert message["Bcc"].addresses[0].display_name == "Audit, Team"
    assert str(message["Reply-To"]) == "Support <support@example.com>"
    assert message["Subject"] == "Re: Grüße aus Köln — 会議"
    assert message["In-Reply-To"] == "<CAF=abc123@mail.gmail.com>"
    assert message["References"] == "<root@mail.example.com> <CAF=abc123@mail.gmail.com>"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/mixed"
    alternative, *attachments = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.iter_parts()
    # MIME text travels with CRLF line breaks; the content is the same text.
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n") == SEND_REPLY["text"]
    assert html.get_content_type() == "text/html"
    assert html.get_content().rstrip("\r\n") == SEND_REPLY["html"]
    assert message.get_body(preferencelist=("plain",)) is not None
    got = [
        (a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in attachments
    ]
    assert got == [
        ("Rechnung-März.pdf", "application/pdf", PDF),
        ("notes.txt", "text/plain", b"a\r\nb\n"),
    ]
    assert [a.get_content_disposition() for a in attachments] == ["attachment", "attachment"]

    # The simulator keeps what test mode sent, in the thread asked for.
    kept = gmail_simulator.SENT_MESSAGES[result.result["id"]]
    assert kept["thread_id"] == result.result["thread_id"] == "18c1f2a3b4d5e6f7"
    assert kept["raw"] == raw


async def test_gmail_large_message_goes_as_rfc822_media_on_the_upload_uri() -> None:
    sent: list[httpx.Request] = []
    simulator = _provider("gmail").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)

    data = VALID_INPUTS[("gmail", "send_email")]["large, on the upload URI"]
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        result = await _run(_simulated("gmail", http), "gmail", "send_email", data)

    (request,) = sent
    assert (request.method, request.url.path) == ("POST", "/upload/gmail/v1/users/me/messages/send")
    assert request.url.params["uploadType"] == "multipart"
    assert request.headers["content-type"].startswith("multipart/related; boundary=")
    assert b"Content-Type: message/rfc822\r\n" in request.content
    kept = gmail_simulator.SENT_MESSAGES[result.result["id"]]
    assert kept["thread_id"] == "18c1f2a3b4d5e6f7" == result.result["thread_id"]
    (attachment,) = kept["message"].iter_attachments()
    assert attachment.get_filename() == "scan.tiff"
    assert attachment.get_payload(decode=True) == LARGE


async def test_gmail_refuses_a_message_above_its_limit_without_calling_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gmail_actions, "MAX_MESSAGE_BYTES", 4096)
    data = {
        "to": [{"email": "a@example.com"}],
        "subject": "Big",
        "text": "x",
        "attachments": [
            {
                "filename": "a.bin",
                "mime_type": "application/octet-stream",
                "content_base64": b64(b"x" * 4096),
            }
        ],
    }
    calls: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(calls.append)) as http:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as refused:
            await _run(_simulated("gmail", http), "gmail", "send_email", data)
    assert refused.value.kind == FailureKind.BAD_REQUEST and "4096" in refused.value.message
    assert calls == []


async def test_gmail_html_only_message_is_a_single_html_part() -> None:
    data = {"to": [{"email": "a@example.com"}], "subject": "Hi", "html": "<p>Hi</p>"}
    async with httpx.AsyncClient(transport=_provider("gmail").simulator.transport()) as http:
        result = await _run(_simulated("gmail", http), "gmail", "send_email", data)
    message = gmail_simulator.SENT_MESSAGES[result.result["id"]]["message"]
    assert message.get_content_type() == "text/html"
    assert message["Subject"] == "Hi"
    assert result.result["thread_id"] == result.result["id"], "a new thread"


# -- Calendar -----------------------------------------------------------------------------------


async def test_calendar_events_are_created_and_patched_with_only_the_given_fields() -> None:
    bodies: list[tuple[str, str, dict[str, Any]]] = []
    simulator = _provider("google_calendar").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append((request.method, request.url.path, json.loads(request.content)))
        return simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)

    created_input = VALID_INPUTS[("google_calendar", "create_event")]["timed"]
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        adapter = _simulated("google_calendar", http)
        created = await _run(adapter, "google_calendar", "create_event", created_input)
        event_id = created.result["id"]
        updated = await _run(
            adapter,
            "google_calendar",
            "update_event",
            {
                "event_id": event_id,
                "summary": "Planning (moved)",
                "start": {"date_time": "2026-12-01T10:30:00", "time_zone": "Europe/Berlin"},
            },
        )

    assert bodies[0] == (
        "POST",
        "/calendar/v3/calendars/primary/events",
        {
            "summary": "Planning",
            "description": "Q1 roadmap",
            "location": "Room 4",
            "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-12-01T11:00:00+01:00"},
            "attendees": [{"email": "b@example.com", "displayName": "Bea", "optional": True}],
        },
    )
    assert bodies[1] == (
        "PATCH",
        f"/calendar/v3/calendars/primary/events/{event_id}",
        {
            "summary": "Planning (moved)",
            "start": {"dateTime": "2026-12-01T10:30:00", "timeZone": "Europe/Berlin"},
        },
    )
    assert created.result["url"].startswith("https://www.google.com/calendar/event?eid=")
    assert updated.result == created.result
    kept = calendar_simulator.EVENTS[f"test.user@example.com/{event_id}"]
    assert kept["summary"] == "Planning (moved)" and kept["location"] == "Room 4"
    assert kept["sequence"] == 1
    # Google answers a local time placed in its zone (Berlin is UTC+1 in December).
    assert kept["start"] == {"dateTime": "2026-12-01T10:30:00+01:00", "timeZone": "Europe/Berlin"}


async def test_calendar_create_with_a_key_chooses_the_event_id_so_a_repeat_finds_it() -> None:
    """Calendar's own idempotency: the second attempt with the same key meets 409 duplicate
    and answers the event the first created; no second event exists."""
    exchanges: list[tuple[str, int]] = []
    simulator = _provider("google_calendar").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        response = simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)
        exchanges.append((request.method, response.status_code))
        return response

    data = VALID_INPUTS[("google_calendar", "create_event")]["all day"]
    before = len(calendar_simulator.EVENTS)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        adapter = _simulated("google_calendar", http)
        first = await _run(adapter, "google_calendar", "create_event", data, "key-1")
        again = await _run(adapter, "google_calendar", "create_event", data, "key-1")
        other = await _run(adapter, "google_calendar", "create_event", data, "key-2")
        adapter.ctx.integration_id = uuid.uuid4()
        elsewhere = await _run(adapter, "google_calendar", "create_event", data, "key-1")

    assert again.result == first.result
    assert len({first.result["id"], other.result["id"], elsewhere.result["id"]}) == 3
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first.result["id"])
    assert exchanges == [("POST", 200), ("POST", 409), ("GET", 200), ("POST", 200), ("POST", 200)]
    assert len(calendar_simulator.EVENTS) == before + 3


async def test_calendar_ids_are_path_escaped_and_unknown_events_are_not_found() -> None:
    paths: list[str] = []
    simulator = _provider("google_calendar").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)

    data = {
        "calendar_id": "team@group.calendar.google.com",
        "event_id": "nosuchevent1",
        "summary": "x",
    }
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(ProviderError) as failed:
            await _run(_simulated("google_calendar", http), "google_calendar", "update_event", data)
    assert failed.value.status_code == 404 and failed.value.kind == FailureKind.BAD_REQUEST
    assert paths == ["/calendar/v3/calendars/team%40group.calendar.google.com/events/nosuchevent1"]


# -- Drive ----------------------------------------------------------------------------------------


async def test_drive_multipart_upload_carries_the_metadata_and_the_exact_bytes() -> None:
    requests: list[httpx.Request] = []
    simulator = _provider("google_drive").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return simulator.to_httpx(simulator.handle(simulator.sim_request(request)), request)

    data = VALID_INPUTS[("google_drive", "upload_file")]["into a folder"]
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        result = await _run(_simulated("google_drive", http), "google_drive", "upload_file", data)

    (request,) = requests
    assert (request.method, request.url.path) == ("POST", "/upload/drive/v3/files")
    assert request.url.params["uploadType"] == "multipart"
    assert "webViewLink" in request.url.params["fields"].split(",")
    assert request.headers["content-type"].startswith("multipart/related; boundary=")
    kept = drive_simulator.UPLOADED_FILES[result.result["id"]]
    assert kept["content"] == PDF
    assert kept["metadata"] == {
        "name": "Rechnung März.pdf",
        "mimeType": "application/pdf",
        "parents": ["1Zx9ABCdefGHIjklMNOpqrSTUvwxYZ012"],
        "description": "Invoice",
    }
    assert (
        result.result["url"]
        == f"https://drive.google.com/file/d/{result.result['id']}/view?usp=drivesdk"
    )


class ResumableDrive:
    """Google's resumable upload protocol on a local server: POST opens a session (Location),
    each PUT with Content-Range is answered 308 with the Range kept, the last one with the
    File. The first chunk is only partly kept, as Google may, so the client must resume from
    the confirmed offset, not from what it sent."""

    def __init__(self, server: HTTPServer, session_url: str | None = None) -> None:
        self.server = server
        self.session_url = (
            session_url
            or server.url_for("/upload/drive/v3/files")
            + "?uploadType=resumable&upload_id=ABCsession123"
        )
        self.opened: list[Request] = []
        self.puts: list[tuple[str, int]] = []
        self.data = b""
        server.expect_request("/upload/drive/v3/files", method="POST").respond_with_handler(
            self.open
        )
        server.expect_request("/upload/drive/v3/files", method="PUT").respond_with_handler(self.put)

    def open(self, request: Request) -> Response:
        self.opened.append(request)
        return Response(status=200, headers={"Location": self.session_url})

    def put(self, request: Request) -> Response:
        assert request.args["upload_id"] == "ABCsession123"
        content_range = request.headers["Content-Range"]
        body = request.get_data()
        self.puts.append((content_range, len(body)))
        start, _, total = content_range.removeprefix("bytes ").replace("/", "-").split("-")
        assert int(start) == len(self.data), "each chunk starts where the kept bytes end"
        keep = body if len(self.puts) > 1 else body[: len(body) - 1000]
        self.data += keep
        if len(self.data) < int(total):
            return Response(status=308, headers={"Range": f"bytes=0-{len(self.data) - 1}"})
        file = {
            "kind": "drive#file",
            "id": "1LargeFileId",
            "name": "big.bin",
            "mimeType": "application/octet-stream",
            "webViewLink": "https://drive.google.com/file/d/1LargeFileId/view?usp=drivesdk",
        }
        return Response(json.dumps(file), status=200, content_type="application/json")


async def test_drive_uploads_above_5_mb_resume_from_the_confirmed_range(
    httpserver: HTTPServer,
) -> None:
    drive = ResumableDrive(httpserver)
    content = bytes(range(256)) * (6 * 1024 * 1024 // 256) + b"tail"
    data = {
        "name": "big.bin",
        "mime_type": "application/octet-stream",
        "content_base64": b64(content),
    }
    async with httpx.AsyncClient() as http:
        adapter = make_adapter(_provider("google_drive"), httpserver.url_for("/drive/v3"), http)
        result = await _run(adapter, "google_drive", "upload_file", data)

    assert result.result == {
        "id": "1LargeFileId",
        "url": "https://drive.google.com/file/d/1LargeFileId/view?usp=drivesdk",
    }
    assert drive.data == content
    (opened,) = drive.opened
    assert opened.args["uploadType"] == "resumable"
    assert json.loads(opened.get_data()) == {
        "name": "big.bin",
        "mimeType": "application/octet-stream",
    }
    assert opened.headers["X-Upload-Content-Type"] == "application/octet-stream"
    assert opened.headers["X-Upload-Content-Length"] == str(len(content))
    assert opened.headers["Authorization"].startswith("Bearer ")
    chunk = drive_actions.CHUNK_SIZE
    assert chunk % (256 * 1024) == 0
    total = len(content)
    resumed = chunk - 1000
    assert drive.puts == [
        (f"bytes 0-{chunk - 1}/{total}", chunk),
        (f"bytes {resumed}-{total - 1}/{total}", total - resumed),
    ]


async def test_drive_refuses_a_session_uri_off_the_upload_host(httpserver: HTTPServer) -> None:
    elsewhere = HTTPServer(host="127.0.0.1", port=0)
    elsewhere.start()
    try:
        ResumableDrive(
            httpserver, session_url=elsewhere.url_for("/steal") + "?upload_id=ABCsession123"
        )
        content = b"x" * (drive_actions.MULTIPART_LIMIT + 1)
        data = {
            "name": "big.bin",
            "mime_type": "application/octet-stream",
            "content_base64": b64(content),
        }
        async with httpx.AsyncClient() as http:
            adapter = make_adapter(_provider("google_drive"), httpserver.url_for("/drive/v3"), http)
            with pytest.raises(ProviderError) as refused:
                await _run(adapter, "google_drive", "upload_file", data)
        assert refused.value.kind == FailureKind.PROVIDER_DOWN
        assert elsewhere.log == [], "neither the token nor the file went to the other host"
    finally:
        elsewhere.clear()
        elsewhere.stop()


async def test_drive_resumable_upload_through_the_simulator() -> None:
    content = b"\x00\r\n" * (2 * 1024 * 1024) + b"end"
    data = {
        "name": "big.bin",
        "mime_type": "application/octet-stream",
        "content_base64": b64(content),
    }
    async with httpx.AsyncClient(transport=_provider("google_drive").simulator.transport()) as http:
        result = await _run(_simulated("google_drive", http), "google_drive", "upload_file", data)
    assert drive_simulator.UPLOADED_FILES[result.result["id"]]["content"] == content


# -- through the action API: retries and idempotency, counted at a local Google ---------------


GRANTED = {
    "gmail": [SCOPE_PREFIX + "gmail.readonly", SCOPE_PREFIX + "gmail.send"],
    "google_calendar": [SCOPE_PREFIX + "calendar.events"],
    "google_drive": [SCOPE_PREFIX + "drive.file"],
}


async def _connected(make_integration: Any, tenant: Any, key: str) -> Any:
    return await connected(make_integration, tenant, key, scopes=GRANTED[key])


async def _an_event() -> str:
    """An event the simulator knows, to update."""
    provider = _provider("google_calendar")
    data = VALID_INPUTS[("google_calendar", "create_event")]["timed"]
    async with httpx.AsyncClient(transport=provider.simulator.transport()) as http:
        adapter = _simulated("google_calendar", http)
        created = await _run(adapter, "google_calendar", "create_event", data)
    return str(created.result["id"])


@pytest.mark.parametrize(("key", "name"), ACTIONS)
async def test_a_rate_limited_call_is_retried_after_retry_after_then_not_repeated(
    key: str, name: str, client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    """429 (Google's own body, Retry-After: 1) → waited → done once; the same idempotency
    key then answers the first result without another provider request."""
    data = dict(next(iter(VALID_INPUTS[(key, name)].values())))
    if name == "update_event":
        data["event_id"] = await _an_event()
    at = provider_at(key)
    at.rate_limited = 1
    made = await _connected(make_integration, tenant, key)
    request = {"input": data, "idempotency_key": f"{name}-retry-1"}
    url = f"/api/integrations/{made.id}/actions/{name}"

    started = time.monotonic()
    first = await client.post(url, json=request, headers=tenant.headers)

    assert first.status_code == 200, first.text
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    body = first.json()
    assert body["action"] == name and body["status"] == "succeeded"
    assert set(body["result"]) == RESULT_KEYS[name]
    assert len(at.calls()) == 2
    assert at.calls()[0].headers["Authorization"] == at.calls()[1].headers["Authorization"]

    again = await client.post(url, json=request, headers=tenant.headers)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == body["result"]
    assert len(at.calls()) == 2, "the repeated key called the provider again"

    runs = await client.get(f"/api/integrations/{made.id}/actions/runs", headers=tenant.headers)
    (run,) = runs.json()["items"]
    assert run["attempts"] == 2 and run["status"] == "succeeded"
    for field in _action(key, name).redact_fields:
        if field in data:
            assert run["input"][field] == "[redacted]"
    for secret in ("Q1 roadmap", b64(PDF), "Hello"):
        if secret in json.dumps(data):
            assert secret not in runs.text


@pytest.mark.parametrize(("key", "name"), ACTIONS)
async def test_the_api_refuses_input_breaking_the_schema_without_calling_google(
    key: str, name: str, client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    at = provider_at(key)
    made = await _connected(make_integration, tenant, key)
    data, field = INVALID_INPUTS[(key, name)][0]

    response = await client.post(
        f"/api/integrations/{made.id}/actions/{name}", json={"input": data}, headers=tenant.headers
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert at.calls() == []


# -- test mode: the simulator answers as Google's description says ----------------------------


@pytest.mark.parametrize(("key", "name"), ACTIONS)
async def test_simulator_answers_conform_to_the_description(
    key: str, name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What test mode answers each action (Gmail's Message, Calendar's Event, Drive's File)
    is valid for the operation's response in Google's Discovery document (openapi-core)."""
    doc = json.loads(write_test_copy(key, tmp_path_factory.mktemp(key)).read_text("utf-8"))
    api = OpenAPI.from_dict(doc)
    simulator = _provider(key).simulator.transport()
    recorder = RecordingTransport(lambda request: simulator)
    async with httpx.AsyncClient(transport=recorder) as http:
        adapter = _simulated(key, http)
        for label, data in VALID_INPUTS[(key, name)].items():
            if name == "update_event":
                data = {**data, "event_id": await _an_event()}
            recorder.call = label
            await _run(adapter, key, name, data)
    assert [e.call for e in recorder.exchanges] == list(VALID_INPUTS[(key, name)])
    problems = [
        f"{e.call}: {error}"
        for e in recorder.exchanges
        for error in api.iter_response_errors(
            described_request(key, doc, e.request), described_response(e.response)
        )
    ]
    assert not problems, "simulator answers off the description:\n" + "\n".join(problems)


@pytest.mark.parametrize(("key", "name"), ACTIONS)
async def test_test_mode_answers_from_the_simulator_and_keeps_what_was_sent(
    key: str, name: str, client: Any, tenant: Any, make_integration: Any
) -> None:
    """A test-mode integration's action reaches no network: its simulator answers as Google
    does and keeps what would have been sent (the message, the event, the file)."""
    data = dict(next(iter(VALID_INPUTS[(key, name)].values())))
    if name == "update_event":
        data["event_id"] = await _an_event()
    made = await _connected(make_integration, tenant, key)
    await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)

    response = await client.post(
        f"/api/integrations/{made.id}/actions/{name}", json={"input": data}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    result = response.json()["result"]
    if key == "gmail":
        kept = gmail_simulator.SENT_MESSAGES[result["id"]]["message"]
        assert kept["Subject"] == data["subject"]
    elif key == "google_calendar":
        kept = calendar_simulator.EVENTS[f"test.user@example.com/{result['id']}"]
        assert result["url"] == kept["htmlLink"]
    else:
        kept = drive_simulator.UPLOADED_FILES[result["id"]]
        assert kept["content"] == base64.b64decode(data["content_base64"])


async def test_drive_gives_up_on_a_session_that_keeps_nothing(httpserver: HTTPServer) -> None:
    """A server answering every chunk 308 without Range (nothing kept) ends the upload after
    a bounded number of resends, as a provider failure the action API may retry."""
    session = httpserver.url_for("/upload/drive/v3/files") + "?uploadType=resumable&upload_id=S"
    httpserver.expect_request("/upload/drive/v3/files", method="POST").respond_with_response(
        Response(status=200, headers={"Location": session})
    )
    httpserver.expect_request("/upload/drive/v3/files", method="PUT").respond_with_response(
        Response(status=308)
    )
    content = b"y" * (drive_actions.MULTIPART_LIMIT + 1)
    data = {
        "name": "a.bin",
        "mime_type": "application/octet-stream",
        "content_base64": b64(content),
    }
    async with httpx.AsyncClient() as http:
        adapter = make_adapter(_provider("google_drive"), httpserver.url_for("/drive/v3"), http)
        with pytest.raises(ProviderError) as failed:
            await _run(adapter, "google_drive", "upload_file", data)
    assert failed.value.kind == FailureKind.PROVIDER_DOWN
    ranges = [r.headers["Content-Range"] for r, _ in httpserver.log if r.method == "PUT"]
    chunk = drive_actions.CHUNK_SIZE
    assert ranges == [f"bytes 0-{chunk - 1}/{len(content)}"] * 4

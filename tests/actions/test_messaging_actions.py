"""Messaging actions (issue 17): Slack post_message, Telegram send_message, WhatsApp
send_message, Twilio send_sms.

Evidence per action: its requests pass Prism serving the provider's published description
(tests/contract/provider_apis, the same test copies the adapter contract tests use); input
breaking its schema is refused 422 naming the field; the Telegram reply_markup arrives as
the Bot API documents it; the simulator answers as the provider does and records the send.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from openapi_core import OpenAPI

from backend.actions.services import validate_input
from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter
from backend.connectors.registry import Provider, load_provider
from backend.lib.errors import Problem
from tests.actions.provider_at import connected
from tests.contract.adapter_calls import RecordingTransport, make_adapter
from tests.contract.descriptions import write_test_copy
from tests.contract.prism import PrismServer, rejection, violations
from tests.contract.test_simulators_against_descriptions import (
    described_request,
    described_response,
)

MESSAGING = ("slack", "telegram", "whatsapp", "twilio")
ACTION_NAMES = {
    "slack": "post_message",
    "telegram": "send_message",
    "whatsapp": "send_message",
    "twilio": "send_sms",
}

# Inputs each action must send in a form its provider's description accepts.
VALID_INPUTS: dict[str, dict[str, dict[str, Any]]] = {
    "slack": {
        "text": {"channel": "C0123ABCDEF", "text": "Deploy finished :rocket:"},
        "blocks in a thread": {
            "channel": "C0123ABCDEF",
            "text": "Deploy finished",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* finished"}}
            ],
            "thread_ts": "1503435956.000247",
            "reply_broadcast": True,
            "unfurl_links": False,
        },
    },
    "telegram": {
        "text": {"chat_id": 123456789, "text": "Hello"},
        "keyboard, reply, markdown": {
            "chat_id": "@switchboard_news",
            "text": "*Order 42* shipped",
            "parse_mode": "MarkdownV2",
            "reply_to_message_id": 17,
            "allow_sending_without_reply": True,
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "Track", "url": "https://example.com/track/42"}],
                    [{"text": "Cancel", "callback_data": "cancel:42"}],
                ]
            },
        },
        "force reply": {
            "chat_id": -1001234567890,
            "text": "Your name?",
            "reply_markup": {"force_reply": True, "input_field_placeholder": "Name"},
        },
    },
    "whatsapp": {
        "text": {"to": "+16505551234", "text": "Your code is 123456", "preview_url": False},
        "template": {
            "to": "16505551234",
            "template": {
                "name": "order_confirmation",
                "language": "en_US",
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Jane"},
                            {
                                "type": "currency",
                                "currency": {
                                    "fallback_value": "$100.00",
                                    "code": "USD",
                                    "amount_1000": 100000,
                                },
                            },
                        ],
                    }
                ],
            },
            "reply_to": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
        },
    },
    "twilio": {
        "from a number": {
            "to": "+15558675310",
            "from": "+15017122661",
            "body": "Your order shipped",
            "status_callback": "https://example.com/twilio/status",
        },
        "from a messaging service": {
            "to": "+15558675310",
            "messaging_service_sid": "MG9752274e9e519418a7406176694466fa",
            "body": "Your order shipped",
            "validity_period": 600,
        },
    },
}

# Input that breaks the schema, and the field (JSON pointer) the 422 must name.
INVALID_INPUTS: dict[str, list[tuple[dict[str, Any], str]]] = {
    "slack": [
        ({"text": "no channel"}, "/input/channel"),
        ({"channel": "C0123ABCDEF", "text": "x", "thread_ts": "yesterday"}, "/input/thread_ts"),
        ({"channel": "C0123ABCDEF", "text": "x", "as_user": True}, "/input"),
    ],
    "telegram": [
        ({"chat_id": 1}, "/input/text"),
        ({"chat_id": 1, "text": "x", "parse_mode": "markdown"}, "/input/parse_mode"),
        (
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "two kinds", "url": "https://a.b", "pay": True}]]
                },
            },
            "/input/reply_markup",
        ),
    ],
    "whatsapp": [
        ({"to": "+16505551234"}, "/input"),
        ({"to": "not a number", "text": "x"}, "/input/to"),
        ({"to": "+16505551234", "template": {"name": "Bad Name", "language": "en_US"}}, ""),
    ],
    "twilio": [
        ({"to": "+15558675310", "from": "+15017122661"}, "/input/body"),
        ({"to": "5558675310", "from": "+15017122661", "body": "x"}, "/input/to"),
        ({"to": "+15558675310", "body": "x"}, "/input"),
    ],
}

# The normalized result each action promises.
RESULT_KEYS = {
    "slack": {"ts", "channel"},
    "telegram": {"message_id", "chat_id"},
    "whatsapp": {"id"},
    "twilio": {"sid", "status"},
}


def _provider(key: str) -> Provider:
    return load_provider(key, "backend.connectors.providers")


def _action(key: str) -> Action:
    return _provider(key).actions[ACTION_NAMES[key]]


async def _run(adapter: Adapter, key: str, data: dict[str, Any]) -> ActionResult:
    validate_input(_action(key), data)
    return await _action(key).run(adapter, ActionCall(input=data))


# -- declarations ------------------------------------------------------------------------


def test_declarations_match_the_providers_documents() -> None:
    """Scopes the spec can ask for, message content redacted, the input schema closed."""
    slack = _action("slack")
    assert slack.required_scopes == (("chat:write",),)
    oauth = _provider("slack").spec.oauth
    assert oauth is not None and "chat:write" in oauth.optional_scopes
    assert slack.redact_fields == ("text", "blocks", "message.text", "message.blocks")
    assert _action("telegram").redact_fields == ("text", "result.text")
    assert _action("whatsapp").redact_fields == ("text", "template")
    assert _action("twilio").redact_fields == ("body",)
    for key in MESSAGING:
        assert _action(key).input_schema["additionalProperties"] is False


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "data", "field"),
    [(key, data, field) for key, cases in INVALID_INPUTS.items() for data, field in cases],
)
def test_input_breaking_the_schema_is_refused_naming_the_field(
    key: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(Problem) as caught:
        validate_input(_action(key), data)
    assert caught.value.status == 422
    fields = [error.field for error in caught.value.errors]
    assert any(f.startswith(field) for f in fields), fields


@pytest.mark.parametrize(
    ("key", "name"), [(key, name) for key, inputs in VALID_INPUTS.items() for name in inputs]
)
def test_documented_inputs_are_accepted(key: str, name: str) -> None:
    validate_input(_action(key), VALID_INPUTS[key][name])


# -- against the published descriptions (Prism) ---------------------------------------------

# A Message as https://core.telegram.org/bots/api#message documents it, for sendMessage.
TELEGRAM_SENT = {
    "ok": True,
    "result": {
        "message_id": 4242,
        "from": {
            "id": 123456789,
            "is_bot": True,
            "first_name": "Switchboard Test",
            "username": "switchboard_test_bot",
        },
        "chat": {"id": 123456789, "type": "private", "first_name": "Jane"},
        "date": 1764230400,
        "text": "Hello",
    },
}


def telegram_send_message_example(doc: dict[str, Any]) -> None:
    """Prism cannot generate the community description's recursive `Message` and answers a
    valid sendMessage with 500 SCHEMA_TOO_COMPLEX (see provider_apis/README.md): the 200
    answer gets a documented Message as its example, which Prism serves (and checks against
    the schema: a response violation fails the test)."""
    response = doc["paths"]["/bot{token}/sendMessage"]["post"]["responses"]["200"]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = json.loads(json.dumps(doc["components"]["responses"][name]))
        doc["paths"]["/bot{token}/sendMessage"]["post"]["responses"]["200"] = response
    response["content"]["application/json"]["example"] = TELEGRAM_SENT


@dataclass(frozen=True, slots=True)
class Served:
    key: str
    prism: PrismServer
    api_base_url: str


def _test_copy(key: str, directory: Path) -> Path:
    document = write_test_copy(key, directory)
    if key == "telegram":
        doc = json.loads(document.read_text(encoding="utf-8"))
        telegram_send_message_example(doc)
        document.write_text(json.dumps(doc), encoding="utf-8")
    return document


@pytest.fixture(scope="module", params=MESSAGING)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Prism for one provider's description, started once and stopped by its PID."""
    key = request.param
    document = _test_copy(key, tmp_path_factory.mktemp(key))
    doc = json.loads(document.read_text(encoding="utf-8"))
    # Prism ignores the server's path (Slack's /api); the rest of the API base (WhatsApp's
    # /v21.0) is part of the description's paths.
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
    async with to_prism, httpx.AsyncClient(transport=recorder, timeout=30) as http:
        adapter = make_adapter(provider, served.api_base_url, http)
        for name, data in VALID_INPUTS[served.key].items():
            recorder.call = name
            result = await _run(adapter, served.key, data)
            assert set(result.result) >= RESULT_KEYS[served.key], name
            assert all(result.result[k] not in (None, "") for k in RESULT_KEYS[served.key])
        assert [e.call for e in recorder.exchanges] == list(VALID_INPUTS[served.key])
        refused = [f"{e.call}: {r}" for e in recorder.exchanges if (r := rejection(e.response))]
        assert not refused, "Prism refused requests:\n" + "\n".join(refused)
        if served.key == "telegram":
            # The documented Message served as the answer is valid for the description.
            assert not [v for e in recorder.exchanges for v in violations(e.response)]

    # Control: the same requests with the required content removed are refused, so the
    # description really checked these bodies (Prism skips schemas it cannot compile).
    async with httpx.AsyncClient(timeout=30) as http:
        for exchange in recorder.exchanges:
            headers = {k: v for k, v in exchange.request.headers.items() if k != "content-length"}
            answer = await http.request(
                exchange.request.method,
                exchange.request.url,
                headers=headers,
                content=_without_required(exchange.request),
            )
            assert rejection(answer), f"{exchange.call}: Prism accepted a body without content"


def _without_required(request: httpx.Request) -> bytes:
    """The request's body with what the description requires taken out: a JSON body becomes
    `[]`; a form loses its first field (Slack's channel, Twilio's To)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return b"[]"
    fields = parse_qsl(request.content.decode())
    assert fields[0][0] in ("channel", "To"), fields
    return urlencode(fields[1:]).encode()


# -- through the actions API, the provider at a local server ---------------------------------

# Credentials shaped as each provider issues them (the simulators' samples); Slack's token
# must hold chat:write.
SCOPES = {"slack": ["channels:read", "chat:write"]}


# The API base each provider's requests go to on the local server (its path, as live).
async def _connected(make_integration: Any, tenant: Any, key: str) -> Any:
    return await connected(make_integration, tenant, key, scopes=SCOPES.get(key))


def _url(made: Any, key: str, suffix: str = "") -> str:
    return f"/api/integrations/{made.id}/actions/{ACTION_NAMES[key]}{suffix}"


@pytest.mark.parametrize("key", MESSAGING)
async def test_a_rate_limited_send_is_retried_after_retry_after_then_not_repeated(
    key: str, client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    """429 (the provider's own shape, Retry-After: 1) → waited → sent once; the same
    idempotency key then answers the first result without another provider request."""
    at = provider_at(key)
    at.rate_limited = 1
    made = await _connected(make_integration, tenant, key)
    name, data = next(iter(VALID_INPUTS[key].items()))
    request = {"input": data, "idempotency_key": f"{key}-{name.replace(' ', '-')}-1"}

    started = time.monotonic()
    first = await client.post(_url(made, key), json=request, headers=tenant.headers)

    assert first.status_code == 200, first.text
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    body = first.json()
    assert body["status"] == "succeeded"
    assert set(body["result"]) >= RESULT_KEYS[key]
    assert len(at.calls()) == 2

    again = await client.post(_url(made, key), json=request, headers=tenant.headers)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == body["result"]
    assert len(at.calls()) == 2, "the repeated key called the provider again"

    runs = await client.get(_url(made, key).rsplit("/", 1)[0] + "/runs", headers=tenant.headers)
    (run,) = runs.json()["items"]
    assert run["attempts"] == 2 and run["status"] == "succeeded"
    for field in _action(key).redact_fields:
        if field in data:
            assert run["input"][field] != data[field]
    # Neither the stored input nor the stored provider answer (which echoes it) shows it.
    assert data.get("text", data.get("body", "\0")) not in runs.text


@pytest.mark.parametrize("key", MESSAGING)
async def test_the_api_refuses_input_breaking_the_schema_without_calling_the_provider(
    key: str, client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    at = provider_at(key)
    made = await _connected(make_integration, tenant, key)
    data, field = INVALID_INPUTS[key][0]

    response = await client.post(_url(made, key), json={"input": data}, headers=tenant.headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text
    assert at.calls() == []


async def test_telegram_reply_markup_arrives_as_the_bot_api_documents(
    client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    """https://core.telegram.org/bots/api#sendmessage: a JSON body whose reply_markup is an
    InlineKeyboardMarkup object (rows of InlineKeyboardButton), and the reply as
    reply_parameters (https://core.telegram.org/bots/api#replyparameters)."""
    at = provider_at("telegram")
    made = await _connected(make_integration, tenant, "telegram")
    data = VALID_INPUTS["telegram"]["keyboard, reply, markdown"]

    response = await client.post(
        _url(made, "telegram"), json={"input": data}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    (sent,) = at.calls()
    token = _provider("telegram").simulator.sample_credentials["bot_token"]
    assert sent.method == "POST" and sent.path == f"/bot{token}/sendMessage"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.get_data()) == {
        "chat_id": "@switchboard_news",
        "text": "*Order 42* shipped",
        "parse_mode": "MarkdownV2",
        "reply_parameters": {"message_id": 17, "allow_sending_without_reply": True},
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Track", "url": "https://example.com/track/42"}],
                [{"text": "Cancel", "callback_data": "cancel:42"}],
            ]
        },
    }
    result = response.json()["result"]
    assert result["chat_id"] == -1001234567890 and isinstance(result["message_id"], int)
    assert token not in response.text


async def test_slack_ok_false_fails_the_run_with_slacks_error_and_no_retry(
    client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    """Slack answers HTTP 200 with ok:false (https://docs.slack.dev/reference/methods/
    chat.postMessage#errors): the spec's error table makes it a permanent failure, answered
    422 with Slack's code, never retried."""
    at = provider_at("slack")
    at.answer = {"ok": False, "error": "channel_not_found"}
    made = await _connected(make_integration, tenant, "slack")

    response = await client.post(
        _url(made, "slack"),
        json={"input": {"channel": "C0NOTHERE00", "text": "hi"}},
        headers=tenant.headers,
    )

    assert response.status_code == 422, response.text
    assert "channel_not_found" in response.json()["detail"]
    assert len(at.calls()) == 1


async def test_test_mode_records_what_would_have_been_sent() -> None:
    """Each simulator answers the send as its provider does and keeps what was sent."""
    from backend.connectors.providers.slack import simulator as slack
    from backend.connectors.providers.telegram import simulator as telegram
    from backend.connectors.providers.twilio import simulator as twilio
    from backend.connectors.providers.whatsapp import simulator as whatsapp

    records = {
        "slack": slack.SENT_MESSAGES,
        "telegram": telegram.SENT_MESSAGES,
        "whatsapp": whatsapp.SENT_MESSAGES,
        "twilio": twilio.SENT_MESSAGES,
    }
    for key in MESSAGING:
        provider = _provider(key)
        async with httpx.AsyncClient(transport=provider.simulator.transport()) as http:
            adapter = make_adapter(provider, provider.spec.api_base_url, http)
            for name, data in VALID_INPUTS[key].items():
                result = await _run(adapter, key, data)
                kept = json.dumps(records[key])
                assert set(result.result) >= RESULT_KEYS[key], (key, name)
                sent_text = data.get("text") or data.get("body")
                if sent_text:
                    assert json.dumps(sent_text)[1:-1] in kept, (key, name)
    (twilio_sent,) = [m for m in twilio.SENT_MESSAGES.values() if m["messaging_service_sid"]][-1:]
    assert twilio_sent["status"] == "accepted" and twilio_sent["sid"].startswith("SM")


@pytest.mark.parametrize("key", MESSAGING)
async def test_simulator_answers_to_the_sends_conform_to_the_description(
    key: str, tmp_path: Path
) -> None:
    """Test mode answers a send as the provider's published description says it answers."""
    doc = json.loads(_test_copy(key, tmp_path).read_text(encoding="utf-8"))
    api = OpenAPI.from_dict(doc)
    provider = _provider(key)
    simulator = provider.simulator.transport()
    recorder = RecordingTransport(lambda request: simulator)
    async with httpx.AsyncClient(transport=recorder) as http:
        adapter = make_adapter(provider, provider.spec.api_base_url, http)
        for name, data in VALID_INPUTS[key].items():
            recorder.call = name
            await _run(adapter, key, data)

    assert len(recorder.exchanges) == len(VALID_INPUTS[key])
    problems = [
        f"{exchange.call}: {error}"
        for exchange in recorder.exchanges
        for error in api.iter_response_errors(
            described_request(key, doc, exchange.request), described_response(exchange.response)
        )
    ]
    assert not problems, problems


@pytest.mark.parametrize("key", ["telegram", "whatsapp", "twilio"])
async def test_test_mode_sends_to_the_simulator_with_its_faults(
    key: str, client: Any, make_tenant: Any
) -> None:
    """A test-mode integration's send reaches only the simulator, which records it; a
    rate-limit fault set on the integration is answered in the provider's shape and retried."""
    from tests.testmode.conftest import connect_test_mode

    tenant = await make_tenant(f"test-mode-{key}")
    integration_id = await connect_test_mode(client, tenant.headers, key)
    fault = await client.put(
        f"/api/integrations/{integration_id}/faults",
        json={"kind": "rate_limit", "count": 1, "retry_after": 1},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text
    data = next(iter(VALID_INPUTS[key].values()))

    response = await client.post(
        f"/api/integrations/{integration_id}/actions/{ACTION_NAMES[key]}",
        json={"input": data},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    result = response.json()["result"]
    simulator = importlib.import_module(f"backend.connectors.providers.{key}.simulator")
    kept = {"telegram": f"{result.get('chat_id')}/{result.get('message_id')}"}.get(key)
    sent = simulator.SENT_MESSAGES[kept or result.get("id") or result.get("sid")]
    assert json.dumps(data.get("text") or data.get("body")) in json.dumps(sent)
    runs = await client.get(
        f"/api/integrations/{integration_id}/actions/runs", headers=tenant.headers
    )
    (run,) = runs.json()["items"]
    assert run["attempts"] == 2 and run["status"] == "succeeded"

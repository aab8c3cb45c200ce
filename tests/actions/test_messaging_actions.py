"""Messaging actions (issue 17): Slack post_message, Telegram send_message, WhatsApp
send_message, Twilio send_sms.

Evidence per action: its requests pass Prism serving the provider's published description
(tests/contract/provider_apis, the same test copies the adapter contract tests use); input
breaking its schema is refused 422 naming the field; the Telegram reply_markup arrives as
the Bot API documents it; the simulator answers as the provider does and records the send.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from backend.actions.services import validate_input
from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter
from backend.connectors.registry import Provider, load_provider
from backend.lib.errors import Problem
from tests.contract.adapter_calls import RecordingTransport, make_adapter
from tests.contract.descriptions import write_test_copy
from tests.contract.prism import PrismServer, rejection, violations

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
    assert slack.redact_fields == ("text", "blocks")
    assert _action("telegram").redact_fields == ("text",)
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
    return httpx.QueryParams(fields[1:]).__str__().encode()

"""Connector default mappings: every shipped default compiles, provider folders hold data
only, and the main event types map the recorded provider payloads as documented."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from backend.connectors.registry import get_provider, providers
from backend.mappings.apply import event_document
from backend.mappings.defaults import default_mapping, default_rules, payload_source
from tests.ingest.support import fixture

PROVIDERS = Path(__file__).resolve().parents[2] / "backend" / "connectors" / "providers"
SHIPPED = sorted(k for k in providers() if (PROVIDERS / k / "mappings.py").is_file())


@pytest.mark.parametrize("connector", sorted(providers()))
def test_every_default_compiles_and_the_folder_holds_data_only(connector: str) -> None:
    for source in default_rules(connector):
        mapping = default_mapping(connector, source)
        assert mapping is not None and mapping.version == 0 and mapping.rules
    module = PROVIDERS / connector / "mappings.py"
    if module.exists():
        tree = ast.parse(module.read_text())
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert imports == [], "a provider's mappings.py is data: it imports nothing"


def test_streams_and_main_event_types_have_defaults() -> None:
    assert set(SHIPPED) >= {
        *("github", "gmail", "google_calendar", "google_drive", "jira", "paypal"),
        *("slack", "stripe", "telegram", "twilio", "whatsapp"),
    }
    assert default_rules("webhook") == {}  # a generic sender's shape is unknown
    for connector in SHIPPED:
        sources = set(default_rules(connector))
        streams = {s.name for s in get_provider(connector).spec.streams}
        assert streams <= sources, (connector, streams - sources)


def mapped(connector: str, source: str, body: bytes, headers: dict[str, str]) -> Any:
    handler = get_provider(connector).webhook
    assert handler is not None
    normalized = handler.normalize(body, headers)
    assert normalized.type == source
    mapping = default_mapping(connector, source) or default_mapping(connector, "*")
    assert mapping is not None
    result = mapping.apply(event_document(connector, body, normalized.data))
    assert result.errors == []
    return result.mapped


JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_github_issue() -> None:
    body = fixture("github", "issues__opened.json")
    result = mapped("github", "issues.opened", body, {**JSON, "x-github-event": "issues"})
    assert {k: result[k] for k in ("title", "state", "author", "url", "created_at")} == {
        "title": "Spelling error in the README file",
        "state": "open",
        "author": "Codertocat",
        "url": "https://github.com/Codertocat/Hello-World/issues/1",
        "created_at": "2019-05-15T15:20:18Z",
    }


def test_github_push_branch() -> None:
    body = fixture("github", "push__new_branch.json")
    result = mapped("github", "push", body, {**JSON, "x-github-event": "push"})
    assert result["branch"] == "master"  # refs/heads/master, by regex_extract
    assert result["repository"] == "Codertocat/Hello-World"


def test_stripe_charge_in_major_units() -> None:
    result = mapped("stripe", "charge.succeeded", fixture("stripe", "charge__succeeded.json"), JSON)
    assert result == {
        "amount": 10.99,
        "currency": "USD",
        "customer": "cus_NffrFeUfNV2Hib",
        "paid_at": "2023-03-29T04:27:08Z",
        "status": "succeeded",
    }


def test_stripe_invoice_and_subscription() -> None:
    invoice = mapped("stripe", "invoice.paid", fixture("stripe", "invoice__paid.json"), JSON)
    assert (invoice["amount"], invoice["currency"]) == (20.0, "USD")
    subscription = mapped(
        "stripe",
        "customer.subscription.updated",
        fixture("stripe", "customer_subscription__updated.json"),
        JSON,
    )
    assert subscription["status"] == "active"
    assert subscription["current_period_end"].endswith("Z")


def test_other_providers_main_events() -> None:
    jira = mapped("jira", "jira:issue_created", fixture("jira", "jira_issue__created.json"), JSON)
    assert jira["key"] == "ED-1" and jira["created_at"] == "2024-06-10T16:00:00.123000Z"
    paypal = mapped(
        "paypal",
        "PAYMENT.CAPTURE.COMPLETED",
        fixture("paypal", "payment_capture__completed.json"),
        JSON,
    )
    assert (paypal["amount"], paypal["currency"]) == (30.0, "USD")
    slack = mapped("slack", "message", fixture("slack", "event_callback__message.json"), JSON)
    assert slack["text"] == "Live long and prospect."
    assert slack["sent_at"] == "2012-12-14T20:38:43.000005Z"
    telegram = mapped("telegram", "message", fixture("telegram", "update__message.json"), JSON)
    assert telegram == {
        "chat_id": 1111111,
        "from": "Testusername",
        "text": "/start",
        "sent_at": "2015-09-07T17:05:32Z",
    }
    whatsapp = mapped("whatsapp", "message.text", fixture("whatsapp", "messages__text.json"), JSON)
    assert whatsapp["body"] and whatsapp["sent_at"].endswith("Z")
    twilio = mapped("twilio", "sms.inbound", fixture("twilio", "sms__inbound.form"), FORM)
    assert twilio["body"] and twilio["media_count"] == 0


def test_event_documents() -> None:
    # The delivered JSON object, so every field the provider sent can be mapped...
    assert event_document("github", b'{"issue": {"id": 1}}', {"x": 1}) == {"issue": {"id": 1}}
    # ...the normalized data for forms, JSON that is not an object, or bad bytes...
    assert event_document("twilio", b"Body=hi&From=%2B1", {"body": "hi"}) == {"body": "hi"}
    assert event_document("webhook", b"[1, 2]", {"value": [1, 2]}) == {"value": [1, 2]}
    assert event_document("webhook", b"{not json", {"text": "{not json"}) == {"text": "{not json"}
    # ...and for a connector whose data is the useful view (Gmail's push is base64 inside).
    assert payload_source("gmail") == "data" and payload_source("github") == "payload"
    assert event_document("gmail", b'{"message": {}}', {"history_id": "9"}) == {"history_id": "9"}

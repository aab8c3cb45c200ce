"""GitHub, Jira, HubSpot, Stripe and PayPal actions (issue 17).

- Every request an action sends is checked by Prism against the provider's published API
  description (tests/contract/provider_apis), including Stripe's form encoding with nested
  `metadata[key]`; a control body Prism must refuse proves the body is really validated.
  HubSpot has no description (its folder's NO_API_DESCRIPTION): its request and the
  simulator's answer are held to the documented example bodies instead.
- Input schemas: the framework's schema check (`validate_input`) refuses bad input with a
  422 naming the field.
- Idempotency at the provider: Stripe's `Idempotency-Key` and PayPal's `PayPal-Request-Id`
  carry the caller's key, and the simulators answer a repeat with the first answer.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI

from backend.actions.services import validate_input
from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.providers.github import simulator as github_sim
from backend.connectors.providers.hubspot import simulator as hubspot_sim
from backend.connectors.providers.jira import simulator as jira_sim
from backend.connectors.providers.jira.actions import adf_document
from backend.connectors.providers.paypal import simulator as paypal_sim
from backend.connectors.providers.stripe import simulator as stripe_sim
from backend.connectors.registry import Provider, providers
from backend.lib.errors import Problem
from backend.lib.vocab import FailureKind
from tests.actions.provider_at import connected
from tests.connectors.test_event_generators import _nullable_as_oas31
from tests.contract.adapter_calls import RecordingTransport, make_adapter
from tests.contract.descriptions import (
    DESCRIBED,
    DOCUMENTS,
    through_gateway,
    undescribed_reason,
    write_test_copy,
)
from tests.contract.prism import PrismServer, rejection
from tests.contract.test_simulators_against_descriptions import (
    described_request,
    described_response,
)

# One valid input per action, as a caller would send it.
INPUTS: dict[tuple[str, str], dict[str, Any]] = {
    ("github", "create_issue"): {
        "title": "Found a bug",
        "body": "I'm having a problem with this.",
        "labels": ["bug"],
        "assignees": ["octocat"],
    },
    ("github", "comment"): {"issue_number": 1347, "body": "Me too"},
    ("jira", "create_issue"): {
        "project_key": "ED",
        "issue_type": "Bug",
        "summary": "Main order flow broken",
        "description": "Steps:\nopen the cart\n\nExpected: it opens.",
        "labels": ["bugfix", "blitz_test"],
    },
    ("jira", "transition_issue"): {"issue": "ED-24", "transition_name": "Close Issue"},
    ("hubspot", "upsert_contact"): {
        "email": "bcooper@biglytics.net",
        "properties": {"firstname": "Bryan", "lastname": "Cooper", "phone": "(877) 929-0687"},
    },
    ("stripe", "create_customer"): {
        "email": "jenny.rosen@example.com",
        "name": "Jenny Rosen",
        "metadata": {"order_id": "6735", "tenant ref": "t-1"},
    },
    ("stripe", "create_refund"): {
        "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "amount": 500,
        "reason": "requested_by_customer",
        "metadata": {"ticket": "T-42"},
    },
    ("paypal", "create_order"): {
        "currency_code": "USD",
        "amount": "100.00",
        "reference_id": "d9f80740-38f0-11e8-b467-0ed5f89f718b",
        "return_url": "https://shop.example.com/paypal/return",
        "cancel_url": "https://shop.example.com/paypal/cancel",
    },
    ("paypal", "refund_capture"): {
        "capture_id": "2GG279541U471931P",
        "amount": "10.00",
        "currency_code": "USD",
        "invoice_id": "INVOICE-123",
        "note_to_payer": "Defective product",
    },
}
# The normalized result each action promises.
RESULT_KEYS: dict[tuple[str, str], set[str]] = {
    ("github", "create_issue"): {"id", "number", "url"},
    ("github", "comment"): {"id", "number", "url"},
    ("jira", "create_issue"): {"id", "key", "url"},
    ("jira", "transition_issue"): {"key", "transition_id"},
    ("hubspot", "upsert_contact"): {"id"},
    ("stripe", "create_customer"): {"id"},
    ("stripe", "create_refund"): {"id", "status"},
    ("paypal", "create_order"): {"id", "status", "approve_url"},
    ("paypal", "refund_capture"): {"id", "status"},
}
IDEMPOTENCY_HEADER = {"stripe": "Idempotency-Key", "paypal": "PayPal-Request-Id"}
PRISM_KEYS = ["github", "jira", "stripe", "paypal"]


def _action(key: str, name: str) -> Action:
    return providers()[key].actions[name]


def test_every_action_of_these_connectors_is_exercised() -> None:
    declared = {
        (k, n)
        for k in ("github", "jira", "hubspot", "stripe", "paypal")
        for n in providers()[k].actions
    }
    assert declared == set(INPUTS) == set(RESULT_KEYS)


# -- Prism: requests against the published descriptions --------------------------------------
@dataclass(frozen=True, slots=True)
class Served:
    provider: Provider
    prism: PrismServer


@pytest.fixture(scope="module", params=PRISM_KEYS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    provider = providers()[request.param]
    document = write_test_copy(provider.key, tmp_path_factory.mktemp(provider.key))
    with PrismServer(document) as prism:
        yield Served(provider, prism)


async def _run_against_prism(
    served: Served, name: str, key: str | None
) -> tuple[ActionResult, list[httpx.Request], list[httpx.Response]]:
    """Run one action with its adapter on Prism (PayPal's token call, which no document
    describes, goes to the simulator); returns the result and the described exchanges."""
    provider = served.provider
    to_prism = httpx.AsyncHTTPTransport()
    to_simulator = provider.simulator.transport()

    def route(request: httpx.Request) -> httpx.AsyncBaseTransport:
        if undescribed_reason(provider.key, request.url):
            return to_simulator
        assert request.url.port == served.prism.port, f"left the API base: {request.url}"
        return to_prism

    recorder = RecordingTransport(route, rewrite=lambda url: through_gateway(provider.key, url))
    recorder.call = name
    async with to_prism, httpx.AsyncClient(transport=recorder, timeout=30) as http:
        adapter = make_adapter(provider, served.prism.url, http)
        call = ActionCall(input=INPUTS[provider.key, name], idempotency_key=key)
        result = await provider.actions[name].run(adapter, call)
    described = [
        e for e in recorder.exchanges if not undescribed_reason(provider.key, e.request.url)
    ]
    return result, [e.request for e in described], [e.response for e in described]


def _refusal(response: httpx.Response) -> str | None:
    """`rejection`, also when Prism's own generated answer broke PayPal's response schemas so
    often that `sl-violations` holds "Too many violations! [...]" (cut short, not JSON): a
    request it refused is still a 4xx, and any request violation it lists is reported."""
    raw = response.headers.get("sl-violations", "")
    if raw.startswith("Too many violations!"):
        if '"location":["request"' in raw:
            return f"{response.status_code}: {raw[:500]}"
        headers = {k: v for k, v in response.headers.items() if k.lower() != "sl-violations"}
        response = httpx.Response(response.status_code, headers=headers, content=response.content)
    return rejection(response)


async def _control_refused(request: httpx.Request) -> bool:
    """Prism refuses the same request with a body the description forbids: `[]` for JSON;
    for Stripe's forms a flat `metadata=flat` (Prism ignores undeclared form fields but
    checks types, so this also shows `metadata[key]` is read as the nested object)."""
    headers = {k: v for k, v in request.headers.items() if k != "content-length"}
    if request.headers.get("content-type", "").startswith("application/json"):
        body = b"[]"
    else:
        body = b"metadata=flat"
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.request(request.method, request.url, headers=headers, content=body)
    return _refusal(answer) is not None


async def test_each_action_request_conforms_to_the_providers_description(served: Served) -> None:
    key = served.provider.key
    for name in served.provider.actions:
        result, requests, responses = await _run_against_prism(served, name, "order-6735-v1")

        refused = [
            f"{q.method} {q.url.path}: {reason}"
            for q, r in zip(requests, responses, strict=True)
            if (reason := _refusal(r))
        ]
        assert not refused, f"{key}.{name}: Prism refused " + "; ".join(refused)
        assert requests, f"{key}.{name} sent nothing to the provider's API"
        assert set(result.result) == RESULT_KEYS[key, name]
        assert result.result.get("id") or result.result.get("key")
        for request in requests:
            if request.method == "POST" and request.content:
                assert await _control_refused(request), f"{key}.{name}: control body accepted"


@pytest.mark.parametrize("served", ["stripe"], indirect=True)
async def test_stripe_sends_nested_metadata_as_form_fields(served: Served) -> None:
    _, requests, responses = await _run_against_prism(served, "create_customer", None)
    request = requests[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = httpx.QueryParams(request.content.decode())
    assert form["metadata[order_id]"] == "6735"
    assert form["metadata[tenant ref]"] == "t-1"
    assert form["email"] == "jenny.rosen@example.com"
    assert _refusal(responses[0]) is None


@pytest.mark.parametrize("served", sorted(IDEMPOTENCY_HEADER), indirect=True)
async def test_provider_idempotency_header_carries_the_callers_key(served: Served) -> None:
    header = IDEMPOTENCY_HEADER[served.provider.key]
    for name in served.provider.actions:
        _, requests, _ = await _run_against_prism(served, name, "order-6735-v1")
        assert [r.headers.get(header) for r in requests] == ["order-6735-v1"]
        # Without a key none is made up: a fresh one per attempt would defeat retries.
        _, requests, _ = await _run_against_prism(served, name, None)
        assert all(header.lower() not in r.headers for r in requests)
        # A key longer than the provider takes is hashed to a stable key that fits.
        long_key = "k" * 300
        _, first, responses = await _run_against_prism(served, name, long_key)
        _, second, _ = await _run_against_prism(served, name, long_key)
        assert first[0].headers[header] == second[0].headers[header] != long_key
        assert len(first[0].headers[header]) <= 108
        assert _refusal(responses[0]) is None


# -- the framework's schema check -------------------------------------------------------------
BAD_INPUTS = [
    ("github", "create_issue", {"body": "no title"}, "/input/title"),
    ("github", "create_issue", {"title": "x", "repository": "not a repo"}, "/input/repository"),
    ("github", "comment", {"issue_number": 0, "body": "hi"}, "/input/issue_number"),
    ("github", "comment", {"issue_number": 1, "body": "hi", "extra": 1}, "/input"),
    (
        "jira",
        "create_issue",
        {"project_key": "ed", "issue_type": "Bug", "summary": "s"},
        "/input/project_key",
    ),
    ("jira", "create_issue", {"project_key": "ED", "issue_type": "Bug"}, "/input/summary"),
    ("jira", "transition_issue", {"issue": "ED-1"}, "/input"),
    (
        "jira",
        "transition_issue",
        {"issue": "ED-1", "transition_id": "2", "transition_name": "Done"},
        "/input",
    ),
    ("hubspot", "upsert_contact", {"email": "not-an-email"}, "/input/email"),
    (
        "hubspot",
        "upsert_contact",
        {"email": "a@example.com", "properties": {"email": "b@x.io"}},
        "/input/properties",
    ),
    (
        "hubspot",
        "upsert_contact",
        {"email": "a@example.com", "properties": {"age": 3}},
        "/input/properties/age",
    ),
    ("stripe", "create_customer", {"metadata": {"k": 1}}, "/input/metadata/k"),
    ("stripe", "create_customer", {"email": "a@example.com", "balance": 5}, "/input"),
    ("stripe", "create_refund", {"amount": 100}, "/input"),
    ("stripe", "create_refund", {"charge": "ch_1", "amount": 0}, "/input/amount"),
    ("stripe", "create_refund", {"charge": "ch_1", "reason": "changed mind"}, "/input/reason"),
    ("paypal", "create_order", {"currency_code": "usd", "amount": "1.00"}, "/input/currency_code"),
    ("paypal", "create_order", {"currency_code": "USD", "amount": "1.005"}, "/input/amount"),
    (
        "paypal",
        "create_order",
        {"currency_code": "USD", "amount": "1", "cancel_url": "https://a.b"},
        "/input",
    ),
    ("paypal", "refund_capture", {"capture_id": "2GG279541U471931P", "amount": "1.00"}, "/input"),
]


@pytest.mark.parametrize(("key", "name", "data", "field"), BAD_INPUTS)
def test_bad_input_is_a_422_naming_the_field(
    key: str, name: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(Problem) as raised:
        validate_input(_action(key, name), data)
    assert raised.value.status == 422
    assert field in [e.field for e in raised.value.errors]


@pytest.mark.parametrize(("key", "name"), sorted(INPUTS))
def test_documented_inputs_pass_the_schema_check(key: str, name: str) -> None:
    validate_input(_action(key, name), INPUTS[key, name])


# -- test mode: the simulators answer and record what would have been sent -------------------
_CLIENTS: list[httpx.AsyncClient] = []


async def _on(key: str, transport: httpx.AsyncBaseTransport) -> Adapter:
    """`key`'s adapter (sample credentials and config) sending through `transport`."""
    provider = providers()[key]
    http = httpx.AsyncClient(transport=transport)
    _CLIENTS.append(http)
    return make_adapter(provider, provider.spec.api_base_url, http)


@pytest.fixture
async def simulated() -> AsyncIterator[dict[str, Adapter]]:
    """Each connector's adapter on its own simulator (sample credentials and config)."""
    adapters: dict[str, Adapter] = {}
    for key in ("github", "jira", "hubspot", "stripe", "paypal"):
        adapters[key] = await _on(key, providers()[key].simulator.transport())
    yield adapters
    while _CLIENTS:
        await _CLIENTS.pop().aclose()


async def _run(
    adapters: dict[str, Adapter], key: str, name: str, data: dict[str, Any], idem: str | None = None
) -> ActionResult:
    validate_input(_action(key, name), data)
    return await _action(key, name).run(adapters[key], ActionCall(data, idem))


async def test_github_simulator_records_the_issue_and_comment(
    simulated: dict[str, Adapter],
) -> None:
    issue = await _run(simulated, "github", "create_issue", INPUTS["github", "create_issue"])
    assert github_sim.ISSUES[str(issue.result["id"])]["title"] == "Found a bug"
    assert issue.result["url"] == (
        f"https://github.com/octocat/Hello-World/issues/{issue.result['number']}"
    )
    data = {"issue_number": issue.result["number"], "body": "Me too"}
    comment = await _run(simulated, "github", "comment", data)
    assert github_sim.COMMENTS[str(comment.result["id"])]["body"] == "Me too"
    assert comment.result["url"].endswith(f"#issuecomment-{comment.result['id']}")


async def test_github_needs_a_repository(simulated: dict[str, Adapter]) -> None:
    simulated["github"].ctx.config.pop("repository")
    with pytest.raises(ProviderError) as raised:
        await _run(simulated, "github", "create_issue", {"title": "t"})
    assert raised.value.kind == FailureKind.MISCONFIGURED
    created = await _run(
        simulated, "github", "create_issue", {"title": "t", "repository": "octo/other"}
    )
    assert created.result["url"].startswith("https://github.com/octo/other/issues/")


async def test_jira_issue_is_created_with_adf_and_transitioned_by_name(
    simulated: dict[str, Adapter],
) -> None:
    created = await _run(simulated, "jira", "create_issue", INPUTS["jira", "create_issue"])
    key = created.result["key"]
    sent = jira_sim.ISSUES[key]["fields"]
    assert sent["description"] == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Steps:"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "open the cart"},
                ],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "Expected: it opens."}]},
        ],
    }
    assert created.result["url"] == f"https://your-domain.atlassian.net/browse/{key}"

    moved = await _run(
        simulated, "jira", "transition_issue", {"issue": key, "transition_name": "done"}
    )
    assert moved.result == {"key": key, "transition_id": "31"}
    assert jira_sim.ISSUES[key]["status"] == "Done"
    with pytest.raises(ProviderError) as raised:
        await _run(simulated, "jira", "transition_issue", {"issue": key, "transition_name": "Nope"})
    assert "In Progress" in raised.value.message and "To Do" in raised.value.message


def test_adf_of_empty_and_crlf_text() -> None:
    assert adf_document("") == {"type": "doc", "version": 1, "content": []}
    assert adf_document("a\r\nb")["content"][0]["content"] == [
        {"type": "text", "text": "a"},
        {"type": "hardBreak"},
        {"type": "text", "text": "b"},
    ]


async def test_jira_without_cloud_id_is_misconfigured(simulated: dict[str, Adapter]) -> None:
    simulated["jira"].ctx.config.pop("cloud_id")
    with pytest.raises(ProviderError) as raised:
        await _run(simulated, "jira", "create_issue", INPUTS["jira", "create_issue"])
    assert raised.value.kind == FailureKind.MISCONFIGURED


async def test_hubspot_upsert_by_email_as_documented(simulated: dict[str, Adapter]) -> None:
    """No description of HubSpot's API exists to run Prism on: the request and answer are
    held to the documented bodies of the batch upsert reference page."""
    sent: list[httpx.Request] = []
    transport = providers()["hubspot"].simulator.transport()

    async def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return await transport.handle_async_request(request)

    simulated["hubspot"] = await _on("hubspot", httpx.MockTransport(record))
    first = await _run(simulated, "hubspot", "upsert_contact", INPUTS["hubspot", "upsert_contact"])
    again = await _run(
        simulated,
        "hubspot",
        "upsert_contact",
        {"email": "BCooper@biglytics.net", "properties": {"jobtitle": "CTO"}},
    )

    assert first.result == again.result == {"id": first.result["id"]}
    assert sent[0].url.path == "/crm/v3/objects/contacts/batch/upsert"
    assert sent[0].headers["authorization"].startswith("Bearer ")
    body = httpx.Response(200, content=sent[0].content).json()
    assert body == {
        "inputs": [
            {
                "id": "bcooper@biglytics.net",
                "idProperty": "email",
                "properties": {
                    "firstname": "Bryan",
                    "lastname": "Cooper",
                    "phone": "(877) 929-0687",
                    "email": "bcooper@biglytics.net",
                },
            }
        ]
    }
    answer = first.provider_response
    assert {"status", "results", "startedAt", "completedAt"} <= set(answer)
    documented = {"id", "properties", "createdAt", "updatedAt", "archived", "new"}
    assert documented <= set(answer["results"][0])
    assert answer["results"][0]["new"] is True
    assert again.provider_response["results"][0]["new"] is False
    contact = hubspot_sim.CONTACTS["bcooper@biglytics.net"]
    assert contact["properties"]["jobtitle"] == "CTO"
    assert contact["properties"]["firstname"] == "Bryan"


async def test_hubspot_multi_status_errors_fail_the_action(simulated: dict[str, Adapter]) -> None:
    async def partial(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            207,
            json={
                "status": "COMPLETE",
                "results": [],
                "numErrors": 1,
                "errors": [
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": "Property values were not valid",
                    }
                ],
                "startedAt": "2024-01-01T00:00:00Z",
                "completedAt": "2024-01-01T00:00:01Z",
            },
        )

    simulated["hubspot"] = await _on("hubspot", httpx.MockTransport(partial))
    with pytest.raises(ProviderError) as raised:
        await _run(simulated, "hubspot", "upsert_contact", {"email": "a@example.com"})
    assert raised.value.kind == FailureKind.BAD_REQUEST
    assert "Property values were not valid" in raised.value.message


@pytest.mark.parametrize(
    ("name", "store"),
    [("create_customer", stripe_sim.CREATED_CUSTOMERS), ("create_refund", stripe_sim.REFUNDS)],
)
async def test_stripe_simulator_answers_a_repeated_key_with_the_first_answer(
    simulated: dict[str, Adapter], name: str, store: dict[str, Any]
) -> None:
    before = len(store)
    first = await _run(simulated, "stripe", name, INPUTS["stripe", name], "key-1")
    again = await _run(simulated, "stripe", name, INPUTS["stripe", name], "key-1")
    other = await _run(simulated, "stripe", name, INPUTS["stripe", name], "key-2")

    assert again.result == first.result != other.result
    assert len(store) == before + 2
    assert store[first.result["id"]]["metadata"] == INPUTS["stripe", name]["metadata"]
    # Stripe refuses a known key with other parameters.
    changed = {**INPUTS["stripe", name], "metadata": {"changed": "yes"}}
    with pytest.raises(ProviderError) as raised:
        await _run(simulated, "stripe", name, changed, "key-1")
    assert raised.value.kind == FailureKind.BAD_REQUEST
    assert "same parameters" in raised.value.message


@pytest.mark.parametrize(
    ("name", "store"),
    [("create_order", paypal_sim.ORDERS), ("refund_capture", paypal_sim.REFUNDS)],
)
async def test_paypal_simulator_answers_a_repeated_request_id_with_the_first_answer(
    simulated: dict[str, Adapter], name: str, store: dict[str, Any]
) -> None:
    before = len(store)
    first = await _run(simulated, "paypal", name, INPUTS["paypal", name], "req-1")
    again = await _run(simulated, "paypal", name, INPUTS["paypal", name], "req-1")
    other = await _run(simulated, "paypal", name, INPUTS["paypal", name], None)

    assert again.result == first.result
    assert other.result["id"] != first.result["id"]
    assert len(store) == before + 2


async def test_paypal_order_links_the_buyer_approval(simulated: dict[str, Adapter]) -> None:
    with_return = await _run(simulated, "paypal", "create_order", INPUTS["paypal", "create_order"])
    assert with_return.result["status"] == "PAYER_ACTION_REQUIRED"
    assert "checkoutnow?token=" in with_return.result["approve_url"]
    sent = paypal_sim.ORDERS[with_return.result["id"]]["request"]
    assert sent["payment_source"]["paypal"]["experience_context"] == {
        "return_url": "https://shop.example.com/paypal/return",
        "cancel_url": "https://shop.example.com/paypal/cancel",
    }
    plain = await _run(simulated, "paypal", "create_order", {"currency_code": "EUR", "amount": "5"})
    assert plain.result["status"] == "CREATED"
    assert plain.result["approve_url"].endswith(plain.result["id"])
    assert paypal_sim.ORDERS[plain.result["id"]]["request"] == {
        "intent": "CAPTURE",
        "purchase_units": [{"amount": {"currency_code": "EUR", "value": "5"}}],
    }


# -- through the actions API, the provider's simulator behind a local server -----------------
# Scopes each OAuth integration was granted (what the actions require).
GRANTED = {
    "github": ["repo"],
    "jira": ["read:jira-work", "write:jira-work"],
    "hubspot": ["crm.objects.contacts.write"],
}
CONFIG = {"github": {"repository": "octocat/Hello-World"}}
# PayPal's token call is how its adapter authenticates, not the action's request.
_TOKEN_PATH = "/v1/oauth2/token"


async def _connected(make_integration: Any, tenant: Any, key: str) -> Any:
    return await connected(
        make_integration, tenant, key, scopes=GRANTED.get(key), config=CONFIG.get(key, {})
    )


def _api_input(key: str, name: str) -> dict[str, Any]:
    """The action's input for a call through the API; a transition needs an issue the
    simulator knows, a comment an issue number it answers for."""
    if (key, name) == ("jira", "transition_issue"):
        issue_key = f"OPS-{next(_seeded)}"
        jira_sim.ISSUES[issue_key] = {
            "id": str(900_000 + len(jira_sim.ISSUES)),
            "project": "OPS",
            "fields": {},
            "status": "To Do",
        }
        return {"issue": issue_key, "transition_id": "21"}
    if (key, name) == ("github", "comment"):
        return {"issue_number": 12, "body": "Me too"}
    return INPUTS[key, name]


_seeded = itertools.count(1)


def _action_url(made: Any, name: str, suffix: str = "") -> str:
    return f"/api/integrations/{made.id}/actions/{name}{suffix}"


@pytest.mark.parametrize(("key", "name"), sorted(INPUTS))
async def test_rate_limited_call_is_retried_then_the_same_key_is_not_sent_again(
    key: str, name: str, client: Any, tenant: Any, make_integration: Any, provider_at: Any
) -> None:
    """429 in the provider's own shape (Retry-After: 1) → waited → succeeded on the second
    attempt; the same idempotency key then answers the first result with no provider
    request (counted at the server). Stripe's and PayPal's retry carries the same provider
    idempotency header as the refused attempt."""
    at = provider_at(key, unmetered_paths=(_TOKEN_PATH,))
    at.rate_limited = 1
    made = await _connected(make_integration, tenant, key)
    data = _api_input(key, name)
    request = {"input": data, "idempotency_key": f"{key}-{name}-1"}

    started = time.monotonic()
    first = await client.post(_action_url(made, name), json=request, headers=tenant.headers)

    assert first.status_code == 200, first.text
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    body = first.json()
    assert body["status"] == "succeeded"
    assert set(body["result"]) == RESULT_KEYS[key, name]
    calls = at.calls()
    assert len(calls) == 2
    if key in IDEMPOTENCY_HEADER:
        sent = {c.headers.get(IDEMPOTENCY_HEADER[key]) for c in calls}
        assert len(sent) == 1 and None not in sent

    again = await client.post(_action_url(made, name), json=request, headers=tenant.headers)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == body["result"]
    assert len(at.calls()) == len(calls), "the repeated key called the provider again"

    runs = await client.get(_action_url(made, "runs"), headers=tenant.headers)
    (run,) = runs.json()["items"]
    assert run["attempts"] == 2 and run["status"] == "succeeded"
    for field in _action(key, name).redact_fields:
        if field in data:
            assert run["input"][field] != data[field]
            assert json.dumps(data[field]) not in runs.text


@pytest.mark.parametrize(("key", "name", "data", "field"), BAD_INPUTS[::2])
async def test_the_api_refuses_bad_input_without_calling_the_provider(
    key: str,
    name: str,
    data: dict[str, Any],
    field: str,
    client: Any,
    tenant: Any,
    make_integration: Any,
    provider_at: Any,
) -> None:
    at = provider_at(key, unmetered_paths=(_TOKEN_PATH,))
    made = await _connected(make_integration, tenant, key)

    response = await client.post(
        _action_url(made, name), json={"input": data}, headers=tenant.headers
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}
    assert at.calls() == []


# -- the simulators' answers against the same descriptions ------------------------------------
@pytest.mark.parametrize("key", PRISM_KEYS)
async def test_simulator_answers_to_actions_conform_to_the_description(
    key: str, tmp_path: Path
) -> None:
    """Test mode answers with the simulator: its answer to every action (a transition's
    lookup included) must be what the provider's description promises for that operation."""
    # Stripe's published document itself: its Prism copy drops `nullable` beside anyOf
    # (`address: null` would fail); PayPal's does not load unconverted, so the others use
    # the copy. `nullable` beside anyOf/enum is made explicit as the generator tests do.
    copy = (
        DOCUMENTS / DESCRIBED[key].document if key == "stripe" else write_test_copy(key, tmp_path)
    )
    doc = json.loads(copy.read_text(encoding="utf-8"))
    _nullable_as_oas31(doc)
    api = OpenAPI.from_dict(doc)
    provider = providers()[key]
    simulator = provider.simulator.transport()
    recorder = RecordingTransport(lambda request: simulator)
    async with httpx.AsyncClient(transport=recorder, timeout=5) as http:
        adapter = make_adapter(provider, provider.spec.api_base_url, http)
        for name in provider.actions:
            data = INPUTS[key, name]
            if name == "transition_issue":
                created = await provider.actions["create_issue"].run(
                    adapter, ActionCall(INPUTS["jira", "create_issue"])
                )
                data = {"issue": created.result["key"], "transition_name": "In Progress"}
            if name == "comment":
                data = {"issue_number": 3, "body": "Me too"}
            await provider.actions[name].run(adapter, ActionCall(data, f"{key}-{name}"))

    # Jira describes its 204 with a JSON body; HTTP forbids a body on 204 and Jira sends none.
    checked = [
        e
        for e in recorder.exchanges
        if not undescribed_reason(key, e.request.url) and e.response.status_code != 204
    ]
    problems = [
        f"{e.request.method} {e.request.url.path} -> {e.response.status_code}: {error}"
        for e in checked
        for error in api.iter_response_errors(
            described_request(key, doc, e.request), described_response(e.response)
        )
    ]
    assert not problems, "\n".join(problems)
    assert len(checked) >= len(provider.actions)

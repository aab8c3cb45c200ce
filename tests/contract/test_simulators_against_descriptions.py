"""Simulator responses validated against the providers' own API descriptions (openapi-core).

Test mode answers tenants with each provider's simulator, and most connector tests run
against it, so a simulator that drifts from the real API would hide adapter bugs. Here the
adapter calls of the Prism tests run through the simulator, and every answer is checked
against the description's response for that operation and status: body schema, content
type and described headers. Failure answers (bad credentials, 429, 500) are checked too
where the description describes that status; where it does not (Google's Discovery
documents describe no errors), they are counted as undescribed rather than passed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from backend.connectors.registry import Provider, providers
from backend.connectors.simulator import SIMULATE_HEADER
from tests.connectors.helpers import invalid_credentials
from tests.contract.adapter_calls import (
    Exchange,
    RecordingTransport,
    call_names,
    make_adapter,
    run_calls,
)
from tests.contract.counts import description_counts
from tests.contract.descriptions import (
    DESCRIBED,
    server_origin,
    through_gateway,
    undescribed_reason,
    write_test_copy,
)

DESCRIBED_KEYS = [key for key in providers() if key in DESCRIBED]
# Answers the simulator gives besides success: the provider's auth error, throttling, outage.
FAILURES: dict[str, dict[str, Any]] = {
    "invalid credentials": {"credentials": "invalid"},
    "forced 429": {"headers": {SIMULATE_HEADER: "429"}},
    "forced 500": {"headers": {SIMULATE_HEADER: "500"}},
}


@dataclass(slots=True)
class DescribedRequest:
    """An httpx request as openapi-core sees it (its `Request` protocol; openapi-core writes
    the resolved path parameters into `parameters`)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass(frozen=True, slots=True)
class DescribedResponse:
    """An httpx response as openapi-core sees it (its `Response` protocol)."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def described_request(key: str, doc: dict[str, Any], request: httpx.Request) -> DescribedRequest:
    """The request where the description puts it: a gateway request lands on the server."""
    url = through_gateway(key, request.url)
    host_url = f"{url.scheme}://{url.netloc.decode()}"
    if url != request.url:
        host_url = server_origin(doc)
    return DescribedRequest(
        host_url=host_url,
        path=url.path,
        method=request.method.lower(),
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query.decode())),
            header=Headers(list(request.headers.items())),
        ),
    )


def described_response(response: httpx.Response) -> DescribedResponse:
    return DescribedResponse(
        status_code=response.status_code,
        content_type=response.headers.get("content-type", ""),
        headers=Headers(list(response.headers.items())),
        data=response.content or None,
    )


def _explain(error: Exception) -> str:
    """The validator's finding with each schema error's location (not the whole body)."""
    schema_errors = [
        e for cause in (error, error.__cause__) for e in getattr(cause, "schema_errors", None) or ()
    ]
    if not schema_errors:
        return f"{type(error).__name__}: {error}"
    return "; ".join(
        f"/{'/'.join(map(str, e.absolute_path))}: {_leaf_message(e)}" for e in schema_errors
    )


def _leaf_message(error: Any) -> str:
    """For oneOf/anyOf the branches' own errors say more; long messages lose the echoed
    instance from their middle, keeping what the rule is."""
    context = sorted(getattr(error, "context", None) or (), key=lambda e: -len(e.absolute_path))
    messages = [str(e.message) for e in context[:6]] or [str(error.message)]
    return " | ".join(m if len(m) <= 240 else f"{m[:60]} … {m[-160:]}" for m in messages)


Loaded = tuple[dict[str, Any], OpenAPI]


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Loaded]:
    """A connector's test copy, loaded (and checked as valid OpenAPI) by openapi-core."""
    directory = tmp_path_factory.mktemp("descriptions")

    @functools.cache
    def load(key: str) -> Loaded:
        doc = json.loads(write_test_copy(key, directory).read_text(encoding="utf-8"))
        return doc, OpenAPI.from_dict(doc)

    return load


async def _exchanges(
    provider: Provider, *, credentials: str = "", headers: dict[str, str] | None = None
) -> list[Exchange]:
    """Run the connector's described calls through its simulator and record the answers."""
    description = DESCRIBED[provider.key]
    simulator = provider.simulator.transport()
    recorder = RecordingTransport(lambda request: simulator)
    names = [n for n in call_names(provider) if n not in description.undescribed_calls]
    if headers or credentials:  # failures: the health call is the one every connector makes
        names = ["check_health"]
    sample = invalid_credentials(provider) if credentials == "invalid" else None
    async with httpx.AsyncClient(transport=recorder, headers=headers, timeout=5) as http:
        adapter = make_adapter(provider, provider.spec.api_base_url, http, credentials=sample)
        await run_calls(adapter, names, recorder)
    return recorder.exchanges


@pytest.mark.parametrize("key", DESCRIBED_KEYS)
async def test_simulator_answers_conform_to_the_description(
    key: str, description: Callable[[str], Loaded], pytestconfig: pytest.Config
) -> None:
    provider = providers()[key]
    doc, api = description(key)
    runs = {"success": await _exchanges(provider)}
    for name, kwargs in FAILURES.items():
        runs[name] = await _exchanges(provider, **kwargs)

    problems: list[str] = []
    validated = undescribed = 0
    for run, exchanges in runs.items():
        for exchange in exchanges:
            if undescribed_reason(key, exchange.request.url):
                continue
            request = described_request(key, doc, exchange.request)
            response = exchange.response
            label = f"{run} / {exchange.call}: {request.method.upper()} {request.path}"
            errors = list(api.iter_response_errors(request, described_response(response)))
            if len(errors) == 1 and isinstance(errors[0], ResponseNotFound) and response.is_error:
                undescribed += 1  # an error status the description does not describe
                continue
            validated += 1
            problems += [f"{label} -> {response.status_code}: {_explain(e)}" for e in errors]
    assert not problems, "simulator answers off the description:\n" + "\n".join(problems)
    assert validated, "at least the success answers are described"
    counts = description_counts(pytestconfig)
    counts["simulator answers validated against the description"][key] += validated
    counts["simulator error answers of a status the description omits"][key] += undescribed

"""Adapter contract tests: every request an adapter sends is checked by Prism against the
provider's own published API description, not against our reading of the provider.

Per connector with a description (provider_apis/), Prism serves its test copy on a loopback
port and the adapter's real calls (health, webhook registration and removal, revocation)
go to it. Prism refuses a request the description forbids (no such path or method, missing
credentials, bad parameter or body) with a 4xx and names the violation in `sl-violations`;
either fails the test. Each call must also succeed on Prism's schema-valid answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from backend.connectors.base import HealthResult
from backend.connectors.registry import Provider, providers
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
    WITHOUT_DESCRIPTION,
    through_gateway,
    undescribed_reason,
    write_test_copy,
)
from tests.contract.prism import PrismServer, rejection

DESCRIBED_KEYS = [key for key in providers() if key in DESCRIBED]


def test_every_connector_has_a_description_or_a_stated_reason() -> None:
    assert set(DESCRIBED) | set(WITHOUT_DESCRIPTION) == set(providers())
    assert not set(DESCRIBED) & set(WITHOUT_DESCRIPTION)


@dataclass(frozen=True, slots=True)
class Served:
    provider: Provider
    prism: PrismServer
    # The adapter's API base on Prism (see `_base_url`).
    api_base_url: str


def _base_url(provider: Provider, prism: PrismServer) -> str:
    """Prism's origin plus the part of the connector's API base that the description's paths
    do not already hold: Slack's /api is its server's path (Prism ignores server paths),
    while Calendar's /calendar/v3 starts every path of its description."""
    doc = json.loads(prism.document.read_text(encoding="utf-8"))
    server_path = urlsplit((doc.get("servers") or [{"url": ""}])[0]["url"]).path.rstrip("/")
    base_path = urlsplit(provider.spec.api_base_url).path.rstrip("/")
    return prism.url + base_path.removeprefix(server_path)


@pytest.fixture(scope="module", params=DESCRIBED_KEYS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Prism for one connector's description, started once and stopped by PID after."""
    provider = providers()[request.param]
    document = write_test_copy(provider.key, tmp_path_factory.mktemp(provider.key))
    with PrismServer(document) as prism:
        yield Served(provider, prism, _base_url(provider, prism))


async def _run_adapter(served: Served) -> tuple[dict[str, object], list[Exchange]]:
    """The adapter's calls against Prism; requests on a path no document describes (PayPal's
    token) go to the simulator instead, and nothing may leave the machine."""
    provider, origin = served.provider, httpx.URL(served.prism.url)
    to_prism = httpx.AsyncHTTPTransport()
    to_simulator = provider.simulator.transport()

    def route(request: httpx.Request) -> httpx.AsyncBaseTransport:
        if undescribed_reason(provider.key, request.url):
            return to_simulator
        assert (request.url.host, request.url.port) == (origin.host, origin.port), (
            f"{provider.key} sent a request outside its API base: {request.url}"
        )
        return to_prism

    recorder = RecordingTransport(route, rewrite=lambda url: through_gateway(provider.key, url))
    skipped = DESCRIBED[provider.key].undescribed_calls
    names = [name for name in call_names(provider) if name not in skipped]
    async with to_prism, httpx.AsyncClient(transport=recorder, timeout=30) as http:
        results = await run_calls(
            make_adapter(provider, served.api_base_url, http), names, recorder
        )
    exchanges = [
        e for e in recorder.exchanges if not undescribed_reason(provider.key, e.request.url)
    ]
    return results, exchanges


async def test_adapter_requests_conform_to_the_description(
    served: Served, pytestconfig: pytest.Config
) -> None:
    results, exchanges = await _run_adapter(served)

    refused = [
        f"{e.call}: {e.request.method} {e.request.url.path} -> {reason}"
        for e in exchanges
        if (reason := rejection(e.response))
    ]
    assert not refused, "Prism refused requests:\n" + "\n".join(refused)
    failed = {
        name: result
        for name, result in results.items()
        if isinstance(result, Exception) or (isinstance(result, HealthResult) and not result.ok)
    }
    assert not failed, f"calls failed on Prism's schema-valid answers: {failed}"
    assert {e.call for e in exchanges} == set(results), "every call reached the provider's API"

    # The control: Prism skips validation silently where a schema does not compile (see
    # provider_apis/README.md); each JSON body refused as `[]` proves it is really checked.
    controls = [e for e in exchanges if e.request.headers.get("content-type") == "application/json"]
    async with httpx.AsyncClient(timeout=30) as http:
        for exchange in controls:
            headers = {k: v for k, v in exchange.request.headers.items() if k != "content-length"}
            answer = await http.request(
                exchange.request.method, exchange.request.url, headers=headers, content=b"[]"
            )
            assert rejection(answer), f"{exchange.call}: Prism accepted [] as the body"

    counts = description_counts(pytestconfig)
    counts["adapter requests validated by Prism"][served.provider.key] += len(exchanges)
    counts["JSON bodies replaced by [] and refused (control)"][served.provider.key] += len(controls)

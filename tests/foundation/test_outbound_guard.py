"""Issue 10 item 2: the public-address rule holds when a call connects, not only when a
URL is saved. A resolver that answers a public address first and a private one second
stands in for DNS rebinding (or a record changed after the check)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pytest_httpserver import HTTPServer

from backend.connectors.base import AdapterContext, ProviderError
from backend.connectors.registry import get_provider
from backend.lib.http import UnsafeURLError, check_public_url, new_client, refused_by_guard

PUBLIC = "93.184.215.14"


class Rebinding:
    """Answers the public address once, then loopback (where a local server listens)."""

    def __init__(self) -> None:
        self.answers = [[PUBLIC], ["127.0.0.1"]]
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def internal() -> Iterator[HTTPServer]:
    """An internal service on loopback that must never be reached."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/latest/meta-data/").respond_with_data("secret-role")
    server.expect_request("/user").respond_with_json({"login": "x"})
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


async def test_a_host_that_rebinds_to_loopback_after_the_check_is_refused(internal) -> None:
    resolver = Rebinding()
    url = f"http://rebind.example.test:{internal.port}/latest/meta-data/"
    # Saved: the check sees the public address and accepts the URL.
    assert await check_public_url(url, (), resolver) == url
    async with new_client(5.0, allowed=(), trusted_hosts=frozenset(), resolver=resolver) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(url)
    assert refused_by_guard(caught.value)
    assert resolver.asked == ["rebind.example.test", "rebind.example.test"]
    assert internal.log == []


async def test_every_address_is_checked_not_only_the_first() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC, "169.254.169.254"]

    with pytest.raises(UnsafeURLError):
        await check_public_url("https://mixed.example.test/", (), mixed)
    async with new_client(5.0, allowed=(), trusted_hosts=frozenset(), resolver=mixed) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get("https://mixed.example.test/")
    assert refused_by_guard(caught.value)


async def test_an_allow_listed_private_host_is_reached_at_the_checked_address(internal) -> None:
    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async with new_client(
        5.0, allowed=("127.0.0.0/8",), trusted_hosts=frozenset(), resolver=to_loopback
    ) as http:
        r = await http.get(f"http://svc.tenant.test:{internal.port}/user")
    assert r.status_code == 200
    request, _ = internal.log[-1]
    # Connected to the checked address; the Host header still names the URL's host.
    assert request.headers["Host"] == f"svc.tenant.test:{internal.port}"


async def test_operator_configured_hosts_are_trusted(internal, monkeypatch) -> None:
    async def never(host: str, port: int) -> list[str]:
        raise AssertionError("a trusted host is not resolved by the guard")

    monkeypatch.setenv("SWITCHBOARD_GITHUB_API_BASE_URL", f"http://127.0.0.1:{internal.port}")
    async with new_client(5.0, allowed=(), resolver=never) as http:
        r = await http.get(f"http://127.0.0.1:{internal.port}/user")
    assert r.status_code == 200


async def test_an_adapter_reports_the_refusal_as_misconfigured_without_reaching_it(
    internal,
) -> None:
    resolver = Rebinding()
    resolver.answers = [["127.0.0.1"]]
    provider = get_provider("github")
    async with new_client(5.0, allowed=(), trusted_hosts=frozenset(), resolver=resolver) as http:
        adapter = provider.adapter(
            AdapterContext(
                credentials={"access_token": "gho_secret_token_value"},
                config={},
                api_base_url=f"http://ghe.tenant.test:{internal.port}",
                http=http,
            )
        )
        result = await adapter.check_health()
        with pytest.raises(ProviderError) as caught:
            await adapter.call("GET", "/user")
    assert result.status == "misconfigured"
    assert "private" in result.reason
    assert "gho_secret" not in caught.value.message
    assert internal.log == []

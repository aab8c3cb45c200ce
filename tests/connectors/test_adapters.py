"""What adapters do beyond the shared contract: the generic health check read from the spec
(success shape, account, path placeholders), and the code a spec cannot replace: Telegram's
token in the URL, Jira's two deployments, PayPal's app token, revocation. How error answers
are classified is in test_specs.py (recorded answers per connector)."""

from __future__ import annotations

import httpx
import pytest
from provider_server import ProviderServer, closed_port_url

from backend.connectors.base import OperatorApp, ProviderError
from backend.connectors.registry import get_provider, providers
from connectors.helpers import adapter_for


async def test_github_sends_api_version_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"login": "octocat"})

    transport = httpx.MockTransport(handler)
    async with adapter_for(
        get_provider("github"), "https://api.github.com", transport=transport
    ) as a:
        assert (await a.check_health()).ok
    assert seen[0].headers["accept"] == "application/vnd.github+json"
    assert seen[0].headers["x-github-api-version"] == "2022-11-28"
    assert str(seen[0].url) == "https://api.github.com/user"


# -- the health check the spec describes --------------------------------------------------

WITH_ACCOUNT = [
    key for key, p in providers().items() if p.spec.health and p.spec.health.account_id_path
]


@pytest.mark.parametrize("key", WITH_ACCOUNT)
async def test_health_names_the_account_the_credentials_belong_to(
    key: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = get_provider(key)
    async with adapter_for(provider, provider_servers[key].url) as adapter:
        result = await adapter.check_health()
    assert result.ok, result
    account = result.details["account"]
    assert isinstance(account["id"], str) and account["id"]
    assert isinstance(account["name"], str)


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("github", b"<html>Sign in to the Wi-Fi</html>"),
        ("slack", b'{"ok": "maybe"}'),
        ("telegram", b'{"result": {"id": 1}}'),
        ("twilio", b"{}"),
    ],
)
async def test_a_success_status_without_the_documented_shape_is_not_healthy(
    key: str, body: bytes
) -> None:
    """A 200 from something that is not the provider (a captive portal, a proxy) proves
    nothing about the credentials."""
    provider = get_provider(key)
    async with adapter_for(provider, provider.spec.api_base_url, transport=_raw(200, body)) as a:
        result = await a.check_health()
    assert (result.ok, result.status) == (False, "provider_down")


async def test_health_path_values_are_percent_encoded() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"accountId": "5b10a2844c20165700ede21g"})

    provider = get_provider("jira")
    config = {"cloud_id": "../../admin?x=1#"}
    async with adapter_for(
        provider, provider.spec.api_base_url, config=config, transport=httpx.MockTransport(handler)
    ) as adapter:
        assert (await adapter.check_health()).ok
    assert seen[0].url.raw_path == b"/ex/jira/..%2F..%2Fadmin%3Fx%3D1%23/rest/api/3/myself"
    assert seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("key", "credentials", "reason"),
    [
        (
            "whatsapp",
            {"access_token": "EAA" + "x" * 40, "phone_number_id": "me"},
            "Phone number ID",
        ),
        ("whatsapp", {"access_token": "EAA" + "x" * 40}, "Phone number ID is not set"),
        ("twilio", {"account_sid": "AC/../../x", "auth_token": "0" * 32}, "Account SID"),
    ],
)
async def test_a_path_credential_that_breaks_its_pattern_is_never_sent(
    key: str, credentials: dict[str, str], reason: str
) -> None:
    provider = get_provider(key)
    async with adapter_for(provider, closed_port_url(), credentials=credentials) as adapter:
        result = await adapter.check_health()
    assert result.status == "misconfigured"
    assert reason in result.reason


def _raw(status: int, content: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=content))


# -- what stays code ----------------------------------------------------------------------


async def test_telegram_errors_carry_no_token_anywhere() -> None:
    provider = get_provider("telegram")
    token = provider.simulator.sample_credentials["bot_token"]
    async with adapter_for(provider, closed_port_url()) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.call("GET", "getMe")
    error = caught.value
    assert error.kind == "network"
    assert error.__cause__ is None and error.__context__ is None
    assert token not in str(error) and token not in repr(error.args)


async def test_telegram_malformed_token_answers_404_and_is_auth_failed(
    provider_servers: dict[str, ProviderServer],
) -> None:
    provider = get_provider("telegram")
    async with adapter_for(
        provider, provider_servers["telegram"].url, credentials={"bot_token": "not-a-token"}
    ) as adapter:
        result = await adapter.check_health()
    assert result.status == "auth_failed"


async def test_jira_cloud_without_cloud_id_is_misconfigured() -> None:
    provider = get_provider("jira")
    async with adapter_for(provider, provider.spec.api_base_url, config={}) as adapter:
        result = await adapter.check_health()
    assert result.status == "misconfigured"


async def test_jira_data_center_uses_rest_api_2(
    provider_servers: dict[str, ProviderServer],
) -> None:
    provider = get_provider("jira")
    async with adapter_for(provider, provider_servers["jira"].url, config={}) as adapter:
        result = await adapter.check_health()
    assert result.ok, result


async def test_paypal_token_request_uses_basic_client_auth() -> None:
    provider = get_provider("paypal")
    seen: list[httpx.Request] = []
    inner = provider.simulator.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await inner.handle_async_request(request)

    transport = httpx.MockTransport(handler)
    async with adapter_for(provider, provider.spec.api_base_url, transport=transport) as adapter:
        assert (await adapter.check_health()).ok
    token_request, api_request = seen
    assert str(token_request.url) == "https://api-m.paypal.com/v1/oauth2/token"
    assert token_request.headers["authorization"].startswith("Basic ")
    assert b"grant_type=client_credentials" in token_request.content
    assert str(api_request.url) == "https://api-m.paypal.com/v1/notifications/webhooks"
    assert api_request.headers["authorization"].startswith("Bearer A21AA")


async def test_paypal_fetches_its_app_token_once_per_adapter() -> None:
    provider = get_provider("paypal")
    paths: list[str] = []
    inner = provider.simulator.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return await inner.handle_async_request(request)

    transport = httpx.MockTransport(handler)
    async with adapter_for(provider, provider.spec.api_base_url, transport=transport) as adapter:
        assert (await adapter.check_health()).ok
        assert (await adapter.check_health()).ok
    assert paths.count("/v1/oauth2/token") == 1
    assert paths.count("/v1/notifications/webhooks") == 2


async def test_paypal_rejected_app_credentials_fail_the_health_check() -> None:
    provider = get_provider("paypal")
    credentials = {"client_id": "AbC-invalid-client", "client_secret": "EFg-invalid-secret"}
    async with adapter_for(
        provider,
        provider.spec.api_base_url,
        credentials=credentials,
        transport=provider.simulator.transport(),
    ) as adapter:
        result = await adapter.check_health()
    assert result.status == "auth_failed"
    assert "invalid-secret" not in result.reason


# -- revocation ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["gmail", "google_calendar", "google_drive"])
async def test_google_revoke_posts_the_token(
    key: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = get_provider(key)
    server = provider_servers[key]
    operator = OperatorApp(revoke_url=server.url + "/revoke")
    async with adapter_for(provider, server.url, operator=operator) as adapter:
        assert await adapter.revoke() is True


async def test_google_revoke_defaults_to_the_documented_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    provider = get_provider("gmail")
    async with adapter_for(
        provider, provider.spec.api_base_url, transport=httpx.MockTransport(handler)
    ) as adapter:
        assert await adapter.revoke() is True
    assert str(seen[0].url) == "https://oauth2.googleapis.com/revoke"
    assert seen[0].content.startswith(b"token=")


async def test_slack_revoke(provider_servers: dict[str, ProviderServer]) -> None:
    async with adapter_for(get_provider("slack"), provider_servers["slack"].url) as adapter:
        assert await adapter.revoke() is True


async def test_github_revoke_needs_the_oauth_app_secret(
    provider_servers: dict[str, ProviderServer],
) -> None:
    provider = get_provider("github")
    url = provider_servers["github"].url
    async with adapter_for(provider, url, config={}) as adapter:
        assert await adapter.revoke() is False
    # App credentials in the tenant-writable config are not the operator's: ignored.
    config = {"oauth_client_id": "Iv1.8a61f9b3a7aba766", "oauth_client_secret": "app-secret-0123"}
    async with adapter_for(provider, url, config=config) as adapter:
        assert await adapter.revoke() is False
    operator = OperatorApp("Iv1.8a61f9b3a7aba766", "app-secret-0123", api_base_url=url)
    async with adapter_for(provider, url, config={}, operator=operator) as adapter:
        assert await adapter.revoke() is True


@pytest.mark.parametrize(
    "key", [k for k, p in providers().items() if "revoke" not in p.spec.capabilities]
)
async def test_connectors_without_revocation_return_false_offline(key: str) -> None:
    """A connector that does not announce `revoke` says so without calling anyone."""
    provider = get_provider(key)
    async with adapter_for(provider, closed_port_url()) as adapter:
        assert await adapter.revoke() is False


def test_every_provider_has_sample_credentials_matching_its_fields() -> None:
    for provider in providers().values():
        names = {f.name for f in provider.spec.credential_fields}
        assert names <= set(provider.simulator.sample_credentials)

"""Provider quirks the shared contract cannot express: rate limits hidden in 403s and 400s,
Slack's 200-with-error, Telegram's token in the URL, Jira's two deployments, revocation."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from provider_server import ProviderServer, closed_port_url

from backend.connectors.base import OperatorApp, ProviderError
from backend.connectors.registry import get_provider, providers
from connectors.helpers import adapter_for


def _answer(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=json.dumps(body).encode())

    return httpx.MockTransport(handler)


async def test_github_403_with_exhausted_quota_is_rate_limited() -> None:
    reset = int(time.time()) + 120
    transport = _answer(
        403,
        {"message": "API rate limit exceeded for user ID 1."},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    async with adapter_for(
        get_provider("github"), "https://api.github.com", transport=transport
    ) as a:
        result = await a.check_health()
    assert result.status == "rate_limited"
    assert result.retry_after == pytest.approx(120, abs=3)


async def test_github_secondary_limit_honours_retry_after() -> None:
    transport = _answer(
        403,
        {"message": "You have exceeded a secondary rate limit."},
        {"retry-after": "42", "x-ratelimit-remaining": "4000"},
    )
    async with adapter_for(
        get_provider("github"), "https://api.github.com", transport=transport
    ) as a:
        result = await a.check_health()
    assert (result.status, result.retry_after) == ("rate_limited", 42.0)


async def test_github_plain_403_is_a_permission_failure() -> None:
    transport = _answer(
        403,
        {"message": "Resource not accessible by integration"},
        {"x-ratelimit-remaining": "4999"},
    )
    async with adapter_for(
        get_provider("github"), "https://api.github.com", transport=transport
    ) as a:
        result = await a.check_health()
    assert result.status == "auth_failed"


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


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("invalid_auth", "auth_failed"),
        ("not_authed", "auth_failed"),
        ("token_revoked", "auth_failed"),
        ("account_inactive", "auth_failed"),
        ("token_expired", "auth_failed"),
        ("ratelimited", "rate_limited"),
        ("missing_scope", "bad_request"),
    ],
)
async def test_slack_reads_errors_from_the_body(error: str, status: str) -> None:
    transport = _answer(200, {"ok": False, "error": error}, {"Retry-After": "3"})
    async with adapter_for(
        get_provider("slack"), "https://slack.com/api", transport=transport
    ) as a:
        result = await a.check_health()
    assert result.status == status


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


async def test_telegram_retry_after_comes_from_the_body() -> None:
    transport = _answer(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 9",
            "parameters": {"retry_after": 9},
        },
    )
    provider = get_provider("telegram")
    async with adapter_for(provider, "https://api.telegram.org", transport=transport) as a:
        result = await a.check_health()
    assert (result.status, result.retry_after) == ("rate_limited", 9.0)


@pytest.mark.parametrize("code", [4, 80007, 130429])
async def test_whatsapp_throttling_codes_under_http_400_are_rate_limited(code: int) -> None:
    transport = _answer(
        400, {"error": {"message": "throttled", "type": "OAuthException", "code": code}}
    )
    provider = get_provider("whatsapp")
    async with adapter_for(provider, provider.spec.api_base_url, transport=transport) as a:
        result = await a.check_health()
    assert result.status == "rate_limited"


async def test_whatsapp_code_190_under_http_400_is_auth_failed() -> None:
    transport = _answer(
        400, {"error": {"message": "expired", "type": "OAuthException", "code": 190}}
    )
    provider = get_provider("whatsapp")
    async with adapter_for(provider, provider.spec.api_base_url, transport=transport) as a:
        result = await a.check_health()
    assert result.status == "auth_failed"


@pytest.mark.parametrize("key", ["gmail", "google_calendar", "google_drive"])
async def test_google_403_quota_reasons_are_rate_limited(key: str) -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}],
        }
    }
    provider = get_provider(key)
    async with adapter_for(provider, provider.spec.api_base_url, transport=_answer(403, body)) as a:
        result = await a.check_health()
    assert result.status == "rate_limited"


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


async def test_twilio_rejects_a_sid_that_is_not_an_account_sid() -> None:
    provider = get_provider("twilio")
    credentials = {"account_sid": "../../etc", "auth_token": "0" * 32}
    async with adapter_for(provider, closed_port_url(), credentials=credentials) as adapter:
        result = await adapter.check_health()
    assert result.status == "misconfigured"


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

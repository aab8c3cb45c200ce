"""The api client against httpx.MockTransport: auth header, problem+json, failures."""

from __future__ import annotations

import httpx
import pytest
from dashboard_testkit import API_KEY, BASE_URL, FakeApi, problem

from dashboard.client import ApiError, SwitchboardClient


async def test_sends_bearer_key_and_parses_me(fake_api: FakeApi) -> None:
    async with fake_api.client() as api:
        me = await api.me()
    assert me["tenant_name"] == "Acme"
    request = fake_api.requests[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert str(request.url) == f"{BASE_URL}/api/me"


async def test_problem_json_becomes_api_error_with_field_errors(fake_api: FakeApi) -> None:
    fake_api.on(
        "POST",
        "/api/integrations",
        problem(
            422,
            "validation",
            "Invalid request",
            "credentials.auth_token: does not match the expected format",
            [
                {
                    "field": "credentials.auth_token",
                    "message": "does not match the expected format",
                },
                {"field": "name", "message": "is required"},
            ],
        ),
    )
    async with fake_api.client() as api:
        with pytest.raises(ApiError) as caught:
            await api.create_integration({"connector_id": "twilio", "name": ""})
    err = caught.value
    assert (err.status, err.title, err.type_suffix) == (422, "Invalid request", "validation")
    assert err.field_errors == {
        "credentials.auth_token": "does not match the expected format",
        "name": "is required",
    }


async def test_error_text_never_holds_the_key(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/integrations/x", problem(401, "unauthorized", "Unauthorized"))
    async with fake_api.client() as api:
        with pytest.raises(ApiError) as caught:
            await api.get_integration("x")
    assert caught.value.unauthorized
    for text in (str(caught.value), repr(caught.value), repr(api)):
        assert API_KEY not in text and "Bearer" not in text


async def test_unreachable_api_is_a_readable_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = SwitchboardClient(API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(refuse))
    async with api:
        with pytest.raises(ApiError) as caught:
            await api.list_connectors()
    assert caught.value.status == 0
    assert "unreachable" in caught.value.title
    assert API_KEY not in str(caught.value)


async def test_non_json_error_and_rate_limit(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/audit", httpx.Response(502, text="<html>bad gateway</html>"))
    fake_api.on(
        "GET",
        "/api/connectors",
        httpx.Response(
            429,
            json={"type": "x/rate-limited", "title": "Too many requests", "status": 429},
            headers={"retry-after": "3"},
        ),
    )
    async with fake_api.client() as api:
        with pytest.raises(ApiError) as bad_gateway:
            await api.list_audit()
        with pytest.raises(ApiError) as limited:
            await api.list_connectors()
    assert bad_gateway.value.status == 502 and "without problem details" in bad_gateway.value.detail
    assert limited.value.retry_after == "3"


async def test_paths_are_escaped_and_params_dropped_when_empty(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/api/integrations/../me/events", {"items": [], "next_cursor": None})
    async with fake_api.client() as api:
        page = await api.list_events("../me", status="", limit=5)
    assert page["items"] == []
    sent = fake_api.requests[-1].url
    assert sent.raw_path == b"/api/integrations/..%2Fme/events?limit=5"


async def test_delete_answers_none_on_204(fake_api: FakeApi) -> None:
    fake_api.on("DELETE", "/api/integrations/i1", lambda _r: httpx.Response(204))
    async with fake_api.client() as api:
        assert await api.delete_integration("i1") is None

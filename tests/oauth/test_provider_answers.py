"""Providers' token answers at the network boundary, with their documented response bodies:
Slack's v2 shape and `ok: false` on HTTP 200, GitHub's JSON-on-request and 200-with-error,
tokens that never expire — each handled by what the provider's spec declares."""

from __future__ import annotations

import base64
import uuid

from oauth.helpers import CALLBACK_PATH, point, query_of, start
from oauth.test_flow import stored_tokens

SLACK_TOKEN = {
    "ok": True,
    "access_token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "token_type": "bot",
    "scope": "channels:read,channels:history",
    "bot_user_id": "U0KRQLJ9H",
    "app_id": "A0KRD7HC3",
    "team": {"name": "Slack Softball Team", "id": "T9TK3CUKW"},
    "enterprise": None,
    "authed_user": {
        "id": "U1234",
        "scope": "chat:write",
        "access_token": "xoxp-1234-5678-abcdef",
        "token_type": "user",
    },
    "is_enterprise_install": False,
}
SLACK_AUTH_TEST = {
    "ok": True,
    "url": "https://subarachnoid.slack.com/",
    "team": "Subarachnoid Workspace",
    "user": "bot",
    "team_id": "T9TK3CUKW",
    "user_id": "U0KRQLJ9H",
    "bot_id": "B0KRQLJ9H",
}
GITHUB_EXPIRING = {
    "access_token": "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
    "expires_in": 28800,
    "refresh_token": "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d1"
    "6D5B1A9Dc86A1498",
    "refresh_token_expires_in": 15811200,
    "scope": "",
    "token_type": "bearer",
}
GITHUB_BAD_REFRESH = {
    "error": "bad_refresh_token",
    "error_description": "The refresh token passed is incorrect or expired.",
    "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
}


async def test_slack_v2_bot_and_user_tokens(
    client, make_tenant, httpserver, monkeypatch, raw_rows
) -> None:
    point(monkeypatch, "slack", httpserver, "/oauth/v2/authorize", "/api/oauth.v2.access", "/api")
    basic = "Basic " + base64.b64encode(b"cid:csecret").decode()
    httpserver.expect_request(
        "/api/oauth.v2.access", method="POST", headers={"Authorization": basic}
    ).respond_with_json(SLACK_TOKEN)
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(SLACK_AUTH_TEST)
    tenant = await make_tenant("slack")
    started = await start(client, tenant.headers, "slack")
    assert started.query["scope"] == "channels:read,channels:history"
    assert "code_challenge" not in started.query
    response = await client.get(f"{CALLBACK_PATH}?code=1234.5678&state={started.query['state']}")
    assert query_of(response.headers["location"]) == {"oauth": "connected"}

    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected" and body["health"]["status"] == "healthy"
    assert body["config"]["team_id"] == "T9TK3CUKW" and body["config"]["bot_user_id"] == "U0KRQLJ9H"
    assert body["scopes"] == ["channels:read", "channels:history"]
    assert body["token_expires_at"] is None
    tokens = await stored_tokens(started.id, raw_rows)
    assert tokens["access_token"].startswith("xoxb-") and tokens["user_access_token"].startswith(
        "xoxp-"
    )
    # Without token rotation Slack tokens never expire: nothing to refresh.
    refresh = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert refresh.status_code == 409 and "does not expire" in refresh.json()["detail"]


async def test_slack_ok_false_on_200_is_an_error(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    point(monkeypatch, "slack", httpserver, "/oauth/v2/authorize", "/api/oauth.v2.access", "/api")
    httpserver.expect_request("/api/oauth.v2.access", method="POST").respond_with_json(
        {"ok": False, "error": "invalid_code"}
    )
    tenant = await make_tenant("slack-error")
    started = await start(client, tenant.headers, "slack")
    response = await client.get(f"{CALLBACK_PATH}?code=used&state={started.query['state']}")
    query = query_of(response.headers["location"])
    assert (query["oauth"], query["error"]) == ("error", "invalid_code")
    assert "invalid_code" in query["reason"]
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "error" and "invalid_code" in body["health"]["reason"]


async def test_slack_rotation_invalid_refresh_token_needs_reauth(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    point(monkeypatch, "slack", httpserver, "/oauth/v2/authorize", "/api/oauth.v2.access", "/api")
    rotating = {
        **SLACK_TOKEN,
        "access_token": "xoxe.xoxb-1-rotating",
        "refresh_token": "xoxe-1-refresh",
        "expires_in": 43200,
    }
    httpserver.expect_oneshot_request("/api/oauth.v2.access", method="POST").respond_with_json(
        rotating
    )
    httpserver.expect_oneshot_request("/api/oauth.v2.access", method="POST").respond_with_json(
        {"ok": False, "error": "invalid_refresh_token"}
    )
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(SLACK_AUTH_TEST)
    tenant = await make_tenant("slack-rotation")
    started = await start(client, tenant.headers, "slack")
    await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    refresh = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert refresh.status_code == 409 and refresh.json()["type"].endswith("/needs-reauth")
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "needs_reauth"


async def test_github_expiring_token_and_bad_refresh_token_on_200(
    client, make_tenant, httpserver, monkeypatch, raw_rows
) -> None:
    point(
        monkeypatch,
        "github",
        httpserver,
        "/login/oauth/authorize",
        "/login/oauth/access_token",
        "/api",
    )
    httpserver.expect_oneshot_request(
        "/login/oauth/access_token", method="POST", headers={"Accept": "application/json"}
    ).respond_with_json(GITHUB_EXPIRING)
    httpserver.expect_oneshot_request("/login/oauth/access_token", method="POST").respond_with_json(
        GITHUB_BAD_REFRESH
    )
    httpserver.expect_request("/api/user", method="GET").respond_with_json(
        {"login": "octocat", "id": 1}
    )
    tenant = await make_tenant("github-expiring")
    started = await start(client, tenant.headers, "github")
    response = await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    assert query_of(response.headers["location"]) == {"oauth": "connected"}
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["token_expires_at"] is not None
    # An empty `scope` from GitHub means nothing beyond public access was granted.
    assert body["scopes"] == ["admin:repo_hook"]
    tokens = await stored_tokens(started.id, raw_rows)
    assert tokens["refresh_token"] == GITHUB_EXPIRING["refresh_token"]

    refresh = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert refresh.status_code == 409, refresh.text
    alerts = await raw_rows("SELECT kind FROM alert WHERE integration = $1", uuid.UUID(started.id))
    assert [a["kind"] for a in alerts] == ["oauth.needs_reauth"]


async def test_github_token_that_never_expires(
    client, make_tenant, httpserver, monkeypatch, raw_rows
) -> None:
    point(
        monkeypatch,
        "github",
        httpserver,
        "/login/oauth/authorize",
        "/login/oauth/access_token",
        "/api",
    )
    httpserver.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
        {
            "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "scope": "admin:repo_hook,repo",
            "token_type": "bearer",
        }
    )
    httpserver.expect_request("/api/user", method="GET").respond_with_json(
        {"login": "octocat", "id": 1}
    )
    tenant = await make_tenant("github-classic")
    started = await start(client, tenant.headers, "github", scopes=["repo"])
    await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected" and body["token_expires_at"] is None
    assert body["scopes"] == ["admin:repo_hook", "repo"]
    tokens = await stored_tokens(started.id, raw_rows)
    assert "refresh_token" not in tokens and "expires_at" not in tokens

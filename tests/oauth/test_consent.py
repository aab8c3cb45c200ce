"""What a consent keeps beyond tokens, driven by each provider's spec and named hooks:
Slack's token-response facts (token_response_metadata), Jira's cloud id (the after_consent
hook) and the hook's own failure words, and provider error codes mapped as data."""

from __future__ import annotations

import uuid

import pytest

from backend.connectors.providers.jira import hooks as jira_hooks
from backend.connectors.registry import get_provider
from backend.connectors.spec import (
    ConnectorSpec,
    OAuthSpec,
    RateLimitPolicy,
    SpecError,
    validate_spec,
)
from backend.oauth.consent import MAX_VALUE_LENGTH, token_metadata
from oauth.helpers import CALLBACK_PATH, point, query_of, start
from oauth.test_flow import stored_tokens
from oauth.test_provider_answers import SLACK_AUTH_TEST, SLACK_TOKEN

CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
# https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#3-1-get-the-cloudid-for-your-site
ACCESSIBLE_RESOURCES = [
    {
        "id": CLOUD_ID,
        "url": "https://your-domain.atlassian.net",
        "name": "your-domain",
        "scopes": ["read:jira-work", "manage:jira-webhook"],
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
    },
    {"id": "another-site", "url": "https://other.atlassian.net", "name": "other", "scopes": []},
]
JIRA_TOKEN = {
    "access_token": "eyJraWQiOiJhdXRoLmF0bGFzc2lhbi5jb20tQUNDRVNTLTk0ZTczYTkwLTUxYWQtNGFjMS1hOWFj",
    "refresh_token": "eyJraWQiOiI1MWE2YjE2MjRlMTQ5ZDFiYTdhM2VmZjciLCJhbGciOiJSUzI1NiJ9.refresh",
    "expires_in": 3600,
    "scope": "read:jira-work read:jira-user manage:jira-webhook offline_access",
    "token_type": "Bearer",
}


def _oauth(**metadata: str) -> OAuthSpec:
    return OAuthSpec(
        authorize_url="https://example.com/authorize",
        token_url="https://example.com/token",
        docs_url="https://example.com/oauth",
        token_response_metadata=metadata,
    )


def _jira_endpoints(monkeypatch, httpserver, resources_status: int, resources: object) -> None:
    point(monkeypatch, "jira", httpserver, "/authorize", "/oauth/token", "/")
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(JIRA_TOKEN)
    httpserver.expect_request(
        "/oauth/token/accessible-resources",
        method="GET",
        headers={"Authorization": f"Bearer {JIRA_TOKEN['access_token']}"},
    ).respond_with_json(resources, status=resources_status)
    httpserver.expect_request(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself").respond_with_json(
        {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": True}
    )


async def test_slack_token_response_facts_land_in_config(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    point(monkeypatch, "slack", httpserver, "/oauth/v2/authorize", "/api/oauth.v2.access", "/api")
    token = {**SLACK_TOKEN, "enterprise": {"id": "E12345678", "name": "Umbrella Corp"}}
    httpserver.expect_request("/api/oauth.v2.access", method="POST").respond_with_json(token)
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(SLACK_AUTH_TEST)
    tenant = await make_tenant("slack-metadata")
    started = await start(client, tenant.headers, "slack")
    response = await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    assert query_of(response.headers["location"]) == {"oauth": "connected"}

    fetched = await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)
    assert fetched.json()["config"] == {
        "team_id": "T9TK3CUKW",
        "team_name": "Slack Softball Team",
        "enterprise_id": "E12345678",
        "bot_user_id": "U0KRQLJ9H",
        "app_id": "A0KRD7HC3",
        "authed_user_id": "U1234",
    }
    # Facts go to the public config; the tokens beside them never do.
    assert "xoxb-" not in fetched.text and "xoxp-" not in fetched.text


def test_token_metadata_keeps_only_short_scalars() -> None:
    oauth = _oauth(
        team_id="team.id",
        first_scope="scopes.0",
        team="team",
        flag="is_enterprise_install",
        missing="enterprise.id",
        long="note",
    )
    token = {
        "team": {"id": "T1", "name": "Acme"},
        "scopes": [42],
        "is_enterprise_install": False,
        "enterprise": None,
        "note": "x" * (MAX_VALUE_LENGTH + 1),
    }
    assert token_metadata(oauth, token) == {"team_id": "T1", "first_scope": "42"}


def test_token_metadata_may_not_name_a_token() -> None:
    spec = ConnectorSpec(
        key="leaky",
        name="Leaky",
        category="chat",
        description="A spec that would copy a token into the public config.",
        icon="box",
        docs_url="https://example.com/docs",
        auth_type="oauth2",
        api_base_url="https://api.example.com",
        oauth=_oauth(team_id="team.id", user_token="authed_user.access_token"),
        rate_limit=RateLimitPolicy(requests=1, per_seconds=1.0),
    )
    with pytest.raises(SpecError, match=r"token_response_metadata\['user_token'\] names a secret"):
        validate_spec(spec)


def test_jira_registers_its_after_consent_hook() -> None:
    assert get_provider("jira").hooks == {"after_consent": jira_hooks.after_consent}
    assert get_provider("slack").hooks == {}


async def test_jira_cloud_id_comes_from_the_after_consent_hook(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    _jira_endpoints(monkeypatch, httpserver, 200, ACCESSIBLE_RESOURCES)
    tenant = await make_tenant("jira-hook")
    started = await start(client, tenant.headers, "jira")
    response = await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    assert query_of(response.headers["location"]) == {"oauth": "connected"}

    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["config"] == {
        "cloud_id": CLOUD_ID,
        "site_url": "https://your-domain.atlassian.net",
        "site_name": "your-domain",
    }
    assert body["health"]["status"] == "healthy", body["health"]


async def test_jira_consent_without_a_site_fails_in_the_hooks_words(
    client, make_tenant, httpserver, monkeypatch, raw_rows
) -> None:
    _jira_endpoints(monkeypatch, httpserver, 200, [])
    tenant = await make_tenant("jira-no-site")
    started = await start(client, tenant.headers, "jira")
    response = await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    query = query_of(response.headers["location"])
    assert query == {
        "oauth": "error",
        "error": "no_accessible_jira_site",
        "reason": jira_hooks.NO_SITE,
    }

    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "error" and body["health"]["reason"] == jira_hooks.NO_SITE
    # The exchange succeeded, but nothing of it is kept when the consent cannot complete.
    rows = await raw_rows(
        "SELECT credentials FROM integration WHERE id = $1", uuid.UUID(started.id)
    )
    assert rows[0]["credentials"] is None


async def test_jira_site_lookup_outage_reads_as_unavailable(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    _jira_endpoints(monkeypatch, httpserver, 503, {"message": "Service Unavailable"})
    tenant = await make_tenant("jira-outage")
    started = await start(client, tenant.headers, "jira")
    response = await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    query = query_of(response.headers["location"])
    assert query["error"] == "after_consent_http_503"
    assert query["reason"] == (
        "Jira could not be reached to finish the connection (after_consent_http_503). Try again."
    )


async def test_a_providers_own_error_code_reads_as_the_standard_one(
    client, make_tenant, httpserver, monkeypatch
) -> None:
    point(monkeypatch, "github", httpserver, "/authorize", "/login/oauth/access_token", "/api")
    # GitHub answers an expired or reused code with HTTP 200 and its own code.
    httpserver.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
        {
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
        }
    )
    tenant = await make_tenant("github-bad-code")
    started = await start(client, tenant.headers, "github")
    response = await client.get(f"{CALLBACK_PATH}?code=old&state={started.query['state']}")
    query = query_of(response.headers["location"])
    assert query["error"] == "bad_verification_code"
    assert query["reason"] == (
        "GitHub did not accept the authorization code (it expired or was already used). "
        "Connect again."
    )


async def test_an_error_code_another_provider_uses_is_not_a_lost_grant(
    client, make_tenant, httpserver, monkeypatch, raw_rows
) -> None:
    """`invalid_refresh_token` is Slack's dead-grant code, not GitHub's: a GitHub answer with
    it is a refusal to report (502), not a reason to ask the person to reconnect."""
    point(monkeypatch, "github", httpserver, "/authorize", "/login/oauth/access_token", "/api")
    expiring = {
        "access_token": "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
        "expires_in": 28800,
        "refresh_token": "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d1",
        "scope": "admin:repo_hook",
        "token_type": "bearer",
        # Not GitHub's shape: a user token where the spec declares none is not kept.
        "authed_user": {"id": "U1", "access_token": "xoxp-not-for-github"},
    }
    httpserver.expect_oneshot_request("/login/oauth/access_token", method="POST").respond_with_json(
        expiring
    )
    httpserver.expect_oneshot_request("/login/oauth/access_token", method="POST").respond_with_json(
        {"error": "invalid_refresh_token"}
    )
    httpserver.expect_request("/api/user", method="GET").respond_with_json(
        {"login": "octocat", "id": 1}
    )
    tenant = await make_tenant("github-foreign-code")
    started = await start(client, tenant.headers, "github")
    await client.get(f"{CALLBACK_PATH}?code=c&state={started.query['state']}")
    tokens = await stored_tokens(started.id, raw_rows)
    assert not any(name.startswith("user_") for name in tokens)

    refresh = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert refresh.status_code == 502, refresh.text
    assert "invalid_refresh_token" in refresh.json()["detail"]
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected"
    alerts = await raw_rows("SELECT kind FROM alert WHERE integration = $1", uuid.UUID(started.id))
    assert [a["kind"] for a in alerts] == ["oauth.refresh_failed"]

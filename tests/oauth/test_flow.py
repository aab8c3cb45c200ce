"""Authorization code + PKCE end to end against a real authorization server, and every way
the callback must refuse: replayed, unknown, expired, orphaned or cross-tenant state,
injected codes, declined consent, open redirects."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from backend.integrations import secrets as sealed
from oauth.helpers import CALLBACK_PATH, callback, connect, consent, query_of, start

SECRET_TABLES = ("integration", "oauth_state", "integration_log", "audit_log", "alert")


async def stored_tokens(integration_id: str, raw_rows: Any) -> dict[str, Any]:
    row = (
        await raw_rows(
            "SELECT tenant, id, credentials FROM integration WHERE id = $1",
            uuid.UUID(integration_id),
        )
    )[0]
    return await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])


async def assert_nowhere_in_db(raw_rows: Any, *secrets: str) -> None:
    for table in SECRET_TABLES:
        rows = await raw_rows(f"SELECT row_to_json(t)::text AS j FROM {table} t")
        dump = "\n".join(r["j"] for r in rows)
        for secret in secrets:
            assert secret not in dump, f"plaintext secret found in {table}"
    bytea = await raw_rows(
        "SELECT encode(credentials, 'escape') AS c FROM integration WHERE credentials IS NOT NULL"
    )
    for secret in secrets:
        assert all(secret not in r["c"] for r in bytea)


async def api_dump(client: httpx.AsyncClient, headers: dict[str, str], integration_id: str) -> str:
    bodies = [
        (await client.get(f"/api/integrations/{integration_id}", headers=headers)).text,
        (await client.get("/api/integrations", headers=headers)).text,
        (await client.get(f"/api/integrations/{integration_id}/logs", headers=headers)).text,
        (await client.get("/api/audit", headers=headers)).text,
    ]
    return "\n".join(bodies)


async def test_code_flow_with_pkce_end_to_end(client, make_tenant, auth_server, raw_rows) -> None:
    server = auth_server("github")
    tenant = await make_tenant("pkce")
    started = await start(client, tenant.headers, "github", scopes=["repo"])
    assert started.integration["status"] == "pending"
    q = started.query
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"] == "https://hooks.example.test" + CALLBACK_PATH
    assert q["scope"] == "admin:repo_hook repo"
    assert q["client_id"] == "github-client"
    # Only the state's hash is stored, and the PKCE verifier is sealed.
    states = await raw_rows(
        "SELECT row_to_json(s)::text AS j FROM oauth_state s WHERE integration = $1",
        uuid.UUID(started.id),
    )
    assert len(states) == 1 and q["state"] not in states[0]["j"]

    location = await consent(started.authorization_url)
    response = await callback(client, location)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"http://localhost:3000/integrations/{started.id}?oauth=connected"
    )
    assert response.headers["referrer-policy"] == "no-referrer"

    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected"
    assert body["scopes"] == ["admin:repo_hook", "repo"]
    assert body["token_expires_at"] is not None
    assert body["health"]["status"] == "healthy", body["health"]
    assert server.store.counts["token:authorization_code"] == 1

    tokens = await stored_tokens(started.id, raw_rows)
    assert tokens["access_token"].startswith("at_") and tokens["refresh_token"].startswith("rt_")
    assert set(tokens) >= {"access_token", "refresh_token", "token_type", "expires_at", "scope"}
    await assert_nowhere_in_db(raw_rows, tokens["access_token"], tokens["refresh_token"])
    dump = await api_dump(client, tenant.headers, started.id)
    assert tokens["access_token"] not in dump and tokens["refresh_token"] not in dump
    logs = (
        await client.get(f"/api/integrations/{started.id}/logs", headers=tenant.headers)
    ).json()["items"]
    assert any(e["event"] == "oauth.connected" for e in logs)


async def test_replayed_state_is_rejected(client, make_tenant, auth_server) -> None:
    server = auth_server("github")
    tenant = await make_tenant("replay")
    started = await start(client, tenant.headers)
    location = await consent(started.authorization_url)
    assert (await callback(client, location)).status_code == 303
    replay = await callback(client, location)
    assert replay.status_code == 400
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert replay.json()["type"].endswith("/oauth-state")
    assert "already used" in replay.json()["detail"]
    assert server.store.counts["token:authorization_code"] == 1


async def test_concurrent_replay_wins_once(client, make_tenant, auth_server) -> None:
    import asyncio

    server = auth_server("github")
    tenant = await make_tenant("race")
    started = await start(client, tenant.headers)
    location = await consent(started.authorization_url)
    answers = await asyncio.gather(*(callback(client, location) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [303, 400, 400, 400, 400]
    assert server.store.counts["token:authorization_code"] == 1


async def test_unknown_or_missing_state_is_rejected(client, make_tenant, auth_server) -> None:
    auth_server("github")
    tenant = await make_tenant("forged")
    started = await start(client, tenant.headers)
    for query in (
        "code=abc&state=forged-state-value",
        "code=abc",
        "state=&code=abc",
        "code=a&state=x&state=y",
    ):
        response = await client.get(f"{CALLBACK_PATH}?{query}")
        assert response.status_code == 400, query
        assert response.json()["type"].endswith("/oauth-state")
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "pending"


async def test_expired_state_is_rejected(client, make_tenant, auth_server, raw_rows) -> None:
    server = auth_server("github")
    tenant = await make_tenant("expired")
    started = await start(client, tenant.headers)
    location = await consent(started.authorization_url)
    await raw_rows(
        "UPDATE oauth_state SET expires_at = now() - interval '1 minute' WHERE integration = $1",
        uuid.UUID(started.id),
    )
    response = await callback(client, location)
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]
    assert server.store.counts["token:authorization_code"] == 0
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "pending"


async def test_state_of_a_deleted_integration_is_dead(client, make_tenant, auth_server) -> None:
    server = auth_server("github")
    tenant = await make_tenant("deleted")
    started = await start(client, tenant.headers)
    location = await consent(started.authorization_url)
    assert (
        await client.post(f"/api/integrations/{started.id}/revoke", headers=tenant.headers)
    ).status_code == 200
    assert (
        await client.delete(f"/api/integrations/{started.id}", headers=tenant.headers)
    ).status_code == 204
    response = await callback(client, location)
    assert response.status_code == 400
    assert "unknown" in response.json()["detail"]
    assert server.store.counts["token:authorization_code"] == 0


async def test_a_tenants_state_completes_only_its_own_integration(
    client, make_tenant, auth_server, raw_rows
) -> None:
    auth_server("github")
    tenant_a = await make_tenant("tenant-a")
    tenant_b = await make_tenant("tenant-b")
    a = await start(client, tenant_a.headers)
    b = await start(client, tenant_b.headers)
    location_a = await consent(a.authorization_url)
    assert (await callback(client, location_a)).status_code == 303
    # A's state reached A's integration only; B cannot see A's, and B's is untouched.
    assert (
        await client.get(f"/api/integrations/{a.id}", headers=tenant_b.headers)
    ).status_code == 404
    assert (await client.get(f"/api/integrations/{b.id}", headers=tenant_b.headers)).json()[
        "status"
    ] == "pending"
    rows = await raw_rows(
        "SELECT tenant, credentials FROM integration WHERE id = $1", uuid.UUID(b.id)
    )
    assert rows[0]["credentials"] is None and rows[0]["tenant"] == tenant_b.id


async def test_injected_code_fails_pkce(client, make_tenant, auth_server) -> None:
    """An attacker's code (issued for the attacker's own flow) delivered with the victim's
    state: the victim's PKCE verifier does not match, so no attacker account gets linked."""
    server = auth_server("github")
    victim = await make_tenant("victim")
    attacker = await make_tenant("attacker")
    victims = await start(client, victim.headers)
    attackers = await start(client, attacker.headers)
    attacker_code = query_of(await consent(attackers.authorization_url))["code"]
    victim_state = victims.query["state"]
    response = await client.get(f"{CALLBACK_PATH}?code={attacker_code}&state={victim_state}")
    assert response.status_code == 303
    query = query_of(response.headers["location"])
    assert (query["oauth"], query["error"]) == ("error", "invalid_grant")
    assert "did not accept the authorization code" in query["reason"]
    body = (await client.get(f"/api/integrations/{victims.id}", headers=victim.headers)).json()
    assert body["status"] == "error"
    assert server.store.counts["token:authorization_code"] == 1


async def test_declined_consent_marks_the_integration(client, make_tenant, auth_server) -> None:
    server = auth_server("github")
    server.deny = True
    tenant = await make_tenant("denied")
    started = await start(client, tenant.headers, return_url="/integrations?tab=new")
    response = await callback(client, await consent(started.authorization_url))
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert (target.scheme, target.netloc, target.path) == (
        "http",
        "localhost:3000",
        "/integrations",
    )
    query = query_of(response.headers["location"])
    assert (query["tab"], query["oauth"], query["error"]) == ("new", "error", "access_denied")
    assert "declined" in query["reason"]  # words a person understands, not the code
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "error"
    assert "declined" in body["health"]["reason"]
    logs = (
        await client.get(f"/api/integrations/{started.id}/logs", headers=tenant.headers)
    ).json()["items"]
    assert any(e["event"] == "oauth.failed" and e["level"] == "warning" for e in logs)
    assert server.store.counts["token:authorization_code"] == 0


async def test_return_url_must_not_be_an_open_redirect(client, make_tenant, auth_server) -> None:
    auth_server("github")
    tenant = await make_tenant("redirects")
    for bad in (
        "https://evil.example/steal",
        "//evil.example/x",
        "http://localhost:3000@evil.example/",
        "javascript:alert(1)",
        "http://localhost:3001/",
        "https://localhost:3000/",
    ):
        response = await client.post(
            "/api/integrations",
            json={"connector_id": "github", "name": "x", "return_url": bad},
            headers=tenant.headers,
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "return_url"
    started = await start(client, tenant.headers, return_url="http://localhost:3000/after?x=1")
    response = await callback(client, await consent(started.authorization_url))
    assert response.headers["location"] == "http://localhost:3000/after?x=1&oauth=connected"


async def test_scopes_outside_the_allowed_list_are_refused(
    client, make_tenant, auth_server
) -> None:
    auth_server("github")
    tenant = await make_tenant("scopes")
    response = await client.post(
        "/api/integrations",
        json={"connector_id": "github", "name": "x", "scopes": ["repo", "delete_repo"]},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scopes"
    assert "delete_repo" in response.json()["detail"]


async def test_test_mode_simulates_consent_without_a_provider(
    client, make_tenant, monkeypatch
) -> None:
    for suffix in ("CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"SWITCHBOARD_SLACK_{suffix}", raising=False)
    tenant = await make_tenant("test-mode")
    started = await start(client, tenant.headers, "slack", test_mode=True)
    assert started.authorization_url.startswith("https://hooks.example.test" + CALLBACK_PATH + "?")
    response = await callback(client, started.authorization_url)
    assert response.status_code == 303 and "oauth=connected" in response.headers["location"]
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected" and body["test_mode"] is True
    assert body["health"]["status"] == "healthy", body["health"]
    # Refresh works in test mode too, without any network.
    refreshed = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert refreshed.status_code == 200, refreshed.text


async def test_jira_stores_the_cloud_id_from_accessible_resources(
    client, make_tenant, auth_server
) -> None:
    from oauth_server import CLOUD_ID

    auth_server("jira", pkce_required=False)
    tenant = await make_tenant("jira")
    started = await start(client, tenant.headers, "jira")
    q = started.query
    assert q["audience"] == "api.atlassian.com" and q["prompt"] == "consent"
    assert "code_challenge" not in q
    response = await callback(client, await consent(started.authorization_url))
    assert "oauth=connected" in response.headers["location"]
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["config"]["cloud_id"] == CLOUD_ID
    assert body["health"]["status"] == "healthy", body["health"]


async def test_google_asks_for_offline_access(client, make_tenant, auth_server) -> None:
    auth_server("gmail")
    tenant = await make_tenant("google")
    started = await start(client, tenant.headers, "gmail")
    q = started.query
    assert q["access_type"] == "offline" and q["prompt"] == "consent"
    assert q["scope"] == "https://www.googleapis.com/auth/gmail.readonly"
    await connect(client, tenant.headers, "gmail")

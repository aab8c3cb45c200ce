"""The token lifecycle against a real authorization server: rotation, no rotation, a dead
grant, an outage, 20 concurrent refreshes, the 401 retry helper and the worker cron."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from backend.integrations.tables import Integration
from backend.lib.tenancy import TenantScope
from backend.oauth.jobs import refresh_expiring_tokens
from backend.oauth.services import OAuthService, with_fresh_token
from oauth.helpers import connect
from oauth.test_flow import api_dump, assert_nowhere_in_db, stored_tokens


async def load(tenant_id: uuid.UUID, integration_id: str) -> tuple[TenantScope, dict[str, Any]]:
    scope = TenantScope(tenant_id, "test")
    return scope, await scope.get(Integration, integration_id)


async def test_refresh_with_rotation(client, make_tenant, auth_server, raw_rows) -> None:
    server = auth_server("github", rotate=True)
    tenant = await make_tenant("rotate")
    started = await connect(client, tenant.headers)
    before = await stored_tokens(started.id, raw_rows)

    response = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert response.status_code == 200, response.text
    after = await stored_tokens(started.id, raw_rows)
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    # The server spent the old refresh token; the one we stored is the live one.
    assert server.live_refresh_tokens() == [after["refresh_token"]]
    assert server.store.counts["token:refresh_token"] == 1

    again = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert again.status_code == 200, again.text
    assert server.store.counts["token:refresh_token"] == 2
    assert (
        await client.post(f"/api/integrations/{started.id}/test", headers=tenant.headers)
    ).json()["health"]["status"] == "healthy"
    await assert_nowhere_in_db(raw_rows, *server.all_tokens())
    dump = await api_dump(client, tenant.headers, started.id)
    assert not any(token in dump for token in server.all_tokens())


async def test_refresh_without_rotation_keeps_the_refresh_token(
    client, make_tenant, auth_server, raw_rows
) -> None:
    server = auth_server("gmail", rotate=False)
    tenant = await make_tenant("google-refresh")
    started = await connect(client, tenant.headers, "gmail")
    before = await stored_tokens(started.id, raw_rows)
    response = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert response.status_code == 200, response.text
    after = await stored_tokens(started.id, raw_rows)
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]
    assert server.store.counts["token:refresh_token"] == 1


async def test_revoked_grant_needs_reauth(client, make_tenant, auth_server, raw_rows) -> None:
    server = auth_server("github")
    tenant = await make_tenant("revoked-grant")
    started = await connect(client, tenant.headers)
    server.revoke_grants()
    response = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith("/needs-reauth")
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "needs_reauth"
    assert "reconnect" in body["health"]["reason"]
    alerts = await raw_rows(
        "SELECT kind, status FROM alert WHERE integration = $1", uuid.UUID(started.id)
    )
    assert alerts == [{"kind": "oauth.needs_reauth", "status": "open"}]
    logs = (
        await client.get(f"/api/integrations/{started.id}/logs", headers=tenant.headers)
    ).json()["items"]
    assert any(e["event"] == "oauth.needs_reauth" and e["level"] == "error" for e in logs)
    # Further refreshes do not hit the provider again.
    assert (
        await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    ).status_code == 409
    assert server.store.counts["token:refresh_token"] == 1
    await assert_nowhere_in_db(raw_rows, *server.all_tokens())


async def test_provider_outage_is_transient(client, make_tenant, auth_server, raw_rows) -> None:
    server = auth_server("github")
    tenant = await make_tenant("outage")
    started = await connect(client, tenant.headers)
    before = await stored_tokens(started.id, raw_rows)
    server.fail_next = 1
    response = await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected"
    assert await stored_tokens(started.id, raw_rows) == before
    assert (
        await client.post(f"/api/integrations/{started.id}/refresh", headers=tenant.headers)
    ).status_code == 200


async def test_twenty_concurrent_refreshes_make_one_token_request(
    app, client, make_tenant, auth_server, raw_rows
) -> None:
    server = auth_server("github", rotate=True)
    server.token_delay = 0.3
    tenant = await make_tenant("stampede")
    started = await connect(client, tenant.headers)
    scope, row = await load(tenant.id, started.id)
    # Separate service objects, as in separate processes: only Redis is shared.
    services = [OAuthService() for _ in range(20)]
    results = await asyncio.gather(
        *(s.refresh(scope, row, redis=app.state.redis) for s in services)
    )
    assert server.store.counts["token:refresh_token"] == 1
    stored = await stored_tokens(started.id, raw_rows)
    assert server.live_refresh_tokens() == [stored["refresh_token"]]
    from backend.integrations import secrets as sealed

    seen = {
        (await sealed.open_credentials(r["tenant"], r["id"], r["credentials"]))["access_token"]
        for r in results
    }
    assert seen == {stored["access_token"]}
    assert not await app.state.redis.exists(f"sb:oauth:refresh:{started.id}")


async def test_a_401_refreshes_once_and_retries(app, client, make_tenant, auth_server) -> None:
    server = auth_server("github")
    tenant = await make_tenant("retry")
    started = await connect(client, tenant.headers)
    server.expire_access_tokens()
    scope, row = await load(tenant.id, started.id)

    async def whoami(adapter: Any) -> str:
        return str((await adapter.call("GET", "/user")).json()["login"])

    assert await with_fresh_token(scope, row, whoami, redis=app.state.redis) == "octocat"
    assert server.store.counts["token:refresh_token"] == 1


async def test_worker_refreshes_tokens_about_to_expire(
    app, client, make_tenant, auth_server, raw_rows
) -> None:
    server = auth_server("github", access_ttl=120)
    tenant = await make_tenant("cron")
    started = await connect(client, tenant.headers)
    far = await make_tenant("cron-far")
    server.access_ttl = 7200
    other = await connect(client, far.headers)
    before = await stored_tokens(started.id, raw_rows)
    other_before = await stored_tokens(other.id, raw_rows)

    counts = await refresh_expiring_tokens({"redis": app.state.redis})
    assert counts["refreshed"] >= 1
    after = await stored_tokens(started.id, raw_rows)
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"] > dt.datetime.now(dt.UTC).timestamp() + 3600
    # The token that expires in two hours was left alone.
    assert await stored_tokens(other.id, raw_rows) == other_before


async def test_worker_backs_off_after_an_outage(app, client, make_tenant, auth_server) -> None:
    server = auth_server("github", access_ttl=60)
    tenant = await make_tenant("cron-outage")
    started = await connect(client, tenant.headers)
    server.fail_next = 100
    await refresh_expiring_tokens({"redis": app.state.redis})
    attempts = server.store.counts["token:refresh_token"]
    assert await app.state.redis.exists(f"sb:oauth:refresh-retry:{started.id}:wait")
    # Within the backoff window the integration is not tried again.
    await refresh_expiring_tokens({"redis": app.state.redis})
    assert server.store.counts["token:refresh_token"] == attempts
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected"


async def test_grants_backing_off_do_not_starve_healthy_ones(
    app, client, make_tenant, auth_server, raw_rows
) -> None:
    """More integrations in backoff than one batch, all expiring sooner: the healthy one
    behind them is still refreshed."""
    server = auth_server("github", access_ttl=300)
    tenant = await make_tenant("cron-starve")
    started = await connect(client, tenant.headers)
    before = await stored_tokens(started.id, raw_rows)
    columns = [
        r["column_name"]
        for r in await raw_rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'integration'"
        )
    ]
    copied = [c for c in columns if c not in ("id", "webhook_token_hash", "status")]
    names = ", ".join(copied)
    stuck = await raw_rows(
        f"INSERT INTO integration (id, status, {names}) "
        f"SELECT gen_random_uuid(), 'error', {names} FROM integration, generate_series(1, 250) "
        "WHERE id = $1 RETURNING id",
        uuid.UUID(started.id),
    )
    await raw_rows(
        "UPDATE integration SET token_expires_at = now() WHERE id = ANY($1::uuid[])",
        [r["id"] for r in stuck],
    )
    redis = app.state.redis
    for r in stuck:
        await redis.set(f"sb:oauth:refresh-retry:{r['id']}:wait", 1, ex=600)
    try:
        counts = await refresh_expiring_tokens({"redis": redis})
        assert counts["waiting"] >= 250
        assert counts["refreshed"] >= 1
        assert (await stored_tokens(started.id, raw_rows))["access_token"] != before["access_token"]
        assert server.store.counts["token:refresh_token"] >= 1
    finally:
        await raw_rows(
            "DELETE FROM integration WHERE id = ANY($1::uuid[])", [r["id"] for r in stuck]
        )
        for r in stuck:
            await redis.delete(f"sb:oauth:refresh-retry:{r['id']}:wait")

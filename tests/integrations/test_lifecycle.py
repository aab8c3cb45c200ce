"""Connect → test → revoke → delete for API-key connectors over HTTP, with the audit trail."""

from __future__ import annotations

import pytest

from backend.connectors.registry import get_provider, providers

STRIPE_KEY = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"


def stripe_body(**extra):
    return {
        "connector_id": "stripe",
        "name": "Payments",
        "credentials": {"secret_key": STRIPE_KEY},
        **extra,
    }


async def test_connect_test_revoke_delete_in_test_mode(client, tenant, raw_rows) -> None:
    creds = dict(get_provider("stripe").simulator.sample_credentials)
    r = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "Payments",
            "credentials": creds,
            "test_mode": True,
            "webhook_signing_secret": "whsec_test_secret",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    integration = body["integration"]
    assert integration["status"] == "connected"
    assert integration["test_mode"] is True
    assert integration["health"]["status"] == "healthy"
    assert integration["webhook_url"].startswith("https://hooks.example.test/api/webhooks/stripe/")
    assert (
        integration["webhook_url"] in integration["setup_instructions"]
        or integration["setup_instructions"]
    )
    # A user-supplied signing secret is never echoed back.
    assert "webhook_signing_secret" not in body
    for secret in [*creds.values(), "whsec_test_secret"]:
        assert secret not in r.text
    iid = integration["id"]

    got = await client.get(f"/api/integrations/{iid}", headers=tenant.headers)
    assert got.status_code == 200 and got.json()["id"] == iid

    tested = await client.post(f"/api/integrations/{iid}/test", headers=tenant.headers)
    assert tested.status_code == 200, tested.text
    assert tested.json()["health"]["status"] == "healthy"

    revoked = await client.post(f"/api/integrations/{iid}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["integration"]["status"] == "revoked"
    assert revoked.json()["integration"]["webhook_url"] is None
    again = await client.post(f"/api/integrations/{iid}/revoke", headers=tenant.headers)
    assert again.status_code == 200 and again.json()["integration"]["status"] == "revoked"

    rows = await raw_rows(
        "SELECT credentials, webhook_secrets, webhook_token_hash"
        " FROM integration WHERE id = $1::uuid",
        iid,
    )
    assert rows[0] == {"credentials": None, "webhook_secrets": None, "webhook_token_hash": None}

    deleted = await client.delete(f"/api/integrations/{iid}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/integrations/{iid}", headers=tenant.headers)).status_code == 404

    audit = (await client.get("/api/audit", headers=tenant.headers)).json()["items"]
    actions = [a["action"] for a in audit if a["target_id"] == iid]
    assert actions == [
        "integration.delete",
        "integration.revoke",
        "integration.test",
        "integration.create",
    ]
    assert all(a["actor"].startswith("api_key:sb_") for a in audit)
    assert STRIPE_KEY not in str(audit)


async def test_delete_requires_revoke(client, tenant) -> None:
    r = await client.post(
        "/api/integrations",
        json={"connector_id": "webhook", "name": "Generic"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    iid = r.json()["integration"]["id"]
    d = await client.delete(f"/api/integrations/{iid}", headers=tenant.headers)
    assert d.status_code == 409 and d.json()["type"].endswith("/conflict")


async def test_generated_signing_secret_shown_once(client, tenant) -> None:
    r = await client.post(
        "/api/integrations",
        json={"connector_id": "webhook", "name": "Generic"},
        headers=tenant.headers,
    )
    secret = r.json()["webhook_signing_secret"]
    assert secret.startswith("whsec_")
    iid = r.json()["integration"]["id"]
    assert secret not in (await client.get(f"/api/integrations/{iid}", headers=tenant.headers)).text
    listed = await client.get("/api/integrations", headers=tenant.headers)
    assert secret not in listed.text
    rotated = await client.post(f"/api/integrations/{iid}/webhook/rotate", headers=tenant.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["webhook_signing_secret"]
    assert new_secret != secret and new_secret.startswith("whsec_")
    assert rotated.json()["integration"]["webhook_url"] != r.json()["integration"]["webhook_url"]


async def test_provider_rejection_is_422_and_stores_nothing(client, tenant, raw_rows) -> None:
    before = await raw_rows("SELECT count(*) AS n FROM integration WHERE tenant = $1", tenant.id)
    r = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "x",
            "credentials": {"secret_key": "sk_test_invalid0000000000000000"},
            "test_mode": True,
        },
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/provider-rejected")
    assert "sk_test_invalid" not in r.text
    after = await raw_rows("SELECT count(*) AS n FROM integration WHERE tenant = $1", tenant.id)
    assert before == after


async def test_against_a_local_provider_server(client, tenant, monkeypatch) -> None:
    """Real HTTP at the network boundary: the connector's API base points at a loopback
    server answering as Stripe does."""
    from tests.provider_server import ProviderServer

    simulator = get_provider("stripe").simulator
    with ProviderServer(simulator) as server:
        monkeypatch.setenv("SWITCHBOARD_STRIPE_API_BASE_URL", server.url)
        r = await client.post("/api/integrations", json=stripe_body(), headers=tenant.headers)
        assert r.status_code == 201, r.text
        iid = r.json()["integration"]["id"]
        simulator.fail_with = "401"
        try:
            tested = await client.post(f"/api/integrations/{iid}/test", headers=tenant.headers)
        finally:
            simulator.fail_with = None
        assert tested.json()["health"]["status"] == "auth_failed"
        assert tested.json()["integration"]["status"] == "error"
        logs = (await client.get(f"/api/integrations/{iid}/logs", headers=tenant.headers)).json()[
            "items"
        ]
        assert logs[0]["event"] == "health.checked" and "auth_failed" in logs[0]["message"]


async def test_list_filter_and_paginate(client, make_tenant) -> None:
    t = await make_tenant("pager")
    for i in range(5):
        r = await client.post(
            "/api/integrations",
            json={"connector_id": "webhook", "name": f"hook {i}"},
            headers=t.headers,
        )
        assert r.status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "connector_id": "webhook"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/integrations", params=params, headers=t.headers)).json()
        seen += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"hook {i}" for i in reversed(range(5))]
    none = (
        await client.get("/api/integrations", params={"status": "revoked"}, headers=t.headers)
    ).json()
    assert none["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"connector_id": "nope", "name": "x"}, "connector_id"),
        ({"connector_id": "stripe", "name": "x", "credentials": {}}, "credentials.secret_key"),
        (
            {
                "connector_id": "stripe",
                "name": "x",
                "credentials": {"secret_key": STRIPE_KEY, "extra": "1"},
            },
            "credentials.extra",
        ),
        (
            {"connector_id": "stripe", "name": "x", "credentials": {"secret_key": 12345}},
            "credentials.secret_key",
        ),
        (
            {
                "connector_id": "stripe",
                "name": "x",
                "credentials": {"secret_key": "pk_live_wrongkind"},
            },
            "credentials.secret_key",
        ),
        ({"connector_id": "stripe", "name": "", "credentials": {"secret_key": STRIPE_KEY}}, "name"),
        ({"connector_id": "stripe"}, "name"),
        ({"connector_id": "stripe", "name": "x", "surprise": 1}, "surprise"),
        # Issue 10 item 9: refused before anything is written (or registered at Telegram).
        (
            {
                "connector_id": "stripe",
                "name": "x",
                "test_mode": True,
                "credentials": {"secret_key": STRIPE_KEY},
                "scopes": ["read"],
            },
            "scopes",
        ),
        (
            {
                "connector_id": "telegram",
                "name": "x",
                "test_mode": True,
                "credentials": {"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"},
                "scopes": ["bot"],
            },
            "scopes",
        ),
        (
            {
                "connector_id": "stripe",
                "name": "x",
                "test_mode": True,
                "credentials": {"secret_key": STRIPE_KEY},
                "return_url": "http://localhost:3000/x",
            },
            "return_url",
        ),
        ({"connector_id": "stripe", "name": 5}, "name"),
        (
            {
                "connector_id": "twilio",
                "name": "x",
                "credentials": {"account_sid": "AC" + "0" * 32},
            },
            "credentials.auth_token",
        ),
        (
            {"connector_id": "webhook", "name": "x", "webhook_signing_secret": "mine"},
            "webhook_signing_secret",
        ),
        (
            {
                "connector_id": "github",
                "name": "x",
                "config": {"api_base_url": "http://169.254.169.254/latest"},
            },
            "config.api_base_url",
        ),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    client, tenant, raw_rows, body, field
) -> None:
    before = await raw_rows(
        "SELECT (SELECT count(*) FROM integration) AS i, (SELECT count(*) FROM audit_log) AS a"
    )
    r = await client.post("/api/integrations", json=body, headers=tenant.headers)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert field in [e["field"] for e in problem.get("errors", [])] or field in problem["detail"], (
        problem
    )
    assert STRIPE_KEY not in r.text
    after = await raw_rows(
        "SELECT (SELECT count(*) FROM integration) AS i, (SELECT count(*) FROM audit_log) AS a"
    )
    assert before == after


async def test_non_json_and_oversized_bodies(client, tenant) -> None:
    r = await client.post(
        "/api/integrations",
        content=b"not json{",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    big = b'{"connector_id": "webhook", "name": "' + b"x" * 2_000_000 + b'"}'
    r = await client.post(
        "/api/integrations",
        content=big,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["type"].endswith("/payload-too-large")


async def test_patch_and_validation(client, tenant) -> None:
    r = await client.post(
        "/api/integrations",
        json={"connector_id": "webhook", "name": "before"},
        headers=tenant.headers,
    )
    iid = r.json()["integration"]["id"]
    p = await client.patch(
        f"/api/integrations/{iid}",
        json={"name": "after", "config": {"signature_mode": "hmac_sha256"}},
        headers=tenant.headers,
    )
    assert p.status_code == 200, p.text
    assert p.json()["name"] == "after" and p.json()["config"]["signature_mode"] == "hmac_sha256"
    # config is a merge patch: absent keys stay, null removes one.
    p = await client.patch(
        f"/api/integrations/{iid}",
        json={"config": {"signature_header": "X-Signature"}},
        headers=tenant.headers,
    )
    assert p.json()["config"] == {
        "signature_mode": "hmac_sha256",
        "signature_header": "X-Signature",
    }
    p = await client.patch(
        f"/api/integrations/{iid}",
        json={"config": {"signature_header": None}},
        headers=tenant.headers,
    )
    assert p.json()["config"] == {"signature_mode": "hmac_sha256"}
    reserved = await client.patch(
        f"/api/integrations/{iid}", json={"config": {"_x": 1}}, headers=tenant.headers
    )
    assert reserved.status_code == 422 and "config._x" in reserved.text
    bad = await client.patch(
        f"/api/integrations/{iid}", json={"name": "x", "credentials": {}}, headers=tenant.headers
    )
    assert bad.status_code in (400, 422)
    assert "credentials" in bad.text


async def test_catalog_lists_all_connectors(client, tenant) -> None:
    r = await client.get("/api/connectors", headers=tenant.headers)
    assert r.status_code == 200
    items = {c["id"]: c for c in r.json()["items"]}
    assert list(items) == list(providers())
    auth = {k: v["auth_type"] for k, v in items.items()}
    assert auth["stripe"] == "api_key" and auth["github"] == "oauth2" and auth["webhook"] == "none"
    assert (
        items["github"]["configured"] is False
        and "SWITCHBOARD_GITHUB_CLIENT_ID" in items["github"]["configured_reason"]
    )
    one = await client.get("/api/connectors/slack", headers=tenant.headers)
    assert one.status_code == 200 and one.json()["oauth"]["default_scopes"]
    assert (await client.get("/api/connectors/nope", headers=tenant.headers)).status_code == 404

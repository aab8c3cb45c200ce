"""WhatsApp's verify_token is a secret (issue 10, item 8): sealed at rest, shown by the API only
as set, and still the key to Meta's GET subscription handshake."""

from __future__ import annotations

import importlib
import json
import uuid
from typing import Any

import httpx

from backend.connectors.providers.whatsapp.spec import SPEC
from backend.integrations.secrets import MASK, open_config

from .support import assert_problem

VERIFY_TOKEN = "meta-verify-9f2c1e7a"
APP_SECRET = "0123456789abcdef0123456789abcdef"
CHALLENGE = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
SEALING_MIGRATION = "backend.piccolo_migrations.switchboard_2026_11_27t11_46_00_000000"


async def _create(client: httpx.AsyncClient, tenant: Any, config: dict[str, Any]) -> Any:
    r = await client.post(
        "/api/integrations",
        json={
            "connector_id": "whatsapp",
            "name": "Support line",
            "test_mode": True,
            "credentials": {f.name: f.example for f in SPEC.credential_fields},
            "config": config,
            "webhook_signing_secret": APP_SECRET,
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    assert VERIFY_TOKEN not in r.text
    return r.json()["integration"]


async def _stored(raw_rows: Any, integration_id: str | uuid.UUID) -> tuple[str, dict[str, Any]]:
    """The row's config exactly as PostgreSQL holds it, and the same opened with the vault."""
    row = (
        await raw_rows(
            "SELECT tenant, config::text AS config FROM integration WHERE id = $1",
            uuid.UUID(str(integration_id)),
        )
    )[0]
    return row["config"], await open_config(
        row["tenant"], uuid.UUID(str(integration_id)), json.loads(row["config"])
    )


def _handshake(client: httpx.AsyncClient, path: str, token: str) -> Any:
    return client.get(path, params={**CHALLENGE, "hub.verify_token": token})


async def test_verify_token_is_sealed_masked_and_answers_the_handshake(
    client, tenant, raw_rows
) -> None:
    created = await _create(client, tenant, {"verify_token": VERIFY_TOKEN})
    assert created["config"] == {"verify_token": MASK}

    shown = await client.get(f"/api/integrations/{created['id']}", headers=tenant.headers)
    assert shown.status_code == 200
    assert VERIFY_TOKEN not in shown.text
    assert shown.json()["config"]["verify_token"] == MASK
    listed = await client.get("/api/integrations", headers=tenant.headers)
    assert VERIFY_TOKEN not in listed.text

    stored, opened = await _stored(raw_rows, created["id"])
    assert VERIFY_TOKEN not in stored and "verify_token" in json.loads(stored)["_sealed"]
    assert opened["verify_token"] == VERIFY_TOKEN

    path = httpx.URL(created["webhook_url"]).path
    ok = await _handshake(client, path, VERIFY_TOKEN)
    assert ok.status_code == 200 and ok.text == CHALLENGE["hub.challenge"]
    assert_problem(await _handshake(client, path, "not-the-verify-token"), 403, "signature-invalid")
    assert_problem(await _handshake(client, path, MASK), 403, "signature-invalid")

    revoked = await client.post(f"/api/integrations/{created['id']}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    assert "_sealed" not in json.loads((await _stored(raw_rows, created["id"]))[0])


async def test_patch_keeps_replaces_and_removes_the_sealed_value(client, tenant, raw_rows) -> None:
    created = await _create(client, tenant, {"verify_token": VERIFY_TOKEN})
    url = f"/api/integrations/{created['id']}"

    # A client echoing the config it read (the mask included) changes nothing secret.
    echoed = await client.patch(
        url, json={"config": {**created["config"], "note": "x"}}, headers=tenant.headers
    )
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["config"] == {"verify_token": MASK, "note": "x"}
    assert (await _stored(raw_rows, created["id"]))[1]["verify_token"] == VERIFY_TOKEN

    replaced = await client.patch(
        url, json={"config": {"verify_token": "rotated-verify-token"}}, headers=tenant.headers
    )
    assert replaced.status_code == 200 and "rotated-verify-token" not in replaced.text
    stored, opened = await _stored(raw_rows, created["id"])
    assert "rotated-verify-token" not in stored and opened["verify_token"] == "rotated-verify-token"

    removed = await client.patch(
        url, json={"config": {"verify_token": None}}, headers=tenant.headers
    )
    assert removed.status_code == 200
    assert "verify_token" not in removed.json()["config"]
    stored, opened = await _stored(raw_rows, created["id"])
    assert "_sealed" not in json.loads(stored) and "verify_token" not in opened

    for bad in (42, "", MASK):
        r = await client.patch(url, json={"config": {"verify_token": bad}}, headers=tenant.headers)
        assert_problem(r, 422, "validation")


async def test_plaintext_verify_tokens_from_before_are_masked_then_sealed_by_the_migration(
    client, tenant, make_integration, raw_rows
) -> None:
    legacy = await make_integration(tenant, "whatsapp", signing_secrets=(APP_SECRET,))
    await raw_rows(
        "UPDATE integration SET config = $2::jsonb WHERE id = $1",
        legacy.id,
        json.dumps({"verify_token": VERIFY_TOKEN, "note": "kept"}),
    )
    shown = await client.get(f"/api/integrations/{legacy.id}", headers=tenant.headers)
    assert VERIFY_TOKEN not in shown.text
    assert shown.json()["config"] == {"verify_token": MASK, "note": "kept"}

    await importlib.import_module(SEALING_MIGRATION).seal_plaintext_secret_config()

    stored, opened = await _stored(raw_rows, legacy.id)
    assert VERIFY_TOKEN not in stored and json.loads(stored)["note"] == "kept"
    assert opened == {"verify_token": VERIFY_TOKEN, "note": "kept"}
    ok = await _handshake(client, legacy.path, VERIFY_TOKEN)
    assert ok.status_code == 200 and ok.text == CHALLENGE["hub.challenge"]

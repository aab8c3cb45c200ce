"""No plaintext secret in the database: every table is dumped as text and searched."""

from __future__ import annotations


async def _dump_everything(raw_rows) -> str:
    tables = [
        r["tablename"]
        for r in await raw_rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    chunks = []
    for table in tables:
        rows = await raw_rows(f'SELECT t::text AS row FROM "{table}" t')
        chunks += [r["row"] for r in rows]
        # bytea columns print as hex in ::text; also search them decoded.
        cols = await raw_rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = $1 AND data_type = 'bytea'",
            table,
        )
        for c in cols:
            for r in await raw_rows(f'SELECT "{c["column_name"]}" AS b FROM "{table}"'):
                if r["b"]:
                    chunks.append(bytes(r["b"]).decode("latin-1"))
    return "\n".join(chunks)


async def test_stored_credentials_and_secrets_are_not_plaintext(
    client, make_tenant, raw_rows
) -> None:
    t = await make_tenant("at-rest")
    import secrets

    # Fresh values (the simulator's samples also appear in the catalog as examples).
    creds = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16)}
    r = await client.post(
        "/api/integrations",
        json={"connector_id": "twilio", "name": "SMS", "credentials": creds, "test_mode": True},
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    hook = await client.post(
        "/api/integrations", json={"connector_id": "webhook", "name": "g"}, headers=t.headers
    )
    signing_secret = hook.json()["webhook_signing_secret"]
    webhook_token = hook.json()["integration"]["webhook_url"].rsplit("/", 1)[1]

    dump = await _dump_everything(raw_rows)
    assert creds["auth_token"] not in dump
    assert signing_secret not in dump
    assert signing_secret.removeprefix("whsec_") not in dump
    assert webhook_token not in dump
    assert t.api_key not in dump

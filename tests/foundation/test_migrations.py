"""Migrations apply from empty (the session database) and re-applying is a no-op."""

from __future__ import annotations

TABLES = {
    "tenant",
    "api_key",
    "tenant_key",
    "connector",
    "integration",
    "oauth_state",
    "integration_webhook",
    "integration_sync_job",
    "sync_cursor",
    "synced_record",
    "integration_mapping",
    "integration_log",
    "audit_log",
    "alert",
}


async def test_all_tables_and_constraints_exist(client, raw_rows) -> None:
    rows = await raw_rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert {r["tablename"] for r in rows} >= TABLES
    indexes = {
        r["indexname"]: r["indexdef"]
        for r in await raw_rows("SELECT indexname, indexdef FROM pg_indexes")
    }
    assert "UNIQUE" in indexes["integration_webhook_dedupe"]
    assert "(integration, provider_event_id)" in indexes["integration_webhook_dedupe"]
    assert "UNIQUE" in indexes["synced_record_identity"]
    assert "UNIQUE" in indexes["sync_cursor_stream"]
    assert "UNIQUE" in indexes["integration_mapping_version"]
    assert "UNIQUE" in indexes["tenant_key_version"]


async def test_reapplying_is_a_no_op(client, raw_rows) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from backend.catalog.services import sync_catalog
    from backend.connectors.registry import providers
    from backend.settings import get_settings

    before = await raw_rows("SELECT name FROM migration ORDER BY id")
    result = await run_forwards(app_name="switchboard")
    assert result.success
    after = await raw_rows("SELECT name FROM migration ORDER BY id")
    assert before == after and len(after) >= 2
    connectors_before = await raw_rows(
        "SELECT key, name, auth_type, enabled FROM connector ORDER BY key"
    )
    await sync_catalog(get_settings())
    assert (
        await raw_rows("SELECT key, name, auth_type, enabled FROM connector ORDER BY key")
        == connectors_before
    )
    assert len(connectors_before) == len(providers())

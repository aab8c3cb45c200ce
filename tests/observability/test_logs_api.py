"""Integration logs (issue 15): the logs API filters by event and time, searches text
literally (a % or _ in the search is no wildcard), and the worker's retention deletes only
entries past their level's age."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from backend.lib.clock import utc_now
from backend.observability import logs
from backend.observability.tables import IntegrationLog
from backend.settings import Settings

pytestmark = pytest.mark.usefixtures("client")


async def _log(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    event: str,
    message: str,
    *,
    level: str = "info",
    age: dt.timedelta = dt.timedelta(0),
) -> None:
    await IntegrationLog.insert(
        IntegrationLog(
            tenant=tenant_id,
            integration=integration_id,
            level=level,
            event=event,
            message=message,
            context={},
            created_at=utc_now() - age,
        )
    )


async def _messages(client: httpx.AsyncClient, tenant: Any, path: str) -> list[str]:
    response = await client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [entry["message"] for entry in response.json()["items"]]


async def test_logs_filter_by_event_time_and_literal_text(
    client: httpx.AsyncClient, tenant: Any, make_integration: Any
) -> None:
    made = await make_integration(tenant, "stripe")
    hour = dt.timedelta(hours=1)
    await _log(tenant.id, made.id, "oauth.refreshed", "token refreshed", age=3 * hour)
    await _log(tenant.id, made.id, "sync.finished", "sync done: 100% of records", age=2 * hour)
    await _log(tenant.id, made.id, "sync.finished", "sync done: 10 of 12 records", age=hour)
    await _log(tenant.id, made.id, "webhook.rejected", "bad_signature from 10.0.0.1")
    base = f"/api/integrations/{made.id}/logs"

    assert await _messages(client, tenant, f"{base}?event=sync.finished") == [
        "sync done: 10 of 12 records",
        "sync done: 100% of records",
    ]
    since = (utc_now() - dt.timedelta(minutes=150)).isoformat()
    until = (utc_now() - dt.timedelta(minutes=30)).isoformat()
    window = await _messages(
        client, tenant, f"{base}?{httpx.QueryParams(since=since, until=until)}"
    )
    assert window == ["sync done: 10 of 12 records", "sync done: 100% of records"]
    # Case-insensitive, across message and event name.
    assert await _messages(client, tenant, f"{base}?q=SIGNATURE") == ["bad_signature from 10.0.0.1"]
    assert await _messages(client, tenant, f"{base}?q=oauth") == ["token refreshed"]
    # % and _ are literal: "100%" matches one entry, not every "10"; "sync_done" none.
    assert await _messages(client, tenant, f"{base}?q=100%25") == ["sync done: 100% of records"]
    assert await _messages(client, tenant, f"{base}?q=sync_done") == []
    assert await _messages(client, tenant, f"{base}?q=10%25%20of") == []


async def test_logs_filters_refuse_bad_input_with_problem_json(
    client: httpx.AsyncClient, tenant: Any, make_integration: Any
) -> None:
    made = await make_integration(tenant, "stripe")
    base = f"/api/integrations/{made.id}/logs"
    for query in ("since=yesterday", "until=0.5", f"q={'x' * 201}", "q=a%00b"):
        response = await client.get(f"{base}?{query}", headers=tenant.headers)
        assert response.status_code in (400, 422), (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_logs_of_another_tenant_are_not_found(
    client: httpx.AsyncClient, tenant: Any, make_tenant: Any, make_integration: Any
) -> None:
    made = await make_integration(tenant, "stripe")
    await _log(tenant.id, made.id, "sync.finished", "private")
    other = await make_tenant("other")
    response = await client.get(
        f"/api/integrations/{made.id}/logs?q=private", headers=other.headers
    )
    assert response.status_code == 404


async def test_retention_deletes_only_entries_past_their_levels_age(
    client: httpx.AsyncClient,
    tenant: Any,
    make_integration: Any,
    raw_rows: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = await make_integration(tenant, "stripe")
    day = dt.timedelta(days=1)
    settings = Settings(
        log_retention_days_debug=1,
        log_retention_days_info=7,
        log_retention_days_warning=30,
        log_retention_days_error=0,  # kept forever
    )
    monkeypatch.setattr(logs, "get_settings", lambda: settings)
    monkeypatch.setattr(logs, "RETENTION_BATCH", 2)  # several batches per level
    for i in range(5):
        await _log(tenant.id, made.id, "debug.old", f"debug old {i}", level="debug", age=2 * day)
    await _log(tenant.id, made.id, "debug.new", "debug new", level="debug", age=day / 2)
    await _log(tenant.id, made.id, "info.old", "info old", level="info", age=8 * day)
    await _log(tenant.id, made.id, "info.new", "info new", level="info", age=6 * day)
    await _log(tenant.id, made.id, "warning.old", "warning old", level="warning", age=31 * day)
    await _log(tenant.id, made.id, "warning.new", "warning new", level="warning", age=29 * day)
    await _log(tenant.id, made.id, "error.ancient", "error ancient", level="error", age=900 * day)

    assert await logs.purge_expired_logs({}) == 7
    left = await raw_rows(
        "SELECT message FROM integration_log WHERE integration = $1 ORDER BY message", made.id
    )
    assert [r["message"] for r in left] == [
        "debug new",
        "error ancient",
        "info new",
        "warning new",
    ]
    assert await logs.purge_expired_logs({}) == 0

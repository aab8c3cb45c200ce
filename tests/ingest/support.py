"""Shared helpers for webhook ingestion over HTTP: the real app, real PostgreSQL and Redis.

`hooks` bundles the session client with the database and worker fixtures and asserts what
every provider must do the same way: accept → one stored row → normalized envelope; reject
→ 401 problem, a `webhook.rejected` log entry, nothing stored; replay → duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from backend.webhooks import metrics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROBLEM = "application/problem+json"


def fixture(provider: str, name: str) -> bytes:
    """The exact bytes of tests/fixtures/<provider>/<name>."""
    return (FIXTURES / provider / name).read_bytes()


def fixture_names(provider: str, suffix: str = "") -> list[str]:
    return sorted(
        p.name for p in (FIXTURES / provider).iterdir() if p.is_file() and p.name.endswith(suffix)
    )


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + kind), body
    assert "Traceback" not in response.text
    return body


class Hooks:
    def __init__(
        self,
        client: httpx.AsyncClient,
        raw_rows: Callable[..., Awaitable[list[dict[str, Any]]]],
        run_worker: Callable[[], Awaitable[int]],
        wait_for: Callable[..., Awaitable[None]],
    ) -> None:
        self.client = client
        self.rows = raw_rows
        self.run_worker = run_worker
        self.wait_for = wait_for

    async def events(self, integration: Any) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT * FROM integration_webhook WHERE integration = $1 ORDER BY received_at",
            integration.id,
        )

    async def logs(self, integration: Any, event: str) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT * FROM integration_log WHERE integration = $1 AND event = $2",
            integration.id,
            event,
        )

    async def post(
        self, integration: Any, body: bytes, headers: dict[str, str], query: str = ""
    ) -> httpx.Response:
        path = integration.path + (f"?{query}" if query else "")
        return await self.client.post(path, content=body, headers=headers)

    async def accept(
        self,
        integration: Any,
        body: bytes,
        headers: dict[str, str],
        *,
        event_id: str | None,
        event_type: str,
        query: str = "",
    ) -> dict[str, Any]:
        """200 accepted and exactly one new row holding the raw bytes and the headers."""
        before = len(await self.events(integration))
        response = await self.post(integration, body, headers, query)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "accepted" and answer["event_id"]
        rows = await self.events(integration)
        assert len(rows) == before + 1
        (row,) = [r for r in rows if str(r["id"]) == answer["event_id"]]
        assert bytes(row["raw_body"]) == body  # byte for byte
        assert row["status"] == "received" and row["verified"] is True
        assert row["event_type"] == event_type
        if event_id is not None:
            assert row["provider_event_id"] == event_id
        stored = json.loads(row["headers"]) if isinstance(row["headers"], str) else row["headers"]
        sent = {k.lower(): v for k, v in headers.items()}
        for name, value in stored.items():
            assert sent.get(name, value) == value  # httpx adds its own user-agent
        assert len(row["trace_id"]) == 32 and int(row["trace_id"], 16)
        return row

    async def normalized(self, row: dict[str, Any], connector: str, normalized_type: str) -> Any:
        """Run the worker; the row is processed with a CloudEvents-shaped envelope."""
        await self.run_worker()
        (done,) = await self.rows("SELECT * FROM integration_webhook WHERE id = $1", row["id"])
        assert done["status"] == "processed", done["error"]
        assert done["error"] == "" and done["attempts"] == 1 and done["processed_at"]
        event = json.loads(done["normalized"])
        assert event["specversion"] == "1.0"
        assert event["id"] == str(row["id"])
        assert event["type"] == f"{connector}.{normalized_type}"
        assert event["tenant"] == str(row["tenant"])
        assert event["integration"] == str(row["integration"])
        assert event["source"] == f"switchboard/{connector}/{row['integration']}"
        assert isinstance(event["data"], dict) and event["time"]
        return done, event

    async def reject(
        self,
        integration: Any,
        body: bytes,
        headers: dict[str, str],
        *,
        query: str = "",
        reason: str | None = None,
    ) -> dict[str, Any]:
        """401 problem (signature-invalid), a `webhook.rejected` log entry, nothing stored."""
        before = len(await self.events(integration))
        logged = len(await self.logs(integration, "webhook.rejected"))
        counted = metrics.counts["rejected"]
        response = await self.post(integration, body, headers, query)
        problem = assert_problem(response, 401, "signature-invalid")
        if reason is not None:
            assert reason in problem["detail"], problem
        assert len(await self.events(integration)) == before

        async def logged_once() -> bool:
            return len(await self.logs(integration, "webhook.rejected")) == logged + 1

        await self.wait_for(logged_once)
        assert metrics.counts["rejected"] == counted + 1
        return problem

    async def duplicate(
        self,
        integration: Any,
        body: bytes,
        headers: dict[str, str],
        row: dict[str, Any],
        *,
        query: str = "",
    ) -> None:
        """The same delivery again: 200 duplicate, one row, counted, not normalized again."""
        (was,) = await self.rows("SELECT * FROM integration_webhook WHERE id = $1", row["id"])
        counted = metrics.counts["duplicate:" + integration.connector]
        response = await self.post(integration, body, headers, query)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "duplicate", "event_id": str(row["id"])}
        await self.run_worker()
        rows = await self.events(integration)
        assert [r["id"] for r in rows].count(row["id"]) == 1
        (now,) = [r for r in rows if r["id"] == row["id"]]
        assert now["duplicates"] == was["duplicates"] + 1
        assert now["attempts"] == was["attempts"]
        assert now["processed_at"] == was["processed_at"]
        assert metrics.counts["duplicate:" + integration.connector] == counted + 1


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex

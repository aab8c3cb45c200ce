"""The engine on OAuth connectors' streams, each against a local server answering like the
provider's list API and checked by Prism against its published description: GitHub issues
(Link paging; a refused token refreshed once, then needs_reauth) and Google Calendar events
(page tokens, a sync token as the cursor, and 410 Gone resetting to a full read)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug import Request

from backend.integrations.tables import Integration
from backend.lib.db import pool
from tests.syncs.fake_provider import (
    Answer,
    CalendarEvents,
    GithubIssues,
    calendar_event,
    github_unauthorized,
)

REPOSITORY = "octocat/Hello-World"


@pytest.fixture
def github(provider_api: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    fake = provider_api("github", lambda url: GithubIssues(230, url))
    fake.tokens = []

    def token(request: Request) -> Answer:
        fake.tokens.append(dict(request.form))
        return Answer(
            200,
            {
                "access_token": "tok-2",
                "refresh_token": "ref-2",
                "token_type": "bearer",
                "expires_in": 28800,
                "scope": "repo",
            },
        )

    fake.extra["/token"] = token
    monkeypatch.setenv("SWITCHBOARD_GITHUB_TOKEN_URL", fake.url + "/token")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_CLIENT_ID", "github-client")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_CLIENT_SECRET", "github-secret")
    return fake


async def github_integration(make_integration: Any, tenant: Any) -> Any:
    made = await make_integration(
        tenant,
        "github",
        credentials={"access_token": "tok-1", "refresh_token": "ref-1", "token_type": "bearer"},
        config={"repository": REPOSITORY},
    )
    await Integration.update({Integration.scopes: ["repo"]}).where(Integration.id == made.id)
    return made


async def test_a_refused_token_is_refreshed_once_and_the_sync_goes_on(
    github, make_integration, tenant, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    github.fail_next(github_unauthorized())
    made = await github_integration(make_integration, tenant)
    job_id = await make_sync_job(made, "issues", "incremental")

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["pages"] == 3 and job["records_upserted"] == 230
    records = await synced_records(made.id, "issues")
    assert {r["external_id"] for r in records} == github.api.ids()
    assert len(github.tokens) == 1 and github.tokens[0]["grant_type"] == "refresh_token"
    assert [r["authorization"] for r in github.list_requests()] == [
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-2",
        "Bearer tok-2",
    ]
    # Pages 2 and 3 followed the Link header.
    assert [r["query"].get("page") for r in github.list_requests()] == [None, None, "2", "3"]
    status = await pool().fetchval("SELECT status FROM integration WHERE id = $1", made.id)
    assert status == "connected"
    assert github.violations == []


async def test_a_token_refused_after_its_refresh_marks_needs_reauth(
    github, make_integration, tenant, make_sync_job, run_syncs, sync_job
) -> None:
    github.fail_next(github_unauthorized(), github_unauthorized())
    made = await github_integration(make_integration, tenant)
    job_id = await make_sync_job(made, "issues", "full")

    await run_syncs(job_id)

    job = await sync_job(job_id)
    assert job["status"] == "failed" and job["error"].startswith("needs_reauth:")
    assert "Bad credentials" in job["error"] and "tok-2" not in job["error"]
    assert len(github.tokens) == 1 and len(github.list_requests()) == 2
    status = await pool().fetchval("SELECT status FROM integration WHERE id = $1", made.id)
    assert status == "needs_reauth"
    events = [
        r["event"]
        for r in await pool().fetch(
            "SELECT event FROM integration_log WHERE integration = $1 ORDER BY created_at, id",
            made.id,
        )
    ]
    assert "integration.needs_reauth" in events and events[-1] == "sync.failed"
    assert github.violations == []


@pytest.fixture
def calendar(provider_api: Any) -> Any:
    return provider_api("google_calendar", lambda url: CalendarEvents(300), "/calendar/v3")


async def calendar_integration(make_integration: Any, tenant: Any) -> Any:
    return await make_integration(
        tenant,
        "google_calendar",
        credentials={"access_token": "ya29.a0", "refresh_token": "1//r", "token_type": "Bearer"},
    )


async def cursor_of(made: Any) -> Any:
    raw = await pool().fetchval(
        "SELECT cursor FROM sync_cursor WHERE integration = $1 AND stream = 'events'", made.id
    )
    return json.loads(raw) if raw else None


async def test_calendar_syncs_by_sync_token_and_a_410_resets_to_a_full_read(
    calendar, make_integration, tenant, make_sync_job, run_syncs, sync_job, synced_records
) -> None:
    made = await calendar_integration(make_integration, tenant)

    first = await make_sync_job(made, "events", "incremental")
    await run_syncs(first)
    assert (await sync_job(first))["records_upserted"] == 300
    assert await cursor_of(made) == {"syncToken": "sync-1"}

    # Changes since sync-1: one event moved, one cancelled (a deletion).
    calendar.api.change({**calendar_event(5), "summary": "Moved"})
    calendar.api.change(calendar_event(7, status="cancelled"))
    calendar.requests.clear()
    second = await make_sync_job(made, "events", "incremental")
    await run_syncs(second)
    job = await sync_job(second)
    assert job["status"] == "succeeded", job["error"]
    assert (job["records_upserted"], job["records_deleted"]) == (2, 1)
    (request,) = calendar.list_requests()
    assert request["query"]["syncToken"] == "sync-1"
    records = {r["external_id"]: r for r in await synced_records(made.id, "events")}
    assert records["evt000007"]["deleted"] and not records["evt000005"]["deleted"]
    assert json.loads(records["evt000005"]["data"])["summary"] == "Moved"
    assert await cursor_of(made) == {"syncToken": "sync-2"}

    # Google dropped the token: 410 Gone, the cursor is forgotten, everything read again.
    calendar.api.expired.add("sync-2")
    calendar.requests.clear()
    third = await make_sync_job(made, "events", "incremental")
    await run_syncs(third)
    job = await sync_job(third)
    assert job["status"] == "succeeded", job["error"]
    assert json.loads(job["cursor_before"]) == {"syncToken": "sync-2"}
    assert job["records_upserted"] == 299  # the cancelled one is not listed any more
    sent = calendar.list_requests()
    assert sent[0]["query"]["syncToken"] == "sync-2"
    assert all("syncToken" not in r["query"] for r in sent[1:]) and len(sent) == 3
    assert await cursor_of(made) == {"syncToken": "sync-3"}
    logged = await pool().fetchval(
        "SELECT count(*) FROM integration_log WHERE integration = $1 "
        "AND event = 'sync.cursor_expired'",
        made.id,
    )
    assert logged == 1
    assert calendar.violations == []

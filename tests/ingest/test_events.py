"""The events API over HTTP (list, filter, paginate, detail, replay, bulk replay, tenant
isolation) and normalization failures (retry with backoff, dead letter, generic types)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from webhooks.helpers import hub_signature

from backend.webhooks import jobs

from .support import Hooks, assert_problem, fixture, new_id

SECRET = "events-secret"


def github(body: bytes, event: str = "issues") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": new_id(),
        "X-Hub-Signature-256": hub_signature(SECRET, body),
    }


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the backoff the job asks for, and retry at once (the worker is a burst)."""
    asked: list[int] = []
    real = jobs.backoff_seconds

    def immediate(attempt: int) -> int:
        asked.append(real(attempt))
        return 0

    monkeypatch.setattr(jobs, "backoff_seconds", immediate)
    return asked


async def set_mapping(hooks: Hooks, integration: Any, tenant: Any, source_type: str, rules: Any):
    await hooks.rows(
        "UPDATE integration_mapping SET active = false WHERE integration = $1", integration.id
    )
    await hooks.rows(
        "INSERT INTO integration_mapping (id, tenant, integration, source_type, version, rules,"
        " active, created_at) VALUES (gen_random_uuid(), $1, $2, $3,"
        " (SELECT coalesce(max(version), 0) + 1 FROM integration_mapping WHERE integration = $2),"
        " $4::jsonb, true, now())",
        tenant.id,
        integration.id,
        source_type,
        json.dumps(rules),
    )


async def test_list_filter_paginate_and_detail(hooks: Hooks, client, tenant, make_integration):
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    sent = []
    for name, event in [
        ("issues__opened.json", "issues"),
        ("pull_request__opened.json", "pull_request"),
        ("push__new_branch.json", "push"),
    ]:
        body = fixture("github", name)
        response = await hooks.post(integration, body, github(body, event))
        assert response.status_code == 200
        sent.append((response.json()["event_id"], body))
    await hooks.run_worker()
    base = f"/api/integrations/{integration.id}/events"

    everything = (await client.get(base, headers=tenant.headers)).json()
    assert [e["id"] for e in everything["items"]] == [e for e, _ in reversed(sent)]
    assert everything["next_cursor"] is None
    assert {e["status"] for e in everything["items"]} == {"processed"}

    typed = (await client.get(base, params={"type": "push"}, headers=tenant.headers)).json()
    assert [e["type"] for e in typed["items"]] == ["push"]
    none = await client.get(base, params={"status": "failed"}, headers=tenant.headers)
    assert none.json()["items"] == []
    bad = await client.get(base, params={"status": "weird"}, headers=tenant.headers)
    assert_problem(bad, 400, "validation")

    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(base, params=params, headers=tenant.headers)).json()
        assert len(page["items"]) <= 1
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e for e, _ in reversed(sent)]

    event_id, body = sent[0]
    detail = (await client.get(f"{base}/{event_id}", headers=tenant.headers)).json()
    assert detail["raw_body_encoding"] == "utf-8"
    assert detail["raw_body"].encode() == body
    assert detail["headers"]["x-github-event"] == "issues"
    assert detail["normalized"]["type"] == "github.issues.opened"
    assert detail["normalized"]["specversion"] == "1.0"
    assert len(detail["trace_id"]) == 32
    missing = await client.get(f"{base}/{new_id()}", headers=tenant.headers)
    assert_problem(missing, 404, "not-found")


async def test_binary_raw_body_is_returned_base64(
    hooks: Hooks, client, tenant, make_integration, no_backoff
) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    integration = await make_integration(
        tenant,
        "webhook",
        signing_secrets=(secret,),
        config={"signature_mode": "hmac_sha256"},
    )
    body = b"\xff\xfe binary \x00 payload"
    import hashlib
    import hmac

    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/octet-stream", "X-Signature": signature}
    row = await hooks.accept(
        integration, body, headers, event_id=None, event_type="webhook.received"
    )
    detail = await client.get(
        f"/api/integrations/{integration.id}/events/{row['id']}", headers=tenant.headers
    )
    assert detail.json()["raw_body_encoding"] == "base64"
    assert base64.b64decode(detail.json()["raw_body"]) == body
    # Not JSON: the generic envelope carries the bytes whole.
    await hooks.run_worker()
    (done,) = await hooks.events(integration)
    assert done["status"] == "processed" and bytes(done["raw_body"]) == body
    detail = await client.get(
        f"/api/integrations/{integration.id}/events/{row['id']}", headers=tenant.headers
    )
    data = detail.json()["normalized"]["data"]
    assert data["content_type"] == "application/octet-stream"
    assert base64.b64decode(data["body_base64"]) == body


async def test_failed_normalization_is_retried_then_dead_then_replayed(
    hooks: Hooks, client, tenant, make_integration, no_backoff
) -> None:
    await hooks.run_worker()  # drain what earlier tests left queued
    no_backoff.clear()
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    await set_mapping(hooks, integration, tenant, "issues.opened", ["not a rule"])
    body = fixture("github", "issues__opened.json")
    row = await hooks.accept(
        integration, body, github(body), event_id=None, event_type="issues.opened"
    )
    await hooks.run_worker()
    (dead,) = await hooks.events(integration)
    assert dead["status"] == "dead"
    assert dead["attempts"] == jobs.MAX_ATTEMPTS
    assert dead["error"].startswith("MappingInvalid: rules.0")
    assert dead["normalized"] is None
    assert no_backoff == [5, 10, 20, 40]  # growing waits between the attempts
    failures = await hooks.logs(integration, "webhook.normalize_failed")
    assert len(failures) == jobs.MAX_ATTEMPTS

    base = f"/api/integrations/{integration.id}/events"
    listed = (await client.get(base, params={"status": "dead"}, headers=tenant.headers)).json()
    assert [e["id"] for e in listed["items"]] == [str(row["id"])]

    await set_mapping(
        hooks,
        integration,
        tenant,
        "issues.opened",
        [
            {"source": "issue.title", "target": "headline"},
            {"source": "repository.full_name", "target": "repo"},
        ],
    )
    replay = await client.post(f"{base}/{row['id']}/replay", headers=tenant.headers)
    assert replay.status_code == 202, replay.text
    assert replay.json()["event"]["id"] == str(row["id"])
    await hooks.run_worker()
    (done,) = await hooks.events(integration)
    assert done["status"] == "processed" and done["error"] == ""
    assert done["attempts"] == 1  # the replay started a fresh set of retries
    event = json.loads(done["normalized"])
    assert event["mapped"] == {
        "headline": event["data"]["title"],
        "repo": event["data"]["repository"],
    }
    assert bytes(done["raw_body"]) == body  # replay re-reads the stored bytes

    # Replay of a processed event re-normalizes it (force) and keeps one row.
    again = await client.post(f"{base}/{row['id']}/replay", headers=tenant.headers)
    assert again.status_code == 202
    await hooks.run_worker()
    (replayed,) = await hooks.events(integration)
    assert replayed["status"] == "processed"
    assert replayed["processed_at"] > done["processed_at"]


async def test_unparseable_raw_body_is_dead_lettered_and_bulk_replay(
    hooks: Hooks, client, tenant, make_integration, no_backoff
) -> None:
    secret = "plain-secret"
    integration = await make_integration(
        tenant, "webhook", signing_secrets=(secret,), config={"signature_mode": "hmac_sha256"}
    )
    import hashlib
    import hmac

    ids = []
    for body in (b"not json at all", b"{truncated"):
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Signature": signature}
        row = await hooks.accept(
            integration, body, headers, event_id=None, event_type="webhook.received"
        )
        ids.append(row["id"])
    await hooks.run_worker()
    rows = await hooks.events(integration)
    assert {r["status"] for r in rows} == {"dead"}
    assert all(r["error"] == "ValueError: the body is not valid JSON" for r in rows)
    assert all(r["attempts"] == jobs.MAX_ATTEMPTS for r in rows)

    base = f"/api/integrations/{integration.id}/events"
    bulk = await client.post(f"{base}/replay-failed", headers=tenant.headers)
    assert bulk.status_code == 202 and bulk.json() == {"replayed": 2, "next_cursor": None}
    no_backoff.clear()
    await hooks.run_worker()
    rows = await hooks.events(integration)
    # The raw bytes are still not JSON: retried again from zero, dead again, never lost.
    assert {r["status"] for r in rows} == {"dead"}
    assert all(r["attempts"] == jobs.MAX_ATTEMPTS for r in rows)
    assert sorted(r["id"] for r in rows) == sorted(ids)


async def test_unknown_types_keep_a_generic_envelope(hooks: Hooks, tenant, make_integration):
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = (
        b'{"action":"created","starred_at":"2025-06-10T12:00:00Z","repository":{"full_name":"o/r"}}'
    )
    row = await hooks.accept(
        integration, body, github(body, "star"), event_id=None, event_type="star.created"
    )
    _, envelope = await hooks.normalized(row, "github", "star.created")
    assert envelope["data"]
    telegram = await make_integration(tenant, "telegram", signing_secrets=("tg-secret",))
    update = b'{"update_id": 77, "poll": {"id": "5", "question": "?"}}'
    row = await hooks.accept(
        telegram,
        update,
        {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
        event_id="77",
        event_type="poll",
    )
    await hooks.normalized(row, "telegram", "poll")


def test_backoff_grows_and_is_capped() -> None:
    waits = [jobs.backoff_seconds(n) for n in range(1, 10)]
    assert waits == sorted(waits) and waits[0] == 5 and max(waits) == 300


async def test_another_tenant_gets_404_everywhere(
    hooks: Hooks, client, tenant, make_tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", "issues__opened.json")
    row = await hooks.accept(
        integration, body, github(body), event_id=None, event_type="issues.opened"
    )
    other = await make_tenant("globex")
    base = f"/api/integrations/{integration.id}/events"
    answers = [
        await client.get(base, headers=other.headers),
        await client.get(f"{base}/{row['id']}", headers=other.headers),
        await client.post(f"{base}/{row['id']}/replay", headers=other.headers),
        await client.post(f"{base}/replay-failed", headers=other.headers),
    ]
    bodies = []
    for response in answers:
        problem = assert_problem(response, 404, "not-found")
        assert str(row["id"]) not in problem["detail"]
        bodies.append(problem["detail"])
    missing = await client.get(f"/api/integrations/{new_id()}/events", headers=tenant.headers)
    assert assert_problem(missing, 404, "not-found")["detail"] == bodies[0]
    # The owner still sees it, and nothing was replayed by the stranger.
    mine = await client.get(f"{base}/{row['id']}", headers=tenant.headers)
    assert mine.status_code == 200 and mine.json()["status"] == "received"

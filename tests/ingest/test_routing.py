"""Routing and failure over HTTP: unknown/mismatched/revoked endpoints, body cap, rate
limit, Redis down (stored, answered, swept later), PostgreSQL down (503, never 2xx),
secret rotation and a patched user-supplied secret."""

from __future__ import annotations

import dataclasses
import time
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
import stripe
from standardwebhooks.webhooks import Webhook
from webhooks.helpers import hub_signature

from backend.asgi import create_app
from backend.settings import get_settings
from backend.webhooks import jobs, material, metrics, store

from .support import Hooks, assert_problem, fixture, new_id

GITHUB_SECRET = "routing-secret"
CLOSED_PORT = 1  # nothing listens on tcpmux


def github(body: bytes, secret: str = GITHUB_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": new_id(),
        "X-Hub-Signature-256": hub_signature(secret, body),
    }


def endpoint(integration_id: Any, connector: str, url: str) -> SimpleNamespace:
    path = url.removeprefix("https://hooks.example.test")
    return SimpleNamespace(id=integration_id, connector=connector, path=path, url=url)


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


async def test_unknown_mismatched_and_revoked_endpoints_are_the_same_404(
    hooks: Hooks, client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    headers = github(body)
    unknown = await client.post(f"/api/webhooks/github/{'x' * 43}", content=body, headers=headers)
    wrong_connector = await client.post(
        f"/api/webhooks/stripe/{integration.token}", content=body, headers=headers
    )
    no_connector = await client.post(
        f"/api/webhooks/nosuch/{integration.token}", content=body, headers=headers
    )
    expected = without_instance(assert_problem(unknown, 404, "not-found"))
    for response in (wrong_connector, no_connector):
        assert without_instance(assert_problem(response, 404, "not-found")) == expected
    assert await hooks.events(integration) == []

    await hooks.accept(
        integration,
        body,
        headers,
        event_id=headers["X-GitHub-Delivery"],
        event_type="issues.opened",
    )
    revoked = await client.post(
        f"/api/integrations/{integration.id}/revoke", headers=tenant.headers
    )
    assert revoked.status_code == 200, revoked.text
    # The material cache still holds the integration: the insert's ownership check refuses.
    again = await hooks.post(integration, body, github(body))
    assert without_instance(assert_problem(again, 404, "not-found")) == expected
    assert len(await hooks.events(integration)) == 1


async def test_body_over_the_cap_is_413(hooks: Hooks, client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    cap = get_settings().max_body_bytes
    assert cap == 1_048_576
    big = b'{"action":"opened","pad":"' + b"x" * cap + b'"}'
    response = await hooks.post(integration, big, github(big))
    assert_problem(response, 413, "payload-too-large")

    async def chunks():  # no Content-Length: the cap holds while streaming
        for _ in range(5):
            yield b"x" * (cap // 4)

    streamed = await client.post(integration.path, content=chunks(), headers=github(b""))
    assert_problem(streamed, 413, "payload-too-large")
    assert await hooks.events(integration) == []
    # Right at the cap is fine (the signature then decides).
    exact = b"{" + b" " * (cap - 2) + b"}"
    ok = await hooks.post(integration, exact, {**github(exact), "X-GitHub-Event": "ping"})
    assert ok.status_code == 200, ok.text


async def test_rate_limit_per_integration(hooks: Hooks, make_client, tenant, make_integration):
    settings = dataclasses.replace(get_settings(), webhook_rate_limit=6)  # a burst of 1
    limited = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    other = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    before = metrics.counts["rate_limited:github"]
    async with make_client(create_app(settings)) as small:
        first = await small.post(limited.path, content=body, headers=github(body))
        assert first.status_code == 200, first.text
        second = await small.post(limited.path, content=body, headers=github(body))
        assert_problem(second, 429, "rate-limited")
        assert 1 <= int(second.headers["retry-after"]) <= 10
        # Another integration has its own bucket.
        assert (await small.post(other.path, content=body, headers=github(body))).status_code == 200
    assert metrics.counts["rate_limited:github"] == before + 1
    assert len(await hooks.events(limited)) == 1


async def test_forged_traffic_neither_spends_the_budget_nor_loads_the_database(
    hooks: Hooks, make_client, tenant, make_integration, raw_rows
):
    """Only verified deliveries spend the rate budget, so a stranger who knows the URL
    cannot crowd out the provider; past a small rejection budget, forgeries are answered
    401 from memory, with no secret reload and no log row."""
    settings = dataclasses.replace(get_settings(), webhook_rate_limit=6)  # a burst of 1
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    async with make_client(create_app(settings)) as small:
        for _ in range(25):
            forged = await small.post(
                integration.path, content=body, headers=github(body, "wrong-secret")
            )
            assert_problem(forged, 401, "signature-invalid")
        genuine = await small.post(integration.path, content=body, headers=github(body))
        assert genuine.status_code == 200, genuine.text
        await hooks.wait_for(
            lambda: _rejection_rows(raw_rows, integration.id, at_least=1), timeout=5
        )
    logged = await raw_rows(
        "SELECT count(*) AS n FROM integration_log WHERE integration = $1 "
        "AND event = 'webhook.rejected'",
        integration.id,
    )
    # The rejection budget's burst (60 a minute: 10), not one row per forgery.
    assert 1 <= logged[0]["n"] <= 11, logged
    assert len(await hooks.events(integration)) == 1


async def _rejection_rows(raw_rows, integration_id, at_least: int) -> bool:
    rows = await raw_rows(
        "SELECT count(*) AS n FROM integration_log WHERE integration = $1 "
        "AND event = 'webhook.rejected'",
        integration_id,
    )
    return rows[0]["n"] >= at_least


async def test_redis_down_stores_answers_and_the_sweeper_enqueues_later(
    hooks: Hooks, app, make_client, tenant, make_integration
) -> None:
    settings = dataclasses.replace(get_settings(), redis_url=f"redis://127.0.0.1:{CLOSED_PORT}/0")
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    await hooks.run_worker()  # earlier tests' wake-ups would claim these rows too
    failed = metrics.counts["enqueue_failed"]
    rows = []
    async with make_client(create_app(settings)) as no_redis:
        for n in range(2):
            payload = body + b" " * n  # two deliveries (the same bytes again are a replay)
            headers = github(payload)
            started = time.monotonic()
            response = await no_redis.post(integration.path, content=payload, headers=headers)
            assert time.monotonic() - started < 2.5
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "accepted"
            rows.append(response.json()["event_id"])
    assert metrics.counts["enqueue_failed"] == failed + 1  # then it backs off
    await hooks.run_worker()
    stored = await hooks.events(integration)
    assert [str(r["id"]) for r in stored] == rows
    assert {r["status"] for r in stored} == {"received"}  # no worker was woken for them
    # Not yet: the sweeper leaves rows that may still be on their way to the queue.
    await hooks.rows(
        "UPDATE integration_webhook SET received_at = received_at - interval '1 minute'"
        " WHERE integration = $1",
        integration.id,
    )
    swept = await jobs.sweep_unqueued({"redis": app.state.redis})
    assert swept >= 2
    await hooks.run_worker()
    assert {r["status"] for r in await hooks.events(integration)} == {"processed"}


@pytest.fixture
async def dead_pool():
    pool = await asyncpg.create_pool(
        f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/none", min_size=0, max_size=1
    )
    yield pool
    await pool.close()


async def test_postgres_down_answers_503_never_2xx(
    hooks: Hooks, monkeypatch, dead_pool, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    await hooks.accept(  # loads the integration into the material cache
        integration, body, github(body), event_id=None, event_type="issues.opened"
    )
    monkeypatch.setattr(store, "pool", lambda: dead_pool)
    response = await hooks.post(integration, body, github(body))
    assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"]
    # A signature that fails against cached secrets is re-checked against fresh ones: 503.
    monkeypatch.setattr(material, "pool", lambda: dead_pool)
    response = await hooks.post(integration, body, github(body, "not-the-secret"))
    assert_problem(response, 503, "unavailable")
    # Nothing cached: the lookup fails the same way.
    material.forget_all()
    response = await hooks.post(integration, body, github(body))
    assert_problem(response, 503, "unavailable")
    monkeypatch.undo()
    assert len(await hooks.events(integration)) == 1


async def test_rotation_overlap_for_the_generic_connector(
    hooks: Hooks, client, tenant, make_integration
) -> None:
    old_secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    integration = await make_integration(tenant, "webhook", signing_secrets=(old_secret,))
    body = fixture("webhook", "order__created.json")

    def signed(secret: str) -> dict[str, str]:
        msg_id = new_id("msg_")
        now = int(time.time())
        signature = Webhook(secret).sign(msg_id, _utc(now), body.decode())
        return {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": signature}

    first = signed(old_secret)
    await hooks.accept(
        integration, body, first, event_id=first["webhook-id"], event_type="order.created"
    )
    rotated = await client.post(
        f"/api/integrations/{integration.id}/webhook/rotate", headers=tenant.headers
    )
    assert rotated.status_code == 200, rotated.text
    answer = rotated.json()
    new_secret = answer["webhook_signing_secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    moved = endpoint(integration.id, "webhook", answer["integration"]["webhook_url"])
    assert moved.path != integration.path
    # The old URL stops at once (even though this process cached it).
    gone = await hooks.post(integration, body, signed(old_secret))
    assert_problem(gone, 404, "not-found")
    for secret in (old_secret, new_secret):
        headers = signed(secret)
        await hooks.accept(
            moved, body, headers, event_id=headers["webhook-id"], event_type="order.created"
        )
    await hooks.reject(moved, body, signed("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"))


async def test_patched_stripe_secret_is_used_at_once(
    hooks: Hooks, client, tenant, make_integration
) -> None:
    old, new = "whsec_first_secret", "whsec_second_secret"
    integration = await make_integration(tenant, "stripe", signing_secrets=(old,))
    body = fixture("stripe", "charge__succeeded.json")

    def signed(secret: str) -> dict[str, str]:
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
        return {"Content-Type": "application/json", "Stripe-Signature": header}

    row = await hooks.accept(
        integration, body, signed(old), event_id=None, event_type="charge.succeeded"
    )
    await hooks.reject(integration, body, signed(new))
    patched = await client.patch(
        f"/api/integrations/{integration.id}",
        json={"webhook_signing_secret": new},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    assert new not in patched.text
    # The cache still holds the old secret; the failed check reloads and the new one verifies.
    response = await hooks.post(integration, body, signed(new))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "duplicate", "event_id": str(row["id"])}


def _utc(ts: int):
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC)


async def test_the_sweeper_wakes_workers_not_one_job_per_row(
    hooks: Hooks, app, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    row = await hooks.accept(
        integration, body, github(body), event_id=None, event_type="issues.opened"
    )
    await hooks.rows(
        "UPDATE integration_webhook SET received_at = received_at - interval '1 minute'"
        " WHERE id = $1",
        row["id"],
    )
    assert await jobs.sweep_unqueued({"redis": app.state.redis}) == jobs.SWEEP_WAKES
    queued = [
        j.decode() for j in await app.state.redis.zrange(app.state.settings.queue_name, 0, -1)
    ]
    assert not [j for j in queued if str(row["id"]) in j]  # the queue never names events
    await hooks.run_worker()
    (done,) = await hooks.events(integration)
    assert done["status"] == "processed" and done["attempts"] == 1
    # Nothing left unclaimed: the next sweep wakes nobody.
    assert await jobs.sweep_unqueued({"redis": app.state.redis}) == 0


async def test_get_on_a_provider_without_handshake_is_405(client, tenant, make_integration):
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    r = await client.get(integration.path)
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")

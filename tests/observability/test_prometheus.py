"""GET /metrics: the operator's Prometheus scrape endpoint (issue 15) — off by default,
guarded by the operator's token (a tenant API key does not open it), and serving the
OpenTelemetry instruments in the Prometheus text format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from webhooks.helpers import hub_signature

from backend.integrations.tables import Integration
from backend.lib.clock import utc_now
from backend.settings import get_settings

TOKEN = "operator-metrics-token-" + "x" * 20
SECRET = "prometheus-webhook-secret"


async def test_off_unless_enabled(client, tenant) -> None:
    for headers in ({}, tenant.headers, {"Authorization": f"Bearer {TOKEN}"}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_enabled_without_a_token_stays_off(app, make_client) -> None:
    from backend.asgi import create_app

    settings = dataclasses.replace(get_settings(), metrics_enabled=True, metrics_token="")
    async with make_client(create_app(settings)) as other:
        assert (await other.get("/metrics")).status_code == 404


async def test_scrape_with_the_operator_token(
    client, make_client, make_tenant, make_integration
) -> None:
    from backend.asgi import create_app

    settings = dataclasses.replace(get_settings(), metrics_enabled=True, metrics_token=TOKEN)
    async with make_client(create_app(settings)) as scraper:
        tenant = await make_tenant("prometheus")
        integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
        await Integration.update(
            {Integration.token_expires_at: utc_now() + dt.timedelta(hours=3)}
        ).where(Integration.id == integration.id)
        body = b'{"action":"opened"}'
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": hub_signature(SECRET, body),
        }
        accepted = await scraper.post(integration.path, content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text
        forged = {**headers, "X-Hub-Signature-256": hub_signature("wrong", body)}
        rejected = await scraper.post(integration.path, content=body, headers=forged)
        assert rejected.status_code == 401

        assert (await scraper.get("/metrics")).status_code == 401
        assert (await scraper.get("/metrics", headers=tenant.headers)).status_code == 401
        wrong = {"Authorization": f"Bearer {TOKEN}x"}
        assert (await scraper.get("/metrics", headers=wrong)).status_code == 401

        response = await scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert "# TYPE switchboard_webhooks_total counter" in text
        lines = [
            line for line in text.splitlines() if line.startswith("switchboard_webhooks_total")
        ]
        assert any('outcome="accepted"' in x and 'connector="github"' in x for x in lines)
        assert any('outcome="rejected"' in x and 'reason="signature"' in x for x in lines)
        assert "switchboard_ingest_duration_milliseconds_bucket" in text
        (expiring,) = [
            line
            for line in text.splitlines()
            if line.startswith("switchboard_tokens_expiring{")
            and 'connector="github"' in line
            and 'state="within_24h"' in line
        ]
        assert float(expiring.rsplit(" ", 1)[1]) >= 1
        # Operator-wide labels only: no tenant, integration or URL token in the export.
        assert str(integration.id) not in text and integration.token not in text
        assert str(tenant.id) not in text
    # Not part of the tenant API: absent from the OpenAPI document.
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
    assert "/api/metrics/summary" in schema["paths"]

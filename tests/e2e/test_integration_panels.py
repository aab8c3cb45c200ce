"""The integration page's panels in headless Chromium against the real api, worker and
dashboard, reached the way a person does: sign in, click the integration in the catalog, click
a tab. A test-mode Stripe integration: its simulated provider answers syncs, actions and health
checks, and test mode's faults make it fail on purpose."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .helpers import (
    UI_TIMEOUT,
    by_id,
    choose,
    create_stripe_integration,
    mark_document,
    open_from_catalog,
    shoot,
    sign_in,
)

SYNC_TIMEOUT = 60_000
METRICS_TIMEOUT = 30_000
# The worker evaluates alert rules once a minute (at second 50); a margin for a busy machine.
ALERT_TIMEOUT = 120_000


async def open_tab(page: Page, name: str) -> None:
    await by_id(page, f"tab-{name}").click()
    await expect(by_id(page, f"tab-{name}")).to_have_attribute("data-state", "active")


async def number(page: Page, element_id: str) -> int:
    return int(await by_id(page, element_id).inner_text())


async def chart_lines(page: Page, chart_id: str) -> list[str]:
    """The drawn lines of a Recharts chart (each path's `d`): they change when the data does."""
    lines = page.locator(f"#{chart_id} path.recharts-line-curve")
    await expect(lines.first).to_be_attached(timeout=UI_TIMEOUT)
    return [str(d) for d in await lines.evaluate_all("els => els.map(e => e.getAttribute('d'))")]


async def chart_changes(page: Page, chart_id: str, before: list[str]) -> None:
    """Wait for the chart to be drawn anew (Recharts animates new data in)."""
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    while await chart_lines(page, chart_id) == before:
        assert time.monotonic() < deadline, f"{chart_id} still shows the old data"
        await asyncio.sleep(0.25)


# The alert rule runs once a minute: the test waits for it.
@pytest.mark.timeout(360)
async def test_sync_action_simulate_and_fault_from_the_panels(
    stack: Any, page: Any, api: Any, make_e2e_tenant: Any, metrics: Any
) -> None:
    tenant = await make_e2e_tenant("Acme Panels")
    integration_id, _, _ = await create_stripe_integration(api, tenant, "Stripe panels")
    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await mark_document(page)
    await expect(page.locator(f"#integration-link-{integration_id}")).to_be_visible(
        timeout=UI_TIMEOUT
    )
    await open_from_catalog(page, integration_id, "Stripe panels")

    # -- a full sync of Stripe customers runs to the end with records -----------------------
    await open_tab(page, "syncs")
    await expect(page.locator("#sync-start")).to_be_enabled(timeout=UI_TIMEOUT)
    await choose(page, "sync-stream", "customers")
    await choose(page, "sync-mode", "full")
    started = time.monotonic()
    await page.locator("#sync-start").click()
    await expect(page.locator("#syncs-message")).to_contain_text("customers", timeout=UI_TIMEOUT)
    job = page.locator(".sync-job").first
    await expect(job).to_contain_text("customers")
    await expect(job).to_have_attribute("data-status", "succeeded", timeout=SYNC_TIMEOUT)
    metrics.record("sync_click_to_succeeded_ms", (time.monotonic() - started) * 1000)
    progress = await job.locator(".sync-job-progress").inner_text()
    found = re.search(r"(\d+) pages · (\d+) records", progress)
    assert found and int(found[1]) >= 1 and int(found[2]) >= 1, progress
    await expect(page.locator(".sync-record").first).to_be_visible(timeout=UI_TIMEOUT)
    # A schedule for the stream, paused and resumed.
    await by_id(page, "schedule-minutes").fill("60")
    await page.locator("#schedule-save").click()
    await expect(page.locator("#schedule-customers")).to_contain_text("every 60 min")
    await page.locator("#schedule-pause").click()
    await expect(page.locator("#schedule-state")).to_have_text("paused", timeout=UI_TIMEOUT)
    await page.locator("#schedule-resume").click()
    await expect(page.locator("#schedule-state")).to_have_text("active", timeout=UI_TIMEOUT)
    schedule = await api.get(f"/api/integrations/{integration_id}/schedule", headers=tenant.headers)
    assert schedule.json()["streams"]["customers"]["every_minutes"] == 60
    assert schedule.json()["paused"] is False
    await shoot(page, "integration-syncs")

    # -- an action from its form: a customer is created, a refused input names the field -----
    await open_tab(page, "actions")
    await choose(page, "action-choice", "create_customer")
    await by_id(page, "action-input-email").fill("e2e-panels@example.com")
    await page.locator("#action-run").click()
    await expect(page.locator("#action-result-status")).to_have_text(
        "succeeded", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#action-result")).to_contain_text('"id": "cus_')
    await expect(page.locator(".action-run-row").first).to_contain_text("create_customer")
    await shoot(page, "integration-actions")
    # Stripe metadata values are text: the api refuses a number, naming the field.
    await by_id(page, "action-input-metadata").fill('{"plan": 5}')
    await page.locator("#action-run").click()
    await expect(page.locator("#action-result-status")).to_have_text("failed", timeout=UI_TIMEOUT)
    await expect(page.locator("#actions-error")).to_contain_text("Invalid request")
    await expect(by_id(page, "action-error-metadata")).to_be_visible()

    # -- simulated deliveries show on the events chart ---------------------------------------
    await open_tab(page, "metrics")
    await expect(page.locator("#metric-total-events_processed")).to_be_visible(timeout=UI_TIMEOUT)
    processed_before = await number(page, "metric-total-events_processed")
    events_lines_before = await chart_lines(page, "chart-events")
    await open_tab(page, "testmode")
    await choose(page, "simulate-type", "charge.succeeded")
    await by_id(page, "simulate-count").fill("3")
    await page.locator("#simulate-send").click()
    await expect(page.locator("#testmode-message")).to_have_text(
        "Sent 3 deliveries: 200 (3)", timeout=UI_TIMEOUT
    )
    await open_tab(page, "metrics")
    await expect(page.locator("#metric-total-events_processed")).to_have_text(
        str(processed_before + 3), timeout=METRICS_TIMEOUT
    )
    await chart_changes(page, "chart-events", events_lines_before)
    await shoot(page, "integration-metrics")

    # -- a fault: the connection test fails, health turns failing, an alert opens -----------
    await open_tab(page, "health")
    await expect(page.locator("#health-state")).to_have_attribute(
        "data-status", "healthy", timeout=UI_TIMEOUT
    )
    await open_tab(page, "testmode")
    await choose(page, "fault-kind", "server_error")
    await page.locator("#fault-inject").click()
    await expect(page.locator("#fault-server_error")).to_be_visible(timeout=UI_TIMEOUT)
    await shoot(page, "integration-testmode")
    await open_tab(page, "overview")
    await page.locator("#action-test").click()
    await expect(page.locator("#action-message")).to_contain_text(
        "Connection test: provider_down", timeout=UI_TIMEOUT
    )
    # The page's own poll may land an answer read just before the test; the next one agrees.
    await expect(page.locator("#health-status")).to_have_attribute(
        "data-status", "provider_down", timeout=UI_TIMEOUT
    )

    await open_tab(page, "health")
    await expect(page.locator("#health-state")).to_have_attribute(
        "data-status", "failing", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#health-reason-health_check_failed")).to_be_visible()
    await expect(page.locator(".integration-alert").first).to_be_visible(timeout=ALERT_TIMEOUT)
    await shoot(page, "integration-health")

    await open_tab(page, "metrics")
    await expect(page.locator("#metric-total-api_errors")).not_to_have_text(
        "0", timeout=METRICS_TIMEOUT
    )

    # -- logs: the fault's injection is in the log, and a filter narrows to it --------------
    await open_tab(page, "logs")
    await expect(page.locator(".log-row").first).to_be_visible(timeout=UI_TIMEOUT)
    await by_id(page, "logs-q").fill("fault")
    await page.locator("#logs-apply").click()
    await expect(page.locator(".log-row").first).to_contain_text(
        "testmode.fault", timeout=UI_TIMEOUT
    )
    rows = await page.locator(".log-row").all_inner_texts()
    assert rows and all("fault" in row.lower() for row in rows), rows
    await shoot(page, "integration-logs")

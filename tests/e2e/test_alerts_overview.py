"""Alerts raised by real data, acknowledged by clicking, with the sidebar badge following;
the tenant overview showing the failing integration. Nothing is inserted by hand: a
server_error fault in test mode makes the provider fail, "Test connection" is clicked, and
the alert rules (`evaluate_integration`, what the worker's cron runs each minute at :50)
open the alerts from that evidence.

The test runs the rules itself rather than waiting for the cron: arq names a cron run's job
`cron:<name>:<time>` under one key prefix for every queue, so another stack's worker on the
same Redis (a parallel test run) can take the run and evaluate its own database instead.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .helpers import (
    UI_TIMEOUT,
    by_id,
    click_integration,
    create_stripe_integration,
    shoot,
    sign_in,
    time_to_interactive,
)

# The badge polls every 3 s.
BADGE_BUDGET_MS = 10_000
EVIDENCE_BUDGET_S = 20.0


async def clear_of_the_alert_cron() -> None:
    """Wait out the seconds around the cron's :50 run, so the rules never run twice at once
    for the same integration."""
    second = datetime.now(UTC).second
    if 47 <= second <= 53:
        await asyncio.sleep(55 - second)


async def raise_alerts(api: Any, tenant: Any, integration_id: str) -> set[str]:
    """Run the alert rules on the integration until the failed calls (their counters reach
    the database within a second or two) and the failed check have opened their alerts;
    returns the kinds now open (the cron may have opened some first)."""
    from backend.lib.clock import utc_now
    from backend.observability.alerts import evaluate_integration

    wanted = {"provider_errors", "health_check_failed"}
    deadline = time.monotonic() + EVIDENCE_BUDGET_S
    while True:
        await clear_of_the_alert_cron()
        await evaluate_integration(tenant.id, uuid.UUID(integration_id), utc_now())
        answer = await api.get("/api/alerts", params={"status": "open"}, headers=tenant.headers)
        kinds = {a["kind"] for a in answer.json()["items"]}
        if wanted <= kinds:
            return kinds
        assert time.monotonic() < deadline, f"only {kinds} opened"
        await asyncio.sleep(0.5)


@pytest.mark.timeout(300)
async def test_alert_from_a_fault_badge_acknowledge_and_overview(
    stack: Any, page: Page, api: Any, make_e2e_tenant: Any, metrics: Any, db_access: None
) -> None:
    tenant = await make_e2e_tenant("Acme Alerts")
    integration_id, _, _ = await create_stripe_integration(api, tenant, "Checkout")
    await create_stripe_integration(api, tenant, "Refunds")  # stays healthy
    fault = await api.put(
        f"/api/integrations/{integration_id}/faults",
        json={"kind": "server_error"},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text

    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await expect(by_id(page, "alerts-badge-sidebar")).to_have_count(0)
    await click_integration(page, integration_id, "Checkout")
    await page.locator("#action-test").click()
    await expect(page.locator("#action-message")).to_contain_text(
        "Connection test:", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#health-status")).not_to_have_text("healthy")

    # -- the rules open alerts; the badge shows them on whatever page is open ----------------
    opened = await raise_alerts(api, tenant, integration_id)
    badge = by_id(page, "alerts-badge-sidebar")
    await expect(badge).to_have_text(str(len(opened)), timeout=BADGE_BUDGET_MS)
    before = len(opened)

    # -- the alerts page, reached by clicking; acknowledge one --------------------------------
    await page.locator("#sidebar #nav-alerts").click()
    await expect(page.locator("#page-title")).to_have_text("Alerts", timeout=UI_TIMEOUT)
    cards = page.locator(".alert-card")
    await expect(cards).to_have_count(before, timeout=UI_TIMEOUT)
    await expect(cards.first).to_contain_text("Checkout")
    kinds = {await c.get_attribute("data-kind") for c in await cards.all()}
    # The failing provider calls and the failed health check, each its own alert.
    assert kinds == {"provider_errors", "health_check_failed"}, kinds
    first_ack = cards.first.locator("button", has_text="Acknowledge")
    await first_ack.click()
    await expect(page.locator("#alerts-message")).to_contain_text(
        "Acknowledged", timeout=UI_TIMEOUT
    )
    await expect(cards.first).to_contain_text("acknowledged")
    if before > 1:
        await expect(badge).to_have_text(str(before - 1), timeout=UI_TIMEOUT)
    else:
        await expect(badge).to_have_count(0, timeout=UI_TIMEOUT)
    await shoot(page, "alerts")

    # -- the overview: the failing integration first, the open alerts --------------------------
    await page.locator("#sidebar #nav-overview").click()
    await expect(page.locator("#page-title")).to_have_text("Overview", timeout=UI_TIMEOUT)
    row = page.locator(f'[id="overview-row-{integration_id}"]')
    await expect(row).to_be_visible(timeout=UI_TIMEOUT)
    await expect(page.locator("#overview-integrations tbody tr").first).to_have_id(
        f"overview-row-{integration_id}"
    )
    await expect(by_id(page, f"overview-health-{integration_id}")).to_have_text(
        re.compile("failing|degraded")
    )
    await expect(page.locator("#health-count-healthy")).to_have_text("1")
    await expect(page.locator("#overview-alert-count")).to_have_text(str(before))
    await expect(page.locator("#overview-chart").get_by_role("application")).to_be_visible()
    # The failed calls count as errors of the last 24 h, drawn as a bar of the chart.
    await expect(page.locator("#overview-errors")).not_to_have_text("0")
    assert await page.locator("#overview-chart .recharts-bar-rectangle").count() >= 1
    await shoot(page, "overview")

    # -- at a phone's width: the badge beside the menu, the rest through the drawer ------------
    await page.set_viewport_size({"width": 390, "height": 844})
    top = by_id(page, "alerts-badge-top")
    remaining = before - 1
    if remaining:
        await expect(top).to_have_text(str(remaining))
        await page.locator("#nav-toggle").click()
        await page.locator("#nav-drawer #nav-alerts").click()
        await expect(page.locator("#page-title")).to_have_text("Alerts", timeout=UI_TIMEOUT)
        await cards.locator("button", has_text="Acknowledge").first.click()
        await expect(top).to_have_count(0, timeout=UI_TIMEOUT)
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the alerts page scrolls sideways at 390 px by {overflow} px"

    # -- the catalog stays one click away; the overview links to the integration ---------------
    await page.locator("#nav-toggle").click()
    await page.locator("#nav-drawer #nav-overview").click()
    await expect(page.locator("#page-title")).to_have_text("Overview", timeout=UI_TIMEOUT)
    await by_id(page, f"overview-integration-{integration_id}").click()
    await expect(page.locator("#page-title")).to_have_text("Checkout", timeout=UI_TIMEOUT)

    await page.set_viewport_size({"width": 1280, "height": 800})
    metrics.record(
        "alerts_interactive_ms",
        await time_to_interactive(page, stack.url("/alerts"), "#alerts-refresh"),
    )
    metrics.record(
        "overview_interactive_ms",
        await time_to_interactive(page, stack.url("/overview"), "#overview-refresh"),
    )

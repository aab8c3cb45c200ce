"""Live events on the path a person takes: sign in, click an integration in the catalog.

Client-side navigation mounts the page before its on_load handler runs, unlike a page loaded
by URL; the live stream must work either way, follow the integration on screen, and stop when
the page is left.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from playwright.async_api import Page, expect

from .helpers import (
    LIVE_BUDGET_MS,
    UI_TIMEOUT,
    assert_same_document,
    create_stripe_integration,
    mark_document,
    open_from_catalog,
    seen_at,
    sign_in,
    stripe_event,
    stripe_headers,
    watch_new_event_rows,
)

# Longer than a few 1 s poll intervals: a loop still running would have polled by then.
LOOP_STOPPED_AFTER_S = 3.5


async def deliver(api: Any, webhook_url: str, secret: str, event_type: str) -> float:
    """POST a Stripe-signed delivery; returns when the api accepted it (epoch ms)."""
    _, body = stripe_event(event_type)
    response = await api.post(webhook_url, content=body, headers=stripe_headers(body, secret))
    accepted_at = time.time() * 1000
    assert response.is_success, response.text
    return accepted_at


async def delivery_appears_live(
    page: Page, api: Any, webhook_url: str, secret: str, event_type: str
) -> float:
    """Deliver one event while the page is open; returns ms until its row was painted."""
    await watch_new_event_rows(page)
    accepted_at = await deliver(api, webhook_url, secret, event_type)
    row = page.locator(".event-row").filter(has_text=event_type)
    await expect(row).to_be_visible(timeout=LIVE_BUDGET_MS + 3_000)
    return max(0.0, await seen_at(page) - accepted_at)


async def test_live_updates_after_clicking_from_the_catalog(
    stack: Any, page: Any, api: Any, make_e2e_tenant: Any, revoke_key: Any, metrics: Any
) -> None:
    tenant = await make_e2e_tenant("Acme Live Navigation")
    first_id, first_url, first_secret = await create_stripe_integration(api, tenant, "Stripe one")
    second_id, second_url, second_secret = await create_stripe_integration(
        api, tenant, "Stripe two"
    )

    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await mark_document(page)
    await expect(page.locator(f"#integration-link-{first_id}")).to_be_visible(timeout=UI_TIMEOUT)

    # -- the first integration, reached by a click: its deliveries appear live ----------------
    await open_from_catalog(page, first_id, "Stripe one")
    await expect(page.locator("#events-empty")).to_be_visible()
    delay = await delivery_appears_live(page, api, first_url, first_secret, "charge.succeeded")
    metrics.record("webhook_live_update_after_click_ms", delay)
    assert delay <= LIVE_BUDGET_MS, f"the delivery took {delay:.0f} ms to appear"

    # -- back to the catalog, then the second one: its own stream, nothing of the first's -----
    await page.locator("#sidebar #nav-catalog").click()
    await expect(page.locator("#page-title")).to_have_text("Catalog", timeout=UI_TIMEOUT)
    await open_from_catalog(page, second_id, "Stripe two")
    await expect(page.locator("#events-empty")).to_be_visible()
    # A delivery to the first integration while the second's page is open stays off it.
    await deliver(api, first_url, first_secret, "payment_intent.succeeded")
    delay = await delivery_appears_live(page, api, second_url, second_secret, "invoice.paid")
    assert delay <= LIVE_BUDGET_MS, f"the delivery took {delay:.0f} ms to appear"
    rows = page.locator(".event-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("invoice.paid")
    await assert_same_document(page)

    # -- leaving the page stops its loop ------------------------------------------------------
    # Once the key is revoked, a loop still polling would get 401 and send the tab to /login;
    # the catalog makes no call after its own load, so the tab stays where it is. The
    # integration created now is listed only once that load has finished.
    third_id, _, _ = await create_stripe_integration(api, tenant, "Stripe three")
    await page.locator("#sidebar #nav-catalog").click()
    await expect(page.locator(f"#integration-link-{third_id}")).to_be_visible(timeout=UI_TIMEOUT)
    assert await revoke_key(tenant)
    await asyncio.sleep(LOOP_STOPPED_AFTER_S)
    await expect(page).not_to_have_url(re.compile(r"/login"))
    await expect(page.locator("#page-title")).to_have_text("Catalog")
    await assert_same_document(page)

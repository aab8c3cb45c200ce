"""Every page of the dashboard at 1280 px and 390 px wide, with the time from navigation to an
interactive page for each, against the real api and worker with a little real data.

Screenshots go to artifacts/e2e/screenshots/ (gitignored, replaced each run) beside
`timings.json`: per page and width, the milliseconds from navigation start (the browser's
`performance.timeOrigin`, a full page load) to the page's first control that needs its data
being on screen and enabled; for the integration page's tabs, from the click to the panel's
first such control. The same figures are printed in pytest's summary.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .helpers import (
    ARTIFACTS,
    UI_TIMEOUT,
    WIDTHS,
    by_id,
    create_stripe_integration,
    sign_in,
    time_to_interactive,
)

SHOTS = ARTIFACTS / "screenshots"
# Per page: the route and what shows only once its data is loaded (a comma list: the first
# present one counts). The tenant has data on every page, so no empty state is waited for:
# an empty state can paint before the page has asked the api anything.
PAGES: list[tuple[str, str, str]] = [
    ("catalog", "/", "#connector-grid"),
    ("connect", "/connect/stripe", "#connect-submit"),
    ("integration", "/integrations/{id}", "#action-test"),
    ("mapping-editor", "/integrations/{id}/mappings", "#mapping-rules, #mapping-empty"),
    ("alerts", "/alerts", "#alerts-list > *"),
    ("overview", "/overview", "#overview-integrations, #overview-to-catalog"),
    ("audit", "/audit", '#audit-table [id^="audit-"]'),
]
# The integration page's tabs and their first control that needs the panel's data.
TABS: list[tuple[str, str]] = [
    ("health", '#health-state:not([data-status=""])'),
    ("metrics", "#metric-totals > *"),
    ("syncs", "#sync-start:not([disabled])"),
    ("logs", ".log-row"),
    ("testmode", "#simulate-send"),
    ("actions", "#action-run"),
]
SYNC_TIMEOUT_S = 60
# Alert rules run once a minute (at second 50); a margin for a busy machine.
ALERT_TIMEOUT_S = 120


async def screenshot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Cosmetic only (nothing is asserted on it): let charts finish their entry animation.
    await asyncio.sleep(0.6)
    await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


async def some_data(api: Any, headers: dict[str, str], integration_id: str) -> None:
    """What a used integration has: simulated deliveries, a finished sync, an open alert."""
    base = f"/api/integrations/{integration_id}"
    answer = await api.post(
        base + "/simulate", json={"count": 4, "event_type": "charge.succeeded"}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    answer = await api.post(
        base + "/sync", json={"stream": "customers", "mode": "full"}, headers=headers
    )
    assert answer.status_code in (200, 202), answer.text
    job_id = answer.json()["job"]["id"]
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    while True:
        job = (await api.get(f"{base}/sync-jobs/{job_id}", headers=headers)).json()
        if job["status"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.5)
    assert job["status"] == "succeeded", job
    # A failed connection test under a fault: the alert rule (once a minute) opens an alert.
    fault = await api.put(base + "/faults", json={"kind": "server_error"}, headers=headers)
    assert fault.status_code == 200, fault.text
    tested = await api.post(base + "/test", headers=headers)
    assert tested.json()["health"]["status"] == "provider_down", tested.text
    await api.delete(base + "/faults", headers=headers)
    deadline = time.monotonic() + ALERT_TIMEOUT_S
    while not (await api.get("/api/alerts", headers=headers)).json()["items"]:
        assert time.monotonic() < deadline, "no alert opened"
        await asyncio.sleep(1)


@pytest.mark.timeout(360)
async def test_every_page_at_both_widths_with_time_to_interactive(
    stack: Any, browser: Any, api: Any, make_e2e_tenant: Any, metrics: Any
) -> None:
    tenant = await make_e2e_tenant("Acme Screenshots")
    integration_id, _, _ = await create_stripe_integration(api, tenant, "Stripe")
    await some_data(api, tenant.headers, integration_id)
    timings: dict[str, dict[str, float]] = {}

    for width, height in WIDTHS.values():
        context = await browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(UI_TIMEOUT)
        page = await context.new_page()
        try:
            login_ms = await time_to_interactive(page, stack.url("/login"), "#sign-in")
            timings.setdefault("login", {})[str(width)] = login_ms
            await screenshot(page, "login", width)
            await sign_in(page, stack.dashboard_url, tenant.api_key)

            for name, route, ready in PAGES:
                url = stack.url(route.format(id=integration_id))
                timings.setdefault(name, {})[str(width)] = await time_to_interactive(
                    page, url, ready
                )
                await screenshot(page, name, width)

            # The integration page's panels, each reached by clicking its tab.
            await page.goto(stack.url(f"/integrations/{integration_id}"))
            await expect(page.locator("#action-test")).to_be_enabled()
            for tab, ready in TABS:
                started = time.monotonic()
                await by_id(page, f"tab-{tab}").click()
                await page.locator(ready).first.wait_for(state="visible")
                elapsed = (time.monotonic() - started) * 1000
                timings.setdefault(f"integration-tab-{tab}", {})[str(width)] = elapsed
                await screenshot(page, f"integration-{tab}", width)
        finally:
            await context.close()

    for name, per_width in timings.items():
        for width, ms in per_width.items():
            metrics.record(f"interactive_{name}_{width}px_ms", ms)
    SHOTS.mkdir(parents=True, exist_ok=True)
    rounded = {n: {w: round(ms, 1) for w, ms in t.items()} for n, t in timings.items()}
    (SHOTS / "timings.json").write_text(json.dumps(rounded, indent=2) + "\n")
    print("\ntime to interactive (ms):\n" + json.dumps(rounded, indent=2))

    expected = (
        {name for name, _, _ in PAGES} | {"login"} | {f"integration-tab-{t}" for t, _ in TABS}
    )
    assert set(timings) == expected
    for name in expected:
        shot_name = name.replace("integration-tab-", "integration-")
        for width, _ in WIDTHS.values():
            assert (SHOTS / f"{shot_name}-{width}.png").stat().st_size > 0, (name, width)

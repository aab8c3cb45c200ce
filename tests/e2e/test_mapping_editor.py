"""The mapping editor the way a person uses it: sign in, click the integration, click
"Field mappings"; edit a rule and watch the preview of the latest stored event change; save;
back on the integration, replay the event and see the newly mapped field in its normalized
CloudEvent."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .helpers import (
    UI_TIMEOUT,
    choose,
    click_integration,
    create_stripe_integration,
    shoot,
    sign_in,
    stripe_event,
    stripe_headers,
    time_to_interactive,
)

WORKER_BUDGET_S = 30.0
IMPORT_ID = "mapping-import"


async def event_when(
    api: Any, tenant: Any, integration_id: str, check: Any, what: str
) -> dict[str, Any]:
    """The integration's newest event once `check(event)` holds (the worker runs apart)."""
    deadline = time.monotonic() + WORKER_BUDGET_S
    while True:
        answer = await api.get(f"/api/integrations/{integration_id}/events", headers=tenant.headers)
        items = answer.json()["items"]
        if items and check(items[0]):
            return dict(items[0])
        assert time.monotonic() < deadline, f"{what}: not within {WORKER_BUDGET_S:.0f} s: {items}"
        await asyncio.sleep(0.3)


# The first test of a run also waits for the stack to start (a prod Reflex build).
@pytest.mark.timeout(300)
async def test_edit_preview_save_and_replay_with_the_new_mapping(
    stack: Any, page: Page, api: Any, make_e2e_tenant: Any, metrics: Any, tmp_path: Path
) -> None:
    tenant = await make_e2e_tenant("Acme Mappings")
    integration_id, webhook_url, secret = await create_stripe_integration(api, tenant, "Payments")
    _, body = stripe_event("charge.succeeded")
    delivered = await api.post(webhook_url, content=body, headers=stripe_headers(body, secret))
    assert delivered.is_success, delivered.text
    event = await event_when(
        api, tenant, integration_id, lambda e: e["status"] == "processed", "processed"
    )
    assert event["mapping_version"] == 0 and "currency_code" not in (event["mapped"] or {})

    # -- by clicking: catalog -> integration -> Field mappings -------------------------------
    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await click_integration(page, integration_id, "Payments")
    await page.locator("#open-field-mappings").click()
    await expect(page).to_have_url(re.compile(rf"/integrations/{integration_id}/mappings$"))
    await expect(page.locator("#page-title")).to_have_text(
        "Field mappings · Payments", timeout=UI_TIMEOUT
    )

    # -- the connector's default for charge.succeeded, previewed on the stored event ---------
    await choose(page, "mapping-source", "charge.succeeded")
    await expect(page.locator("#mapping-version")).to_contain_text("connector default")
    preview = page.locator("#mapping-preview")
    await expect(preview).to_contain_text('"currency": "USD"', timeout=UI_TIMEOUT)
    await expect(preview).to_contain_text('"amount": 10.99')
    await expect(page.locator("#preview-note")).to_contain_text("latest stored event")

    # -- edit a rule: the preview follows ----------------------------------------------------
    await expect(page.locator("#rule-target-1")).to_have_value("currency")
    await page.locator("#rule-target-1").fill("currency_code")
    await expect(preview).to_contain_text('"currency_code": "USD"', timeout=UI_TIMEOUT)
    await expect(preview).not_to_contain_text('"currency": ')
    await expect(page.locator("#mapping-dirty")).to_be_visible()

    # A broken expression is reported at its rule, not as a blank page.
    await page.locator("#rule-source-2").fill("data.object.[")
    await expect(page.locator("#rule-error-2")).to_contain_text("source", timeout=UI_TIMEOUT)
    await page.locator("#rule-source-2").fill("data.object.customer")
    await expect(page.locator("#rule-error-2")).to_have_count(0, timeout=UI_TIMEOUT)
    await expect(preview).to_contain_text('"customer": "cus_', timeout=UI_TIMEOUT)

    # -- save: it shows that it runs, then the new version -----------------------------------
    await page.locator("#mapping-save").click()
    await expect(page.locator("#mapping-message")).to_contain_text(
        "Saved charge.succeeded as version 1", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#mapping-version")).to_have_text("version 1")
    await expect(page.locator("#version-1")).to_contain_text("current")
    await shoot(page, "mapping-editor")

    # -- export downloads the saved sources; importing the file saves them again -------------
    async with page.expect_download() as download_info:
        await page.locator("#mapping-export").click()
    download = await download_info.value
    exported = tmp_path / download.suggested_filename
    await download.save_as(exported)
    document = json.loads(exported.read_text())
    assert document["connector"] == "stripe"
    [entry] = document["mappings"]
    assert entry["source"] == "charge.succeeded"
    assert {"target": "currency_code", "source": "data.object.currency"}.items() <= next(
        r for r in entry["rules"] if r["target"] == "currency_code"
    ).items()
    await page.locator(f"#{IMPORT_ID} input[type=file]").set_input_files(str(exported))
    await expect(page.locator("#mapping-message")).to_contain_text(
        "Imported 1 source: charge.succeeded", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#mapping-version")).to_have_text("version 2")

    # -- versions: restore the first as a new current version ---------------------------------
    await page.locator("#restore-1").click()
    await expect(page.locator("#mapping-message")).to_contain_text(
        "Restored version 1 as version 3", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#version-3")).to_contain_text("current")
    await expect(page.locator("#version-3")).to_contain_text("restored from v1")

    # -- at a phone's width the editor fits without sideways scrolling ------------------------
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.locator("#rule-target-1")).to_be_visible()
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the mapping editor scrolls sideways at 390 px by {overflow} px"
    await page.set_viewport_size({"width": 1280, "height": 800})

    # -- back on the integration: replay the event; the mapping now current (version 3, the
    # restored rules with currency_code) gives its normalized form the new field -------------
    await page.locator("#back-to-integration").click()
    await expect(page.locator("#page-title")).to_have_text("Payments", timeout=UI_TIMEOUT)
    row = page.locator(f'[id="event-{event["id"]}"]')
    await row.click()
    await page.locator("#event-replay").click()
    await expect(page.locator("#action-message")).to_contain_text("queued for replay")
    await page.locator("#event-close").click()
    replayed = await event_when(
        api, tenant, integration_id, lambda e: e["mapping_version"] == 3, "replayed"
    )
    assert replayed["mapped"]["currency_code"] == "USD"
    await row.click()
    await page.locator("#tab-normalized").click()
    normalized = page.locator("#event-normalized")
    await expect(normalized).to_contain_text('"currency_code": "USD"', timeout=UI_TIMEOUT)
    await expect(normalized).to_contain_text('"mappingversion": 3')

    metrics.record(
        "mapping_editor_interactive_ms",
        await time_to_interactive(
            page, stack.url(f"/integrations/{integration_id}/mappings"), "#rule-target-0"
        ),
    )

"""Helpers for the browser tests: sign-in and navigation, screenshots, a test-mode Stripe
integration and its signed webhook deliveries, timings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import stripe
from playwright.async_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
FIXTURES = ROOT / "tests" / "fixtures"

# Generous but bounded: a cold page compiles nothing (prod build), but the machine is small.
UI_TIMEOUT = 15_000
LIVE_BUDGET_MS = 2_000


def by_id(page: Page, element_id: str) -> Any:
    """An element by id, even when the id holds dots ("error-credentials.secret_key")."""
    return page.locator(f'[id="{element_id}"]')


async def sign_in(page: Page, base_url: str, api_key: str) -> None:
    await page.goto(base_url + "/login")
    await expect(page.get_by_text("Sign in with your tenant API key.")).to_be_visible(
        timeout=UI_TIMEOUT
    )
    await page.locator("#api-key").fill(api_key)
    await page.locator("#sign-in").click()
    await expect(page.locator("#page-title")).to_have_text("Catalog", timeout=UI_TIMEOUT)


async def click_integration(page: Page, integration_id: str, name: str) -> None:
    """Click the integration's link in the catalog and wait for its page's title."""
    await page.locator(f"#integration-link-{integration_id}").click()
    await expect(page.locator("#page-title")).to_have_text(name, timeout=UI_TIMEOUT)


async def mark_document(page: Page) -> None:
    """Tag the loaded document: a full page load would drop the tag."""
    await page.evaluate("() => { window.__sbSameDocument = true; }")


async def assert_same_document(page: Page) -> None:
    assert await page.evaluate("() => window.__sbSameDocument === true"), (
        "the page was reloaded: the test must reach it by client-side navigation"
    )


async def open_from_catalog(page: Page, integration_id: str, name: str) -> None:
    """Click the integration's link in the catalog, as a person does (no page.goto)."""
    await click_integration(page, integration_id, name)
    await expect(page).to_have_url(re.compile(rf"/integrations/{integration_id}$"))
    await expect(page.locator("#integration-status")).to_have_text("connected")
    await assert_same_document(page)


async def choose(page: Page, select_id: str, option: str) -> None:
    """Pick an option of a Radix select as a person does: open it, click the option."""
    await by_id(page, select_id).click()
    await page.get_by_role("option", name=option, exact=True).click()
    await expect(by_id(page, select_id)).to_contain_text(option)


async def shoot(page: Page, name: str) -> None:
    """Full-page screenshots of what is on screen now at 1280 px and 390 px wide; the
    viewport is put back afterwards."""
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in WIDTHS.values():
        await page.set_viewport_size({"width": width, "height": height})
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("networkidle", timeout=2_000)
        # Cosmetic only (no assertion depends on it): let the layout reflow and fonts settle.
        await asyncio.sleep(0.3)
        await page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    if original:
        await page.set_viewport_size(original)


# -- a Stripe integration and its webhook deliveries ------------------------------------------


async def create_stripe_integration(api: Any, tenant: Any, name: str) -> tuple[str, str, str]:
    """A test-mode Stripe integration whose endpoint is set up by hand with a known signing
    secret; returns (integration id, webhook URL, signing secret)."""
    from backend.connectors.registry import get_provider

    secret = "whsec_e2e_" + uuid.uuid4().hex
    created = await api.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": name,
            "credentials": get_provider("stripe").simulator.sample_credentials,
            "test_mode": True,
            "webhook_signing_secret": secret,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]
    return str(integration["id"]), str(integration["webhook_url"]), secret


def stripe_event(event_type: str = "charge.succeeded") -> tuple[str, bytes]:
    """A Stripe event from the recorded fixtures, with a fresh id; returns (id, body)."""
    name = event_type.replace(".", "__") + ".json"
    event = json.loads((FIXTURES / "stripe" / name).read_text())
    event["id"] = "evt_e2e_" + secrets.token_hex(8)
    event["created"] = int(time.time())
    return event["id"], json.dumps(event).encode()


def stripe_headers(body: bytes, secret: str) -> dict[str, str]:
    """Stripe-Signature as Stripe computes it (t=..., v1=HMAC-SHA256 of "t.body")."""
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


# -- timings -------------------------------------------------------------------------------


async def watch_new_event_rows(page: Page) -> int:
    """Arm an observer that stamps `window.__sbSeenAt` (epoch ms) on the first frame painted
    after a new event row enters the table; returns how many rows there are now."""
    return int(
        await page.evaluate(
            """() => {
              const count = () => document.querySelectorAll('.event-row').length;
              const base = count();
              window.__sbSeenAt = null;
              const observer = new MutationObserver(() => {
                if (count() > base) {
                  observer.disconnect();
                  requestAnimationFrame(() => { window.__sbSeenAt = Date.now(); });
                }
              });
              observer.observe(document.body, {childList: true, subtree: true});
              return base;
            }"""
        )
    )


async def seen_at(page: Page, timeout: float = 10_000) -> float:
    handle = await page.wait_for_function("() => window.__sbSeenAt", timeout=timeout)
    return float(await handle.json_value())


async def time_to_interactive(page: Page, url: str, selector: str) -> float:
    """Milliseconds from navigation start (performance.timeOrigin) to `selector` being an
    enabled button, measured in the page on animation frames."""
    await page.goto(url, wait_until="commit")
    handle = await page.wait_for_function(
        """(sel) => {
          const el = document.querySelector(sel);
          return el && !el.disabled && el.getAttribute('data-disabled') === null
            && el.getAttribute('aria-busy') !== 'true' ? performance.now() : null;
        }""",
        arg=selector,
        polling="raf",
        timeout=UI_TIMEOUT,
    )
    return float(await handle.json_value())

"""Helpers for the browser tests: sign-in, screenshots, signed webhook deliveries, timings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
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


# -- webhook deliveries ------------------------------------------------------------------------


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

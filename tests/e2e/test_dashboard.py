"""The dashboard in a real browser against the real api, worker and an OAuth server.

Each test asserts on what a person sees: text, badges, callouts. Timings (navigation to an
interactive integration page, webhook delivery to a visible row) are printed and written to
artifacts/e2e/metrics.json beside the screenshots.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from typing import Any

from playwright.async_api import expect

from backend.connectors.registry import providers

from .helpers import (
    LIVE_BUDGET_MS,
    UI_TIMEOUT,
    by_id,
    seen_at,
    shoot,
    sign_in,
    stripe_event,
    stripe_headers,
    time_to_interactive,
    watch_new_event_rows,
)

# Every connector the registry discovers is in the catalog.
CONNECTORS = len(providers())
# Three deliveries: the live delay depends on where in the 1 s poll cycle each one lands.
LIVE_EVENT_TYPES = ("charge.succeeded", "invoice.paid", "payment_intent.succeeded")


async def test_sign_in_and_catalog(stack: Any, page: Any, make_e2e_tenant: Any) -> None:
    tenant = await make_e2e_tenant("Acme Catalog")
    await page.goto(stack.url("/login"))
    await expect(page.get_by_text("Sign in with your tenant API key.")).to_be_visible(
        timeout=UI_TIMEOUT
    )
    # The dashboard process reaches the api and shows its readiness before sign-in.
    await expect(page.locator("#api-status")).to_have_text("ready", timeout=UI_TIMEOUT)
    await expect(page.get_by_text("API ready: database and Redis reachable")).to_be_visible()
    await shoot(page, "login")

    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await expect(page.locator("#sidebar #tenant-name")).to_have_text("Acme Catalog")
    cards = page.locator("[data-connector]")
    await expect(cards).to_have_count(CONNECTORS, timeout=UI_TIMEOUT)
    for name in ("Stripe", "GitHub", "Telegram", "Generic webhook"):
        await expect(cards.filter(has_text=name).first).to_be_visible()
    # GitHub is configured (the api has the local AS's app credentials): its Connect is live.
    github = page.locator('[data-connector="github"]')
    await expect(github.get_by_text("configured", exact=True)).to_be_visible()
    await expect(github.get_by_text("OAuth 2.0")).to_be_visible()
    await expect(page.locator("#integrations-empty")).to_have_text(
        "No integrations yet: connect one below."
    )
    # The key was read once from the form: never rendered back, never in browser storage.
    assert tenant.api_key not in await page.content()
    storage = await page.evaluate("() => JSON.stringify(window.localStorage)")
    assert tenant.api_key not in storage
    await shoot(page, "catalog")

    # Search narrows the grid; clearing brings every connector back.
    await page.locator("#catalog-search").fill("stripe")
    await expect(cards).to_have_count(1, timeout=UI_TIMEOUT)
    await expect(cards.first).to_contain_text("Stripe")
    await page.locator("#filters-clear").click()
    await expect(cards).to_have_count(CONNECTORS, timeout=UI_TIMEOUT)

    await page.locator("#sidebar #sign-out").click()
    await expect(page).to_have_url(re.compile(r"/login/?$"), timeout=UI_TIMEOUT)
    await page.goto(stack.url("/"))
    await expect(page).to_have_url(re.compile(r"/login"), timeout=UI_TIMEOUT)


async def test_api_key_connect_live_webhook_replay_revoke(
    stack: Any, page: Any, api: Any, make_e2e_tenant: Any, metrics: Any
) -> None:
    from backend.connectors.registry import get_provider

    tenant = await make_e2e_tenant("Acme Payments")
    sample = get_provider("stripe").simulator.sample_credentials
    signing_secret = "whsec_e2e_" + uuid.uuid4().hex

    # -- connect Stripe in test mode --------------------------------------------------------------
    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await page.locator("#connect-stripe").click()
    await expect(page.locator("#page-title")).to_have_text("Connect Stripe", timeout=UI_TIMEOUT)
    secret_input = by_id(page, "field-credentials.secret_key")
    await expect(secret_input).to_have_attribute("type", "password")  # masked
    await expect(by_id(page, "field-webhook_signing_secret")).to_have_attribute("type", "password")
    await shoot(page, "connect-stripe")

    # A key the spec's pattern rejects: the api's message lands at the field.
    await page.locator("#field-name").fill("Stripe (e2e)")
    await secret_input.fill("sk_test_short")
    await by_id(page, "field-webhook_signing_secret").fill(signing_secret)
    await page.locator("#field-test_mode").click()
    await expect(page.locator("#field-test_mode")).to_have_attribute("data-state", "checked")
    await page.locator("#connect-submit").click()
    field_error = by_id(page, "error-credentials.secret_key")
    await expect(field_error).to_be_visible(timeout=UI_TIMEOUT)
    await expect(field_error).to_contain_text("format")
    await shoot(page, "connect-stripe-validation")

    await secret_input.fill(sample["secret_key"])
    await page.locator("#connect-submit").click()
    await expect(page).to_have_url(re.compile(r"/integrations/[0-9a-f-]{36}$"), timeout=UI_TIMEOUT)
    integration_id = page.url.rsplit("/", 1)[-1]
    await expect(page.locator("#page-title")).to_have_text("Stripe (e2e)", timeout=UI_TIMEOUT)
    await expect(page.locator("#integration-status")).to_have_text("connected")
    await expect(page.get_by_text("test mode", exact=True)).to_be_visible()
    await expect(page.locator("#health-status")).to_have_text("healthy")
    webhook_url = (await page.locator("#webhook-url").inner_text()).strip()
    assert webhook_url.startswith(f"{stack.api_url}/api/webhooks/stripe/"), webhook_url
    await expect(page.locator("#setup-instructions")).to_contain_text(webhook_url)
    # A supplied signing secret means the endpoint is set up by hand: no registration.
    await expect(page.locator("#webhook-registration")).to_contain_text("managed by hand")
    await expect(page.locator("#events-empty")).to_be_visible()

    # -- navigation to an interactive integration page --------------------------------------------
    # Cold: a new browser context (empty HTTP cache) carrying only the signed-in session.
    cold = await page.context.browser.new_context(
        storage_state=await page.context.storage_state(),
        viewport={"width": 1280, "height": 800},
    )
    try:
        cold_page = await cold.new_page()
        cold_ms = await time_to_interactive(cold_page, page.url, "#action-test")
        await expect(cold_page.locator("#integration-status")).to_have_text("connected")
    finally:
        await cold.close()
    metrics.record("integration_page_interactive_cold_ms", cold_ms)
    # Warm: the same tab navigates to the page again (scripts cached).
    warm_ms = await time_to_interactive(page, page.url, "#action-test")
    metrics.record("integration_page_interactive_ms", warm_ms)
    await page.locator("#action-test").click()
    await expect(page.locator("#action-message")).to_contain_text(
        "Connection test: healthy", timeout=UI_TIMEOUT
    )
    await shoot(page, "integration")

    # -- signed deliveries appear live, without a reload ------------------------------------------
    await expect(page.locator("#events-empty")).to_be_visible()
    delays: list[float] = []
    event_id = ""
    for event_type in LIVE_EVENT_TYPES:
        shown = await watch_new_event_rows(page)
        assert shown == len(delays)
        provider_event_id, body = stripe_event(event_type)
        event_id = event_id or provider_event_id
        response = await api.post(
            webhook_url, content=body, headers=stripe_headers(body, signing_secret)
        )
        accepted_at = time.time() * 1000
        assert response.is_success, response.text
        new_row = page.locator(".event-row").filter(has_text=event_type)
        await expect(new_row).to_be_visible(timeout=5_000)
        delays.append(max(0.0, await seen_at(page) - accepted_at))
    metrics.record("webhook_live_update_ms", max(delays))
    metrics.record("webhook_live_update_median_ms", statistics.median(delays))
    assert max(delays) <= LIVE_BUDGET_MS, f"deliveries took {delays} ms to appear"
    # The worker normalizes them; the rows follow live.
    row = page.locator(".event-row").filter(has_text=LIVE_EVENT_TYPES[0])
    await expect(page.locator('.event-row [data-status="processed"]')).to_have_count(
        len(LIVE_EVENT_TYPES), timeout=UI_TIMEOUT
    )
    await shoot(page, "integration-live-events")

    # -- open it: raw and normalized views --------------------------------------------------------
    await row.click()
    dialog = page.locator("#event-dialog")
    await expect(dialog).to_be_visible(timeout=UI_TIMEOUT)
    await expect(dialog.locator("#event-raw-body")).to_contain_text(event_id, timeout=UI_TIMEOUT)
    await expect(dialog.locator("#event-headers")).to_contain_text("stripe-signature")
    await shoot(page, "event-raw")
    await dialog.locator("#tab-normalized").click()
    normalized = dialog.locator("#event-normalized")
    await expect(normalized).to_contain_text('"specversion": "1.0"')
    await expect(normalized).to_contain_text("charge.succeeded")
    await shoot(page, "event-normalized")

    # -- replay it --------------------------------------------------------------------------------
    await dialog.locator("#event-replay").click()
    await expect(page.locator("#action-message")).to_contain_text(
        "queued for replay", timeout=UI_TIMEOUT
    )
    await dialog.locator("#event-close").click()
    await expect(dialog).to_be_hidden()
    # The replayed delivery runs again and the row shows it, live.
    await expect(row.locator("td").nth(3)).to_have_text("2", timeout=UI_TIMEOUT)
    await expect(row.locator("[data-status]")).to_have_text("processed", timeout=UI_TIMEOUT)

    # -- revoke, with a confirmation --------------------------------------------------------------
    await page.locator("#action-revoke").click()
    confirm = page.locator("#confirm-revoke")
    await expect(confirm).to_be_visible()
    await expect(confirm).to_contain_text("Revoke this integration?")
    await shoot(page, "revoke-confirm")
    await page.locator("#confirm-revoke-confirm").click()
    await expect(page.locator("#integration-status")).to_have_text("revoked", timeout=UI_TIMEOUT)
    await expect(page.locator("#action-message")).to_contain_text("was revoked")
    await expect(page.get_by_text("No webhook URL (revoked or not applicable).")).to_be_visible()
    await expect(page.locator("#action-test")).to_be_disabled()
    await shoot(page, "integration-revoked")
    # What the dashboard says is true: the old URL no longer takes deliveries.
    _, body = stripe_event("charge.succeeded")
    late = await api.post(webhook_url, content=body, headers=stripe_headers(body, signing_secret))
    assert late.status_code >= 400, late.status_code

    # The catalog lists it as revoked; the audit trail has both actions.
    await page.locator("#sidebar #nav-catalog").click()
    listed = page.locator(f"#integration-{integration_id}")
    await expect(listed).to_be_visible(timeout=UI_TIMEOUT)
    await expect(listed.locator("[data-status]").first).to_have_text("revoked")
    await page.locator("#sidebar #nav-audit").click()
    await expect(page.locator("#page-title")).to_have_text("Audit trail", timeout=UI_TIMEOUT)
    await expect(page.get_by_text("integration.revoke").first).to_be_visible(timeout=UI_TIMEOUT)
    await expect(page.get_by_text("integration.create").first).to_be_visible()
    await expect(page.get_by_text("event.replay").first).to_be_visible()
    await shoot(page, "audit")


async def test_oauth_connect_through_the_local_authorization_server(
    stack: Any, page: Any, make_e2e_tenant: Any
) -> None:
    auth = stack.auth
    tenant = await make_e2e_tenant("Acme OAuth")
    await sign_in(page, stack.dashboard_url, tenant.api_key)
    await page.locator("#connect-github").click()
    await expect(page.locator("#page-title")).to_have_text("Connect GitHub", timeout=UI_TIMEOUT)
    submit = page.locator("#connect-submit")
    await expect(submit).to_have_text("Connect with GitHub")
    await expect(page.get_by_text("You will be sent to the provider")).to_be_visible()
    await shoot(page, "connect-github")

    authorizations = auth.store.counts["authorize"]
    exchanges = auth.store.counts["token:authorization_code"]
    await page.locator("#field-name").fill("GitHub (e2e)")
    await submit.click()
    # Dashboard -> the AS's /authorize (consent) -> the api's callback -> back to the page.
    await expect(page).to_have_url(
        re.compile(r"/integrations/[0-9a-f-]{36}\?oauth=connected$"), timeout=UI_TIMEOUT
    )
    assert auth.store.counts["authorize"] == authorizations + 1
    assert auth.store.counts["token:authorization_code"] == exchanges + 1
    await expect(page.locator("#oauth-outcome")).to_contain_text(
        "The provider accepted the connection", timeout=UI_TIMEOUT
    )
    await expect(page.locator("#page-title")).to_have_text("GitHub (e2e)")
    await expect(page.locator("#integration-status")).to_have_text("connected")
    await expect(page.locator("#health-status")).to_have_text("healthy")
    await expect(page.locator("#action-refresh")).to_be_visible()  # OAuth: a token to refresh
    await shoot(page, "integration-oauth-connected")

    # The person refuses at the provider: the page says so in words, and the status shows it.
    auth.deny = True
    try:
        # By clicking, and only once the form has loaded: a name typed before the page's
        # state arrives is lost, and the form then (rightly) asks for one.
        await page.locator("#sidebar #nav-catalog").click()
        await page.locator("#connect-github").click()
        await expect(page.locator("#page-title")).to_have_text("Connect GitHub", timeout=UI_TIMEOUT)
        await expect(submit).to_have_text("Connect with GitHub")
        await page.locator("#field-name").fill("GitHub (declined)")
        await expect(page.locator("#field-name")).to_have_value("GitHub (declined)")
        await page.locator("#connect-submit").click()
        await expect(page).to_have_url(re.compile(r"\?oauth=error"), timeout=UI_TIMEOUT)
    finally:
        auth.deny = False
    outcome = page.locator("#oauth-outcome")
    await expect(outcome).to_contain_text("The connection was not completed", timeout=UI_TIMEOUT)
    await expect(outcome).to_contain_text(
        "Access was not granted: the authorization request was declined at GitHub."
    )
    await expect(outcome).not_to_contain_text("access_denied")  # words, not a code
    await expect(page.locator("#integration-status")).to_have_text("error")
    await shoot(page, "integration-oauth-denied")


async def test_failed_api_calls_show_a_callout_or_send_to_login(
    stack: Any, page: Any, api: Any, make_e2e_tenant: Any, revoke_key: Any
) -> None:
    tenant = await make_e2e_tenant("Acme Failures")

    # A wrong key: a callout on the sign-in page, no session.
    await page.goto(stack.url("/login"))
    await page.locator("#api-key").fill("sb_00000000_" + "x" * 43)
    await page.locator("#sign-in").click()
    await expect(page.locator("#login-error")).to_have_text(
        "That API key was not accepted. Check it and try again.", timeout=UI_TIMEOUT
    )
    await expect(page).to_have_url(re.compile(r"/login/?$"))
    await shoot(page, "login-error")

    # An integration that is not there: the page says so, it is not blank.
    await sign_in(page, stack.dashboard_url, tenant.api_key)
    missing = f"/integrations/{uuid.uuid4()}"
    await page.goto(stack.url(missing))
    callout = page.locator("#error-callout")
    await expect(callout).to_be_visible(timeout=UI_TIMEOUT)
    await expect(callout).to_contain_text("does not exist")
    await expect(page.locator("#sidebar #tenant-name")).to_have_text("Acme Failures")
    await shoot(page, "integration-not-found")

    # An expired session (the dashboard no longer knows it): to /login, then back.
    await page.evaluate("() => window.localStorage.setItem('sb_session', 'expired-session')")
    await page.goto(stack.url(missing))
    await expect(page).to_have_url(re.compile(r"/login/?\?next="), timeout=UI_TIMEOUT)
    await page.locator("#api-key").fill(tenant.api_key)
    await page.locator("#sign-in").click()
    await expect(page).to_have_url(re.compile(re.escape(missing) + "$"), timeout=UI_TIMEOUT)
    await expect(page.locator("#error-callout")).to_contain_text(
        "does not exist", timeout=UI_TIMEOUT
    )

    # The key is revoked while a live integration page is open: the next poll answers 401
    # and the tab goes to /login instead of showing stale data.
    created = await api.post(
        "/api/integrations",
        json={"connector_id": "webhook", "name": "Inbound (e2e)"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    integration_id = created.json()["integration"]["id"]
    await page.goto(stack.url(f"/integrations/{integration_id}"))
    await expect(page.locator("#integration-status")).to_have_text("connected", timeout=UI_TIMEOUT)
    assert await revoke_key(tenant)
    await expect(page).to_have_url(re.compile(r"/login"), timeout=UI_TIMEOUT)
    await expect(page.get_by_text("Sign in with your tenant API key.")).to_be_visible()

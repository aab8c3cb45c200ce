"""The integration page: status, webhook setup, actions and live events (the logs have their
own tab: dashboard/state/integration_logs.py)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import reflex as rx

from dashboard import live
from dashboard.client import ApiError, Event, EventDetail, Integration, SwitchboardClient
from dashboard.state.session import AuthState, ProblemMixin

LIVE_NAME = "integration-events"
EVENTS_LIMIT = 50
# Events every tick (1 s); the integration (its health badge) every few ticks.
SLOW_EVERY_TICKS = 5

OAUTH_CONNECTED = "The provider accepted the connection. This integration is now connected."


def oauth_error_text(reason: str, explanation: str = "") -> str:
    """The OAuth outcome callout. `reason` is what the callback put in the URL (the api's
    words for the failure; older links carried a bare code such as "access_denied");
    `explanation` the integration's health reason once loaded, preferred when there."""
    reason, explanation = reason.strip(), explanation.strip()
    if explanation:
        return f"The connection was not completed. {explanation}"
    if not reason:
        return "The provider did not complete the connection. Try connecting again."
    return f"The connection was not completed: {reason}"


@dataclass
class IntegrationView:
    id: str = ""
    name: str = ""
    connector_id: str = ""
    status: str = ""
    test_mode: bool = False
    health_status: str = "unknown"
    health_reason: str = ""
    health_checked_at: str = ""
    webhook_url: str = ""
    setup_instructions: str = ""
    # Set where Switchboard registers the webhook itself (Telegram, GitHub, Stripe).
    registration_status: str = ""
    registration_reason: str = ""
    scopes: str = ""
    token_expires_at: str = ""
    created_at: str = ""
    revoked_at: str = ""


@dataclass
class EventRow:
    id: str
    provider_event_id: str
    type: str
    status: str
    received_at: str
    attempts: int
    duplicates: int
    error: str


def integration_view(i: Integration) -> IntegrationView:
    health = i.get("health") or {}
    registration = i.get("webhook_registration") or {}
    return IntegrationView(
        id=str(i.get("id", "")),
        name=str(i.get("name") or ""),
        connector_id=str(i.get("connector_id", "")),
        status=str(i.get("status") or ""),
        test_mode=bool(i.get("test_mode", False)),
        health_status=str(health.get("status") or "unknown"),
        health_reason=str(health.get("reason") or ""),
        health_checked_at=str(health.get("checked_at") or ""),
        webhook_url=str(i.get("webhook_url") or ""),
        setup_instructions=str(i.get("setup_instructions") or ""),
        registration_status=str(registration.get("status") or ""),
        registration_reason=str(registration.get("reason") or ""),
        scopes=" ".join(i.get("scopes") or []),
        token_expires_at=str(i.get("token_expires_at") or ""),
        created_at=str(i.get("created_at") or ""),
        revoked_at=str(i.get("revoked_at") or ""),
    )


def event_row(e: Event) -> EventRow:
    return EventRow(
        id=str(e.get("id", "")),
        provider_event_id=str(e.get("provider_event_id") or ""),
        type=str(e.get("type") or ""),
        status=str(e.get("status") or ""),
        received_at=str(e.get("received_at") or ""),
        attempts=int(e.get("attempts") or 0),
        duplicates=int(e.get("duplicates") or 0),
        error=str(e.get("error") or ""),
    )


def raw_body_text(detail: EventDetail) -> str:
    """The raw body as text; a JSON body pretty-printed, a binary one shown as base64."""
    body = str(detail.get("raw_body") or "")
    if detail.get("raw_body_encoding") == "base64":
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return f"(binary body, base64)\n{body}"
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


class IntegrationState(ProblemMixin, AuthState):
    integration: IntegrationView = IntegrationView()
    events: list[EventRow] = []
    loading: bool = False
    missing: bool = False
    oauth_message: str = ""
    oauth_ok: bool = False
    # The one-time signing secret: shown once, then cleared (dismiss, leaving, or reload).
    revealed_secret: str = ""
    confirm_revoke_open: bool = False
    # The event dialog.
    event_open: bool = False
    event_id: str = ""
    event_type: str = ""
    event_status: str = ""
    event_headers: str = ""
    event_raw_body: str = ""
    event_normalized: str = ""
    event_loading: bool = False
    event_problem: str = ""
    action_message: str = ""
    # Handed over by the connect page, consumed by the next load of that integration.
    _pending_secret: str = ""
    _pending_secret_for: str = ""
    connector_name: str = ""
    auth_type: str = ""
    _ticks: int = 0
    # Bumped by every write of what a poll also writes (the integration, the events): a poll
    # applies its answer only if none happened since it started, so a poll that began before
    # "Test connection" cannot put the health from before the test back on screen.
    _writes: int = 0
    # Set by the live loop when the session stopped working (401, or it expired): the loop
    # ends and the tab is sent to /login instead of showing stale data.
    _session_lost: bool = False

    @rx.var
    def is_revoked(self) -> bool:
        return self.integration.status == "revoked"

    @rx.var
    def is_oauth(self) -> bool:
        return self.auth_type == "oauth2"

    @rx.var
    def has_secret(self) -> bool:
        return self.revealed_secret != ""

    @rx.var
    def event_count(self) -> int:
        return len(self.events)

    def _show_integration(self, integration: Integration) -> None:
        self.integration = integration_view(integration)
        self._writes += 1

    def _hand_over_secret(self, integration_id: str, secret: str | None) -> None:
        self._pending_secret = secret or ""
        self._pending_secret_for = integration_id if secret else ""

    def _take_pending_secret(self, integration_id: str) -> str:
        secret = self._pending_secret if self._pending_secret_for == integration_id else ""
        self._pending_secret = ""
        self._pending_secret_for = ""
        return secret

    def _read_oauth_outcome(self) -> None:
        outcome = self._query_param("oauth")
        if outcome == "connected":
            self.oauth_ok, self.oauth_message = True, OAUTH_CONNECTED
        elif outcome == "error":
            self.oauth_ok = False
            self.oauth_message = oauth_error_text(self._query_param("reason"))
        else:
            self.oauth_ok, self.oauth_message = False, ""

    @rx.event
    async def load(self):
        integration_id = self._route_param("integration_id")

        def prepare() -> None:
            if self.integration.id != integration_id:
                self.integration = IntegrationView(id=integration_id)
                self.events = []
            self.revealed_secret = self._take_pending_secret(integration_id)
            self._read_oauth_outcome()
            self.event_open = False
            self.confirm_revoke_open = False
            self.missing = False
            self.busy = ""
            self.action_message = ""

        async def call(api: SwitchboardClient) -> None:
            integration = await api.get_integration(integration_id)
            connector = await api.get_connector(str(integration.get("connector_id", "")))
            events = await api.list_events(integration_id, limit=EVENTS_LIMIT)
            self._show_integration(integration)
            if (
                self.oauth_message
                and not self.oauth_ok
                and self.integration.health_status == ("auth_failed")
            ):
                # The stored health reason is the authoritative wording.
                self.oauth_message = oauth_error_text(
                    self._query_param("reason"), self.integration.health_reason
                )
            self.connector_name = str(connector.get("name") or self.integration.connector_id)
            self.auth_type = str(connector.get("auth_type") or "")
            self.events = [event_row(e) for e in events["items"]]

        async for update in self._api_load(call, prepare=prepare, note_missing=True):
            yield update

    @rx.event
    def dismiss_secret(self):
        self.revealed_secret = ""

    @rx.event(background=True)
    async def leave(self):
        """on_unmount: the live loop stops, and the page's integration and secret are gone.

        A background event, like start_live: Reflex runs those as they arrive, while ordinary
        events wait per tab behind a slow on_load, so an ordinary leave could run after the
        next integration page's start_live and stop that page's loop instead. The next page
        mounts before its on_load runs; forgetting this one keeps it from showing or polling
        the integration just left.
        """
        live.stop(self.router.session.client_token, LIVE_NAME)
        async with self:
            self.revealed_secret = ""
            self.integration = IntegrationView()
            self.events = []
            self.oauth_message = ""
            self.action_message = ""
            self._clear_problem()

    # -- actions -----------------------------------------------------------------------------

    def _action_message(self, text: str) -> None:
        self.action_message = text

    async def _act(self, name: str, call):  # type: ignore[no-untyped-def]
        """Run one action against the api with a busy flag and a readable failure."""
        async for update in self._api_action(name, call):
            yield update

    @rx.event
    async def test_connection(self):
        async def call(api):
            answer = await api.test_integration(self.integration.id)
            self._show_integration(answer["integration"])
            health = answer.get("health") or {}
            status = health.get("status") or "unknown"
            reason = health.get("reason")
            return f"Connection test: {status}" + (f" — {reason}" if reason else "")

        async for update in self._act("test", call):
            yield update

    @rx.event
    async def refresh_token(self):
        async def call(api):
            answer = await api.refresh_integration(self.integration.id)
            self._show_integration(answer["integration"])
            return "The access token was refreshed."

        async for update in self._act("refresh", call):
            yield update

    @rx.event
    async def rotate_secret(self):
        async def call(api):
            answer = await api.rotate_webhook_secret(self.integration.id)
            self._show_integration(answer["integration"])
            self.revealed_secret = answer.get("webhook_signing_secret") or ""
            if self.integration.registration_status == "registered":
                return "The webhook URL was rotated and updated at the provider."
            return "The webhook URL was rotated: update it at the provider."

        async for update in self._act("rotate", call):
            yield update

    @rx.event
    async def register_webhook(self):
        async def call(api):
            answer = await api.register_webhook(self.integration.id)
            self._show_integration(answer["integration"])
            view = self.integration
            if view.registration_status == "registered":
                return "The webhook is registered at the provider."
            self.problem_title = "The webhook was not registered"
            self.problem_detail = view.registration_reason
            return None

        async for update in self._act("register", call):
            yield update

    @rx.event
    def set_confirm_revoke(self, value: bool):
        self.confirm_revoke_open = bool(value)

    @rx.event
    async def revoke(self):
        self.confirm_revoke_open = False

        async def call(api):
            answer = await api.revoke_integration(self.integration.id)
            self._show_integration(answer["integration"])
            return "The integration was revoked. Its webhook URL no longer accepts deliveries."

        async for update in self._act("revoke", call):
            yield update

    @rx.event
    async def delete(self):
        async def call(api):
            await api.delete_integration(self.integration.id)
            return rx.redirect("/")

        async for update in self._act("delete", call):
            yield update

    # -- events ----------------------------------------------------------------------------

    @rx.event
    async def open_event(self, event_id: str):
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        self.event_open = True
        self.event_id = event_id
        self.event_loading = True
        self.event_problem = ""
        self.event_headers = self.event_raw_body = self.event_normalized = ""
        yield
        try:
            async with api:
                detail = await api.get_event(self.integration.id, event_id)
        except ApiError as exc:
            self.event_loading = False
            self.event_problem = str(exc)
            return
        self.event_type = str(detail.get("type") or "")
        self.event_status = str(detail.get("status") or "")
        self.event_headers = _pretty(detail.get("headers") or {})
        self.event_raw_body = raw_body_text(detail)
        normalized = detail.get("normalized")
        self.event_normalized = _pretty(normalized) if normalized else ""
        self.event_loading = False

    @rx.event
    def set_event_open(self, value: bool):
        self.event_open = bool(value)

    @rx.event
    async def replay_event(self):
        event_id = self.event_id

        async def call(api):
            event = await api.replay_event(self.integration.id, event_id)
            row = event_row(event)
            self.events = [row if e.id == row.id else e for e in self.events]
            self._writes += 1
            self.event_status = row.status
            return f"Event {event_id} was queued for replay."

        async for update in self._act("replay", call):
            yield update

    # -- live ------------------------------------------------------------------------------

    async def _poll_once(self) -> bool:
        """One live tick: fetch the newest events (and now and then the integration).

        After a click in the catalog the page mounts, and starts this loop, before its
        on_load has loaded the integration: until then a tick waits instead of ending the loop.
        An answer that an action's newer write overtook is dropped; the next tick asks again.
        """
        async with self:
            integration_id = self.integration.id
            writes = self._writes
            settled = bool(integration_id) and not self.loading and not self.missing
            api = self._api()
            self._ticks += 1
            slow = self._ticks % SLOW_EVERY_TICKS == 0
        if api is None:
            async with self:
                self._session_lost = True
            return False
        if not settled:
            return True
        try:
            async with api:
                events = await api.list_events(integration_id, limit=EVENTS_LIMIT)
                integration = await api.get_integration(integration_id) if slow else None
        except ApiError as exc:
            async with self:
                if exc.unauthorized:
                    self._forget_session()
                    self._session_lost = True
                    return False
                # Keep polling: the api may come back; say so without blanking the page.
                self.problem_title = "Live updates paused"
                self.problem_detail = str(exc)
            return True
        async with self:
            if self.integration.id != integration_id or self._writes != writes:
                return True
            if self.problem_title == "Live updates paused":
                self._clear_problem()
            rows = [event_row(e) for e in events["items"]]
            if rows != self.events:
                self.events = rows
            if integration is not None:
                self.integration = integration_view(integration)
        return True

    @rx.event(background=True)
    async def start_live(self):
        await live.run_poll_loop(self, LIVE_NAME, self._poll_once)
        async with self:
            if self._session_lost:
                self._session_lost = False
                return self._to_login()
        return None

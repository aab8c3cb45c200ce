"""Alerts: the /alerts page (open and resolved, acknowledge) and the sidebar badge.

The badge counts open alerts nobody has acknowledged yet: what still needs a person. An
acknowledged alert stays open until its rule resolves it (docs/api.md), so counting every
open alert would never move when someone says "seen". Every signed-in page's layout starts
the badge's loop; one loop per tab (a second start is refused) asks the api every few
seconds and is kept across pages, so a page change can never leave the badge without one.
It ends when the tab's socket is gone (dashboard/live.py) or the key stops working; the
next page mounted after a new sign-in starts it again.

The page's list is live too, while the page is mounted (its own loop, dashboard/live.py):
each tick reads again what is shown (the filter, as many rows as were loaded) and drops its
answer when the person changed something meanwhile (a filter, "Load more", an acknowledge).
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from dashboard import live
from dashboard.client import AlertEntry, ApiError, SwitchboardClient
from dashboard.state.session import AuthState, ProblemMixin

BADGE_LIVE_NAME = "alerts-badge"
BADGE_INTERVAL_SECONDS = 3.0
PAGE_LIVE_NAME = "alerts-page"
PAGE_INTERVAL_SECONDS = 3.0
# The api's largest page: a live tick re-reads at most this many rows in one call.
MAX_PAGE = 200
PAUSED = "Live updates paused"
# One page of open alerts is plenty for a count; beyond it the badge says "200+".
BADGE_PAGE = 200
PAGE_SIZE = 50
FILTERS = ["open", "resolved", "all"]


@dataclass
class AlertRow:
    id: str = ""
    integration_id: str = ""
    integration_name: str = ""
    kind: str = ""
    severity: str = ""
    status: str = ""
    message: str = ""
    opened_at: str = ""
    resolved_at: str = ""
    acknowledged_at: str = ""


def alert_row(entry: AlertEntry, names: dict[str, str] | None = None) -> AlertRow:
    integration_id = str(entry.get("integration_id") or "")
    return AlertRow(
        id=str(entry.get("id", "")),
        integration_id=integration_id,
        integration_name=(names or {}).get(integration_id, "") or integration_id[:8],
        kind=str(entry.get("kind") or ""),
        severity=str(entry.get("severity") or ""),
        status=str(entry.get("status") or ""),
        message=str(entry.get("message") or ""),
        opened_at=str(entry.get("opened_at") or ""),
        resolved_at=str(entry.get("resolved_at") or ""),
        acknowledged_at=str(entry.get("acknowledged_at") or ""),
    )


async def count_unacknowledged(api: SwitchboardClient) -> tuple[int, bool]:
    """(open alerts not yet acknowledged, whether there are more than one page holds)."""
    page = await api.list_alerts(status="open", limit=BADGE_PAGE)
    count = sum(1 for a in page["items"] if not a.get("acknowledged_at"))
    return count, bool(page.get("next_cursor"))


def badge_text(count: int, more: bool) -> str:
    if more:
        return f"{BADGE_PAGE}+"
    return str(count) if count else ""


class AlertBadgeState(AuthState):
    """The sidebar's count of open, unacknowledged alerts."""

    badge_count: int = 0
    badge_more: bool = False

    @rx.var
    def badge(self) -> str:
        return badge_text(self.badge_count, self.badge_more)

    def _set_badge(self, count: int, more: bool) -> None:
        if (count, more) != (self.badge_count, self.badge_more):
            self.badge_count, self.badge_more = count, more

    async def _badge_tick(self) -> bool:
        async with self:
            api = self._api()
        if api is None:
            return True  # signed out or not yet signed in: nothing to count, keep waiting
        try:
            async with api:
                count, more = await count_unacknowledged(api)
        except ApiError as exc:
            if exc.unauthorized:
                # The key stopped working: the badge goes quiet. It never sends the tab to
                # /login on its own: the page's next call does that (a page at rest stays).
                async with self:
                    self._set_badge(0, False)
                return False
            return True  # the api may come back; the badge keeps its last count
        async with self:
            self._set_badge(count, more)
        return True

    @rx.event(background=True)
    async def start_badge(self):
        await live.run_poll_loop(
            self, BADGE_LIVE_NAME, self._badge_tick, interval=BADGE_INTERVAL_SECONDS
        )


class AlertsState(ProblemMixin, AuthState):
    alerts: list[AlertRow] = []
    status_filter: str = "open"
    next_cursor: str = ""
    loading: bool = False
    message: str = ""
    _names: dict[str, str] = {}
    # Bumped by every write of the list; a live tick applies its answer only if none happened
    # since it started (a filter change or an acknowledge is never undone by an older read).
    _writes: int = 0
    _session_lost: bool = False

    @rx.var
    def has_more(self) -> bool:
        return self.next_cursor != ""

    @rx.var
    def alert_count(self) -> int:
        return len(self.alerts)

    async def _fetch(self, cursor: str | None):
        async def call(api: SwitchboardClient) -> None:
            status = None if self.status_filter == "all" else self.status_filter
            if not cursor:
                integrations = await api.list_integrations(limit=200)
                self._names = {
                    str(i.get("id")): str(i.get("name") or "") for i in integrations["items"]
                }
            page = await api.list_alerts(status=status, limit=PAGE_SIZE, cursor=cursor)  # type: ignore[arg-type]
            rows = [alert_row(a, self._names) for a in page["items"]]
            self.alerts = [*self.alerts, *rows] if cursor else rows
            self.next_cursor = page.get("next_cursor") or ""
            self._writes += 1

        async for update in self._api_load(call):
            yield update

    @rx.event
    async def load(self):
        self.message = ""
        async for update in self._fetch(None):
            yield update

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in FILTERS else "open"
        self.message = ""
        async for update in self._fetch(None):
            yield update

    @rx.event
    async def load_more(self):
        if not self.next_cursor or self.loading:
            return
        async for update in self._fetch(self.next_cursor):
            yield update

    def _action_message(self, text: str) -> None:
        self.message = text

    @rx.event
    async def acknowledge(self, alert_id: str):
        async def call(api: SwitchboardClient) -> str:
            entry = await api.ack_alert(alert_id)
            count, more = await count_unacknowledged(api)
            row = alert_row(entry, self._names)
            self.alerts = [row if a.id == row.id else a for a in self.alerts]
            self._writes += 1
            badge = await self.get_state(AlertBadgeState)
            badge._set_badge(count, more)
            return f"Acknowledged: {row.message}"

        async for update in self._api_action(
            f"ack-{alert_id}", call, failed="The alert was not acknowledged"
        ):
            yield update

    # -- live ------------------------------------------------------------------------------

    async def _live_tick(self) -> bool:
        """Read again what the page shows; False (the loop ends) when the key stopped working.

        The page mounts, and starts this loop, before its on_load ran: a tick then reads the
        default filter, and load's own answer (a newer write) replaces it.
        """
        async with self:
            api = self._api()
            writes = self._writes
            status = None if self.status_filter == "all" else self.status_filter
            limit = min(max(len(self.alerts), PAGE_SIZE), MAX_PAGE)
            names = dict(self._names)
            busy = self.loading or self.busy != ""
        if api is None:
            async with self:
                self._session_lost = True
            return False
        if busy:
            return True  # an action or a load is writing the list: the next tick reads it
        try:
            async with api:
                page = await api.list_alerts(status=status, limit=limit)  # type: ignore[arg-type]
                if any(str(a.get("integration_id") or "") not in names for a in page["items"]):
                    integrations = await api.list_integrations(limit=MAX_PAGE)
                    names = {
                        str(i.get("id")): str(i.get("name") or "") for i in integrations["items"]
                    }
        except ApiError as exc:
            async with self:
                if exc.unauthorized:
                    self._forget_session()
                    self._session_lost = True
                    return False
                # Keep what is shown and keep polling: the api may come back.
                self.problem_title, self.problem_detail = PAUSED, str(exc)
            return True
        async with self:
            if self._writes != writes:
                return True
            if self.problem_title == PAUSED:
                self._clear_problem()
            self._names = names
            rows = [alert_row(a, names) for a in page["items"]]
            if len(self.alerts) > limit:
                # More loaded than one call reads: the rest stays as it was, and so does the
                # cursor after it.
                fresh = {r.id for r in rows}
                rows += [a for a in self.alerts[limit:] if a.id not in fresh]
            else:
                self.next_cursor = page.get("next_cursor") or ""
            if rows != self.alerts:
                self.alerts = rows
        return True

    @rx.event(background=True)
    async def start_live(self):
        """on_mount. Background, like stop_live: see dashboard/live.py."""
        await live.run_poll_loop(
            self, PAGE_LIVE_NAME, self._live_tick, interval=PAGE_INTERVAL_SECONDS
        )
        async with self:
            if self._session_lost:
                self._session_lost = False
                return self._to_login()
        return None

    @rx.event(background=True)
    async def stop_live(self):
        """on_unmount: the list stops polling when the page is left."""
        live.stop(self.router.session.client_token, PAGE_LIVE_NAME)

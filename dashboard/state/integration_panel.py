"""What every panel of the integration page shares: which integration the tab shows, one api
call from a background (live) handler, and the panel's own live loop.

Each panel is its own substate of AuthState with its own problem callout, so a failing panel
says so without blanking the others. Panels sit in tabs: a panel mounts when its tab opens
(its loop starts) and unmounts when another opens (its loop stops).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from dashboard import live
from dashboard.client import ApiError, SwitchboardClient

PAUSED = "Live updates paused"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def short_time(value: str) -> str:
    """`2026-11-27T10:05:00Z` → `11-27 10:05`: chart labels and table cells stay narrow."""
    if len(value) >= 16 and value[10] == "T":
        return f"{value[5:10]} {value[11:16]}"
    return value


class PanelState(rx.State, mixin=True):
    """A panel: the integration it shows, and its failures in words. Concrete panels are
    `class XPanelState(PanelState, ProblemMixin, AuthState)`."""

    panel_integration_id: str = ""
    # True until the first answer: a panel mounts (and paints) before its loop has asked
    # anything, and must not show an empty answer meanwhile.
    panel_loading: bool = True
    _panel_session_lost: bool = False

    def _current_integration_id(self) -> str:
        return self._route_param("integration_id")

    async def _call_live(
        self, call: Callable[[SwitchboardClient, str], Awaitable[Any]]
    ) -> tuple[bool, Any]:
        """From a background handler: run `call(api, integration_id)` outside the state lock.

        (True, answer) on success. (False, None) when it failed: a 401 ends the session, any
        other failure is shown as the panel's problem and the next tick tries again.
        """
        async with self:
            api = self._api()
            integration_id = self._current_integration_id()
        if api is None:
            async with self:
                self._panel_session_lost = True
            return False, None
        if not integration_id:
            return False, None
        try:
            async with api:
                answer = await call(api, integration_id)
        except ApiError as exc:
            async with self:
                if exc.unauthorized:
                    self._forget_session()
                    self._panel_session_lost = True
                elif self.panel_loading:  # the first load: say what failed
                    self.problem_title, self.problem_detail = exc.title, exc.detail
                    self.panel_loading = False
                else:  # a later tick: keep what is shown, say updates stopped for now
                    self.problem_title, self.problem_detail = PAUSED, str(exc)
            return False, None
        async with self:
            if self.problem_title == PAUSED:
                self._clear_problem()
            self.panel_integration_id = integration_id
        return True, answer

    async def _start_panel(
        self,
        name: str,
        tick: Callable[[], Awaitable[bool]],
        interval: float,
        forget: Callable[[], None],
    ) -> Any:
        """on_mount (background): a panel last shown for another integration `forget`s what
        it showed; it waits for its first answer, then polls until it unmounts."""
        async with self:
            if self.panel_integration_id != self._current_integration_id():
                forget()
            self.panel_loading = True
            self._clear_problem()
        return await self._run_panel_loop(name, tick, interval)

    async def _run_panel_loop(
        self, name: str, tick: Callable[[], Awaitable[bool]], interval: float
    ) -> Any:
        """Run the panel's loop until it unmounts; a lost session sends the tab to /login."""

        async def guarded() -> bool:
            if not await tick():
                return False
            async with self:
                return not self._panel_session_lost

        await live.run_poll_loop(self, name, guarded, interval=interval)
        async with self:
            if self._panel_session_lost:
                self._panel_session_lost = False
                return self._to_login()
        return None

    def _stop_panel_loop(self, name: str) -> None:
        live.stop(self.router.session.client_token, name)

    async def _act(self, name: str, call: Callable[[SwitchboardClient, str], Awaitable[Any]]):  # type: ignore[no-untyped-def]
        """A person's action (an ordinary event) on this panel's integration: see
        ProblemMixin._api_action; each panel names its own `_action_message` field."""
        integration_id = self._current_integration_id()
        async for update in self._api_action(name, lambda api: call(api, integration_id)):
            yield update

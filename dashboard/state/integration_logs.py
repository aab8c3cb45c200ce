"""The logs panel: the integration's log with level, event and text filters (`GET …/logs`),
refreshed with the same filters while the panel is on screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import reflex as rx

from dashboard.client import LogEntry, LogLevel
from dashboard.state.integration_panel import PanelState, short_time
from dashboard.state.session import AuthState, ProblemMixin

LIVE_NAME = "integration-logs"
INTERVAL_SECONDS = 3.0
LOGS_LIMIT = 100
ALL = "all"
LEVELS = [ALL, *get_args(LogLevel)]
TEXT_LIMIT = 200  # the api refuses a longer q


@dataclass
class LogLine:
    id: str
    level: str
    event: str
    message: str
    created_at: str


def log_line(entry: LogEntry) -> LogLine:
    return LogLine(
        id=str(entry.get("id", "")),
        level=str(entry.get("level") or "info"),
        event=str(entry.get("event") or ""),
        message=str(entry.get("message") or ""),
        created_at=short_time(str(entry.get("created_at") or "")),
    )


class LogsPanelState(PanelState, ProblemMixin, AuthState):
    level: str = ALL
    event: str = ""
    text: str = ""
    lines: list[LogLine] = []
    filtered: bool = False

    @rx.var
    def line_count(self) -> int:
        return len(self.lines)

    async def _refresh(self) -> bool:
        async with self:
            level, event, text = self.level, self.event, self.text

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            return await api.list_logs(
                integration_id,
                level=None if level == ALL else level,
                event=event or None,
                q=text or None,
                limit=LOGS_LIMIT,
            )

        ok, page = await self._call_live(call)
        if ok:
            async with self:
                if (self.level, self.event, self.text) == (level, event, text):
                    self.lines = [log_line(e) for e in page["items"]]
                self.panel_loading = False
        return True

    @rx.event(background=True)
    async def start(self):
        def forget() -> None:
            self.lines = []

        return await self._start_panel(LIVE_NAME, self._refresh, INTERVAL_SECONDS, forget)

    @rx.event(background=True)
    async def stop(self):
        self._stop_panel_loop(LIVE_NAME)

    @rx.event
    def set_level(self, level: str):
        self.level = level if level in LEVELS else ALL

    @rx.event(background=True)
    async def apply_filters(self, form_data: dict):
        async with self:
            self.event = str(form_data.get("event") or "").strip()[:255]
            self.text = str(form_data.get("q") or "").strip()[:TEXT_LIMIT]
            self.filtered = bool(self.event or self.text or self.level != ALL)
            self.panel_loading = True
        await self._refresh()

    @rx.event(background=True)
    async def clear_filters(self):
        async with self:
            self.level, self.event, self.text, self.filtered = ALL, "", "", False
            self.panel_loading = True
        await self._refresh()

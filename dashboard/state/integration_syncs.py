"""The syncs panel (issue 12's API): the connector's streams, a trigger form (stream, mode, a
backfill window), the jobs with live progress (pages, records), cancel, and the schedule with
pause and resume."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import reflex as rx

from dashboard.client import (
    StreamInfo,
    SyncJob,
    SyncRecord,
    SyncRequest,
    SyncSchedule,
    SyncScheduleUpdate,
)
from dashboard.state.integration_panel import PanelState, pretty, short_time
from dashboard.state.session import AuthState, ProblemMixin

LIVE_NAME = "integration-syncs"
INTERVAL_SECONDS = 1.0
JOBS_LIMIT = 20
RECORDS_LIMIT = 10
ACTIVE = ("queued", "running")
# The schedule changes rarely: read it every few ticks.
SCHEDULE_EVERY_TICKS = 5


@dataclass
class StreamRow:
    name: str
    description: str
    modes: list[str]
    unavailable: str


@dataclass
class JobRow:
    id: str
    stream: str
    mode: str
    trigger: str
    status: str
    pages: int
    records_upserted: int
    records_deleted: int
    attempts: int
    error: str
    created_at: str
    finished_at: str
    active: bool


@dataclass
class ScheduleRow:
    stream: str
    every_minutes: int
    mode: str


@dataclass
class RecordRow:
    id: str
    external_id: str
    deleted: bool
    updated_at: str
    shown: str  # the mapped fields when a mapping applied, else the record


def stream_rows(streams: list[StreamInfo]) -> list[StreamRow]:
    return [
        StreamRow(
            name=str(s.get("name", "")),
            description=str(s.get("description") or ""),
            modes=[str(m) for m in s.get("modes") or []],
            unavailable=str(s.get("unavailable") or ""),
        )
        for s in streams
    ]


def job_row(job: SyncJob) -> JobRow:
    status = str(job.get("status") or "")
    return JobRow(
        id=str(job.get("id", "")),
        stream=str(job.get("stream") or ""),
        mode=str(job.get("mode") or ""),
        trigger=str(job.get("trigger") or ""),
        status=status,
        pages=int(job.get("pages") or 0),
        records_upserted=int(job.get("records_upserted") or 0),
        records_deleted=int(job.get("records_deleted") or 0),
        attempts=int(job.get("attempts") or 0),
        error=str(job.get("error") or ""),
        created_at=short_time(str(job.get("created_at") or "")),
        finished_at=short_time(str(job.get("finished_at") or "")),
        active=status in ACTIVE,
    )


def schedule_rows(schedule: SyncSchedule) -> list[ScheduleRow]:
    return [
        ScheduleRow(stream, int(entry.get("every_minutes") or 0), str(entry.get("mode") or ""))
        for stream, entry in sorted((schedule.get("streams") or {}).items())
    ]


def record_row(record: SyncRecord) -> RecordRow:
    mapped = record.get("mapped")
    return RecordRow(
        id=str(record.get("id", "")),
        external_id=str(record.get("external_id") or ""),
        deleted=bool(record.get("deleted")),
        updated_at=short_time(str(record.get("updated_at") or "")),
        shown=pretty(mapped if mapped else record.get("data") or {}),
    )


def rfc3339(value: str) -> str:
    """A `datetime-local` input (`2026-11-27T10:00`, read as UTC) as RFC 3339; '' stays ''."""
    value = value.strip()
    if not value:
        return ""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SyncPanelState(PanelState, ProblemMixin, AuthState):
    streams: list[StreamRow] = []
    stream: str = ""
    mode: str = "incremental"
    jobs: list[JobRow] = []
    schedule: list[ScheduleRow] = []
    paused: bool = False
    schedule_loaded: bool = False
    records: list[RecordRow] = []
    records_stream: str = ""
    sync_message: str = ""
    form_errors: dict[str, str] = {}
    _ticks: int = 0

    @rx.var
    def stream_names(self) -> list[str]:
        return [s.name for s in self.streams if s.modes]

    @rx.var
    def modes(self) -> list[str]:
        for s in self.streams:
            if s.name == self.stream:
                return s.modes
        return []

    @rx.var
    def unavailable_streams(self) -> list[StreamRow]:
        return [s for s in self.streams if not s.modes]

    @rx.var
    def is_backfill(self) -> bool:
        return self.mode == "backfill"

    @rx.var
    def job_count(self) -> int:
        return len(self.jobs)

    def _action_message(self, text: str) -> None:
        self.sync_message = text

    # -- live ------------------------------------------------------------------------------

    async def _load_streams(self) -> None:
        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            integration = await api.get_integration(integration_id)
            return await api.get_connector(str(integration.get("connector_id", "")))

        ok, connector = await self._call_live(call)
        if ok:
            async with self:
                self.streams = stream_rows(connector.get("streams") or [])
                names = self.stream_names
                if self.stream not in names:
                    self.stream = names[0] if names else ""
                if self.mode not in self.modes:
                    self.mode = self.modes[0] if self.modes else ""

    async def _refresh(self) -> bool:
        async with self:
            self._ticks += 1
            with_schedule = self._ticks % SCHEDULE_EVERY_TICKS == 1
            records_stream = self.records_stream

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            jobs = await api.list_sync_jobs(integration_id, limit=JOBS_LIMIT)
            schedule = await api.get_schedule(integration_id) if with_schedule else None
            records = (
                await api.list_records(integration_id, stream=records_stream, limit=RECORDS_LIMIT)
                if records_stream
                else None
            )
            return jobs, schedule, records

        ok, answer = await self._call_live(call)
        if ok:
            jobs, schedule, records = answer
            async with self:
                rows = [job_row(j) for j in jobs["items"]]
                if rows != self.jobs:
                    self.jobs = rows
                if schedule is not None:
                    self._set_schedule(schedule)
                if records is not None and records_stream == self.records_stream:
                    self.records = [record_row(r) for r in records["items"]]
                self.panel_loading = False
        return True

    def _set_schedule(self, schedule: SyncSchedule) -> None:
        self.schedule = schedule_rows(schedule)
        self.paused = bool(schedule.get("paused"))
        self.schedule_loaded = True

    @rx.event(background=True)
    async def start(self):
        async with self:
            if self.panel_integration_id != self._current_integration_id():
                self.streams, self.jobs, self.schedule, self.records = [], [], [], []
                self.records_stream = ""
                self.schedule_loaded = False
            self._ticks = 0
            self.panel_loading = True
            self.sync_message = ""
            self._clear_problem()
        await self._load_streams()
        return await self._run_panel_loop(LIVE_NAME, self._refresh, INTERVAL_SECONDS)

    @rx.event(background=True)
    async def stop(self):
        self._stop_panel_loop(LIVE_NAME)

    # -- the trigger form ------------------------------------------------------------------

    @rx.event
    def set_stream(self, stream: str):
        self.stream = stream
        if self.mode not in self.modes:
            self.mode = self.modes[0] if self.modes else ""

    @rx.event
    def set_mode(self, mode: str):
        self.mode = mode

    @rx.event
    async def trigger(self, form_data: dict):
        self.form_errors = {}
        body: SyncRequest = {"stream": self.stream, "mode": self.mode}  # type: ignore[typeddict-item]
        if not self.stream:
            self.form_errors = {"stream": "Choose a stream."}
            return
        if self.mode == "backfill":
            try:
                since = rfc3339(str(form_data.get("since") or ""))
                until = rfc3339(str(form_data.get("until") or ""))
            except ValueError:
                self.form_errors = {"since": "Enter a date and time."}
                return
            if since:
                body["since"] = since
            if until:
                body["until"] = until

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            answer = await api.trigger_sync(integration_id, body)
            row = job_row(answer["job"])
            self.jobs = [row, *[j for j in self.jobs if j.id != row.id]]
            self.records_stream = row.stream
            if row.active:
                return f"Sync of {row.stream} ({row.mode}) {row.status}: job {row.id}."
            return f"Sync of {row.stream} ({row.mode}): {row.status}."

        async for update in self._act("trigger", call):
            yield update

    @rx.event
    async def cancel(self, job_id: str):
        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            answer = await api.cancel_sync_job(integration_id, job_id)
            row = job_row(answer["job"])
            self.jobs = [row if j.id == row.id else j for j in self.jobs]
            return f"Job {job_id}: {row.status}."

        async for update in self._act(f"cancel-{job_id}", call):
            yield update

    @rx.event
    def show_records(self, stream: str):
        self.records_stream = stream
        self.records = []

    # -- the schedule ----------------------------------------------------------------------

    def _schedule_body(self, rows: list[ScheduleRow], paused: bool) -> SyncScheduleUpdate:
        return {
            "streams": {
                r.stream: {"every_minutes": r.every_minutes, "mode": r.mode}  # type: ignore[typeddict-item]
                for r in rows
            },
            "paused": paused,
        }

    async def _put_schedule(self, rows: list[ScheduleRow], paused: bool, done: str):  # type: ignore[no-untyped-def]
        body = self._schedule_body(rows, paused)

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            self._set_schedule(await api.put_schedule(integration_id, body))
            return done

        async for update in self._act("schedule", call):
            yield update

    @rx.event
    async def set_paused(self, paused: bool):
        done = "Scheduled syncs are paused." if paused else "Scheduled syncs resumed."
        async for update in self._put_schedule(self.schedule, bool(paused), done):
            yield update

    @rx.event
    async def save_stream_schedule(self, form_data: dict):
        stream = str(form_data.get("schedule_stream") or self.stream)
        try:
            minutes = int(str(form_data.get("every_minutes") or "").strip())
        except ValueError:
            self.form_errors = {"every_minutes": "Enter a whole number of minutes."}
            return
        self.form_errors = {}
        rows = [r for r in self.schedule if r.stream != stream]
        rows.append(ScheduleRow(stream, minutes, "incremental"))
        done = f"{stream} syncs every {minutes} min."
        async for update in self._put_schedule(rows, self.paused, done):
            yield update

    @rx.event
    async def remove_stream_schedule(self, stream: str):
        rows = [r for r in self.schedule if r.stream != stream]
        async for update in self._put_schedule(rows, self.paused, f"{stream} is not scheduled."):
            yield update

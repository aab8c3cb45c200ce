"""The integration page's syncs panel: trigger a sync (stream, mode, backfill window), jobs with
live progress and cancel, the latest records, and the schedule with pause and resume."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import (
    error_callout,
    info_callout,
    loading_block,
    scroll_table,
    status_badge,
)
from dashboard.components.forms import field_error, labelled
from dashboard.state.integration_syncs import (
    JobRow,
    RecordRow,
    ScheduleRow,
    StreamRow,
    SyncPanelState,
)

S = SyncPanelState


def _field_error(name: str) -> rx.Component:
    return field_error(S.form_errors, name, "sync-error-")


def _trigger_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Run a sync", size="3"),
                rx.flex(
                    labelled(
                        "Stream",
                        rx.select(
                            S.stream_names,
                            value=S.stream,
                            on_change=S.set_stream,
                            id="sync-stream",
                        ),
                        _field_error("stream"),
                    ),
                    labelled(
                        "Mode",
                        rx.select(S.modes, value=S.mode, on_change=S.set_mode, id="sync-mode"),
                    ),
                    rx.cond(
                        S.is_backfill,
                        rx.flex(
                            labelled(
                                "Since (UTC)",
                                rx.input(type="datetime-local", name="since", id="sync-since"),
                                _field_error("since"),
                            ),
                            labelled(
                                "Until (UTC)",
                                rx.input(type="datetime-local", name="until", id="sync-until"),
                            ),
                            spacing="3",
                            wrap="wrap",
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="end",
                ),
                rx.button(
                    rx.icon("refresh-ccw", size=14),
                    "Start sync",
                    type="submit",
                    loading=S.busy == "trigger",
                    disabled=S.stream == "",
                    id="sync-start",
                ),
                spacing="3",
            ),
            on_submit=S.trigger,
            reset_on_submit=False,
            id="sync-form",
        ),
        width="100%",
    )


def _job(j: JobRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(j.stream)),
        rx.table.cell(status_badge(j.status, class_name="sync-job-status")),
        rx.table.cell(
            rx.text(
                j.pages,
                " pages · ",
                j.records_upserted,
                " records",
                rx.cond(j.records_deleted > 0, rx.text.span(" · ", j.records_deleted, " deleted")),
                size="2",
                class_name="sync-job-progress",
            )
        ),
        rx.table.cell(
            rx.cond(
                j.active,
                rx.button(
                    "Cancel",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    loading=S.busy == "cancel-" + j.id,
                    on_click=S.cancel(j.id),
                    id="sync-cancel-" + j.id,
                ),
                rx.button(
                    "Records",
                    size="1",
                    variant="ghost",
                    on_click=S.show_records(j.stream),
                    id="sync-records-" + j.id,
                ),
            )
        ),
        rx.table.cell(rx.text(j.mode, " · ", j.trigger, size="1")),
        rx.table.cell(rx.text(j.created_at, size="1", font_family="monospace")),
        rx.table.cell(rx.text(j.error, size="1", color_scheme="red"), min_width="12rem"),
        id="sync-job-" + j.id,
        class_name="sync-job",
        data_status=j.status,
    )


def _jobs() -> rx.Component:
    return rx.vstack(
        rx.heading("Sync jobs", size="3"),
        rx.cond(
            S.job_count > 0,
            scroll_table(
                S.jobs,
                _job,
                "sync-jobs-table",
                headers=("Stream", "Status", "Progress", "", "Mode", "Created", "Error"),
            ),
            rx.text("No sync has run yet.", color_scheme="gray", id="sync-jobs-empty"),
        ),
        width="100%",
    )


def _record(r: RecordRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(r.external_id)),
        rx.table.cell(rx.text(r.updated_at, size="1")),
        rx.table.cell(rx.cond(r.deleted, rx.badge("deleted", color_scheme="gray"))),
        rx.table.cell(
            rx.el.pre(
                r.shown,
                style={
                    "white_space": "pre-wrap",
                    "font_size": "11px",
                    "margin": "0",
                    "max_height": "8rem",
                    "overflow": "auto",
                },
            ),
            min_width="16rem",
        ),
        class_name="sync-record",
    )


def _records() -> rx.Component:
    return rx.cond(
        S.records_stream != "",
        rx.vstack(
            rx.heading("Latest records of ", rx.code(S.records_stream), size="3"),
            rx.cond(
                S.records.length() > 0,
                scroll_table(S.records, _record, "sync-records-table"),
                rx.text("No record stored yet.", color_scheme="gray", id="sync-records-empty"),
            ),
            width="100%",
        ),
    )


def _schedule_row(r: ScheduleRow) -> rx.Component:
    return rx.hstack(
        rx.code(r.stream),
        rx.text("every ", r.every_minutes, " min (", r.mode, ")", size="2"),
        rx.icon_button(
            rx.icon("x", size=12),
            size="1",
            variant="ghost",
            aria_label="Remove from the schedule",
            on_click=S.remove_stream_schedule(r.stream),
            id="schedule-remove-" + r.stream,
        ),
        align="center",
        id="schedule-" + r.stream,
    )


def _schedule() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Schedule", size="3"),
                rx.cond(
                    S.paused,
                    rx.badge("paused", color_scheme="amber", id="schedule-state"),
                    rx.badge("active", color_scheme="green", id="schedule-state"),
                ),
                rx.spacer(),
                rx.cond(
                    S.paused,
                    rx.button(
                        "Resume",
                        size="1",
                        on_click=S.set_paused(False),
                        loading=S.busy == "schedule",
                        disabled=~S.schedule_loaded,
                        id="schedule-resume",
                    ),
                    rx.button(
                        "Pause",
                        size="1",
                        variant="soft",
                        on_click=S.set_paused(True),
                        loading=S.busy == "schedule",
                        disabled=~S.schedule_loaded,
                        id="schedule-pause",
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.schedule.length() > 0,
                rx.vstack(rx.foreach(S.schedule, _schedule_row), spacing="1"),
                rx.text(
                    "No stream is scheduled.", color_scheme="gray", size="2", id="schedule-empty"
                ),
            ),
            rx.form(
                rx.flex(
                    rx.select(
                        S.stream_names,
                        name="schedule_stream",
                        default_value=S.stream,
                        id="schedule-stream",
                    ),
                    rx.input(
                        name="every_minutes",
                        type="number",
                        min=1,
                        placeholder="minutes",
                        width="7rem",
                        id="schedule-minutes",
                    ),
                    rx.button(
                        "Schedule",
                        type="submit",
                        size="2",
                        variant="soft",
                        loading=S.busy == "schedule",
                        id="schedule-save",
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                _field_error("every_minutes"),
                on_submit=S.save_stream_schedule,
                reset_on_submit=False,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _unavailable(s: StreamRow) -> rx.Component:
    return rx.text(rx.code(s.name), ": ", s.unavailable, size="2", color_scheme="gray")


def syncs_panel() -> rx.Component:
    return rx.vstack(
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="syncs-error"),
        info_callout(S.sync_message, id="syncs-message"),
        rx.cond(
            S.panel_loading & (S.streams.length() == 0),
            loading_block("Loading syncs…", id="syncs-loading"),
            rx.cond(
                S.stream_names.length() > 0,
                rx.vstack(
                    _trigger_form(), _jobs(), _records(), _schedule(), spacing="4", width="100%"
                ),
                rx.text(
                    "This connector has no stream to sync.", color_scheme="gray", id="syncs-none"
                ),
            ),
        ),
        rx.foreach(S.unavailable_streams, _unavailable),
        rx.box(on_mount=S.start, on_unmount=S.stop, display="none"),
        spacing="3",
        width="100%",
        id="syncs-panel",
    )

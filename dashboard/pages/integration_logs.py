"""The integration page's logs panel: level, event and text filters over the integration log."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, loading_block, scroll_table, status_badge
from dashboard.state.integration_logs import LEVELS, LogLine, LogsPanelState

S = LogsPanelState


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.select(LEVELS, value=S.level, on_change=S.set_level, id="logs-level"),
            rx.input(
                name="event",
                placeholder="event (exact)",
                default_value=S.event,
                max_length=255,
                id="logs-event",
            ),
            rx.input(
                name="q",
                placeholder="text in message or event",
                default_value=S.text,
                max_length=200,
                id="logs-q",
            ),
            rx.button(rx.icon("search", size=14), "Filter", type="submit", id="logs-apply"),
            rx.cond(
                S.filtered,
                rx.button(
                    "Clear",
                    type="button",
                    variant="soft",
                    on_click=S.clear_filters,
                    id="logs-clear",
                ),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        on_submit=S.apply_filters,
        reset_on_submit=False,
        id="logs-filters",
        width="100%",
    )


def _line(entry: LogLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(entry.created_at, size="1", font_family="monospace")),
        rx.table.cell(status_badge(entry.level)),
        rx.table.cell(rx.code(entry.event)),
        # A floor for the message column: at phone width the table scrolls sideways instead
        # of breaking every word onto its own line.
        rx.table.cell(entry.message, min_width="16rem"),
        id="log-" + entry.id,
        class_name="log-row",
    )


def logs_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Logs", size="4"),
            rx.cond(S.panel_loading, rx.spinner(size="1")),
            align="center",
        ),
        _filters(),
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="logs-error"),
        rx.cond(
            S.line_count > 0,
            scroll_table(S.lines, _line, "logs-table"),
            rx.cond(
                S.panel_loading,
                loading_block("Loading the log…", id="logs-loading"),
                rx.text(
                    rx.cond(S.filtered, "No log entry matches the filters.", "No log entries."),
                    color_scheme="gray",
                    id="logs-empty",
                ),
            ),
        ),
        rx.box(on_mount=S.start, on_unmount=S.stop, display="none"),
        spacing="3",
        width="100%",
        id="logs-panel",
    )

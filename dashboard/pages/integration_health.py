"""The integration page's health panel: the evidence-based state, every reason, open alerts."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, loading_block, status_badge
from dashboard.state.integration_health import AlertRow, HealthPanelState, ReasonRow

S = HealthPanelState


def _reason(r: ReasonRow) -> rx.Component:
    return rx.hstack(
        rx.code(r.code, size="1"),
        rx.text(r.message, size="2"),
        align="center",
        wrap="wrap",
        id="health-reason-" + r.code,
        class_name="health-reason",
    )


def _alert(a: AlertRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("bell-ring", size=14),
                rx.code(a.kind, size="1"),
                rx.badge(a.severity, variant="soft", color_scheme="red"),
                rx.text(a.opened_at, size="1", color_scheme="gray"),
                wrap="wrap",
                align="center",
            ),
            rx.text(a.message, size="2"),
            spacing="1",
        ),
        id="integration-alert-" + a.id,
        class_name="integration-alert",
        data_kind=a.kind,
        width="100%",
    )


def health_panel() -> rx.Component:
    return rx.vstack(
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="health-error"),
        rx.cond(
            S.panel_loading & (S.state == ""),
            loading_block("Assessing health…", id="health-loading"),
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Health", size="4"),
                        status_badge(S.state, id="health-state"),
                        rx.spacer(),
                        rx.text("Assessed ", S.assessed_at, size="1", color_scheme="gray"),
                        align="center",
                        wrap="wrap",
                        width="100%",
                    ),
                    rx.cond(
                        S.reasons.length() > 0,
                        rx.vstack(rx.foreach(S.reasons, _reason), spacing="2", id="health-reasons"),
                        rx.text(
                            "No finding: nothing looks wrong.",
                            color_scheme="gray",
                            id="health-no-reasons",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
        ),
        rx.heading("Open alerts", size="3"),
        rx.cond(
            S.alert_count > 0,
            rx.vstack(
                rx.foreach(S.alerts, _alert), spacing="2", width="100%", id="integration-alerts"
            ),
            rx.text(
                "No open alert for this integration.",
                color_scheme="gray",
                id="integration-alerts-empty",
            ),
        ),
        rx.box(on_mount=S.start, on_unmount=S.stop, display="none"),
        spacing="3",
        width="100%",
        id="health-panel",
    )

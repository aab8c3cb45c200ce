"""The integration page's test-mode panel: simulate webhooks, inject and clear faults."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, info_callout, scroll_table
from dashboard.components.forms import field_error, labelled
from dashboard.state.integration_testmode import (
    FAULT_KINDS,
    MAX_SIMULATED,
    VARIANTS,
    FaultRow,
    SimulationPanelState,
)

S = SimulationPanelState


def _error(name: str) -> rx.Component:
    return field_error(S.form_errors, name, "testmode-error-")


def _simulate() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Simulate webhooks", size="3"),
                rx.text(
                    "Signed deliveries go through this integration's real webhook URL: "
                    "verification, storage, normalization and mapping run for real.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.flex(
                    labelled(
                        "Event type",
                        rx.select(
                            S.type_choices,
                            value=S.event_type,
                            on_change=S.set_event_type,
                            id="simulate-type",
                        ),
                    ),
                    labelled(
                        "Count",
                        rx.input(
                            name="count",
                            type="number",
                            min=1,
                            max=MAX_SIMULATED,
                            default_value="1",
                            width="6rem",
                            id="simulate-count",
                        ),
                        _error("count"),
                    ),
                    labelled(
                        "Variant",
                        rx.select(
                            VARIANTS,
                            value=S.variant,
                            on_change=S.set_variant,
                            id="simulate-variant",
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.button(
                    rx.icon("send", size=14),
                    "Send",
                    type="submit",
                    loading=S.busy == "simulate",
                    id="simulate-send",
                ),
                rx.cond(
                    S.deliveries.length() > 0,
                    rx.vstack(
                        rx.foreach(S.deliveries, lambda d: rx.code(d, size="1")),
                        spacing="1",
                        id="simulate-deliveries",
                    ),
                ),
                spacing="3",
            ),
            on_submit=S.simulate,
            reset_on_submit=False,
            id="simulate-form",
        ),
        width="100%",
    )


def _fault(f: FaultRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(f.kind)),
        rx.table.cell(f.probability),
        rx.table.cell(f.remaining),
        rx.table.cell(f.retry_after),
        id="fault-" + f.kind,
        class_name="fault-row",
    )


def _faults() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Faults", size="3"),
            rx.text(
                "The simulated provider answers this integration's calls (health checks, "
                "syncs, actions, webhook registration) with the fault.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                S.fault_count > 0,
                scroll_table(
                    S.faults,
                    _fault,
                    "faults-table",
                    headers=("Kind", "Probability", "Remaining", "Retry-After"),
                ),
                rx.text("No fault in force.", color_scheme="gray", size="2", id="faults-empty"),
            ),
            rx.form(
                rx.flex(
                    labelled(
                        "Kind",
                        rx.select(
                            FAULT_KINDS,
                            value=S.fault_kind,
                            on_change=S.set_fault_kind,
                            id="fault-kind",
                        ),
                    ),
                    labelled(
                        "Probability",
                        rx.input(
                            name="probability",
                            type="number",
                            step="0.05",
                            min=0,
                            max=1,
                            placeholder="1",
                            width="6rem",
                            id="fault-probability",
                        ),
                        _error("probability"),
                    ),
                    labelled(
                        "Calls",
                        rx.input(
                            name="fault_count",
                            type="number",
                            min=1,
                            placeholder="until cleared",
                            width="9rem",
                            id="fault-count",
                        ),
                        _error("fault_count"),
                    ),
                    labelled(
                        "Retry-After (s)",
                        rx.input(
                            name="retry_after",
                            type="number",
                            min=1,
                            width="7rem",
                            id="fault-retry-after",
                        ),
                        _error("retry_after"),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.flex(
                    rx.button(
                        rx.icon("zap", size=14),
                        "Inject fault",
                        type="submit",
                        color_scheme="amber",
                        loading=S.busy == "inject",
                        id="fault-inject",
                    ),
                    rx.button(
                        "Clear all",
                        type="button",
                        variant="soft",
                        on_click=S.clear_faults,
                        loading=S.busy == "clear",
                        disabled=S.fault_count == 0,
                        id="fault-clear",
                    ),
                    spacing="2",
                    margin_top="var(--space-3)",
                ),
                on_submit=S.inject_fault,
                reset_on_submit=False,
                id="fault-form",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def testmode_panel() -> rx.Component:
    return rx.vstack(
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="testmode-error"),
        info_callout(S.testmode_message, id="testmode-message"),
        _simulate(),
        _faults(),
        rx.box(on_mount=S.load, display="none"),
        spacing="3",
        width="100%",
        id="testmode-panel",
    )

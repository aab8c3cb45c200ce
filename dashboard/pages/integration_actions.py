"""The integration page's actions panel: a form per action, built from its input JSON Schema."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, scroll_table, status_badge
from dashboard.components.forms import field_error
from dashboard.state.integration_actions import ActionField, ActionsPanelState, RunRow

S = ActionsPanelState


def _input(f: ActionField) -> rx.Component:
    common = {"name": f.name, "id": "action-input-" + f.name, "width": "100%"}
    return rx.match(
        f.kind,
        ("boolean", rx.checkbox(name=f.name, id="action-input-" + f.name)),
        (
            "choice",
            rx.select(f.options, name=f.name, id="action-input-" + f.name),
        ),
        (
            "json",
            rx.text_area(placeholder=f.placeholder, rows="3", font_family="monospace", **common),
        ),
        ("integer", rx.input(type="number", step="1", placeholder=f.placeholder, **common)),
        ("number", rx.input(type="number", step="any", placeholder=f.placeholder, **common)),
        ("email", rx.input(type="email", placeholder=f.placeholder, **common)),
        rx.input(
            type=rx.cond(f.secret, "password", "text"),
            placeholder=f.placeholder,
            auto_complete="off",
            **common,
        ),
    )


def _field(f: ActionField) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(f.label, size="2", weight="bold"),
            rx.cond(f.required, rx.text("required", size="1", color_scheme="red")),
            rx.cond(f.kind == "json", rx.text("JSON", size="1", color_scheme="gray")),
            align="center",
        ),
        _input(f),
        rx.cond(f.help != "", rx.text(f.help, size="1", color_scheme="gray")),
        field_error(S.field_errors, f.name, "action-error-"),
        spacing="1",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.text("Action", size="2", weight="bold"),
                rx.select(S.actions, value=S.action, on_change=S.choose_action, id="action-choice"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(S.description != "", rx.text(S.description, size="2", color_scheme="gray")),
            rx.form(
                rx.vstack(
                    rx.foreach(S.fields, _field),
                    rx.button(
                        rx.icon("play", size=14),
                        "Run ",
                        S.action,
                        type="submit",
                        loading=S.busy == "run",
                        disabled=~S.connected,
                        id="action-run",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.run,
                reset_on_submit=False,
                # A new form (empty inputs) for each action.
                key=S.action,
                id="action-form",
                width="100%",
            ),
            rx.cond(
                ~S.connected,
                rx.text(
                    "Actions run only on a connected integration.", size="2", color_scheme="amber"
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _result() -> rx.Component:
    return rx.cond(
        S.result_status != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("Result", weight="bold"),
                    status_badge(S.result_status, id="action-result-status"),
                ),
                rx.cond(
                    S.result != "",
                    rx.el.pre(
                        S.result,
                        style={
                            "white_space": "pre-wrap",
                            "word_break": "break-all",
                            "font_size": "12px",
                            "margin": "0",
                        },
                        id="action-result",
                    ),
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


def _run(r: RunRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.created_at, size="1", font_family="monospace")),
        rx.table.cell(rx.code(r.action)),
        rx.table.cell(status_badge(r.status)),
        rx.table.cell(r.attempts),
        rx.table.cell(rx.text(r.duration_ms, " ms", size="1")),
        rx.table.cell(rx.text(r.error, size="1", color_scheme="red"), min_width="12rem"),
        id="action-run-" + r.id,
        class_name="action-run-row",
    )


def actions_panel() -> rx.Component:
    return rx.vstack(
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="actions-error"),
        rx.cond(
            S.has_actions,
            rx.vstack(
                _form(),
                _result(),
                rx.heading("Latest runs", size="3"),
                rx.cond(
                    S.runs.length() > 0,
                    scroll_table(S.runs, _run, "action-runs-table"),
                    rx.text(
                        "No action has run yet.",
                        color_scheme="gray",
                        size="2",
                        id="action-runs-empty",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            rx.text("This connector has no actions.", color_scheme="gray", id="actions-none"),
        ),
        rx.box(on_mount=S.load, display="none"),
        spacing="3",
        width="100%",
        id="actions-panel",
    )

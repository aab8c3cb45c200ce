"""/connect/[connector_id]: connect one connector (API-key form, OAuth button, or webhook only)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, loading_block
from dashboard.components.forms import field_error
from dashboard.components.layout import back_link, page_layout
from dashboard.state.connect import NAME_FIELD, SECRET_FIELD, ConnectState, FieldView


def _field_error(name: rx.Var[str] | str) -> rx.Component:
    return field_error(ConnectState.field_errors, name, "error-", role="alert")


def _label(text, required, html_for) -> rx.Component:
    return rx.text(
        text,
        rx.cond(required, rx.text.span(" *", color_scheme="red", aria_label="required")),
        as_="label",
        html_for=html_for,
        size="2",
        weight="bold",
    )


def _credential_field(f: FieldView) -> rx.Component:
    return rx.vstack(
        _label(f.label, f.required, "field-" + f.name),
        rx.input(
            name=f.name,
            id="field-" + f.name,
            type=f.input_type,
            placeholder=f.example,
            auto_complete="off",
            spell_check=False,
            width="100%",
        ),
        rx.cond(f.help != "", rx.text(f.help, size="1", color_scheme="gray")),
        _field_error(f.name),
        spacing="1",
        width="100%",
    )


def _common_fields() -> rx.Component:
    return rx.fragment(
        rx.vstack(
            _label("Name", True, "field-name"),
            rx.input(
                name=NAME_FIELD,
                id="field-name",
                placeholder="e.g. " + ConnectState.connector.name + " (production)",
                width="100%",
            ),
            _field_error(NAME_FIELD),
            spacing="1",
            width="100%",
        ),
        rx.hstack(
            rx.switch(
                checked=ConnectState.test_mode,
                on_change=ConnectState.set_test_mode,
                name="test_mode",
                id="field-test_mode",
            ),
            rx.text("Test mode (simulated provider traffic, no real calls)", size="2"),
            align="center",
        ),
    )


def _signing_secret_field() -> rx.Component:
    return rx.cond(
        ConnectState.connector.user_signing_secret,
        rx.vstack(
            _label("Webhook signing secret", True, "field-" + SECRET_FIELD),
            rx.input(
                name=SECRET_FIELD,
                id="field-" + SECRET_FIELD,
                type="password",
                auto_complete="off",
                width="100%",
            ),
            rx.text("Copy it from the provider's webhook settings.", size="1", color_scheme="gray"),
            _field_error(SECRET_FIELD),
            spacing="1",
            width="100%",
        ),
    )


def _submit_label() -> rx.Var:
    return rx.cond(ConnectState.is_oauth, "Connect with " + ConnectState.connector.name, "Connect")


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.foreach(
                ConnectState.unplaced_errors, lambda msg: rx.text(msg, color_scheme="red", size="2")
            ),
            _common_fields(),
            rx.foreach(ConnectState.fields, _credential_field),
            _signing_secret_field(),
            rx.cond(
                ConnectState.is_oauth,
                rx.text(
                    "You will be sent to the provider to approve access, then back here.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.button(
                rx.cond(
                    ConnectState.is_oauth,
                    rx.icon("external-link", size=14),
                    rx.icon("plug", size=14),
                ),
                _submit_label(),
                type="submit",
                id="connect-submit",
                loading=ConnectState.busy != "",
                disabled=~ConnectState.connector.configured,
            ),
            spacing="4",
            width="100%",
            max_width="560px",
        ),
        on_submit=ConnectState.submit,
        reset_on_submit=False,
        id="connect-form",
    )


def _header() -> rx.Component:
    c = ConnectState.connector
    return rx.vstack(
        rx.hstack(
            rx.icon(c.icon, size=28),
            rx.vstack(
                rx.text(c.description, color_scheme="gray"),
                rx.hstack(
                    rx.badge(c.category, variant="soft"), rx.badge(c.auth_label, variant="outline")
                ),
                spacing="1",
            ),
            align="center",
        ),
        rx.cond(
            c.docs_url != "",
            rx.link("Provider documentation", href=c.docs_url, is_external=True, size="2"),
        ),
        rx.cond(
            ~c.configured,
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(
                    "This connector is not configured on this server: ", c.configured_reason
                ),
                color_scheme="amber",
                id="not-configured",
            ),
        ),
        spacing="2",
        width="100%",
    )


def connect_page() -> rx.Component:
    return page_layout(
        rx.cond(
            ConnectState.connector.name != "", "Connect " + ConnectState.connector.name, "Connect"
        ),
        back_link("Catalog", "/", "back-to-catalog"),
        error_callout(
            ConnectState.problem_title,
            ConnectState.problem_detail,
            on_dismiss=ConnectState.dismiss_problem,
        ),
        rx.cond(
            ConnectState.loading,
            loading_block("Loading the connector…"),
            rx.cond(
                ConnectState.missing | (ConnectState.connector.auth_type == ""),
                rx.fragment(),
                rx.fragment(_header(), _form()),
            ),
        ),
    )

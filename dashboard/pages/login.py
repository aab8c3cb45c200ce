"""/login: sign in with a tenant API key."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import status_badge
from dashboard.state.session import AuthState
from dashboard.state.system import SystemState


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("cable", size=24),
                        rx.heading("Switchboard", size="6"),
                        align="center",
                    ),
                    rx.text("Sign in with your tenant API key.", color_scheme="gray"),
                    rx.hstack(
                        status_badge(SystemState.api_status, id="api-status"),
                        rx.text(SystemState.api_detail, size="1", color_scheme="gray"),
                        align="center",
                        on_mount=SystemState.check_api,
                    ),
                    rx.cond(
                        AuthState.login_error != "",
                        rx.callout.root(
                            rx.callout.icon(rx.icon("triangle-alert")),
                            rx.callout.text(AuthState.login_error),
                            color_scheme="red",
                            role="alert",
                            id="login-error",
                            width="100%",
                        ),
                    ),
                    rx.text("API key", as_="label", html_for="api-key", size="2", weight="bold"),
                    # Uncontrolled on purpose: the key is read once from the submitted form and
                    # is never a state var, so it is never rendered back.
                    rx.input(
                        id="api-key",
                        name="api_key",
                        type="password",
                        placeholder="sb_…",
                        auto_complete="off",
                        spell_check=False,
                        required=True,
                        width="100%",
                        size="3",
                    ),
                    rx.button(
                        "Sign in",
                        type="submit",
                        id="sign-in",
                        loading=AuthState.signing_in,
                        width="100%",
                        size="3",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AuthState.sign_in,
                reset_on_submit=True,
                id="login-form",
            ),
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="var(--space-4)",
    )

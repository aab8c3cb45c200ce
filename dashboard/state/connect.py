"""The connect page: a form generated from the connector's spec, or an OAuth button.

Credential values are read from the submitted form only, never stored in state, and the
inputs are uncontrolled, so a secret is never rendered back to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from dashboard.client import ApiError, Connector, IntegrationCreate, SwitchboardClient
from dashboard.state.catalog import AUTH_LABELS
from dashboard.state.integration import IntegrationState
from dashboard.state.session import AuthState, ProblemMixin

NAME_FIELD = "name"
SECRET_FIELD = "webhook_signing_secret"
CREDENTIALS_PREFIX = "credentials."


@dataclass
class ConnectorView:
    id: str = ""
    name: str = ""
    description: str = ""
    category: str = ""
    icon: str = "plug"
    auth_type: str = ""
    auth_label: str = ""
    docs_url: str = ""
    configured: bool = True
    configured_reason: str = ""
    user_signing_secret: bool = False


@dataclass
class FieldView:
    name: str  # the form key, also the api's error path: "credentials.<name>"
    label: str
    secret: bool
    required: bool
    help: str
    example: str
    input_type: str


def field_key(error_field: str) -> str:
    """Where an api error path lands on the form: "body.credentials.x" → "credentials.x"."""
    key = error_field.strip()
    for prefix in ("$.", "body.", "data."):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key


def connector_view(c: Connector) -> ConnectorView:
    webhook = c.get("webhook") or {}
    auth_type = str(c.get("auth_type") or "none")
    return ConnectorView(
        id=str(c.get("id", "")),
        name=str(c.get("name") or c.get("id", "")),
        description=str(c.get("description") or ""),
        category=str(c.get("category") or ""),
        icon=str(c.get("icon") or "plug"),
        auth_type=auth_type,
        auth_label=AUTH_LABELS.get(auth_type, auth_type),
        docs_url=str(c.get("docs_url") or ""),
        configured=bool(c.get("configured", True)),
        configured_reason=str(c.get("configured_reason") or ""),
        user_signing_secret=webhook.get("signing_secret_source") == "user",
    )


def field_views(c: Connector) -> list[FieldView]:
    if c.get("auth_type") != "api_key":
        return []
    return [
        FieldView(
            name=f"{CREDENTIALS_PREFIX}{f.get('name', '')}",
            label=str(f.get("label") or f.get("name", "")),
            secret=bool(f.get("secret", False)),
            required=bool(f.get("required", False)),
            help=str(f.get("help") or ""),
            example=str(f.get("example") or ""),
            input_type="password" if f.get("secret") else "text",
        )
        for f in c.get("credential_fields") or []
    ]


class ConnectState(ProblemMixin, AuthState):
    connector: ConnectorView = ConnectorView()
    fields: list[FieldView] = []
    field_errors: dict[str, str] = {}
    test_mode: bool = False
    loading: bool = False
    missing: bool = False

    @rx.var
    def is_oauth(self) -> bool:
        return self.connector.auth_type == "oauth2"

    @rx.var
    def is_api_key(self) -> bool:
        return self.connector.auth_type == "api_key"

    @rx.var
    def unplaced_errors(self) -> list[str]:
        """Field errors with no input on this form, so they are shown above it."""
        placed = {NAME_FIELD, SECRET_FIELD, *(f.name for f in self.fields)}
        return [f"{k}: {v}" for k, v in self.field_errors.items() if k not in placed]

    @rx.event
    def set_test_mode(self, value: bool):
        self.test_mode = bool(value)

    @rx.event
    async def load(self):
        connector_id = self._route_param("connector_id")

        def prepare() -> None:
            self.connector = ConnectorView(id=connector_id, name=connector_id)
            self.fields = []
            self.field_errors = {}
            self.test_mode = False
            self.missing = False
            self.busy = ""

        async def call(api: SwitchboardClient) -> None:
            connector = await api.get_connector(connector_id)
            self.connector = connector_view(connector)
            self.fields = field_views(connector)

        async for update in self._api_load(call, prepare=prepare, note_missing=True):
            yield update

    def _build_request(self, form_data: dict) -> IntegrationCreate | None:
        """The create body, or None after marking the required fields left empty."""
        errors: dict[str, str] = {}
        name = str(form_data.get(NAME_FIELD, "")).strip()
        if not name:
            errors[NAME_FIELD] = "Give this connection a name."
        body: IntegrationCreate = {
            "connector_id": self.connector.id,
            "name": name,
            "test_mode": self.test_mode,
        }
        credentials: dict[str, str] = {}
        for f in self.fields:
            value = str(form_data.get(f.name, "") or "")
            value = value if f.secret else value.strip()
            if value:
                credentials[f.name[len(CREDENTIALS_PREFIX) :]] = value
            elif f.required:
                errors[f.name] = f"{f.label} is required."
        if self.connector.auth_type == "api_key":
            body["credentials"] = credentials
        if self.connector.user_signing_secret:
            secret = str(form_data.get(SECRET_FIELD, "") or "").strip()
            if secret:
                body["webhook_signing_secret"] = secret
            else:
                errors[SECRET_FIELD] = "Paste the signing secret the provider shows you."
        self.field_errors = errors
        return None if errors else body

    @rx.event
    async def submit(self, form_data: dict):
        if self.busy:
            return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        self._clear_problem()
        body = self._build_request(form_data)
        if body is None:
            return
        self.busy = "connect"
        yield
        try:
            async with api:
                created = await api.create_integration(body)
        except ApiError as exc:
            self.busy = ""
            self.field_errors = {field_key(k): v for k, v in exc.field_errors.items()}
            yield self._show_problem(exc)
            return
        integration = created.get("integration") or {}
        integration_id = str(integration.get("id", ""))
        authorization_url = created.get("authorization_url")
        if self.connector.auth_type == "oauth2" and authorization_url:
            # Same tab: the provider sends the browser back to the integration page.
            self.busy = "redirect"
            yield rx.redirect(authorization_url, is_external=False)
            return
        detail = await self.get_state(IntegrationState)
        detail._hand_over_secret(integration_id, created.get("webhook_signing_secret"))
        self.busy = ""
        yield rx.redirect(f"/integrations/{integration_id}")

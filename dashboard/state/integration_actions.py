"""The actions panel: a form for each of the connector's actions, built from the action's input
JSON Schema, run with `POST …/actions/{action}`; the result (or the api's reasons, at the
fields they name) is shown, and the latest runs are listed."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from dashboard.client import ActionInfo, ActionRun, ApiError
from dashboard.state.integration_panel import PanelState, pretty, short_time
from dashboard.state.session import AuthState, ProblemMixin

RUNS_LIMIT = 10
# Inputs whose name says they hold a secret are typed as passwords: never echoed on screen.
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey")


@dataclass
class ActionField:
    """One input of the form. `kind`: text, email, number, integer, boolean, choice, json."""

    name: str
    label: str
    kind: str
    required: bool
    help: str
    placeholder: str
    secret: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class RunRow:
    id: str
    action: str
    status: str
    error: str
    attempts: int
    duration_ms: int
    created_at: str


def _kind(spec: dict[str, Any]) -> str:
    if spec.get("enum"):
        return "choice"
    kind = spec.get("type")
    if isinstance(kind, list):  # ["string", "null"]
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "string":
        return "email" if spec.get("format") == "email" else "text"
    if kind in ("integer", "number", "boolean"):
        return str(kind)
    return "json"  # objects, arrays, anything without a single type


def schema_fields(schema: dict[str, Any]) -> list[ActionField]:
    """The form of an action: one field per top-level property of its input schema."""
    required = set(schema.get("required") or [])
    fields = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        kind = _kind(spec)
        example = spec.get("examples", [None])[0] if spec.get("examples") else None
        placeholder = "{}" if kind == "json" and spec.get("type") == "object" else ""
        if kind == "json" and spec.get("type") == "array":
            placeholder = "[]"
        if example is not None:
            placeholder = example if isinstance(example, str) else json.dumps(example)
        fields.append(
            ActionField(
                name=name,
                label=str(spec.get("title") or name.replace("_", " ")),
                kind=kind,
                required=name in required,
                help=str(spec.get("description") or ""),
                placeholder=str(placeholder),
                secret=bool(spec.get("writeOnly")) or any(w in name.lower() for w in SECRET_WORDS),
                options=[str(o) for o in spec.get("enum") or []],
            )
        )
    return fields


def action_input(fields: list[ActionField], form_data: dict[str, Any]) -> dict[str, Any]:
    """The form's strings as the schema's types; an empty optional field is left out.
    Raises ValueError(field name, message) for a value that is not of its type."""
    values: dict[str, Any] = {}
    for f in fields:
        raw = form_data.get(f.name)
        if f.kind == "boolean":
            if raw not in (None, "", False):
                values[f.name] = raw in (True, "on", "true")
            elif f.required:
                values[f.name] = False
            continue
        text = str(raw or "").strip() if f.kind != "text" else str(raw or "")
        if text == "":
            continue
        try:
            if f.kind == "integer":
                values[f.name] = int(text)
            elif f.kind == "number":
                values[f.name] = float(text)
            elif f.kind == "json":
                values[f.name] = json.loads(text)
            else:
                values[f.name] = text
        except ValueError:
            expected = {"integer": "a whole number", "number": "a number", "json": "valid JSON"}
            raise ValueError(f.name, f"Enter {expected[f.kind]}.") from None
    return values


def run_row(run: ActionRun) -> RunRow:
    return RunRow(
        id=str(run.get("id", "")),
        action=str(run.get("action") or ""),
        status=str(run.get("status") or ""),
        error=str(run.get("error") or ""),
        attempts=int(run.get("attempts") or 0),
        duration_ms=int(run.get("duration_ms") or 0),
        created_at=short_time(str(run.get("created_at") or "")),
    )


def field_errors_of(errors: dict[str, str]) -> dict[str, str]:
    """The api names input fields by JSON pointer (`/input/to`); the form by name (`to`)."""
    out: dict[str, str] = {}
    for pointer, message in errors.items():
        parts = [p for p in pointer.split("/") if p]
        name = parts[1] if len(parts) > 1 and parts[0] == "input" else pointer
        out[name] = f"{out[name]} {message}" if name in out else message
    return out


class ActionsPanelState(PanelState, ProblemMixin, AuthState):
    actions: list[str] = []
    descriptions: dict[str, str] = {}
    action: str = ""
    fields: list[ActionField] = []
    field_errors: dict[str, str] = {}
    result: str = ""
    result_status: str = ""
    runs: list[RunRow] = []
    connected: bool = True
    _schemas: dict[str, dict[str, Any]] = {}

    @rx.var
    def description(self) -> str:
        return self.descriptions.get(self.action, "")

    @rx.var
    def has_actions(self) -> bool:
        return len(self.actions) > 0

    def _choose(self, name: str) -> None:
        self.action = name
        self.fields = schema_fields(self._schemas.get(name, {}))
        self.field_errors = {}
        self.result = ""
        self.result_status = ""

    @rx.event
    async def load(self):
        """on_mount: the connector's actions and the latest runs."""

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            integration = await api.get_integration(integration_id)
            connector = await api.get_connector(str(integration.get("connector_id", "")))
            infos: list[ActionInfo] = connector.get("actions") or []
            self._schemas = {str(a["name"]): dict(a.get("input_schema") or {}) for a in infos}
            self.descriptions = {str(a["name"]): str(a.get("description") or "") for a in infos}
            self.actions = list(self._schemas)
            self.connected = integration.get("status") == "connected"
            if self.action not in self._schemas:
                self._choose(self.actions[0] if self.actions else "")
            runs = await api.list_action_runs(integration_id, limit=RUNS_LIMIT)
            self.runs = [run_row(r) for r in runs["items"]]
            self.panel_integration_id = integration_id
            return None

        async for update in self._act("load", call):
            yield update

    @rx.event
    def choose_action(self, name: str):
        if name in self._schemas:
            self._choose(name)

    @rx.event
    async def run(self, form_data: dict):
        self.field_errors = {}
        self.result, self.result_status = "", ""
        try:
            values = action_input(self.fields, form_data)
        except ValueError as exc:
            name, message = exc.args
            self.field_errors = {name: message}
            return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        integration_id = self._current_integration_id()
        # One key per click: a retried request never runs the action twice at the provider.
        key = "dashboard-" + secrets.token_hex(12)
        self.busy = "run"
        self._clear_problem()
        yield
        try:
            async with api:
                outcome = await api.run_action(
                    integration_id, self.action, values, idempotency_key=key
                )
        except ApiError as exc:
            self.busy = ""
            self.result_status = "failed"
            self.field_errors = field_errors_of(exc.field_errors)
            yield self._show_problem(exc)
            await self._reload_runs()
            return
        self.busy = ""
        self.result_status = str(outcome.get("status") or "")
        self.result = pretty(
            {"result": outcome.get("result"), "provider_response": outcome.get("provider_response")}
        )
        await self._reload_runs()

    async def _reload_runs(self) -> None:
        """The runs list after a run; a failure here leaves the old list (the run's own
        outcome is already on screen)."""
        api = self._api()
        if api is None:
            return
        try:
            async with api:
                runs = await api.list_action_runs(self._current_integration_id(), limit=RUNS_LIMIT)
        except ApiError:
            return
        self.runs = [run_row(r) for r in runs["items"]]

"""The test-mode panel: simulate provider webhooks through the integration's real URL (event
type, count, variant) and inject or clear faults in its simulated provider."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, get_args

import reflex as rx

from dashboard.client import Fault, FaultKind, FaultSet, SimulateRequest, SimulationVariant
from dashboard.state.integration_panel import PanelState
from dashboard.state.session import AuthState, ProblemMixin

ALL_TYPES = "(every type)"
VARIANTS = list(get_args(SimulationVariant))
FAULT_KINDS = list(get_args(FaultKind))
MAX_SIMULATED = 100  # the api's limit per call


@dataclass
class FaultRow:
    kind: str
    probability: str
    remaining: str
    retry_after: str


def fault_row(fault: Fault) -> FaultRow:
    remaining = fault.get("remaining")
    retry_after = fault.get("retry_after")
    return FaultRow(
        kind=str(fault.get("kind", "")),
        probability=f"{float(fault.get('probability') or 0):.0%}",
        remaining="until cleared" if remaining is None else f"{remaining} calls",
        retry_after="" if retry_after is None else f"{retry_after} s",
    )


def simulation_summary(sent: int, statuses: list[int]) -> str:
    """`Sent 3 deliveries: 200 (2), 401 (1)`: what our own webhook endpoint answered each."""
    counts = ", ".join(f"{status} ({n})" for status, n in sorted(Counter(statuses).items()))
    noun = "delivery" if sent == 1 else "deliveries"
    return f"Sent {sent} {noun}" + (f": {counts}" if counts else "")


def _number(form_data: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    """A form number within [low, high]; None when empty; ValueError with the field's name."""
    raw = str(form_data.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(name) from None
    if not low <= value <= high:
        raise ValueError(name)
    return value


class SimulationPanelState(PanelState, ProblemMixin, AuthState):
    event_types: list[str] = []
    event_type: str = ALL_TYPES
    variant: str = "valid"
    fault_kind: str = "server_error"
    faults: list[FaultRow] = []
    testmode_message: str = ""
    deliveries: list[str] = []
    form_errors: dict[str, str] = {}

    @rx.var
    def type_choices(self) -> list[str]:
        return [ALL_TYPES, *self.event_types]

    @rx.var
    def fault_count(self) -> int:
        return len(self.faults)

    def _action_message(self, text: str) -> None:
        self.testmode_message = text

    @rx.event
    async def load(self):
        """on_mount: the connector's event types and the faults in force."""
        self.form_errors = {}

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            integration = await api.get_integration(integration_id)
            connector = await api.get_connector(str(integration.get("connector_id", "")))
            self.event_types = [str(t.get("name")) for t in connector.get("event_types") or []]
            if self.event_type not in self.type_choices:
                self.event_type = ALL_TYPES
            if integration.get("test_mode"):
                self.faults = [
                    fault_row(f) for f in (await api.list_faults(integration_id))["faults"]
                ]
            self.panel_integration_id = integration_id
            return None

        async for update in self._act("load", call):
            yield update

    @rx.event
    def set_event_type(self, value: str):
        self.event_type = value

    @rx.event
    def set_variant(self, value: str):
        self.variant = value if value in VARIANTS else "valid"

    @rx.event
    def set_fault_kind(self, value: str):
        self.fault_kind = value if value in FAULT_KINDS else "server_error"

    @rx.event
    async def simulate(self, form_data: dict):
        try:
            count = _number(form_data, "count", int, 1, MAX_SIMULATED) or 1
        except ValueError:
            self.form_errors = {"count": f"A whole number from 1 to {MAX_SIMULATED}."}
            return
        self.form_errors = {}
        body: SimulateRequest = {"count": count, "variant": self.variant}  # type: ignore[typeddict-item]
        if self.event_type != ALL_TYPES:
            body["event_type"] = self.event_type
        self.deliveries = []

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            result = await api.simulate_webhooks(integration_id, body)
            sent = result["deliveries"]
            self.deliveries = [f"{d['event_type']} → {d['status']}" for d in sent]
            return simulation_summary(int(result["sent"]), [int(d["status"]) for d in sent])

        async for update in self._act("simulate", call):
            yield update

    @rx.event
    async def inject_fault(self, form_data: dict):
        try:
            probability = _number(form_data, "probability", float, 0, 1)
            count = _number(form_data, "fault_count", int, 1, 100_000)
            retry_after = _number(form_data, "retry_after", int, 1, 86_400)
        except ValueError as exc:
            limits = {
                "probability": "A number from 0 to 1.",
                "fault_count": "A whole number from 1 to 100000, or empty (until cleared).",
                "retry_after": "Whole seconds from 1 to 86400, or empty.",
            }
            self.form_errors = {str(exc): limits[str(exc)]}
            return
        self.form_errors = {}
        body: FaultSet = {"kind": self.fault_kind}  # type: ignore[typeddict-item]
        if probability is not None:
            body["probability"] = probability
        if count is not None:
            body["count"] = count
        if retry_after is not None:
            body["retry_after"] = retry_after

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            answer = await api.set_fault(integration_id, body)
            self.faults = [fault_row(f) for f in answer["faults"]]
            return f"Fault injected: {body['kind']}."

        async for update in self._act("inject", call):
            yield update

    @rx.event
    async def clear_faults(self):
        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            answer = await api.clear_faults(integration_id)
            self.faults = [fault_row(f) for f in answer["faults"]]
            return "Every fault was cleared."

        async for update in self._act("clear", call):
            yield update

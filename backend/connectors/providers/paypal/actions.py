"""PayPal's outbound actions: create a checkout order, refund a captured payment.

PayPal deduplicates POSTs by the `PayPal-Request-Id` header (at most 108 characters, kept 6
hours; https://developer.paypal.com/api/rest/reference/idempotency/), answering a repeat with
the first result, so the caller's key is forwarded.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.lib.vocab import FailureKind

REQUEST_ID_HEADER = "PayPal-Request-Id"
_KEY_LIMIT = 108
_CURRENCY = {"type": "string", "pattern": r"^[A-Z]{3}$"}
# PayPal's money value: up to 32 characters, at most two decimals for most currencies.
_VALUE = {"type": "string", "pattern": r"^(?:0|[1-9][0-9]{0,16})(?:\.[0-9]{1,2})?$"}
_EXTERNAL_ID = {"type": "string", "minLength": 1, "maxLength": 127}


def request_id_headers(call: ActionCall) -> dict[str, str]:
    """The caller's key as PayPal's header; a longer key is hashed to fit, stably."""
    key = call.idempotency_key
    if not key:
        return {}
    if len(key) > _KEY_LIMIT:
        key = hashlib.sha256(key.encode()).hexdigest()
    return {REQUEST_ID_HEADER: key}


def _answer(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("id"):
        raise ProviderError(FailureKind.BAD_REQUEST, "PayPal's answer had no id")
    return body


def _approve_url(order: dict[str, Any]) -> str | None:
    """Where the buyer approves: `approve`, or `payer-action` when a payment source was
    given (https://developer.paypal.com/docs/api/orders/v2/#orders_create)."""
    for link in order.get("links") or ():
        if isinstance(link, dict) and link.get("rel") in ("approve", "payer-action"):
            return str(link.get("href"))
    return None


async def create_order(adapter: Adapter, call: ActionCall) -> ActionResult:
    given = call.input
    unit: dict[str, Any] = {
        "amount": {"currency_code": given["currency_code"], "value": given["amount"]}
    }
    unit.update({k: given[k] for k in ("reference_id", "description", "invoice_id") if k in given})
    payload: dict[str, Any] = {"intent": given.get("intent", "CAPTURE"), "purchase_units": [unit]}
    if "return_url" in given:
        context = {k: given[k] for k in ("return_url", "cancel_url") if k in given}
        payload["payment_source"] = {"paypal": {"experience_context": context}}
    response = await adapter.call(
        "POST", "/v2/checkout/orders", json=payload, headers=request_id_headers(call)
    )
    order = _answer(json_body(response))
    result = {"id": order["id"], "status": order.get("status"), "approve_url": _approve_url(order)}
    return ActionResult(result, order)


async def refund_capture(adapter: Adapter, call: ActionCall) -> ActionResult:
    given = call.input
    payload: dict[str, Any] = {k: given[k] for k in ("invoice_id", "note_to_payer") if k in given}
    if "amount" in given:
        payload["amount"] = {"currency_code": given["currency_code"], "value": given["amount"]}
    path = f"/v2/payments/captures/{quote(given['capture_id'], safe='')}/refund"
    response = await adapter.call("POST", path, json=payload, headers=request_id_headers(call))
    refund = _answer(json_body(response))
    return ActionResult({"id": refund["id"], "status": refund.get("status")}, refund)


ACTIONS: tuple[Action, ...] = (
    Action(
        name="create_order",
        description="Create a checkout order for the buyer to approve.",
        input_schema={
            "type": "object",
            "properties": {
                "intent": {"enum": ["CAPTURE", "AUTHORIZE"]},
                "currency_code": _CURRENCY,
                "amount": _VALUE,
                "reference_id": {"type": "string", "minLength": 1, "maxLength": 256},
                "description": {"type": "string", "minLength": 1, "maxLength": 127},
                "invoice_id": _EXTERNAL_ID,
                "return_url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "cancel_url": {"type": "string", "format": "uri", "pattern": "^https?://"},
            },
            "required": ["currency_code", "amount"],
            "dependentRequired": {"cancel_url": ["return_url"]},
            "additionalProperties": False,
        },
        run=create_order,
        idempotent_at_provider=True,
    ),
    Action(
        name="refund_capture",
        description="Refund a captured payment, fully or (with an amount) in part.",
        input_schema={
            "type": "object",
            "properties": {
                "capture_id": {"type": "string", "pattern": r"^[A-Z0-9]{1,36}$"},
                "amount": _VALUE,
                "currency_code": _CURRENCY,
                "invoice_id": _EXTERNAL_ID,
                "note_to_payer": {"type": "string", "minLength": 1, "maxLength": 255},
            },
            "required": ["capture_id"],
            "dependentRequired": {"amount": ["currency_code"], "currency_code": ["amount"]},
            "additionalProperties": False,
        },
        run=refund_capture,
        redact_fields=("note_to_payer",),
        idempotent_at_provider=True,
    ),
)

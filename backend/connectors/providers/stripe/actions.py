"""Stripe's outbound actions: create a customer, refund a payment.

Stripe takes form-encoded bodies with nested keys in brackets (`metadata[order]=...`) and
deduplicates POSTs by the `Idempotency-Key` header for 24 hours
(https://docs.stripe.com/api/idempotent_requests), so the caller's key is forwarded and a
retried call cannot create a second customer or refund twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.lib.vocab import FailureKind

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_LIMIT = 255  # Stripe's longest idempotency key

# Stripe's metadata limits: 50 keys, keys up to 40 characters (no brackets), values up to 500.
_METADATA = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"pattern": r"^[^\[\]]{1,40}$"},
    "additionalProperties": {"type": "string", "maxLength": 500},
}


def idempotency_headers(call: ActionCall) -> dict[str, str]:
    """The caller's key as Stripe's header; a longer key is hashed to fit, stably."""
    key = call.idempotency_key
    if not key:
        return {}
    if len(key) > _KEY_LIMIT:
        key = hashlib.sha256(key.encode()).hexdigest()
    return {IDEMPOTENCY_HEADER: key}


def form(values: dict[str, Any]) -> dict[str, str]:
    """Stripe's form encoding: scalars as they are, `metadata` as `metadata[key]` pairs."""
    encoded: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            encoded.update({f"{name}[{k}]": str(v) for k, v in value.items()})
        else:
            encoded[name] = str(value)
    return encoded


async def _post(adapter: Adapter, path: str, call: ActionCall) -> dict[str, Any]:
    response = await adapter.call(
        "POST", path, data=form(call.input), headers=idempotency_headers(call)
    )
    body = json_body(response)
    if not isinstance(body, dict) or not body.get("id"):
        raise ProviderError(FailureKind.BAD_REQUEST, "Stripe's answer had no id")
    return body


async def create_customer(adapter: Adapter, call: ActionCall) -> ActionResult:
    customer = await _post(adapter, "/v1/customers", call)
    return ActionResult({"id": customer["id"]}, customer)


async def create_refund(adapter: Adapter, call: ActionCall) -> ActionResult:
    refund = await _post(adapter, "/v1/refunds", call)
    return ActionResult({"id": refund["id"], "status": refund.get("status")}, refund)


ACTIONS: tuple[Action, ...] = (
    Action(
        name="create_customer",
        description="Create a customer.",
        input_schema={
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email", "maxLength": 512},
                "name": {"type": "string", "minLength": 1, "maxLength": 256},
                "description": {"type": "string", "maxLength": 5000},
                "phone": {"type": "string", "maxLength": 20},
                "metadata": _METADATA,
            },
            "minProperties": 1,
            "additionalProperties": False,
        },
        run=create_customer,
        idempotent_at_provider=True,
    ),
    Action(
        name="create_refund",
        description="Refund a payment intent or a charge, fully or in part.",
        input_schema={
            "type": "object",
            "properties": {
                "payment_intent": {"type": "string", "pattern": r"^pi_[A-Za-z0-9]{1,250}$"},
                "charge": {"type": "string", "pattern": r"^(?:ch|py)_[A-Za-z0-9]{1,250}$"},
                "amount": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "in the smallest currency unit; the whole payment if absent",
                },
                "reason": {"enum": ["duplicate", "fraudulent", "requested_by_customer"]},
                "metadata": _METADATA,
            },
            "oneOf": [{"required": ["payment_intent"]}, {"required": ["charge"]}],
            "additionalProperties": False,
        },
        run=create_refund,
        idempotent_at_provider=True,
    ),
)

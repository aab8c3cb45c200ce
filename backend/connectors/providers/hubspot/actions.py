"""HubSpot's outbound action: create or update a contact by email in one call.

CRM v3's batch upsert with `idProperty: email` creates the contact when no contact has the
address and updates it otherwise
(https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts),
so a repeated call updates the same contact instead of creating a duplicate.
"""

from __future__ import annotations

from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.lib.vocab import FailureKind

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"


def _first_error(body: dict[str, Any]) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or "the contact was not saved")
    return "the contact was not saved"


async def upsert_contact(adapter: Adapter, call: ActionCall) -> ActionResult:
    email = call.input["email"]
    properties = {**call.input.get("properties", {}), "email": email}
    payload = {"inputs": [{"id": email, "idProperty": "email", "properties": properties}]}
    response = await adapter.call("POST", UPSERT_PATH, json=payload)
    body = json_body(response)
    if not isinstance(body, dict):
        raise ProviderError(FailureKind.BAD_REQUEST, "HubSpot's answer was not JSON")
    results = body.get("results")
    # A 207 Multi-Status answer lists the failed inputs under `errors`.
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise ProviderError(FailureKind.BAD_REQUEST, f"HubSpot: {_first_error(body)}")
    return ActionResult({"id": str(results[0]["id"])}, body)


ACTIONS: tuple[Action, ...] = (
    Action(
        name="upsert_contact",
        description="Create or update a contact, identified by its email address.",
        input_schema={
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email", "maxLength": 254},
                "properties": {
                    "type": "object",
                    "description": "contact properties by internal name (firstname, "
                    "lastname, phone, company...); HubSpot takes every value as a string",
                    "propertyNames": {
                        "pattern": "^[a-z][a-z0-9_]{0,99}$",
                        "not": {"const": "email"},
                    },
                    "additionalProperties": {"type": "string", "maxLength": 65536},
                    "maxProperties": 100,
                },
            },
            "required": ["email"],
            "additionalProperties": False,
        },
        run=upsert_contact,
        required_scopes=(("crm.objects.contacts.write",),),
        idempotent_at_provider=True,
    ),
)

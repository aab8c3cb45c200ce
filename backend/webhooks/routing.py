"""Which provider account each event of a delivery belongs to, and the operator's app secret.

Some providers send every account's events to the operator's one app URL (Slack's Events
API, HubSpot, Gmail's Pub/Sub push, Meta): such a delivery is verified with the operator's
secret from the environment and each of its events routed by the account id the spec's
`account_id_source` names. The same reading lets a per-integration URL refuse an event of
another account than the one its integration is connected to.

Events are found generically: a JSON array is a batch (each element one event, kept as its
exact bytes), anything else one event; a handler's `split` hook takes over where that
cannot find them (events nested in an envelope, an account inside encoded data).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.connectors.base import (
    DeliveryPart,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
)
from backend.connectors.config import env_name
from backend.connectors.paths import dig_str, is_well_formed
from backend.connectors.spec import ConnectorSpec, WebhookContract

_BODY = "body:"


@dataclass(frozen=True, slots=True)
class RoutedEvent:
    """One event of an app-level delivery, ready to store for its account's integrations."""

    account_id: str
    event_id: str
    event_type: str
    body: bytes


def body_path(source: str) -> str:
    """The dotted path of a `body:<path>` source, "" for any other kind of source."""
    if not source.startswith(_BODY):
        return ""
    path = source[len(_BODY) :]
    return path if is_well_formed(path) else ""


def account_path(contract: WebhookContract | None) -> str:
    """Where an event names its account; "" when the provider's events name none."""
    return body_path(contract.account_id_source) if contract is not None else ""


def decode_document(body: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (a form) or nests past msgspec's limit."""
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None


def delivery_parts(
    handler: WebhookHandler,
    contract: WebhookContract,
    request: WebhookRequest,
    delivery: VerifiedDelivery,
) -> list[DeliveryPart]:
    """The events of a verified delivery: the handler's `split`, else a JSON array's
    elements (ids and types read by the spec's `body:` sources), else the whole body."""
    parts = handler.split(request, delivery)
    if parts is not None:
        return parts
    document = decode_document(request.body)
    if not isinstance(document, list):
        return [DeliveryPart(request.body, delivery.event_id, delivery.event_type, document)]
    raws = msgspec.json.decode(request.body, type=list[msgspec.Raw])
    id_path, type_path = body_path(contract.event_id_source), body_path(contract.event_type_source)
    return [
        DeliveryPart(
            bytes(raw),
            (dig_str(element, id_path) or None) if id_path else None,
            (dig_str(element, type_path) if type_path else "") or delivery.event_type,
            element,
        )
        for raw, element in zip(raws, document, strict=True)
    ]


def account_of(part: DeliveryPart, path: str) -> str:
    """The account id an event names ("" when it names none)."""
    return dig_str(part.document, path)[:255]


def names_other_account(parts: list[DeliveryPart], path: str, own: str) -> bool:
    """Whether any event names an account other than `own` (events naming none pass)."""
    return any((account := account_of(p, path)) and account != own for p in parts)


def event_key(event_id: str | None, body: bytes) -> str:
    """The dedupe key of an event: the provider's id, else a hash of its exact bytes."""
    return event_id or "sha256:" + hashlib.sha256(body).hexdigest()


def routed_events(parts: list[DeliveryPart], path: str) -> list[RoutedEvent]:
    """Events with their accounts and dedupe keys, each (account, key) once: a batch that
    repeats an event stores it once."""
    seen: set[tuple[str, str]] = set()
    events: list[RoutedEvent] = []
    for part in parts:
        event = RoutedEvent(
            account_of(part, path), event_key(part.event_id, part.body), part.event_type, part.body
        )
        if (event.account_id, event.event_id) not in seen:
            seen.add((event.account_id, event.event_id))
            events.append(event)
    return events


def operator_secrets(
    spec: ConnectorSpec, env: Mapping[str, str] = os.environ
) -> WebhookSecrets | None:
    """The operator's app secret(s) for app-level deliveries (newest first) and the config
    its check needs, from the environment; None when the operator set no secret."""
    contract = spec.webhook
    if contract is None or not contract.app_secret_env:
        return None
    raw = env.get(env_name(spec.key, contract.app_secret_env), "")
    secrets = tuple(s.strip() for s in raw.split(",") if s.strip())
    if not secrets:
        return None
    config = {
        key: value
        for key, suffix in contract.app_config_env.items()
        if (value := env.get(env_name(spec.key, suffix), "").strip())
    }
    return WebhookSecrets(signing_secrets=secrets, credentials={}, config=config)

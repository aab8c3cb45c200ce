"""The connector registry: one folder per provider, loaded and checked once per process.

Each folder under `providers/` holds `spec.py` (SPEC), `adapter.py` (one Adapter subclass),
`simulator.py` (SIMULATOR) and optionally `webhook.py` (HANDLER). Loading fails loudly on a
contradictory spec or a missing piece, so a broken provider cannot reach production quietly.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

from backend.connectors.base import Adapter, WebhookHandler
from backend.connectors.hooks import bind_hooks
from backend.connectors.simulator import ProviderSimulator
from backend.connectors.spec import ConnectorSpec, SpecError, validate_spec

#: Every registered provider, in catalog order.
PROVIDER_KEYS: tuple[str, ...] = (
    "gmail",
    "google_calendar",
    "google_drive",
    "slack",
    "telegram",
    "whatsapp",
    "twilio",
    "github",
    "jira",
    "stripe",
    "paypal",
    "webhook",
)

_PACKAGE = "backend.connectors.providers"


@dataclass(frozen=True)
class Provider:
    spec: ConnectorSpec
    adapter: type[Adapter]
    simulator: ProviderSimulator
    webhook: WebhookHandler | None
    # The folder's named hooks (hooks.py), only those spec.hooks lists.
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.spec.key


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only the module itself may be missing; a broken import inside it must surface.
        if exc.name == name:
            return None
        raise


def _adapter_class(module: ModuleType, key: str) -> type[Adapter]:
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Adapter)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]
    if len(found) != 1:
        raise SpecError(f"connector {key!r}: adapter.py must define exactly one Adapter subclass")
    return found[0]


def load_provider(key: str) -> Provider:
    """Import and check one provider folder."""
    base = f"{_PACKAGE}.{key}"
    found = getattr(importlib.import_module(f"{base}.spec"), "SPEC", None)
    if not isinstance(found, ConnectorSpec):
        raise SpecError(f"connector {key!r}: spec.py must define SPEC = ConnectorSpec(...)")
    spec: ConnectorSpec = found
    if spec.key != key:
        raise SpecError(f"connector {key!r}: SPEC.key is {spec.key!r}")
    validate_spec(spec)
    adapter = _adapter_class(importlib.import_module(f"{base}.adapter"), key)
    if getattr(adapter, "spec", None) is not spec:
        raise SpecError(f"connector {key!r}: {adapter.__name__}.spec must be the folder's SPEC")
    simulator = getattr(importlib.import_module(f"{base}.simulator"), "SIMULATOR", None)
    if not isinstance(simulator, ProviderSimulator):
        raise SpecError(f"connector {key!r}: simulator.py must define SIMULATOR")
    webhook_module = _optional_module(f"{base}.webhook")
    handler = getattr(webhook_module, "HANDLER", None) if webhook_module else None
    if handler is not None and not isinstance(handler, WebhookHandler):
        raise SpecError(f"connector {key!r}: webhook.HANDLER must be a WebhookHandler")
    hooks = bind_hooks(spec, _optional_module(f"{base}.hooks"))
    return Provider(spec=spec, adapter=adapter, simulator=simulator, webhook=handler, hooks=hooks)


@cache
def providers() -> dict[str, Provider]:
    """All providers, keyed and ordered as PROVIDER_KEYS (loaded once per process)."""
    return {key: load_provider(key) for key in PROVIDER_KEYS}


def get_provider(key: str) -> Provider:
    """The provider registered under `key`; KeyError when there is none."""
    try:
        return providers()[key]
    except KeyError:
        raise KeyError(f"no connector {key!r}") from None

"""Observers of provider API calls.

The connector layer may import only `backend.lib`, yet every call it makes should be
counted: `Adapter.call` reports each call here, and observability registers an observer
at startup. Observers run inline and must be cheap and never raise into the call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("switchboard.observers")


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """One finished call to a provider API (no URL, header or body: nothing secret)."""

    connector: str
    tenant_id: uuid.UUID | None  # None when the call was made for no integration
    integration_id: uuid.UUID | None
    status_code: int  # 0 when no response arrived (timeout, network, refused)
    failure: str  # "" on success, else the FailureKind value
    elapsed_ms: float


CallObserver = Callable[[ProviderCall], None]
_observers: list[CallObserver] = []


def observe_calls(observer: CallObserver) -> None:
    """Register an observer once (registering the same one again is a no-op)."""
    if observer not in _observers:
        _observers.append(observer)


def forget_observer(observer: CallObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def report_call(call: ProviderCall) -> None:
    for observer in _observers:
        try:
            observer(call)
        except Exception:
            log.exception("a provider-call observer failed")

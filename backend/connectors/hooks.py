"""Named hooks: the code a provider folder adds where its spec's data cannot say it.

A folder's optional `hooks.py` defines functions under the names below and its spec lists
them in `ConnectorSpec.hooks`; generic code calls a hook only by name, so adding a provider
never means editing the OAuth or webhook modules. `bind_hooks` runs at registry load, so a
misnamed or unlisted hook fails there instead of being silently skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import Any, Literal

import httpx

from backend.connectors.spec import ConnectorSpec, SpecError

#: `after_consent(token, http, api_base) -> dict[str, str]`: after an OAuth code exchange,
#: public facts for the integration's config that need a call the token response cannot
#: answer (Jira's cloud id). `api_base` is the operator's API base, never a tenant override.
AfterConsent = Callable[[Mapping[str, Any], httpx.AsyncClient, str], Awaitable[dict[str, str]]]

#: Every hook name generic code calls, with its contract.
HOOK_NAMES: Mapping[str, str] = {
    "after_consent": "async (token, http, api_base) -> dict[str, str] of public config facts",
}


class ConsentError(Exception):
    """A consent that cannot be completed. `code` is short and safe to show; `reason` is the
    sentence a person reads (empty: the generic wording for the code is used)."""

    def __init__(
        self, kind: Literal["rejected", "unavailable"], code: str, reason: str = ""
    ) -> None:
        super().__init__(f"{kind}: {code}")
        self.kind: Literal["rejected", "unavailable"] = kind
        self.code = code
        self.reason = reason


def bind_hooks(spec: ConnectorSpec, module: ModuleType | None) -> dict[str, Callable[..., Any]]:
    """The hooks `spec.hooks` names, taken from the folder's hooks module.

    Fails when a listed name is unknown or not defined there, or when the module defines a
    known hook the spec does not list (it would never run)."""
    problems: list[str] = []
    for name in spec.hooks:
        if name not in HOOK_NAMES:
            problems.append(f"unknown hook {name!r} (known: {', '.join(HOOK_NAMES)})")
        elif module is None:
            problems.append(f"hook {name!r} is listed but the folder has no hooks.py")
        elif not inspect.iscoroutinefunction(getattr(module, name, None)):
            problems.append(f"hooks.py must define {name!r} as an async function")
    if module is not None:
        unlisted = [n for n in HOOK_NAMES if hasattr(module, n) and n not in spec.hooks]
        problems.extend(f"hooks.py defines {n!r} but spec.hooks does not list it" for n in unlisted)
    if problems:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(problems))
    return {name: getattr(module, name) for name in spec.hooks}

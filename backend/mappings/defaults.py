"""Connector default mappings: data in each provider folder, compiled here once.

A provider may ship `providers/<key>/mappings.py` with `MAPPINGS = {source: [rule, ...]}`
(plain dicts, no imports from here: a provider folder knows neither our tables nor this
package) and `DOCUMENT = "data"` when its events' rules should read the normalized `data`
rather than the delivered JSON (a push envelope whose content is encoded). Defaults apply to
an integration until its tenant saves its own mapping of that source, and show as version 0.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from backend.mappings import schemas
from backend.mappings.compile import compile_rules, decode_rules
from backend.mappings.engine import CompiledMapping

_PACKAGE = "backend.connectors.providers"


def _module(connector: str) -> Any:
    name = f"{_PACKAGE}.{connector}.mappings"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only the module itself may be missing; a broken import inside it must surface.
        if exc.name in (name, f"{_PACKAGE}.{connector}"):
            return None
        raise


@cache
def default_rules(connector: str) -> dict[str, list[schemas.Rule]]:
    """The connector's default rules by source (empty when it ships none)."""
    module = _module(connector)
    raw = getattr(module, "MAPPINGS", {}) if module is not None else {}
    return {
        source: decode_rules(rules, f"{connector}.mappings[{source}]")
        for source, rules in raw.items()
    }


@cache
def payload_source(connector: str) -> str:
    """`payload` (the delivered JSON object) or `data` (the normalized event data)."""
    module = _module(connector)
    return "data" if getattr(module, "DOCUMENT", "payload") == "data" else "payload"


@cache
def default_mapping(connector: str, source: str) -> CompiledMapping | None:
    """The compiled default for `source` exactly (callers try `*` themselves)."""
    rules = default_rules(connector).get(source)
    return compile_rules(rules, version=0) if rules is not None else None

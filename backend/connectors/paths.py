"""Dotted paths into decoded JSON: how a spec points at a field without code.

Specs name fields as `"error.status"` or `"entry.0.changes.0.value"`; every reader goes through
`dig` so a path means the same thing everywhere (a list index is a decimal segment) and a
missing or ill-typed step is simply absent, never an exception on provider input.
"""

from __future__ import annotations

import re
from typing import Any

# Segments: JSON object keys (letters, digits, `_`, `-`, `$`) or decimal list indexes.
_PATH = re.compile(r"[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*")


def is_well_formed(path: str) -> bool:
    """Whether `path` is a non-empty dotted path `dig` understands (checked at registry load)."""
    return _PATH.fullmatch(path) is not None


def dig(obj: Any, path: str) -> Any:
    """The value at `path` inside `obj`, or None when any step is absent or of the wrong type."""
    if not path:
        return obj
    return walk(obj, *(int(s) if s.isdecimal() else s for s in path.split(".")))


def walk(obj: Any, *steps: str | int) -> Any:
    """`obj[s0][s1]...` or None as soon as a step does not exist or has the wrong type.

    An int step indexes a list (negative counts from the end); a str step reads an object key.
    A decimal segment of a dotted path is tried as a list index, else as an object key."""
    for step in steps:
        if isinstance(step, int) and isinstance(obj, list):
            if not -len(obj) <= step < len(obj):
                return None
            obj = obj[step]
        elif isinstance(obj, dict):
            obj = obj.get(str(step))
        else:
            return None
    return obj


def dig_str(obj: Any, path: str) -> str:
    """The value at `path` as text ("" when absent; numbers rendered, objects never)."""
    value = dig(obj, path)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return ""

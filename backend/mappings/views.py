"""The mapping fields of an event's or record's API view, from what normalization stored."""

from __future__ import annotations

from typing import Any, NamedTuple

from backend.mappings.schemas import MappingFieldError


class MappingView(NamedTuple):
    mapped: dict[str, Any] | None
    mapping_version: int | None
    mapping_errors: list[MappingFieldError]


def mapping_view(mapped: Any, version: Any, errors: Any) -> MappingView:
    """Stored values as wire values; anything not of the expected shape reads as absent
    (rows normalized before mappings existed hold none of them)."""
    return MappingView(
        mapped if isinstance(mapped, dict) else None,
        version if isinstance(version, int) and not isinstance(version, bool) else None,
        [
            MappingFieldError(e["rule"], e["target"], e["message"])
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict)
            and isinstance(e.get("rule"), int)
            and isinstance(e.get("target"), str)
            and isinstance(e.get("message"), str)
        ],
    )

"""Export documents as JSON or YAML, and reading them back strictly.

YAML is read with anchors and aliases refused: an alias shares a node, so a small document
can stand for an exponentially large one (the "billion laughs" shape) once something walks
it. Everything else is PyYAML's safe loader, checked against the same type as JSON.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml
from litestar.exceptions import ValidationException

from backend.lib.bodies import strict_body
from backend.mappings.schemas import MappingExport

YAML_MEDIA_TYPE = "application/yaml"


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if getattr(node, "anchor", None):
            raise yaml.constructor.ConstructorError(
                None, None, "anchors are not allowed", node.start_mark
            )
        return super().construct_object(node, deep)


def to_yaml(document: MappingExport) -> bytes:
    return yaml.safe_dump(
        msgspec.to_builtins(document), sort_keys=False, allow_unicode=True
    ).encode()


def from_yaml(raw: bytes) -> MappingExport:
    """The document in `raw`; a YAML or type error is a validation problem (400/422)."""
    try:
        loaded = yaml.load(raw, Loader=_NoAliasLoader)  # noqa: S506 - a safe loader subclass
    except (yaml.YAMLError, RecursionError, UnicodeDecodeError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValidationException(f"YAML is malformed{where}") from None
    try:
        return msgspec.convert(loaded, MappingExport, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(extra=[{"message": str(exc), "source": "body"}]) from None


def _is_json(raw: bytes) -> bool:
    try:
        msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


async def read_import(request: Any, fmt: str | None) -> MappingExport:
    """The body as a document: JSON, or YAML when asked for and the body is not JSON (JSON
    is YAML 1.2, but PyYAML reads YAML 1.1, which differs on a few JSON corners)."""
    raw = await request.body()
    if fmt == "yaml" and raw and not _is_json(raw):
        return from_yaml(raw)
    document = await strict_body(request, MappingExport)
    if document is None:
        raise ValidationException(extra=[{"message": "a document is required", "key": "body"}])
    return document

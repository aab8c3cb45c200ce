"""Request bodies decoded exactly as the OpenAPI document describes them.

Litestar converts a handler's `data` leniently (`0` becomes `false`, `"5"` becomes `5`), so
a body the document calls invalid would be accepted. Handlers that take a body decode the
bytes again, strictly, against the same msgspec type; Litestar's own decoding still gives
the document its schema. No text in a body may hold U+0000: PostgreSQL cannot store it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException


async def strict_body(request: Request[Any, Any, Any], type_: Any) -> Any:
    """The request body as `type_` (`None` when there is none); mistyped values are a
    validation problem (422), exactly like a missing field."""
    raw = await request.body()
    if not raw:
        return None
    try:
        value = msgspec.json.decode(raw, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        # JSON has one number type: `3.0` is the integer 3 to JSON Schema (and the document).
        try:
            value = msgspec.convert(_integral(msgspec.json.decode(raw)), type_, strict=True)
        except msgspec.ValidationError:
            raise ValidationException(extra=[{"message": str(exc), "source": "body"}]) from None
        except msgspec.DecodeError:
            # A typed decode stops at the first mistyped value, before malformed bytes
            # later in the body (`7` then a stray byte): the untyped one meets them.
            raise ValidationException("JSON is malformed") from None
    except msgspec.DecodeError:
        raise ValidationException("JSON is malformed") from None
    if b"\\u0000" in raw and _holds_nul(msgspec.json.decode(raw)):
        message = "Text may not contain U+0000"
        raise ValidationException(extra=[{"message": message, "source": "body"}])
    return value


def _integral(value: Any) -> Any:
    """Floats without a fraction as ints, everywhere in a decoded body."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False

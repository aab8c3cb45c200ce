"""Document the problem-details answers every route can give.

Litestar documents validation errors as plain JSON; ours are `application/problem+json`, and
every authenticated route can also answer 401, 404, 429 (and 413 for bodies). The schema is
rewritten once at start-up so clients and schemathesis see what the API really sends.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

from backend.lib.errors import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)

_COMMON = {
    "400": "Malformed request",
    "413": "Request body too large",
    "422": "Invalid request",
    "429": "Too many requests",
    "500": "Internal error",
    "503": "A dependency is unavailable",
}
_AUTHED = {"401": "Missing or invalid API key", "404": "No such resource", "409": "Conflict"}
_WEBHOOK = {
    "401": "Signature verification failed",
    "403": "Handshake refused",
    "404": "No such endpoint",
}


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))
        },
    )


def document_problems(app: Litestar) -> None:
    schema = app.openapi_schema
    if schema.components.schemas is None:
        schema.components.schemas = {}
    schema.components.schemas["Problem"] = PROBLEM_SCHEMA
    for path, item in (schema.paths or {}).items():
        public = path in ("/health", "/ready") or path.startswith("/schema")
        webhook = path.startswith("/api/webhooks/") or path.startswith("/api/connectors/oauth")
        extra = {} if public else (_WEBHOOK if webhook else _AUTHED)
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            operation.responses = responses
            for code, description in {**_COMMON, **extra}.items():
                existing = responses.get(code)
                if code == "503" and path == "/ready":
                    continue  # /ready documents its own 503 body
                responses[code] = _problem(
                    existing.description if isinstance(existing, OpenAPIResponse) else description
                )

"""Make the served OpenAPI document say exactly what the API does, and the API what it says.

Clients generate code from `/schema/openapi.json` and schemathesis checks the API against
it, so the document Litestar derives is finished once at start-up (`finish_document`):
problem-details answers on every operation, public operations marked public, request bodies
that refuse unknown fields marked `additionalProperties: false`. `AllowHeaderMiddleware`
fixes the one place where the served behaviour disagrees with the document (OPTIONS).
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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
    "405": "This provider sends no handshake of this method",
}
_METHODS = ("get", "post", "put", "patch", "delete")
_NULL = OpenAPIType.NULL


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))
        },
    )


def _handlers(app: Litestar) -> dict[str, Any]:
    """Route handlers by operationId (every operation of this API names its own)."""
    found: dict[str, Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if isinstance(handler.operation_id, str):
                    found[handler.operation_id] = handler
    return found


def _strict_structs(handler: Any) -> list[type[msgspec.Struct]]:
    """The request-body structs of `handler` that refuse unknown fields."""
    field = handler.parsed_data_field
    if field is None:
        return []
    candidates = typing.get_args(field.annotation) or (field.annotation,)
    return [
        t
        for t in candidates
        if isinstance(t, type)
        and issubclass(t, msgspec.Struct)
        and t.__struct_config__.forbid_unknown_fields
    ]


def _document_problems(path: str, operation: Operation, public: bool) -> None:
    webhook = path.startswith("/api/webhooks/") or path.startswith("/api/connectors/oauth")
    extra = _WEBHOOK if webhook else ({} if public else _AUTHED)
    responses = operation.responses if operation.responses is not None else {}
    operation.responses = responses
    for code, description in {**_COMMON, **extra}.items():
        existing = responses.get(code)
        if code == "503" and path == "/ready":
            continue  # /ready documents its own 503 body
        responses[code] = _problem(
            existing.description if isinstance(existing, OpenAPIResponse) else description
        )


def _not_null(schema: Schema) -> Schema:
    """An optional query parameter is absent or a value; it is never `null` on the wire, and
    a nullable schema makes client generators invent wrapper types."""
    if schema.one_of:
        values = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == _NULL)]
        if len(values) == 1 and isinstance(values[0], Schema):
            value = values[0]
            value.pattern = value.pattern or schema.pattern
            value.format = value.format or schema.format
            value.enum = value.enum or schema.enum
            value.description = value.description or schema.description
            value.default = value.default if value.default is not None else schema.default
            return value
    if isinstance(schema.type, list) and _NULL in schema.type:
        kinds = [t for t in schema.type if t != _NULL]
        schema.type = kinds[0] if len(kinds) == 1 else kinds
    if schema.enum:
        schema.enum = [v for v in schema.enum if v is not None]
    return schema


def finish_document(app: Litestar) -> None:
    schema = app.openapi_schema
    components = schema.components.schemas
    if components is None:
        components = schema.components.schemas = {}
    components["Problem"] = PROBLEM_SCHEMA
    handlers = _handlers(app)
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            handler = handlers.get(operation.operation_id or "")
            # Litestar drops an empty `security` list, which would leave the global API-key
            # requirement on operations that take no key.
            public = handler is not None and handler.security == []
            if public:
                operation.security = []
            for parameter in operation.parameters or []:
                if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                    parameter.schema = _not_null(parameter.schema)
            _document_problems(path, operation, public)
            for struct in _strict_structs(handler) if handler is not None else []:
                component = components.get(struct.__name__)
                if isinstance(component, Schema):
                    component.additional_properties = False


class AllowHeaderMiddleware(ASGIMiddleware):
    """`Allow` on OPTIONS lists every method of the path, as the document does.

    Litestar 2 builds the automatic OPTIONS answer when a path's first handler registers, so
    it lists only that handler's methods (litestar-org/litestar#4169, fixed in 3.0)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[str, str] = {}

    def _allowed(self, scope: Scope) -> str:
        if not self._allow:
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods))
                for route in scope["litestar_app"].routes
                if isinstance(route, HTTPRoute)
            }
        return self._allow.get(scope.get("path_template", ""), "")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        allow = self._allowed(scope) if scope.get("method") == "OPTIONS" else ""
        if not allow:
            await next_app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await next_app(scope, receive, send_with_allow)

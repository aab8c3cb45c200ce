"""RFC 9457 problem details for every error path.

Handlers raise `Problem` (or a Litestar HTTP exception); `exception_handlers()` turns
anything — validation errors, 404s, unhandled exceptions — into `application/problem+json`
with a stable `type`, and never a stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.lib.outages import is_outage, outage_source
from backend.lib.telemetry import redact_path

PROBLEM_BASE = "https://switchboard.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("switchboard.errors")

_TITLES = {
    400: ("validation", "Invalid request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal server error"),
    502: ("provider-error", "The provider failed"),
    503: ("unavailable", "Service unavailable"),
}


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(Exception):
    """An error the client should see, as problem details."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        default_kind, default_title = _TITLES.get(status, ("error", "Error"))
        self.status = status
        self.detail = detail
        self.kind = kind or default_kind
        self.title = title or default_title
        self.errors = errors or []
        self.headers = headers or {}


def not_found(what: str = "resource") -> Problem:
    return Problem(404, f"The {what} does not exist.")


def validation_error(field: str, message: str, status: int = 422) -> Problem:
    return Problem(status, f"{field}: {message}", errors=[FieldError(field, message)])


def problem_response(problem: Problem, instance: str = "") -> Response[bytes]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = [msgspec.to_builtins(e) for e in problem.errors]
    return Response(
        content=msgspec.json.encode(body),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


# msgspec messages look like "Expected `str`, got `int` - at `$.credentials.token`".
_MSGSPEC_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_INDEX = re.compile(r"\[(\d+)\]")


def _validation_problem(exc: ValidationException) -> Problem:
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "is invalid"))
        key = str(item.get("key", "") or "")
        source = item.get("source")
        match = _MSGSPEC_PATH.match(message)
        if match and match.group("path"):
            path = match.group("path").lstrip(".")
            key = path.replace("[", ".").replace("]", "") or key
            message = match.group("msg")
        key = _INDEX.sub(r".\1", key)  # Litestar's own keys say `rules[0].op`: one style
        if source == "body" and not key:
            key = "body"
        errors.append(FieldError(key or "request", message))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    status = 422 if errors and "JSON is malformed" not in detail else 400
    return Problem(status, detail, errors=errors)


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return problem_response(exc, redact_path(request.url.path))


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, ValidationException):
        return problem_response(_validation_problem(exc), redact_path(request.url.path))
    status = exc.status_code
    if isinstance(exc, NotFoundException):
        detail = "No such resource."
    elif isinstance(exc, NotAuthorizedException):
        detail = exc.detail or "A valid API key is required."
    elif status == 413:
        detail = "The request body exceeds the size limit."
    else:
        detail = exc.detail or _TITLES.get(status, ("", "Error"))[1]
    headers = dict(exc.headers or {})
    return problem_response(Problem(status, detail, headers=headers), redact_path(request.url.path))


# Clients and providers retry after this many seconds while PostgreSQL or Redis is away.
OUTAGE_RETRY_AFTER_SECONDS = 5


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    path = redact_path(request.url.path)
    if is_outage(exc):
        # Not a bug and not the caller's fault: say so, and when to come back. One line in
        # the log, no traceback per request during an outage.
        source, kind = outage_source(exc), type(exc).__name__
        log.warning("%s unavailable on %s %s: %s", source, request.method, path, kind)
        return problem_response(
            Problem(
                503,
                "A service the API depends on is unavailable; retry later.",
                headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
            ),
            path,
        )
    log.exception("unhandled error on %s %s", request.method, path)
    return problem_response(
        Problem(HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side."), path
    )


def exception_handlers() -> dict[Any, Any]:
    return {
        Problem: handle_problem,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "MediaType",
    "Problem",
    "exception_handlers",
    "not_found",
    "problem_response",
    "validation_error",
]

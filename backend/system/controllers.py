"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from backend.lib.db import pool


class Liveness(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


@get(
    "/health",
    tags=["system"],
    summary="The process is up (public)",
    operation_id="get_health",
    security=[],
)
async def health() -> Liveness:
    return Liveness(status="ok")


@get(
    "/ready",
    tags=["system"],
    summary="PostgreSQL and Redis are reachable (public)",
    operation_id="get_readiness",
    security=[],
    responses={503: ResponseSpec(data_container=Readiness, description="A dependency is down")},
)
async def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    checks = {"database": "ok", "redis": "ok"}
    try:
        async with asyncio.timeout(2):
            await pool().fetchval("SELECT 1")
    except Exception:
        checks["database"] = "unavailable"
    try:
        async with asyncio.timeout(2):
            await request.app.state.redis.ping()
    except Exception:
        checks["redis"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return Response(
        Readiness(status="ready" if ok else "not ready", checks=checks),
        status_code=200 if ok else 503,
    )

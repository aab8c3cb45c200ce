"""Runtime faults of a test-mode integration: its simulated provider answers rate limits,
expired or revoked tokens, server errors, timeouts or malformed bodies on demand.

Faults live in Redis (one hash per integration), not in a table: the api sets them and both
the api and the worker consume them, a `count` must go down atomically across processes
(HINCRBY), and they are throwaway test settings that expire on their own (`FAULT_TTL`).

This module sits below the integrations package (it knows the simulator, Redis and the log,
never the integration table), so `build_adapter` can wire it into the simulator transport.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import httpx
import msgspec
from redis.exceptions import RedisError

from backend.connectors.simulator import FAULT_KINDS, ProviderSimulator
from backend.lib.redis import connect as connect_redis
from backend.observability.services import write_log
from backend.settings import get_settings

log = logging.getLogger("switchboard.testmode")
# A test setting someone forgot must not haunt the integration for ever.
FAULT_TTL = 24 * 3600
_PREFIX = "sb:testmode:faults:"


class FaultKind(StrEnum):
    """What the simulated provider does instead of answering normally."""

    RATE_LIMIT = "rate_limit"
    AUTH_EXPIRED = "auth_expired"
    AUTH_REVOKED = "auth_revoked"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"


assert tuple(FaultKind) == FAULT_KINDS, "the simulator answers exactly these kinds"


class FaultSet(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One fault to inject (replacing any of the same kind). Each call is faulted with
    `probability` (default 1: every call) until `count` calls were (default: until
    cleared)."""

    kind: FaultKind
    # Not optional: Litestar's schema drops a `minimum` of 0 from an optional number.
    probability: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    count: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    retry_after: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=86_400,
                description="Seconds a rate_limit answer announces in Retry-After (default: "
                "the simulator's); other kinds announce no wait and ignore it.",
            ),
        ]
        | None
    ) = None


class Fault(msgspec.Struct, kw_only=True):
    """A fault in force; `remaining` is how many more calls it answers (None: no count)."""

    kind: FaultKind
    probability: float
    count: int | None
    remaining: int | None
    retry_after: int | None


class Faults(msgspec.Struct):
    faults: list[Fault]


_redis: Any = None


def _client() -> Any:
    """The process's Redis for faults (api and worker alike), made on first use."""
    global _redis
    if _redis is None:
        settings = get_settings()
        _redis = connect_redis(
            settings.redis_url or "redis://127.0.0.1:6379/0", settings.queue_name
        )
    return _redis


def _keys(integration_id: uuid.UUID | str) -> tuple[str, str]:
    base = f"{_PREFIX}{integration_id}"
    return base, base + ":left"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def list_faults(integration_id: uuid.UUID | str, redis: Any = None) -> list[Fault]:
    """The integration's faults in force, in the fixed order of `FaultKind`."""
    redis = redis or _client()
    specs_key, left_key = _keys(integration_id)
    specs = {_text(k): v for k, v in (await redis.hgetall(specs_key)).items()}
    left = {_text(k): int(v) for k, v in (await redis.hgetall(left_key)).items()}
    faults = []
    for kind in FaultKind:
        if kind.value not in specs:
            continue
        spec = msgspec.json.decode(specs[kind.value], type=FaultSet)
        remaining = max(left.get(kind.value, 0), 0) if spec.count is not None else None
        if remaining == 0:
            continue
        faults.append(
            Fault(
                kind=kind,
                probability=spec.probability,
                count=spec.count,
                remaining=remaining,
                retry_after=spec.retry_after,
            )
        )
    return faults


async def set_fault(
    integration_id: uuid.UUID | str, fault: FaultSet, redis: Any = None
) -> list[Fault]:
    redis = redis or _client()
    specs_key, left_key = _keys(integration_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(specs_key, fault.kind.value, msgspec.json.encode(fault))
        if fault.count is not None:
            pipe.hset(left_key, fault.kind.value, fault.count)
        else:
            pipe.hdel(left_key, fault.kind.value)
        pipe.expire(specs_key, FAULT_TTL)
        pipe.expire(left_key, FAULT_TTL)
        await pipe.execute()
    return await list_faults(integration_id, redis)


async def clear_faults(integration_id: uuid.UUID | str, redis: Any = None) -> None:
    await (redis or _client()).delete(*_keys(integration_id))


async def take(
    integration_id: uuid.UUID | str, kinds: tuple[FaultKind, ...] = tuple(FaultKind)
) -> Fault | None:
    """The fault that answers this call, if any, its count spent atomically (two processes
    never both spend the last one). The first of `kinds` that fires wins."""
    redis = _client()
    specs_key, left_key = _keys(integration_id)
    try:
        raw = await redis.hgetall(specs_key)
    except (RedisError, OSError):
        # Faults are a test aid: with Redis away the simulator answers normally.
        log.warning("test-mode faults unavailable (Redis); answering without them")
        return None
    if not raw:
        return None
    specs = {_text(k): v for k, v in raw.items()}
    for kind in kinds:
        if kind.value not in specs:
            continue
        spec = msgspec.json.decode(specs[kind.value], type=FaultSet)
        if spec.probability < 1 and random.random() >= spec.probability:
            continue
        remaining = None
        if spec.count is not None:
            remaining = int(await redis.hincrby(left_key, kind.value, -1))
            if remaining < 0:
                continue
        return Fault(
            kind=kind,
            probability=spec.probability,
            count=spec.count,
            remaining=remaining,
            retry_after=spec.retry_after,
        )
    return None


@dataclass(frozen=True, slots=True)
class FaultOwner:
    """The integration a simulated call is made for: whose faults apply, whose log it is."""

    tenant_id: uuid.UUID
    integration_id: uuid.UUID


async def log_injection(owner: FaultOwner, fault: Fault, where: str) -> None:
    await write_log(
        owner.tenant_id,
        owner.integration_id,
        "testmode.fault_injected",
        f"test mode: simulated {fault.kind} on {where}",
        level="warning",
        context={
            "kind": fault.kind.value,
            "call": where,
            "remaining": fault.remaining,
            "retry_after": fault.retry_after,
        },
    )


class FaultInjectingTransport(httpx.AsyncBaseTransport):
    """The simulator, in process, answering with the integration's faults where they fire."""

    def __init__(self, simulator: ProviderSimulator, owner: FaultOwner) -> None:
        self.simulator = simulator
        self.owner = owner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        sim_request = self.simulator.sim_request(request)
        fault = await take(self.owner.integration_id)
        if fault is None:
            return self.simulator.to_httpx(self.simulator.handle(sim_request), request)
        await log_injection(self.owner, fault, f"{sim_request.method} {sim_request.path}")
        answer = self.simulator.inject(fault.kind.value, sim_request, fault.retry_after)
        return self.simulator.to_httpx(answer, request)


async def token_endpoint_fault(owner: FaultOwner) -> Fault | None:
    """A revoked grant also fails the refresh (invalid_grant), which is how the product tells
    it from an expired token; other faults leave test mode's token endpoint alone."""
    fault = await take(owner.integration_id, (FaultKind.AUTH_REVOKED,))
    if fault is not None:
        await log_injection(owner, fault, "the token endpoint (refresh)")
    return fault

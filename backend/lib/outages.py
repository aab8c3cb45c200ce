"""Telling "a server we depend on is unreachable" apart from a bug.

An outage of PostgreSQL or Redis is temporary and not the caller's fault: the api answers
503 with Retry-After (clients and providers retry), and the worker waits and reconnects.
A bug stays a 500 and a crash. Connection failures surface as OSError (refused, reset, a
missing Unix socket, timeouts), as asyncpg's connection-class errors and server shutdowns,
and as redis-py's ConnectionError/TimeoutError.
"""

from __future__ import annotations

import asyncpg
from redis import exceptions as redis_errors

POSTGRES_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection lost, refused by the server
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
REDIS_OUTAGES: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,  # includes BusyLoadingError (Redis still loading its data)
    redis_errors.TimeoutError,
)
OUTAGES: tuple[type[BaseException], ...] = (OSError, *POSTGRES_OUTAGES, *REDIS_OUTAGES)


class Unavailable(Exception):
    """An outage where the code knows which dependency it was talking to (a bare OSError
    from connecting does not say)."""

    def __init__(self, dependency: str, cause: BaseException) -> None:
        super().__init__(f"{dependency} is unavailable")
        self.dependency = dependency
        self.__cause__ = cause


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, (Unavailable, *OUTAGES))


def outage_source(exc: BaseException) -> str:
    """Which dependency an outage error points at, for log lines: PostgreSQL, Redis, or a
    dependency (a bare OSError does not say)."""
    if isinstance(exc, Unavailable):
        return exc.dependency
    if isinstance(exc, REDIS_OUTAGES):
        return "Redis"
    if isinstance(exc, POSTGRES_OUTAGES):
        return "PostgreSQL"
    return "a dependency"

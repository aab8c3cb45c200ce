"""What every simulator's list endpoints share: records generated from a seed, the same
for the same integration on every call, so a test-mode sync pages through a stable data
set and a second run finds what the first stored."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

#: Build record `index` of a list (0 is the newest) with a seeded random source.
Build = Callable[[random.Random, int], dict[str, Any]]


def seed_of(*parts: str) -> str:
    """A short stable seed from what identifies the simulated account (never stored)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


_CACHE: dict[tuple[str, str, int], tuple[dict[str, Any], ...]] = {}
_CACHE_LIMIT = 256


def generated(seed: str, name: str, count: int, build: Build) -> list[dict[str, Any]]:
    """`count` records of list `name` (one `build` per name) for the account `seed`, each a
    shallow copy; kept for the next page, the oldest lists evicted past a bound."""
    key = (seed, name, count)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        rng = random.Random(f"{seed}:{name}")
        _CACHE[key] = tuple(build(rng, index) for index in range(count))
    return [dict(record) for record in _CACHE[key]]


def page_after(
    records: list[dict[str, Any]], after: str | None, limit: int, key: str = "id"
) -> tuple[list[dict[str, Any]], bool]:
    """The `limit` records following the one whose `key` is `after` (from the start when
    None), and whether more follow them."""
    start = 0
    if after:
        ids = [str(r.get(key)) for r in records]
        start = ids.index(after) + 1 if after in ids else len(records)
    chunk = records[start : start + limit]
    return chunk, start + limit < len(records)


def bounded_limit(raw: str | None, default: int, maximum: int) -> int:
    """A page size from a query value, within the provider's documented range."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return max(1, min(value, maximum))

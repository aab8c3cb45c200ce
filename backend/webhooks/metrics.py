"""Process-local webhook counters (exported through the metrics work later)."""

from __future__ import annotations

from collections import Counter

counts: Counter[str] = Counter()


def incr(name: str, connector: str, by: int = 1) -> None:
    if by:
        counts[f"{name}:{connector}"] += by
        counts[name] += by

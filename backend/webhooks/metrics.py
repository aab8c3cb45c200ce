"""Process-local webhook counters (exported through the metrics work later)."""

from __future__ import annotations

from collections import Counter

counts: Counter[str] = Counter()


def incr(name: str, connector: str) -> None:
    counts[f"{name}:{connector}"] += 1
    counts[name] += 1

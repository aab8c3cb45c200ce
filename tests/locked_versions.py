"""What an environment should hold (a constraints file) versus what it holds (importlib.metadata).

Shared by the backend's and the dashboard's lock tests, which run in different venvs.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The project itself is installed editable from the working tree, so it has no locked version.
PROJECT = "switchboard"


def canonical(name: str) -> str:
    """PEP 503 normalized name: `Authlib`, `authlib` and `AuthLib` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, str]:
    """`name -> version` from a constraints file; anything but an exact pin is an error."""
    pins: dict[str, str] = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip(), f"{lock.name}: not an exact pin: {raw!r}"
        pins[canonical(name)] = version.strip()
    return pins


def installed_versions() -> dict[str, str]:
    """`name -> version` of every distribution the running interpreter can import."""
    return {
        canonical(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if canonical(dist.metadata["Name"]) != PROJECT
    }

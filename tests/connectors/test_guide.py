"""docs/adding-a-connector.md stays true: it names every spec field, and every test it says
runs for a new folder exists."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from backend.connectors import spec as spec_module

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "adding-a-connector.md").read_text(encoding="utf-8")
STRUCTS = [
    value
    for value in vars(spec_module).values()
    if isinstance(value, type)
    and issubclass(value, msgspec.Struct)
    and value.__module__ == spec_module.__name__
]


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda s: s.__name__)
def test_every_spec_field_is_explained(struct: type[msgspec.Struct]) -> None:
    assert f"**{struct.__name__}**" in GUIDE or struct.__name__ == "ConnectorSpec"
    missing = [name for name in struct.__struct_fields__ if f"`{name}`" not in GUIDE]
    assert not missing, f"{struct.__name__}: {missing}"


def _named_tests() -> list[tuple[str, str]]:
    """(file, test) for every `tests/...py::name` and following `::name` in the guide's prose
    (a bare file names all its tests; `test_<key>.py` is a placeholder)."""
    named: list[tuple[str, str]] = []
    current = ""
    prose = re.sub(r"^```.*?^```", "", GUIDE, flags=re.M | re.S)
    for token in re.findall(r"`([^`]+)`", prose):
        file, _, name = token.partition("::")
        if file.startswith("tests/") and file.endswith(".py") and "<" not in file:
            current = file
            named.append((file, name))
        elif not file and name and current:
            named.append((current, name))
    return named


def test_the_guide_names_tests() -> None:
    assert len(_named_tests()) > 10


@pytest.mark.parametrize(("file", "name"), _named_tests())
def test_every_test_the_guide_names_exists(file: str, name: str) -> None:
    source = (ROOT / file).read_text(encoding="utf-8")
    if name:
        assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.M), (file, name)

"""The live api of the contract tests: a process pair and a populated tenant per module, so
what one module's fuzzer deletes or replays never changes what another module sees."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.live import LiveApi, serve


@pytest.fixture(scope="module")
def live_api(database: str) -> Iterator[LiveApi]:
    with serve() as live:
        yield live

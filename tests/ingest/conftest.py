"""Fixtures of the ingestion tests (helpers live in support.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import Hooks


@pytest.fixture
def hooks(client: Any, raw_rows: Any, run_worker: Any, wait_for: Any) -> Hooks:
    return Hooks(client, raw_rows, run_worker, wait_for)

"""The dashboard imports nothing from backend/, so it keeps its own copies of the api's
vocabularies; here they are held to backend/lib/vocab.py, and every status the dashboard can
be handed gets a badge color instead of the gray of an unknown word."""

from __future__ import annotations

import enum
import inspect
from typing import get_args

import pytest

from backend.lib import vocab
from dashboard import client
from dashboard.components.feedback import STATUS_COLORS
from dashboard.state.catalog import INTEGRATION_STATUSES

VOCABULARIES = [
    name
    for name, value in vars(vocab).items()
    if inspect.isclass(value) and issubclass(value, enum.StrEnum) and value is not enum.StrEnum
]


def test_every_vocabulary_is_checked() -> None:
    assert {"IntegrationStatus", "HealthStatus", "EventStatus", "FailureKind"} <= set(VOCABULARIES)


@pytest.mark.parametrize("name", VOCABULARIES)
def test_the_client_mirrors_the_vocabulary_in_order(name: str) -> None:
    mirrored = getattr(client, name, None)
    assert mirrored is not None, f"dashboard/client.py has no {name}"
    assert get_args(mirrored) == tuple(member.value for member in getattr(vocab, name))


@pytest.mark.parametrize("name", [n for n in VOCABULARIES if n.endswith("Status")])
def test_every_status_has_a_badge_color(name: str) -> None:
    assert set(get_args(getattr(client, name))) <= set(STATUS_COLORS)


def test_the_status_filter_offers_every_integration_status() -> None:
    assert [status.value for status in vocab.IntegrationStatus] == INTEGRATION_STATUSES

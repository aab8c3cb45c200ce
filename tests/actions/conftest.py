"""Fixtures shared by the action tests."""

from tests.actions.provider_at import provider_at

__all__ = ["provider_at"]

"""Dashboard unit tests: Reflex states built directly (allowed under pytest), the api faked
with httpx.MockTransport at the network boundary. Helpers live in dashboard_testkit.py."""

from dashboard_testkit import _no_live_leftovers, fake_api  # noqa: F401

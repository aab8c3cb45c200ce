"""The URL a provider signed (Twilio, HubSpot): PUBLIC_BASE_URL, or the forwarded host only
when the connecting peer is a trusted proxy."""

from __future__ import annotations

import dataclasses

import pytest

from backend.settings import get_settings
from backend.webhooks.ingest import Inbound, Ingestor

PATH = "/api/webhooks/twilio/tok"
FORWARDED = {"x-forwarded-host": "hooks.tenant.example", "x-forwarded-proto": "https"}


def _ingestor(proxies: tuple[str, ...]) -> Ingestor:
    settings = dataclasses.replace(get_settings(), trusted_proxies=proxies)
    return Ingestor(settings, enqueuer=None)  # type: ignore[arg-type]


def _inbound(peer: str) -> Inbound:
    return Inbound("POST", "twilio", "tok", dict(FORWARDED), PATH, "a=1", b"", peer)


@pytest.mark.parametrize(
    ("proxies", "peer", "expected"),
    [
        ((), "10.0.0.5", "https://hooks.example.test" + PATH + "?a=1"),
        (("10.0.0.0/8",), "10.0.0.5", "https://hooks.tenant.example" + PATH + "?a=1"),
        (("10.0.0.0/8",), "192.0.2.7", "https://hooks.example.test" + PATH + "?a=1"),
        (("10.0.0.0/8",), "::ffff:10.0.0.5", "https://hooks.tenant.example" + PATH + "?a=1"),
        (("10.0.0.0/8",), "not-an-address", "https://hooks.example.test" + PATH + "?a=1"),
    ],
)
def test_forwarded_host_is_believed_only_from_a_trusted_proxy(
    proxies: tuple[str, ...], peer: str, expected: str
) -> None:
    assert _ingestor(proxies).public_url(_inbound(peer)) == expected

"""The shared scheme and normalization helpers: total, strict where it matters."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.connectors.base import WebhookVerificationError
from backend.connectors.webhook_normalize import dig, from_iso, from_unix, scalars, text
from backend.connectors.webhook_schemes import (
    any_match,
    check_timestamp,
    parse_base64,
    parse_hex,
    parse_int,
)


def test_parsers_reject_instead_of_raising() -> None:
    assert parse_hex("ab" * 32, 32) == bytes([0xAB]) * 32
    assert parse_hex("ab" * 31 + "zz", 32) is None and parse_hex("é" * 64, 32) is None
    assert parse_base64("AAAA") == b"\0\0\0"
    assert parse_base64("AA AA") is None and parse_base64("é") is None and parse_base64("A") is None
    assert parse_int("1750000000") == 1750000000
    assert parse_int("-1") is None and parse_int("١٢") is None and parse_int("9" * 16) is None


def test_any_match_and_timestamps() -> None:
    assert any_match([b"a", b"b"], [b"x", b"b"]) and not any_match([b"a"], [b"ab"])
    check_timestamp(1000, 1300)
    check_timestamp(1300, 1000)
    with pytest.raises(WebhookVerificationError, match="300 s"):
        check_timestamp(1000, 1301)
    with pytest.raises(WebhookVerificationError, match="300 s"):
        check_timestamp(1301, 1000)
    check_timestamp(99999, 1000, future=False)


def test_normalize_helpers() -> None:
    assert from_iso("2021-02-26T19:13:55.749123456Z") == dt.datetime(
        2021, 2, 26, 19, 13, 55, 749123, tzinfo=dt.UTC
    )
    assert from_iso("2024-06-10T16:00:00+02:00") == dt.datetime(2024, 6, 10, 14, tzinfo=dt.UTC)
    assert from_iso("nonsense") is None and from_iso(5) is None
    assert from_unix("1441645532") == dt.datetime(2015, 9, 7, 17, 5, 32, tzinfo=dt.UTC)
    assert from_unix(10**20) is None and from_unix(True) is None and from_unix("x") is None
    assert dig({"a": [{"b": 1}]}, "a", 0, "b") == 1 and dig({"a": "s"}, "a", 0) is None
    assert text(3) == "3" and text(True) is None and text([]) is None
    assert scalars({"a": 1, "b": {}, "c": None}) == {"a": 1, "c": None}

"""Any Authorization header a stranger can send answers a 4xx problem, never a 5xx.

Generated headers go through the real app (middleware, database lookup, problem handlers);
the strategy mixes free text with near-misses of the real key format, which is where a
parser that indexes past the end of a string breaks.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.lib import tokens

URLSAFE = string.ascii_letters + string.digits + "-_"
# What an HTTP client can put in a header value: printable latin-1 without CR/LF.
HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")

near_miss_keys = st.builds(
    lambda head, middle, tail: head + middle + tail,
    st.sampled_from(["sb_", "SB_", "sb", "sb__", "sb_a_", "sb_12345678", "sb_12345678_", ""]),
    st.text(alphabet=URLSAFE + "_", max_size=12),
    st.text(alphabet=URLSAFE, max_size=60),
)
credentials = st.one_of(near_miss_keys, st.text(HEADER_CHARS, max_size=120))
schemes = st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Bearer\t", "Basic ", "Token ", ""])
header_values = st.builds(lambda s, c: (s + c).strip(" \t") or c, schemes, credentials)


def assert_problem_4xx(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code and body["type"] and body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer sb_a_bcdefg",  # the report: an underscore-separated key shorter than a prefix
        "Bearer sb_12345678",
        "Bearer sb_12345678_",
        "Bearer sb_1234567_x",
        "Bearer sb_zzzzzzzz_" + "A" * 43,
        "Bearer sb_12345678_" + "A" * 42 + "\x00",
        "Bearer sb_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9_x",
    ],
)
async def test_malformed_keys_are_401_problems(client, header: str) -> None:
    r = await client.get("/api/me", headers={"Authorization": header.encode("latin-1")})
    assert_problem_4xx(r)
    assert r.status_code == 401


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=header_values)
@example(value="Bearer sb_a_bcdefg")
async def test_any_authorization_header_is_a_4xx_problem(client, value: str) -> None:
    r = await client.get("/api/me", headers={"Authorization": value.encode("latin-1")})
    assert_problem_4xx(r)


def test_split_api_key_accepts_only_the_issued_format() -> None:
    key, prefix, _ = tokens.new_api_key()
    assert tokens.split_api_key(key) == prefix
    for bad in ("sb_a_bcdefg", prefix, prefix + "_", key + "\n", key[:-1] + "!", "x" + key):
        assert tokens.split_api_key(bad) is None, bad

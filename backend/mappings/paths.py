"""JMESPath sources compiled once; plain dotted paths get a direct getter.

Most rules read `a.b.c`. Walking dicts directly is an order of magnitude faster than
jmespath's tree interpreter and gives the same answer (a field of a non-object is null); other
expressions become closures (`jmes.py`). The compliance examples in tests/mappings run
through `compile_source`, so both are held to the specification.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from backend.mappings.jmes import compile_ast

Getter = Callable[[Any], Any]

# JMESPath's unquoted-identifier grammar, dot-separated: nothing else in the expression.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class SourceError(ValueError):
    """An expression JMESPath does not accept."""


def is_plain(expression: str) -> bool:
    return _PLAIN.fullmatch(expression) is not None


def _plain_getter(keys: list[str]) -> Getter:
    if len(keys) == 1:
        (a,) = keys

        def get1(data: Any) -> Any:
            return data.get(a) if type(data) is dict else None

        return get1
    if len(keys) == 2:
        a, b = keys

        def get2(data: Any) -> Any:
            if type(data) is not dict:
                return None
            data = data.get(a)
            return data.get(b) if type(data) is dict else None

        return get2
    if len(keys) == 3:
        a, b, c = keys

        def get3(data: Any) -> Any:
            if type(data) is not dict:
                return None
            data = data.get(a)
            if type(data) is not dict:
                return None
            data = data.get(b)
            return data.get(c) if type(data) is dict else None

        return get3

    def get_n(data: Any) -> Any:
        for key in keys:
            if type(data) is not dict:
                return None
            data = data.get(key)
        return data

    return get_n


def compile_source(expression: str) -> Getter:
    """A function payload -> value for `expression`; raises SourceError when invalid.

    Runtime errors of the general evaluator (a function given the wrong type) propagate as
    `jmespath.exceptions.JMESPathError`; the engine records them per field."""
    if is_plain(expression):
        return _plain_getter(expression.split("."))
    try:
        with warnings.catch_warnings():
            # `foo` (a JSON literal that is not JSON) still parses, as text, with a warning.
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            parsed = jmespath.compile(expression)
    except JMESPathError as exc:
        raise SourceError(_describe(exc)) from None
    except (RecursionError, ValueError, TypeError, KeyError, IndexError) as exc:
        # The parser's own limits on hostile input (deep nesting, odd tokens).
        raise SourceError(f"not a valid JMESPath expression ({type(exc).__name__})") from None
    try:
        return compile_ast(parsed.parsed)
    except RecursionError:
        raise SourceError("the expression is nested too deeply") from None


def _describe(exc: JMESPathError) -> str:
    message = str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__
    return f"not a valid JMESPath expression: {message}"[:300]

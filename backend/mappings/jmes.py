"""JMESPath expressions compiled to Python closures, once per rule.

jmespath's `TreeInterpreter` walks the syntax tree for every payload (a method lookup and a
dict access per node); here the tree becomes nested closures when the rule is compiled, so
a payload costs only the calls. Each closure repeats the interpreter's rule for its node
type (same helpers for equality, ordering and truth); node types not listed, such as `&expr`
arguments of `sort_by`, are left to the interpreter itself. The official compliance cases
(tests/mappings) run through this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jmespath import visitor

Evaluate = Callable[[Any], Any]

_INTERPRETER = visitor.TreeInterpreter()
# The interpreter's own function table: same signatures, type checks and errors.
_call_function = _INTERPRETER._functions.call_function
_equals = visitor._equals
_is_comparable = visitor._is_comparable
_is_actual_number = visitor._is_actual_number
_ORDERING = visitor.TreeInterpreter.COMPARATOR_FUNC


def _is_false(value: Any) -> bool:
    return value == "" or value == [] or value == {} or value is None or value is False


def compile_ast(node: dict[str, Any]) -> Evaluate:
    build = _BUILDERS.get(node["type"])
    if build is None:
        return lambda value: _INTERPRETER.visit(node, value)
    return build(node)


def _children(node: dict[str, Any]) -> list[Evaluate]:
    return [compile_ast(child) for child in node["children"]]


def _chain(node: dict[str, Any]) -> Evaluate:
    steps = _children(node)
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _field(node: dict[str, Any]) -> Evaluate:
    name = node["value"]
    return lambda value: value.get(name) if isinstance(value, dict) else None


def _identity(node: dict[str, Any]) -> Evaluate:
    return lambda value: value


def _literal(node: dict[str, Any]) -> Evaluate:
    constant = node["value"]
    return lambda value: constant


def _index(node: dict[str, Any]) -> Evaluate:
    position = node["value"]

    def index(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return index


def _slice(node: dict[str, Any]) -> Evaluate:
    bounds = slice(*node["children"])
    # A zero step raises ValueError here as in the interpreter: a field error at runtime.
    return lambda value: value[bounds] if isinstance(value, list) else None


def _comparator(node: dict[str, Any]) -> Evaluate:
    left, right = _children(node)
    op = node["value"]
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    compare = _ORDERING[op]

    def ordering(value: Any) -> Any:
        a, b = left(value), right(value)
        if not (_is_comparable(a) and _is_comparable(b)):
            return None
        return compare(a, b)

    return ordering


def _function(node: dict[str, Any]) -> Evaluate:
    name, arguments = node["value"], _children(node)
    return lambda value: _call_function(name, [argument(value) for argument in arguments])


def _projection(node: dict[str, Any]) -> Evaluate:
    left, right = _children(node)

    def projection(value: Any) -> Any:
        base = left(value)
        if not isinstance(base, list):
            return None
        return [found for found in map(right, base) if found is not None]

    return projection


def _value_projection(node: dict[str, Any]) -> Evaluate:
    left, right = _children(node)

    def value_projection(value: Any) -> Any:
        base = left(value)
        if not isinstance(base, dict):
            return None
        return [found for found in map(right, base.values()) if found is not None]

    return value_projection


def _filter_projection(node: dict[str, Any]) -> Evaluate:
    left, right, condition = _children(node)

    def filter_projection(value: Any) -> Any:
        base = left(value)
        if not isinstance(base, list):
            return None
        collected = []
        for element in base:
            if not _is_false(condition(element)):
                found = right(element)
                if found is not None:
                    collected.append(found)
        return collected

    return filter_projection


def _flatten(node: dict[str, Any]) -> Evaluate:
    (child,) = _children(node)

    def flatten(value: Any) -> Any:
        base = child(value)
        if not isinstance(base, list):
            return None
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flatten


def _multi_select_dict(node: dict[str, Any]) -> Evaluate:
    pairs = [(pair["value"], compile_ast(pair["children"][0])) for pair in node["children"]]

    def multi_select_dict(value: Any) -> Any:
        if value is None:
            return None
        return {key: evaluate(value) for key, evaluate in pairs}

    return multi_select_dict


def _multi_select_list(node: dict[str, Any]) -> Evaluate:
    items = _children(node)

    def multi_select_list(value: Any) -> Any:
        if value is None:
            return None
        return [evaluate(value) for evaluate in items]

    return multi_select_list


def _or(node: dict[str, Any]) -> Evaluate:
    left, right = _children(node)

    def either(value: Any) -> Any:
        matched = left(value)
        return right(value) if _is_false(matched) else matched

    return either


def _and(node: dict[str, Any]) -> Evaluate:
    left, right = _children(node)

    def both(value: Any) -> Any:
        matched = left(value)
        return matched if _is_false(matched) else right(value)

    return both


def _not(node: dict[str, Any]) -> Evaluate:
    (child,) = _children(node)

    def negation(value: Any) -> Any:
        found = child(value)
        if _is_actual_number(found) and found == 0:
            return False  # !0 is false: 0 is not falsy in JMESPath
        return not found

    return negation


_BUILDERS: dict[str, Callable[[dict[str, Any]], Evaluate]] = {
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "field": _field,
    "identity": _identity,
    "current": _identity,
    "literal": _literal,
    "index": _index,
    "slice": _slice,
    "comparator": _comparator,
    "function_expression": _function,
    "projection": _projection,
    "value_projection": _value_projection,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "multi_select_dict": _multi_select_dict,
    "multi_select_list": _multi_select_list,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
}

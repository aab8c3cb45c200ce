"""Binding a folder's named hooks: a hook that generic code would never call, or call and not
find, stops the registry load instead of being skipped at the first consent."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import msgspec
import pytest

from backend.connectors.hooks import bind_hooks
from backend.connectors.providers.jira.spec import SPEC as JIRA
from backend.connectors.spec import SpecError


def _hooks_module(**functions: Any) -> ModuleType:
    module = ModuleType("made_up.hooks")
    for name, function in functions.items():
        setattr(module, name, function)
    return module


async def _after_consent(token: Any, http: Any, api_base: str) -> dict[str, str]:
    return {}


def test_listed_hooks_are_bound_by_name() -> None:
    assert bind_hooks(JIRA, _hooks_module(after_consent=_after_consent)) == {
        "after_consent": _after_consent
    }


def test_a_misspelled_hook_name_in_the_spec_fails() -> None:
    spec = msgspec.structs.replace(JIRA, hooks=("after_consnet",))
    module = _hooks_module(after_consnet=_after_consent)
    with pytest.raises(SpecError, match=r"connector 'jira': unknown hook 'after_consnet'"):
        bind_hooks(spec, module)


def test_a_misspelled_function_in_hooks_py_fails() -> None:
    module = _hooks_module(after_consnet=_after_consent)
    with pytest.raises(SpecError, match=r"hooks.py must define 'after_consent'"):
        bind_hooks(JIRA, module)


def test_a_listed_hook_without_hooks_py_fails() -> None:
    with pytest.raises(SpecError, match=r"'after_consent' is listed but the folder has no hooks"):
        bind_hooks(JIRA, None)


def test_a_hook_the_spec_forgot_to_list_fails() -> None:
    spec = msgspec.structs.replace(JIRA, hooks=())
    with pytest.raises(SpecError, match=r"defines 'after_consent' but spec.hooks does not list"):
        bind_hooks(spec, _hooks_module(after_consent=_after_consent))


def test_a_hook_must_be_async() -> None:
    def after_consent(token: Any, http: Any, api_base: str) -> dict[str, str]:
        return {}

    with pytest.raises(SpecError, match=r"'after_consent' as an async function"):
        bind_hooks(JIRA, _hooks_module(after_consent=after_consent))

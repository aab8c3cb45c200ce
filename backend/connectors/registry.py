"""The connector registry: one folder per provider, discovered, loaded and checked once.

Every folder under `providers/` with a `spec.py` is a provider (no list to keep): `spec.py`
(SPEC), `adapter.py` (one Adapter subclass), `simulator.py` (SIMULATOR), optionally
`webhook.py` (HANDLER), `hooks.py` (the hooks SPEC.hooks names), `actions.py` (ACTIONS, the
outbound actions: unique names, valid input JSON Schemas, scopes the spec offers) and
`streams.py` (the page readers SPEC.streams name where a list call cannot be data). Modules
shared by several
folders start with `_` and are skipped. Loading fails loudly, naming the folder, on a broken
import, a contradictory or mistyped spec, a malformed dotted path or a missing piece, so a
broken provider cannot reach production quietly. The catalog order is the spec's category (in
the order `spec.Category` lists them) and then its name, so a new folder needs no number.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import jsonschema
import msgspec

from backend.connectors.actions import Action
from backend.connectors.base import Adapter, WebhookHandler
from backend.connectors.hooks import bind_hooks
from backend.connectors.paths import is_well_formed
from backend.connectors.simulator import ProviderSimulator
from backend.connectors.spec import Category, ConnectorSpec, SpecError, validate_spec
from backend.connectors.stream_checks import bind_readers
from backend.connectors.streams import ReadPage

_PACKAGE = "backend.connectors.providers"
_ACTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CATEGORY_RANK = {category: rank for rank, category in enumerate(get_args(Category))}


@dataclass(frozen=True)
class Provider:
    spec: ConnectorSpec
    adapter: type[Adapter]
    simulator: ProviderSimulator
    webhook: WebhookHandler | None
    # The folder's named hooks (hooks.py), only those spec.hooks lists.
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # The folder's outbound actions (actions.py ACTIONS) by name, in declaration order.
    actions: Mapping[str, Action] = field(default_factory=dict)
    # The folder's page readers (streams.py) that spec.streams name, by name.
    readers: Mapping[str, ReadPage] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.spec.key


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only the module itself may be missing; a broken import inside it must surface.
        if exc.name == name:
            return None
        raise


def _adapter_class(module: ModuleType, key: str) -> type[Adapter]:
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Adapter)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]
    if len(found) != 1:
        raise SpecError(f"connector {key!r}: adapter.py must define exactly one Adapter subclass")
    return found[0]


def _check_types(spec: ConnectorSpec) -> None:
    """Construction does not check field types (msgspec validates only when decoding), so a
    category outside the vocabulary or a list where a tuple belongs is caught here."""
    try:
        msgspec.convert(msgspec.to_builtins(spec), ConnectorSpec)
    except msgspec.ValidationError as exc:
        raise SpecError(f"connector {spec.key!r}: {exc}") from None


def _dotted_paths(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(location, path) of every dotted-path field, found by naming convention so a new spec
    field is checked without a list: a field named `*_path`, each item of a `*_paths` tuple,
    each value of `token_response_metadata`. (`validate_spec` checks `body:` sources.)"""
    for name in value.__struct_fields__:
        item = getattr(value, name)
        here = f"{where}.{name}" if where else name
        if isinstance(item, msgspec.Struct):
            yield from _dotted_paths(item, here)
        elif isinstance(item, tuple):
            for index, element in enumerate(item):
                if isinstance(element, msgspec.Struct):
                    yield from _dotted_paths(element, f"{here}[{index}]")
                elif name.endswith("_paths"):
                    yield f"{here}[{index}]", element
        elif name.endswith("_path") and item:
            yield here, item
        elif name == "token_response_metadata":
            yield from ((f"{here}[{key!r}]", path) for key, path in item.items())


def _check_paths(spec: ConnectorSpec) -> None:
    bad = [
        f"{where} is not a dotted path: {path!r}"
        for where, path in _dotted_paths(spec, "")
        if not isinstance(path, str) or not is_well_formed(path)
    ]
    if bad:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(bad))


def _offered_scopes(spec: ConnectorSpec) -> set[str] | None:
    """Every scope the connector's consent can ask for; None when it is not OAuth."""
    if spec.oauth is None:
        return None
    return {*spec.oauth.default_scopes, *spec.oauth.optional_scopes}


def _check_action(spec: ConnectorSpec, action: Any) -> list[str]:
    """What is wrong with one declared action (empty when nothing is)."""
    if not isinstance(action, Action):
        return [f"{action!r} is not an Action"]
    where = f"action {action.name!r}"
    problems = []
    if not isinstance(action.name, str) or not _ACTION_NAME.fullmatch(action.name):
        problems.append(f"{where}: the name must be snake_case (a-z, 0-9, _)")
    try:
        jsonschema.Draft202012Validator.check_schema(action.input_schema)
    except jsonschema.SchemaError as exc:
        problems.append(f"{where}: input_schema is not a valid JSON Schema: {exc.message}")
    else:
        if action.input_schema.get("type") != "object":
            problems.append(f"{where}: input_schema must describe an object (type: object)")
    offered = _offered_scopes(spec)
    if offered is not None:
        unknown = sorted({s for group in action.required_scopes for s in group} - offered)
        if unknown:
            problems.append(
                f"{where}: required_scopes not offered by the spec's OAuth scopes: "
                + ", ".join(unknown)
            )
    if any(not group for group in action.required_scopes):
        problems.append(f"{where}: an empty group in required_scopes")
    return problems


def _load_actions(spec: ConnectorSpec, module: ModuleType | None) -> dict[str, Action]:
    """The folder's ACTIONS by name, checked: a broken declaration fails the load."""
    if module is None:
        return {}
    declared = getattr(module, "ACTIONS", None)
    if not isinstance(declared, tuple):
        raise SpecError(f"connector {spec.key!r}: actions.py must define ACTIONS = (Action(...),)")
    problems = [p for action in declared for p in _check_action(spec, action)]
    names = [a.name for a in declared if isinstance(a, Action)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate action names: {', '.join(duplicates)}")
    if problems:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(problems))
    return {action.name: action for action in declared}


def _load(base: str, key: str) -> Provider:
    found = getattr(importlib.import_module(f"{base}.spec"), "SPEC", None)
    if not isinstance(found, ConnectorSpec):
        raise SpecError(f"connector {key!r}: spec.py must define SPEC = ConnectorSpec(...)")
    spec: ConnectorSpec = found
    if spec.key != key:
        raise SpecError(f"connector {key!r}: SPEC.key is {spec.key!r}")
    _check_types(spec)
    validate_spec(spec)
    _check_paths(spec)
    adapter = _adapter_class(importlib.import_module(f"{base}.adapter"), key)
    if getattr(adapter, "spec", None) is not spec:
        raise SpecError(f"connector {key!r}: {adapter.__name__}.spec must be the folder's SPEC")
    simulator = getattr(importlib.import_module(f"{base}.simulator"), "SIMULATOR", None)
    if not isinstance(simulator, ProviderSimulator):
        raise SpecError(f"connector {key!r}: simulator.py must define SIMULATOR")
    webhook_module = _optional_module(f"{base}.webhook")
    handler = getattr(webhook_module, "HANDLER", None) if webhook_module else None
    if handler is not None and not isinstance(handler, WebhookHandler):
        raise SpecError(f"connector {key!r}: webhook.HANDLER must be a WebhookHandler")
    hooks = bind_hooks(spec, _optional_module(f"{base}.hooks"))
    actions = _load_actions(spec, _optional_module(f"{base}.actions"))
    readers = bind_readers(spec, _optional_module(f"{base}.streams"))
    return Provider(
        spec=spec,
        adapter=adapter,
        simulator=simulator,
        webhook=handler,
        hooks=hooks,
        actions=actions,
        readers=readers,
    )


def load_provider(key: str, package: str = _PACKAGE) -> Provider:
    """Import and check one provider folder; any failure is a SpecError naming the folder."""
    try:
        return _load(f"{package}.{key}", key)
    except SpecError:
        raise
    except Exception as exc:  # an import error, a typo at module level: say which folder
        raise SpecError(
            f"provider folder {key!r} does not load: {type(exc).__name__}: {exc}"
        ) from exc


def provider_folders(package: str = _PACKAGE) -> list[str]:
    """The folder names under `package` that are providers: those with a spec.py.

    `_name` is shared code and skipped; a folder with Python files but no spec.py is a
    mistake and fails; one with none (a `__pycache__` left by a deleted provider) is ignored."""
    keys = []
    for root in importlib.import_module(package).__path__:
        for folder in sorted(Path(root).iterdir()):
            if not folder.is_dir() or folder.name.startswith(("_", ".")):
                continue
            if (folder / "spec.py").is_file():
                keys.append(folder.name)
            elif any(folder.glob("*.py")):
                raise SpecError(
                    f"provider folder {folder.name!r} has no spec.py (shared modules are "
                    "named with a leading underscore)"
                )
    return keys


def catalog_order(spec: ConnectorSpec) -> tuple[int, str, str]:
    """Sort key of the catalog: category in vocabulary order, then name, then key."""
    return (_CATEGORY_RANK.get(spec.category, len(_CATEGORY_RANK)), spec.name.casefold(), spec.key)


def load_providers(package: str = _PACKAGE) -> dict[str, Provider]:
    """Discover and load every provider folder under `package`, in catalog order."""
    loaded = [load_provider(key, package) for key in provider_folders(package)]
    return {p.key: p for p in sorted(loaded, key=lambda p: catalog_order(p.spec))}


@cache
def providers() -> dict[str, Provider]:
    """All providers, keyed and in catalog order (discovered and loaded once per process)."""
    return load_providers()


def get_provider(key: str) -> Provider:
    """The provider registered under `key`; KeyError when there is none."""
    try:
        return providers()[key]
    except KeyError:
        raise KeyError(f"no connector {key!r}") from None

"""The dashboard's API client against the OpenAPI document the api serves, so the two cannot
drift: each client method is called (its request caught at the network boundary), matched to
the operation that serves that method and path, and its TypedDicts — answer and request body
— are compared with that operation's schemas: the same keys, the same Literal values as the
enums, compatible scalar types, nullable where the api may send null.

The document is built by the api's own factory (`backend.asgi.create_app`) in the backend's
venv (.venv): the dashboard's venv has no Litestar, and the dashboard imports nothing from
backend/. The fake answers the dashboard's unit tests use are held to the same TypedDicts.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import re
import secrets
import subprocess
import types
import typing
from pathlib import Path
from typing import Any, Literal, NotRequired, Required, TypeVar, Union, get_args, get_origin

import httpx
import pytest
from dashboard_testkit import BASE_URL
from test_states import CONNECTORS, INTEGRATION, TWILIO

from dashboard import client as client_module
from dashboard.client import SwitchboardClient

ROOT = Path(__file__).resolve().parents[2]
BACKEND_PYTHON = ROOT / ".venv" / "bin" / "python"

DUMP_DOCUMENT = """
import json, sys
from litestar.serialization import encode_json
from backend.asgi import create_app
sys.stdout.write(encode_json(create_app().app.openapi_schema.to_schema()).decode())
"""

# Methods that answer one member of the api's answer rather than all of it.
UNWRAPPED = {
    "list_connectors": "items",
    "replay_event": "event",
    "replay_failed_events": "replayed",
    "list_mappings": "items",
    "save_mapping": "mapping",
    "restore_mapping_version": "mapping",
    "import_mappings": "items",
}
# Not REST operations of the document: the service probes answer free-form dicts.
UNDOCUMENTED_SHAPES = {"health", "ready"}
SCALARS = {str: {"string"}, int: {"integer"}, float: {"number", "integer"}, bool: {"boolean"}}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    if not BACKEND_PYTHON.exists():
        pytest.fail(f"{BACKEND_PYTHON} is missing: `make deps` builds the backend's venv")
    env = dict(os.environ)
    env.setdefault("SWITCHBOARD_MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    done = subprocess.run(
        [str(BACKEND_PYTHON), "-c", DUMP_DOCUMENT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


# -- calling every client method -----------------------------------------------------------------


def client_methods() -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(SwitchboardClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in {"aclose", "__aenter__", "__aexit__"}
    )


def _argument(name: str, annotation: Any) -> Any:
    """A plausible value for one required parameter: ids as path segments, bodies empty."""
    if name == "version" or annotation is int:
        return 1
    if get_origin(annotation) is list:
        return []
    if annotation is str or annotation == str | None:
        return f"{name}-1"
    return {}


async def captured_request(method_name: str) -> httpx.Request:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"items": [], "event": {}, "replayed": 0, "mapping": {}}
        return httpx.Response(200, json=body)

    api = SwitchboardClient("sb_x", base_url=BASE_URL, transport=httpx.MockTransport(answer))
    method = getattr(api, method_name)
    hints = typing.get_type_hints(getattr(SwitchboardClient, method_name))
    args = [
        _argument(p.name, hints.get(p.name, p.annotation))
        for p in inspect.signature(method).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
    ]
    async with api:
        await method(*args)
    assert len(seen) == 1, f"{method_name} sent {len(seen)} requests"
    return seen[0]


def find_operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The operation serving (method, path); a literal segment beats a template."""
    best: tuple[int, dict[str, Any]] | None = None
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        operation = item.get(method.lower())
        if operation is None or not re.match(pattern, path):
            continue
        templated = template.count("{")
        if best is None or templated < best[0]:
            best = (templated, operation)
    return None if best is None else best[1]


# -- comparing a type with a schema ----------------------------------------------------------------


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def split_null(document: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the non-null schema, whether null is allowed)."""
    schema = resolve(document, schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [resolve(document, s) for s in schema[key]]
            rest = [s for s in options if s.get("type") != "null"]
            if len(rest) == 1:
                return rest[0], len(rest) < len(options)
    return schema, False


def strip_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (Required, NotRequired):
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        nullable = len(args) < len(get_args(tp))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), nullable  # noqa: UP007
    return tp, False


def literal_values(tp: Any) -> set[Any] | None:
    if get_origin(tp) is Literal:
        values: set[Any] = set()
        for arg in get_args(tp):
            values |= literal_values(arg) or {arg}
        return values
    if get_origin(tp) in (Union, types.UnionType):
        parts = [literal_values(a) for a in get_args(tp)]
        if all(p is not None for p in parts):
            return set().union(*parts)  # type: ignore[arg-type]
    return None


def typed_dict_hints(tp: Any) -> tuple[type, dict[str, Any]] | None:
    """A TypedDict's fields, with a generic one's parameters filled in (Page[Event])."""
    origin = get_origin(tp) or tp
    if not typing.is_typeddict(origin):
        return None
    hints = typing.get_type_hints(origin, vars(client_module), include_extras=True)
    params: tuple[TypeVar, ...] = getattr(origin, "__parameters__", ())
    if params and get_args(tp):
        mapping = dict(zip(params, get_args(tp), strict=True))
        hints = {k: _substitute(v, mapping) for k, v in hints.items()}
    return origin, hints


def _substitute(tp: Any, mapping: dict[Any, Any]) -> Any:
    if tp in mapping:
        return mapping[tp]
    if get_origin(tp) is list:
        return list[_substitute(get_args(tp)[0], mapping)]  # type: ignore[misc]
    return tp


def compare(
    document: dict[str, Any], tp: Any, schema: dict[str, Any], at: str, *, body: bool = False
) -> list[str]:
    """What differs between the client's type `tp` and the api's `schema`, as sentences
    (`body`: a request the client sends, which need never use null where the api allows it)."""
    schema, schema_nullable = split_null(document, schema)
    tp, type_nullable = strip_optional(tp)
    problems: list[str] = []
    if schema_nullable and not type_nullable and tp is not Any and not body:
        problems.append(f"{at}: the api may send null; the client's type does not allow it")
    if tp is Any or not schema:
        return problems
    literals = literal_values(tp)
    if literals is not None:
        enum = set(schema.get("enum") or [])
        if literals != enum:
            problems.append(
                f"{at}: client values {sorted(map(str, literals))} "
                f"!= api enum {sorted(map(str, enum))}"
            )
        return problems
    found = typed_dict_hints(tp)
    if found is not None:
        _, hints = found
        properties = schema.get("properties")
        if properties is None:
            return [*problems, f"{at}: the client expects an object with fields, the api {schema}"]
        missing = sorted(set(properties) - set(hints))
        extra = sorted(set(hints) - set(properties))
        if missing:
            problems.append(f"{at}: the api sends {missing}, which the client's type lacks")
        if extra:
            problems.append(f"{at}: the client expects {extra}, which the api never sends")
        for key in sorted(set(hints) & set(properties)):
            problems += compare(document, hints[key], properties[key], f"{at}.{key}", body=body)
        return problems
    origin = get_origin(tp)
    if origin is list:
        if schema.get("type") != "array":
            return [*problems, f"{at}: the client expects a list, the api sends {schema}"]
        item = get_args(tp)[0]
        return problems + compare(document, item, schema.get("items", {}), at + "[]", body=body)
    if origin is dict or tp is dict:
        if schema.get("type") not in (None, "object"):
            problems.append(f"{at}: the client expects an object, the api sends {schema}")
        values = schema.get("additionalProperties")
        if origin is dict and isinstance(values, dict) and values:
            problems += compare(document, get_args(tp)[1], values, at + "{}", body=body)
        return problems
    if tp in SCALARS and schema.get("type") not in SCALARS[tp]:
        problems.append(f"{at}: the client expects {tp.__name__}, the api sends {schema}")
    return problems


def success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status in ("200", "201", "202"):
        answer = operation.get("responses", {}).get(status)
        if answer is not None:
            content = answer.get("content") or {}
            json_body = content.get("application/json")
            return None if json_body is None else json_body["schema"]
    return None


# -- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method_name", client_methods())
async def test_client_method_matches_its_operation(
    document: dict[str, Any], method_name: str
) -> None:
    request = await captured_request(method_name)
    if method_name in UNDOCUMENTED_SHAPES:
        assert request.url.path in {"/health", "/ready"}
        return
    operation = find_operation(document, request.method, request.url.path)
    assert operation is not None, (
        f"{method_name} sends {request.method} {request.url.path}; no operation of the "
        "served OpenAPI document answers it"
    )
    returns = typing.get_type_hints(getattr(SwitchboardClient, method_name))["return"]
    schema = success_schema(operation)
    if returns is type(None):
        assert schema is None, f"{method_name} drops an answer the api sends: {schema}"
        return
    assert schema is not None, f"{method_name} expects an answer; the api documents none"
    member = UNWRAPPED.get(method_name)
    if member is not None:
        properties = resolve(document, schema).get("properties", {})
        assert member in properties, f"{method_name} reads '{member}', the api has {properties}"
        schema = properties[member]
    problems = compare(document, returns, schema, operation["operationId"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("method_name", "body_type"),
    [
        ("create_integration", "IntegrationCreate"),
        ("trigger_sync", "SyncRequest"),
        ("put_schedule", "SyncScheduleUpdate"),
        ("simulate_webhooks", "SimulateRequest"),
        ("set_fault", "FaultSet"),
    ],
)
async def test_request_bodies_match_the_api(
    document: dict[str, Any], method_name: str, body_type: str
) -> None:
    request = await captured_request(method_name)
    operation = find_operation(document, request.method, request.url.path)
    assert operation is not None, f"no operation answers {request.method} {request.url.path}"
    schema = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    body = getattr(client_module, body_type)
    problems = compare(document, body, split_null(document, schema)[0], body_type, body=True)
    required = set(split_null(document, schema)[0].get("required") or [])
    if required_keys(body) != required:
        problems.append(
            f"{body_type}: the client requires {sorted(required_keys(body))}, "
            f"the api {sorted(required)}"
        )
    assert not problems, "\n".join(problems)


def required_keys(body: Any) -> set[str]:
    """A TypedDict's required keys, read from its hints: under `from __future__ import
    annotations` Python 3.11 takes NotRequired[...] keys for required in __required_keys__."""
    hints = typing.get_type_hints(body, vars(client_module), include_extras=True)
    total = getattr(body, "__total__", True)
    return {
        key
        for key, hint in hints.items()
        if get_origin(hint) is Required or (total and get_origin(hint) is not NotRequired)
    }


def check_value(tp: Any, value: Any, at: str) -> list[str]:
    """A fake answer against the client's type: Literal values and known keys only."""
    tp, nullable = strip_optional(tp)
    if value is None:
        return [] if nullable or tp is Any else [f"{at}: null where the api never sends it"]
    literals = literal_values(tp)
    if literals is not None:
        return [] if value in literals else [f"{at}: {value!r} is not one of {sorted(literals)}"]
    found = typed_dict_hints(tp)
    if found is not None and isinstance(value, dict):
        _, hints = found
        problems = [f"{at}.{k}: not a field the api sends" for k in value if k not in hints]
        for key, item in value.items():
            if key in hints:
                problems += check_value(hints[key], item, f"{at}.{key}")
        return problems
    if get_origin(tp) is list and isinstance(value, list):
        return [p for i, v in enumerate(value) for p in check_value(get_args(tp)[0], v, at)]
    return []


def test_the_unit_tests_fake_answers_are_answers_the_api_can_give() -> None:
    """The fakes in test_states.py answer only what the api's schemas allow (an integration
    health of "ok" once passed there, though the api never emits it)."""
    problems = check_value(client_module.Integration, INTEGRATION, "INTEGRATION")
    problems += check_value(client_module.ConnectorDetail, TWILIO, "TWILIO")
    problems += check_value(list[client_module.Connector], CONNECTORS, "CONNECTORS")
    assert not problems, "\n".join(problems)

"""Checks of a connector's streams at registry load, so a stream nobody can read, a reader
that does not exist or a list call that cannot page fails the import, not a sync at 3 am."""

from __future__ import annotations

import inspect
from types import ModuleType

from backend.connectors.paths import is_well_formed
from backend.connectors.spec import ConnectorSpec, SpecError, StreamSpec
from backend.connectors.streams import Incremental, ListCall, ReadPage

# What each paging kind needs filled in.
_PAGING_NEEDS: dict[str, tuple[str, ...]] = {
    "token": ("param", "next_path"),
    "last_id": ("param", "has_more_path"),
    "link": (),
    "next_url": ("next_path",),
    "page_number": ("param", "total_pages_path"),
    "none": (),
}


def _call_problems(call: ListCall, where: str) -> list[str]:
    problems = []
    if not call.path or "://" in call.path or any(c.isspace() for c in call.path):
        problems.append(f"{where}.path must be a path on the API base")
    if call.records_path and not is_well_formed(call.records_path):
        problems.append(f"{where}.records_path is not a dotted path")
    if call.page_size <= 0:
        problems.append(f"{where}.page_size must be positive")
    paging = call.paging
    for name in _PAGING_NEEDS[paging.kind]:
        if not getattr(paging, name):
            problems.append(f"{where}.paging ({paging.kind}) needs {name}")
    if paging.in_body and call.body is None:
        problems.append(f"{where}.paging.in_body needs a body")
    if call.method == "GET" and call.body is not None:
        problems.append(f"{where}: a GET call has no body")
    return problems


def _incremental_problems(inc: Incremental, where: str, declared: bool) -> list[str]:
    """`declared`: the generic reader runs it, so what it reads must be named (a named
    reader knows its own)."""
    problems = []
    if not declared:
        return [f"{where}.call needs a declared list"] if inc.call is not None else []
    if inc.kind == "watermark" and not (inc.field and is_well_formed(inc.field)):
        problems.append(f"{where}: a watermark needs field, a dotted path")
    if inc.kind == "token" and not (inc.token_path and inc.token_param):
        problems.append(f"{where}: a token needs token_path and token_param")
    if inc.lookback_seconds < 0:
        problems.append(f"{where}.lookback_seconds must not be negative")
    if inc.call is not None:
        problems.extend(_call_problems(inc.call, f"{where}.call"))
    return problems


def stream_problems(stream: StreamSpec, module: ModuleType | None) -> list[str]:
    """What is wrong with one stream declaration (empty when nothing is)."""
    where = f"stream {stream.name!r}"
    ways = [w for w in (stream.list, stream.reader, stream.unavailable) if w]
    if len(ways) != 1:
        return [f"{where} needs exactly one of list, reader or unavailable"]
    problems = []
    if stream.list is not None:
        problems.extend(_call_problems(stream.list, f"{where}.list"))
    if stream.incremental is not None:
        if stream.unavailable:
            problems.append(f"{where}: incremental needs list or reader")
        problems.extend(
            _incremental_problems(
                stream.incremental, f"{where}.incremental", stream.list is not None
            )
        )
    if stream.reader:
        found = getattr(module, stream.reader, None) if module is not None else None
        if module is None:
            problems.append(f"{where} names reader {stream.reader!r} but there is no streams.py")
        elif not inspect.iscoroutinefunction(found):
            problems.append(f"streams.py must define {stream.reader!r} as an async function")
    return problems


def bind_readers(spec: ConnectorSpec, module: ModuleType | None) -> dict[str, ReadPage]:
    """The named readers of `spec`'s streams from the folder's `streams.py`, after checking
    every stream; a SpecError names each problem."""
    problems: list[str] = []
    names = [s.name for s in spec.streams]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate stream names: {', '.join(duplicates)}")
    for stream in spec.streams:
        problems.extend(stream_problems(stream, module))
    if problems:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(problems))
    return {s.reader: getattr(module, s.reader) for s in spec.streams if s.reader}

"""Stream declarations are checked at registry load: a stream nobody can read, a reader
that is missing or not async, or a list call that cannot page fails the import."""

from __future__ import annotations

import types

import pytest

from backend.connectors.registry import providers
from backend.connectors.spec import SpecError, StreamSpec
from backend.connectors.stream_checks import bind_readers, stream_problems
from backend.connectors.streams import Incremental, ListCall, Paging

_CALL = ListCall(path="/things", records_path="data")


def _module(**functions: object) -> types.ModuleType:
    module = types.ModuleType("streams")
    for name, value in functions.items():
        setattr(module, name, value)
    return module


async def _read(adapter: object, stream: object, request: object) -> object:
    raise AssertionError("not called")


def test_two_ways_to_read_are_refused() -> None:
    stream = StreamSpec(name="s", description="d", list=_CALL, unavailable="no history")
    assert stream_problems(stream, None) == [
        "stream 's' needs exactly one of list, reader or unavailable"
    ]


def test_a_named_reader_must_exist_and_be_async() -> None:
    stream = StreamSpec(name="s", description="d", reader="read_s")
    assert "no streams.py" in stream_problems(stream, None)[0]
    assert "async function" in stream_problems(stream, _module(read_s=lambda *a: None))[0]
    assert stream_problems(stream, _module(read_s=_read)) == []


def test_paging_needs_its_fields_and_a_positive_page_size() -> None:
    bad = ListCall(path="/x", paging=Paging(kind="last_id", param="starting_after"), page_size=0)
    problems = stream_problems(StreamSpec(name="s", description="d", list=bad), None)
    assert any("page_size must be positive" in p for p in problems)
    assert any("needs has_more_path" in p for p in problems)


def test_incremental_needs_a_way_to_read_and_a_field() -> None:
    unavailable = StreamSpec(
        name="s", description="d", unavailable="x", incremental=Incremental(kind="watermark")
    )
    assert any("incremental needs list or reader" in p for p in stream_problems(unavailable, None))
    no_field = StreamSpec(
        name="s", description="d", list=_CALL, incremental=Incremental(kind="watermark")
    )
    assert any("watermark needs field" in p for p in stream_problems(no_field, None))


def test_bind_readers_names_the_connector_and_every_problem() -> None:
    spec = next(iter(providers().values())).spec
    broken = type(spec)(
        **{
            **{f: getattr(spec, f) for f in spec.__struct_fields__},
            "streams": (
                StreamSpec(name="a", description="d", reader="missing"),
                StreamSpec(name="a", description="d", list=_CALL),
            ),
        }
    )
    with pytest.raises(SpecError, match="duplicate stream names: a") as raised:
        bind_readers(broken, _module())
    assert "'missing'" in str(raised.value)


def test_declared_streams_of_every_provider_pass() -> None:
    for provider in providers().values():
        for stream in provider.spec.streams:
            assert stream.reader == "" or stream.reader in provider.readers


def test_a_stream_with_no_way_to_read_is_refused() -> None:
    stream = StreamSpec(name="s", description="d")
    assert stream_problems(stream, None) == [
        "stream 's' needs exactly one of list, reader or unavailable"
    ]

"""The generic stream reader: paging arithmetic and its safety rules against small
httpx.MockTransport providers, then every declared stream of every provider read to the
end from its simulator (full, incremental from the full run's cursor, backfill)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend.connectors.base import ProviderError
from backend.connectors.paths import dig_str
from backend.connectors.registry import Provider, providers
from backend.connectors.spec import StreamSpec
from backend.connectors.stream_reader import format_time, parse_time, reader_for
from backend.connectors.streams import (
    CursorExpired,
    Incremental,
    ListCall,
    Page,
    PageRequest,
    Paging,
)
from tests.connectors.helpers import adapter_for

STRIPE = providers()["stripe"]
CONFIG: dict[str, dict[str, Any]] = {
    "github": {"repository": "octocat/Hello-World"},
    "slack": {"channel": "C0123ABCDEF"},
}


async def _read_all(
    provider: Provider,
    stream: StreamSpec,
    request: PageRequest,
    transport: httpx.AsyncBaseTransport,
) -> tuple[list[Page], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> None:
        seen.append(request)

    pages: list[Page] = []
    config = {**provider.simulator.sample_config, **CONFIG.get(provider.key, {})}
    async with adapter_for(
        provider, provider.spec.api_base_url, transport=transport, config=config
    ) as adapter:
        adapter.ctx.http.event_hooks["request"] = [_async(record)]
        position = None
        read = reader_for(provider, stream)
        for _ in range(100):
            page = await read(
                adapter,
                stream,
                PageRequest(
                    mode=request.mode,
                    cursor=request.cursor,
                    position=position,
                    since=request.since,
                    until=request.until,
                ),
            )
            pages.append(page)
            position = page.position
            if position is None:
                return pages, seen
    raise AssertionError("the reader never reached a last page")


def _async(function: Any) -> Any:
    async def hook(value: Any) -> None:
        function(value)

    return hook


DECLARED = [
    (provider.key, stream.name)
    for provider in providers().values()
    for stream in provider.spec.streams
    if not stream.unavailable
]


@pytest.mark.parametrize(("key", "name"), DECLARED)
async def test_every_declared_stream_reads_its_simulator_to_the_end(key: str, name: str) -> None:
    provider = providers()[key]
    stream = next(s for s in provider.spec.streams if s.name == name)
    pages, sent = await _read_all(
        provider, stream, PageRequest(mode="full"), provider.simulator.transport()
    )
    ids = [dig_str(r, stream.id_path) for p in pages for r in p.records]
    assert ids and all(ids), "records with their ids"
    assert len(ids) == len(set(ids)), "no record twice across pages"
    if stream.list is not None:
        assert len(pages) > 1 or len(ids) < stream.list.page_size
    assert all(str(r.url).startswith(provider.spec.api_base_url) for r in sent)
    inc = stream.incremental
    if inc is not None:
        cursor = pages[-1].cursor
        assert cursor, "a full run leaves the cursor the next incremental run starts from"
        newer, _ = await _read_all(
            provider,
            stream,
            PageRequest(mode="incremental", cursor=cursor),
            provider.simulator.transport(),
        )
        again = [dig_str(r, stream.id_path) for p in newer for r in p.records]
        if inc.kind == "watermark" and not stream.reader:
            assert parse_time(cursor["since"]) is not None
            # Only what changed since the watermark (look-back included), never everything.
            assert 0 < len(again) < len(ids)
        else:  # a token, or a named reader's own cursor
            assert len(again) < len(ids)
    if stream.backfill:
        since = dt.datetime(2025, 11, 23, tzinfo=dt.UTC)
        window, _ = await _read_all(
            provider,
            stream,
            PageRequest(mode="backfill", since=since),
            provider.simulator.transport(),
        )
        assert all(p.cursor is None for p in window), "a backfill never moves the cursor"
        assert 0 < sum(len(p.records) for p in window) <= len(ids)


def _stripe_stream(**changes: Any) -> StreamSpec:
    customers = next(s for s in STRIPE.spec.streams if s.name == "customers")
    return StreamSpec(
        **{**{f: getattr(customers, f) for f in customers.__struct_fields__}, **changes}
    )


async def test_a_next_link_to_another_host_is_never_followed() -> None:
    calls: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        return httpx.Response(
            200,
            json=[{"id": 1}],
            headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'},
        )

    stream = _stripe_stream(
        list=ListCall(path="/v1/things", paging=Paging(kind="link")), incremental=None
    )
    with pytest.raises(ProviderError, match="leaves its API base"):
        await _read_all(STRIPE, stream, PageRequest(mode="full"), httpx.MockTransport(answer))
    assert [u.host for u in calls] == ["api.stripe.com"]


async def test_next_url_pages_stay_on_the_base_and_carry_their_own_query() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("Page", "0"))
        following = f"/v1/things?Page={page + 1}&PageSize=2" if page < 2 else None
        return httpx.Response(
            200, json={"items": [{"id": f"{page}a"}, {"id": f"{page}b"}], "next": following}
        )

    stream = _stripe_stream(
        list=ListCall(
            path="/v1/things",
            records_path="items",
            paging=Paging(kind="next_url", next_path="next"),
            page_size_param="PageSize",
            page_size=2,
        ),
        incremental=None,
    )
    pages, sent = await _read_all(
        STRIPE, stream, PageRequest(mode="full"), httpx.MockTransport(answer)
    )
    assert [len(p.records) for p in pages] == [2, 2, 2]
    assert [r.url.params.get("Page") for r in sent] == [None, "1", "2"]


async def test_a_304_answers_an_unchanged_stream_with_no_records_and_keeps_the_cursor() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == 'W/"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200, json=[{"id": "1", "updated": "2025-01-01T00:00:00Z"}], headers={"ETag": 'W/"v1"'}
        )

    stream = _stripe_stream(
        list=ListCall(path="/v1/things", params={"since": "{since}"}),
        incremental=Incremental(kind="watermark", field="updated", etag=True),
    )
    first, _ = await _read_all(
        STRIPE,
        stream,
        PageRequest(mode="incremental", cursor={"since": "2024-12-01T00:00:00Z"}),
        httpx.MockTransport(answer),
    )
    cursor = first[-1].cursor
    assert cursor == {"since": "2025-01-01T00:00:00+00:00", "etag": 'W/"v1"'}
    second, sent = await _read_all(
        STRIPE, stream, PageRequest(mode="incremental", cursor=cursor), httpx.MockTransport(answer)
    )
    assert second == [Page(records=[])]
    assert sent[0].headers["if-none-match"] == 'W/"v1"'
    assert sent[0].url.params["since"] == "2025-01-01T00:00:00Z"


async def test_an_expired_sync_token_raises_cursor_expired() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("syncToken") == "old":
            return httpx.Response(410, json={"error": {"message": "Sync token is no longer valid"}})
        return httpx.Response(200, json={"items": [{"id": "e1"}], "nextSyncToken": "fresh"})

    stream = _stripe_stream(
        list=ListCall(path="/v1/events", records_path="items"),
        incremental=Incremental(
            kind="token", token_path="nextSyncToken", token_param="syncToken", reset_statuses=(410,)
        ),
    )
    full, _ = await _read_all(STRIPE, stream, PageRequest(mode="full"), httpx.MockTransport(answer))
    assert full[-1].cursor == {"token": "fresh"}
    with pytest.raises(CursorExpired):
        await _read_all(
            STRIPE,
            stream,
            PageRequest(mode="incremental", cursor={"token": "old"}),
            httpx.MockTransport(answer),
        )


async def test_params_naming_a_missing_bound_are_left_out() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": [], "has_more": False})

    stream = _stripe_stream()
    await _read_all(STRIPE, stream, PageRequest(mode="full"), httpx.MockTransport(answer))
    await _read_all(
        STRIPE,
        stream,
        PageRequest(mode="backfill", since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
        httpx.MockTransport(answer),
    )
    assert dict(sent[0].url.params) == {"limit": "100"}
    assert dict(sent[1].url.params) == {"created[gte]": "1735689600", "limit": "100"}


async def test_a_path_config_value_cannot_climb_out_of_the_declared_path() -> None:
    github = providers()["github"]
    issues = next(s for s in github.spec.streams if s.name == "issues")
    async with adapter_for(
        github,
        github.spec.api_base_url,
        transport=github.simulator.transport(),
        config={"repository": "../../user"},
    ) as adapter:
        with pytest.raises(ProviderError, match="not a valid path value"):
            await reader_for(github, issues)(adapter, issues, PageRequest(mode="full"))


def test_time_formats() -> None:
    moment = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert format_time(moment, "epoch") == "1741064767"
    assert format_time(moment, "epoch_ms") == "1741064767000"
    assert format_time(moment, "jql") == "2025/03/04 05:06"
    assert format_time(moment, "date") == "2025-03-04"
    assert parse_time("1512085950.000216") == dt.datetime(
        2017, 11, 30, 23, 52, 30, 216, tzinfo=dt.UTC
    )
    assert parse_time("Thu, 30 Jul 2015 20:12:31 +0000") == dt.datetime(
        2015, 7, 30, 20, 12, 31, tzinfo=dt.UTC
    )
    assert parse_time(1741064767000) == moment.replace(microsecond=0) and parse_time("nope") is None


async def test_an_answer_of_the_wrong_shape_fails_instead_of_reading_as_empty() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"unexpected": True}, "has_more": False})

    with pytest.raises(ProviderError, match="no records list at data"):
        await _read_all(
            STRIPE, _stripe_stream(), PageRequest(mode="full"), httpx.MockTransport(answer)
        )

    def truncated(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"data": [{"id": "cus_1"')

    with pytest.raises(ProviderError, match="not JSON"):
        await _read_all(
            STRIPE, _stripe_stream(), PageRequest(mode="full"), httpx.MockTransport(truncated)
        )

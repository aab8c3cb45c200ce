"""PayPal's transactions reader: 31-day windows, page paging inside each, the watermark
capped at the data's last refresh, over real HTTP against the simulator (which refuses a
window over 31 days or older than three years, as PayPal does); and every search request it
sends checked by Prism against PayPal's own Transaction Search description.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from provider_server import ProviderServer

from backend.connectors.providers.paypal import reporting
from backend.connectors.providers.paypal import streams as paypal_streams
from backend.connectors.registry import get_provider
from backend.connectors.stream_reader import reader_for
from backend.connectors.streams import Page, PageRequest, SyncMode
from tests.connectors.helpers import adapter_for
from tests.contract.adapter_calls import RecordingTransport
from tests.contract.descriptions import undescribed_reason, write_test_copy
from tests.contract.prism import PrismServer, rejection

SEARCH = "/v1/reporting/transactions"
_NETWORK = httpx.AsyncHTTPTransport()


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    with ProviderServer(get_provider("paypal").simulator) as running:
        yield running


async def read_run(
    base_url: str,
    *,
    mode: SyncMode,
    cursor: dict[str, Any] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_pages: int = 1000,
) -> list[Page]:
    provider = get_provider("paypal")
    stream = provider.spec.streams[0]
    read = reader_for(provider, stream)
    pages: list[Page] = []
    async with adapter_for(provider, base_url, transport=transport) as adapter:
        position = None
        while len(pages) < max_pages:
            page = await read(adapter, stream, PageRequest(mode, cursor, position, since, until))
            pages.append(page)
            if page.position is None:
                break
            position = page.position
    return pages


def ids(pages: list[Page]) -> list[str]:
    return [r["transaction_info"]["transaction_id"] for p in pages for r in p.records]


def expected(since: dt.datetime, until: dt.datetime) -> list[str]:
    """The simulator's transactions in [since, until), as far as its data reaches."""
    refreshed = (dt.datetime.now(dt.UTC) - reporting.LAG).replace(minute=0, second=0)
    numbers = reporting._numbers(since, min(until, refreshed))
    return [reporting.transaction_id(n) for n in numbers]


def searches(recorder: RecordingTransport) -> list[httpx.URL]:
    return [e.request.url for e in recorder.exchanges if e.request.url.path == SEARCH]


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_full_read_walks_three_years_in_windows_of_at_most_31_days(
    server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paypal_streams, "PAGE_SIZE", 15)
    recorder = RecordingTransport(lambda request: _NETWORK)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pages = await read_run(server.url, mode="full", transport=recorder)

    urls = searches(recorder)
    windows = sorted({(u.params["start_date"], u.params["end_date"]) for u in urls})
    bounds = [(_parse(a), _parse(b)) for a, b in windows]
    assert all(b - a <= dt.timedelta(days=31) for a, b in bounds)
    assert all(left[1] == right[0] for left, right in itertools.pairwise(bounds))
    first, last = bounds[0][0], bounds[-1][1]
    assert started - last < dt.timedelta(minutes=1)  # up to now
    assert first == last - paypal_streams.HISTORY
    assert len(windows) == math.ceil(paypal_streams.HISTORY / paypal_streams.WINDOW)
    # ~20 transactions a window in pages of 15: windows page on.
    assert any(u.params["page"] == "2" for u in urls)
    assert {u.params["page_size"] for u in urls} == {"15"}
    assert all(r.response.status_code == 200 for r in recorder.exchanges)

    found = ids(pages)
    assert found == expected(first, last) and len(set(found)) == len(found)
    refreshed = (started - reporting.LAG).replace(minute=0, second=0)
    assert [p.cursor for p in pages if p.cursor] == [{"since": paypal_streams._format(refreshed)}]
    assert pages[-1].cursor is not None


async def test_incremental_reads_from_the_watermark_and_a_resumed_run_loses_nothing(
    server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paypal_streams, "PAGE_SIZE", 4)
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=40)
    cursor = {"since": paypal_streams._format(since)}
    pages = await read_run(server.url, mode="incremental", cursor=cursor)
    assert ids(pages) and ids(pages) == expected(since, dt.datetime.now(dt.UTC))

    # A worker killed after any page: a new one resumes from the committed position.
    provider = get_provider("paypal")
    stream = provider.spec.streams[0]
    for cut in (1, len(pages) // 2):
        async with adapter_for(provider, server.url) as adapter:
            rest: list[Page] = []
            position = pages[cut - 1].position
            while position is not None:
                request = PageRequest("incremental", cursor, position)
                rest.append(await paypal_streams.read_transactions(adapter, stream, request))
                position = rest[-1].position
        assert ids(pages[:cut]) + ids(rest) == ids(pages)


async def test_a_window_too_large_for_one_search_is_halved_and_nothing_is_lost(
    server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy merchant: more transactions in 31 days than one search may hold (PayPal's
    RESULTSET_TOO_LARGE, here at 8): the window is halved until it fits, later ones grow."""
    monkeypatch.setattr(reporting, "MAX_ITEMS", 8)
    recorder = RecordingTransport(lambda request: _NETWORK)
    until = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    since = until - dt.timedelta(days=62)
    pages = await read_run(
        server.url, mode="backfill", since=since, until=until, transport=recorder
    )

    refused = [e for e in recorder.exchanges if e.response.status_code == 400]
    assert refused and all(e.response.json()["name"] == "RESULTSET_TOO_LARGE" for e in refused)
    found = ids(pages)
    assert found == expected(since, until) and len(set(found)) == len(found)
    found_by = [e for e in recorder.exchanges if e.request.url.path == SEARCH]
    asked = [
        _parse(e.request.url.params["end_date"]) - _parse(e.request.url.params["start_date"])
        for e in found_by
    ]
    answered = [a for a, e in zip(asked, found_by, strict=True) if e.response.is_success]
    assert max(answered) < paypal_streams.WINDOW
    # After a window that fit, the next one is tried larger again.
    assert any(later > earlier for earlier, later in itertools.pairwise(asked))


async def test_backfill_reads_its_window_and_moves_no_cursor(server: ProviderServer) -> None:
    recorder = RecordingTransport(lambda request: _NETWORK)
    until = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    since = until - dt.timedelta(days=45)
    pages = await read_run(
        server.url, mode="backfill", since=since, until=until, transport=recorder
    )

    assert ids(pages) == expected(since, until)
    assert all(p.cursor is None for p in pages)
    starts = [u.params["start_date"] for u in searches(recorder)]
    assert starts == ["2026-04-17T00:00:00Z", "2026-05-18T00:00:00Z"]


async def test_a_run_whose_watermark_is_now_reads_nothing_and_keeps_the_cursor(
    server: ProviderServer,
) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    cursor = {"since": paypal_streams._format(future)}
    pages = await read_run(server.url, mode="incremental", cursor=cursor)
    assert ids(pages) == [] and len(pages) == 1
    assert pages[0].cursor is not None and _parse(pages[0].cursor["since"]) <= future


async def test_the_simulator_refuses_windows_paypal_refuses(server: ProviderServer) -> None:
    """What keeps the reader honest above: a longer window, or one older than three years,
    is PayPal's 400 INVALID_REQUEST."""
    provider = get_provider("paypal")
    async with adapter_for(provider, server.url) as adapter:
        for start, end in (
            ("2026-01-01T00:00:00Z", "2026-02-02T00:00:01Z"),
            ("2020-01-01T00:00:00Z", "2020-01-31T00:00:00Z"),
        ):
            answer = await adapter.ctx.http.get(
                f"{server.url}{SEARCH}",
                params={"start_date": start, "end_date": end},
                headers={"Authorization": "Bearer A21AAsimulated"},
            )
            assert answer.status_code == 400 and answer.json()["name"] == "INVALID_REQUEST"


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    with PrismServer(write_test_copy("paypal", tmp_path_factory.mktemp("paypal"))) as running:
        yield running


def _refused(response: httpx.Response) -> str | None:
    """`rejection`, for answers whose violations Prism cut short: it lists "Too many
    violations! [...]" (not JSON) when its own generated transaction breaks PayPal's
    patterns many times. A refused request is a 4xx either way."""
    header = response.headers.get("sl-violations", "")
    if not header.startswith("Too many violations!"):
        return rejection(response)
    request_side = '"location":["request"' in header
    refused = response.status_code >= 400 or request_side
    return f"{response.status_code}: {header[:500]}" if refused else None


@pytest.mark.parametrize("mode", ["full", "incremental", "backfill"])
async def test_search_requests_conform_to_paypals_description(
    prism: PrismServer, mode: SyncMode
) -> None:
    simulator = get_provider("paypal").simulator.transport()

    def route(request: httpx.Request) -> httpx.AsyncBaseTransport:
        # The token endpoint is no operation of any PayPal document (descriptions.py).
        return simulator if undescribed_reason("paypal", request.url) else _NETWORK

    recorder = RecordingTransport(route)
    now = dt.datetime.now(dt.UTC)
    await read_run(
        prism.url,
        mode=mode,
        cursor={"since": paypal_streams._format(now - dt.timedelta(days=70))},
        since=now - dt.timedelta(days=50) if mode == "backfill" else None,
        until=now - dt.timedelta(days=3) if mode == "backfill" else None,
        transport=recorder,
        max_pages=4,
    )
    checked = [e for e in recorder.exchanges if e.request.url.path == SEARCH]
    assert checked, "the reader searched"
    refused = [f"{e.request.url} -> {reason}" for e in checked if (reason := _refused(e.response))]
    assert not refused, "Prism refused requests:\n" + "\n".join(refused)


async def test_prism_refuses_a_search_without_its_dates(prism: PrismServer) -> None:
    """The control: Prism does check this operation's query (start/end dates required)."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(prism.url + SEARCH, headers={"Authorization": "Bearer x"})
    assert rejection(answer)

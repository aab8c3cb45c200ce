"""Gmail, Calendar and Drive stream readers: paging and cursor semantics over real HTTP
against each provider's simulator on a loopback port, and every request they send checked
by Prism against Google's own Discovery description.

Semantics under test (docs in each folder's streams.py): Gmail full = messages.list with
the profile's historyId as the cursor, incremental = history.list with 404 -> CursorExpired;
Calendar syncToken with 410 -> CursorExpired and cancelled events as deletions; Drive full =
files.list with the changes feed's start token as the cursor, incremental = changes.list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from provider_server import ProviderServer

from backend.connectors.base import ProviderError
from backend.connectors.paths import dig
from backend.connectors.providers.gmail import mailbox
from backend.connectors.providers.gmail import streams as gmail_streams
from backend.connectors.providers.google_calendar import listing as calendar_listing
from backend.connectors.providers.google_calendar import simulator as calendar_simulator
from backend.connectors.providers.google_calendar import streams as calendar_streams
from backend.connectors.providers.google_drive import listing as drive_listing
from backend.connectors.providers.google_drive import simulator as drive_simulator
from backend.connectors.providers.google_drive import streams as drive_streams
from backend.connectors.registry import Provider, get_provider
from backend.connectors.stream_reader import reader_for
from backend.connectors.streams import CursorExpired, Page, PageRequest, SyncMode
from backend.lib.vocab import FailureKind
from tests.connectors.helpers import adapter_for
from tests.contract.adapter_calls import RecordingTransport
from tests.contract.descriptions import write_test_copy
from tests.contract.prism import PrismServer, rejection


@pytest.fixture
def recorder() -> Iterator[RecordingTransport]:
    """Real HTTP, every exchange kept (to count and inspect the calls a run made)."""
    yield RecordingTransport(lambda request: _NETWORK)


_NETWORK = httpx.AsyncHTTPTransport()


async def read_run(
    key: str,
    stream_name: str,
    base_url: str,
    *,
    mode: SyncMode,
    cursor: dict[str, Any] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    config: dict[str, Any] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_pages: int = 100,
) -> list[Page]:
    """One run as the engine drives it: page after page, each from the last position."""
    provider = get_provider(key)
    stream = next(s for s in provider.spec.streams if s.name == stream_name)
    read = reader_for(provider, stream)
    pages: list[Page] = []
    async with adapter_for(provider, base_url, config=config, transport=transport) as adapter:
        position = None
        while len(pages) < max_pages:
            request = PageRequest(mode, cursor, position, since, until)
            page = await read(adapter, stream, request)
            pages.append(page)
            if page.position is None:
                break
            position = page.position
    return pages


def ids(pages: list[Page], path: str = "id") -> list[str]:
    return [str(dig(record, path)) for page in pages for record in page.records]


def deleted(pages: list[Page]) -> list[str]:
    return [external_id for page in pages for external_id in page.deleted]


@pytest.fixture
def server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ProviderServer]:
    # What earlier tests' actions created lives in the simulators' module state and would
    # show up in these listings: each test starts from the generated data alone.
    monkeypatch.setattr(drive_simulator, "UPLOADED_FILES", {})
    monkeypatch.setattr(calendar_simulator, "EVENTS", {})
    with ProviderServer(get_provider(request.param).simulator) as running:
        yield running


# -- Gmail -----------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_full_read_lists_every_message_and_ends_at_the_profile_history_id(
    server: ProviderServer, recorder: RecordingTransport
) -> None:
    pages = await read_run("gmail", "messages", server.url, mode="full", transport=recorder)

    assert [len(p.records) for p in pages] == [100, 100, 29]  # one of 230 is in the trash
    assert ids(pages) == [mailbox.message_id(i) for i in mailbox.listed()]
    assert all(r["payload"]["headers"] for p in pages for r in p.records)  # fetched, not stubs
    assert [p.cursor for p in pages] == [None, None, {"historyId": str(mailbox.HISTORY_ID)}]
    paths = [e.request.url.path for e in recorder.exchanges]
    assert paths.count("/gmail/v1/users/me/profile") == 1  # noted once, carried in position
    assert paths.count("/gmail/v1/users/me/messages") == 3
    gets = [e.request for e in recorder.exchanges if "/messages/" in e.request.url.path]
    assert len(gets) == len(mailbox.listed())
    assert {g.url.params["format"] for g in gets} == {"metadata"}


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_a_resumed_run_reads_on_from_the_committed_position(
    server: ProviderServer,
) -> None:
    provider = get_provider("gmail")
    stream = provider.spec.streams[0]
    async with adapter_for(provider, server.url) as adapter:
        first = await gmail_streams.read_messages(adapter, stream, PageRequest("full"))
    # A new worker, a new adapter: only the position survives.
    async with adapter_for(provider, server.url) as adapter:
        second = await gmail_streams.read_messages(
            adapter, stream, PageRequest("full", position=first.position)
        )
    assert first.position is not None and first.position["historyId"] == str(mailbox.HISTORY_ID)
    assert ids([first, second]) == [mailbox.message_id(i) for i in mailbox.listed()[:200]]


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_incremental_reads_history_added_relabelled_and_deleted(
    server: ProviderServer, recorder: RecordingTransport
) -> None:
    start = {"historyId": str(mailbox.HISTORY_ID - mailbox.CHANGES)}
    pages = await read_run(
        "gmail", "messages", server.url, mode="incremental", cursor=start, transport=recorder
    )

    changed = [k for k in range(1, mailbox.CHANGES + 1) if k % 3 != 2 and k != mailbox.TRASHED]
    assert sorted(ids(pages)) == sorted(mailbox.message_id(k) for k in changed)
    starred = [r for p in pages for r in p.records if "STARRED" in r["labelIds"]]
    assert {r["id"] for r in starred} == {mailbox.message_id(k) for k in changed if k % 3 == 1}
    # Three deleted, and one moved to the trash (which a full read would not list).
    assert len(deleted(pages)) == mailbox.CHANGES // 3 + 1
    assert mailbox.message_id(mailbox.TRASHED) in deleted(pages)
    assert pages[-1].cursor == {"historyId": str(mailbox.HISTORY_ID)}
    history = [e.request for e in recorder.exchanges if e.request.url.path.endswith("/history")]
    assert history[0].url.params["startHistoryId"] == start["historyId"]
    assert set(history[0].url.params.get_list("historyTypes")) == set(gmail_streams.HISTORY_TYPES)
    # Up to date: nothing more, the cursor stays.
    again = await read_run(
        "gmail", "messages", server.url, mode="incremental", cursor=pages[-1].cursor
    )
    assert ids(again) == [] and again[-1].cursor == pages[-1].cursor


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_an_expired_history_id_asks_for_a_full_read(server: ProviderServer) -> None:
    expired = {"historyId": str(mailbox.OLDEST_HISTORY_ID - 1)}
    with pytest.raises(CursorExpired):
        await read_run("gmail", "messages", server.url, mode="incremental", cursor=expired)
    # The engine forgets the cursor: the same mode with none is a full read.
    pages = await read_run("gmail", "messages", server.url, mode="incremental")
    assert len(ids(pages)) == len(mailbox.listed())


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_backfill_searches_the_window_and_moves_no_cursor(
    server: ProviderServer, recorder: RecordingTransport
) -> None:
    newest = mailbox.message(0)["internalDate"]
    until = dt.datetime.fromtimestamp(int(newest) / 1000, dt.UTC) - dt.timedelta(
        hours=9, minutes=30
    )
    since = until - dt.timedelta(hours=10)
    pages = await read_run(
        "gmail", "messages", server.url, mode="backfill", since=since, until=until,
        transport=recorder,
    )  # fmt: skip

    assert ids(pages) == [mailbox.message_id(i) for i in range(10, 20)]
    assert all(p.cursor is None for p in pages)
    paths = [e.request.url.path for e in recorder.exchanges]
    assert "/gmail/v1/users/me/profile" not in paths
    query = recorder.exchanges[0].request.url.params["q"]
    assert query == f"after:{int(since.timestamp())} before:{int(until.timestamp())}"


@pytest.mark.parametrize("server", ["gmail"], indirect=True)
async def test_gmail_labels_are_one_page(server: ProviderServer) -> None:
    pages = await read_run("gmail", "labels", server.url, mode="full")
    assert len(pages) == 1 and "INBOX" in ids(pages) and "Label_1" in ids(pages)


# -- Calendar --------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["google_calendar"], indirect=True)
async def test_calendar_full_pages_then_sync_token_reads_changes_and_cancellations(
    server: ProviderServer, recorder: RecordingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_streams, "PAGE_SIZE", 25)
    pages = await read_run("google_calendar", "events", server.url, mode="full", transport=recorder)
    assert [len(p.records) for p in pages] == [25, 25, 10]
    assert ids(pages) == [f"sim{i:05d}" for i in range(calendar_listing.GENERATED)]
    cursor = pages[-1].cursor
    assert cursor is not None and set(cursor) == {"syncToken"}
    assert all(p.cursor is None for p in pages[:-1])
    sent = [e.request.url for e in recorder.exchanges]
    assert {u.path for u in sent} == {"/calendars/primary/events"}
    assert all(u.params["singleEvents"] == "true" and "syncToken" not in u.params for u in sent)

    # What changed after the token: an event test mode created, one cancelled since.
    calendar = "test.user@example.com"
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)).isoformat()
    created = {**calendar_listing.generated_event(calendar, 0), "id": "simnew01", "updated": later}
    cancelled = {
        "kind": "calendar#event",
        "id": "simgone1",
        "status": "cancelled",
        "updated": later,
    }
    for event in (created, cancelled):
        monkeypatch.setitem(calendar_simulator.EVENTS, f"{calendar}/{event['id']}", event)
    recorder.exchanges.clear()
    changes = await read_run(
        "google_calendar", "events", server.url, mode="incremental", cursor=cursor,
        transport=recorder,
    )  # fmt: skip

    assert ids(changes) == ["simnew01", "simgone1"]
    stream = get_provider("google_calendar").spec.streams[1]
    gone = [
        r for p in changes for r in p.records if dig(r, stream.deleted_path) == stream.deleted_value
    ]
    assert [r["id"] for r in gone] == ["simgone1"]
    assert recorder.exchanges[0].request.url.params["syncToken"] == cursor["syncToken"]
    assert changes[-1].cursor is not None and changes[-1].cursor != cursor


@pytest.mark.parametrize("server", ["google_calendar"], indirect=True)
async def test_calendar_a_gone_sync_token_asks_for_a_full_read(server: ProviderServer) -> None:
    with pytest.raises(CursorExpired):
        await read_run(
            "google_calendar", "events", server.url, mode="incremental",
            cursor={"syncToken": "CPDAlvWDx70CEPDAlvWDx70CGAU="},
        )  # fmt: skip


@pytest.mark.parametrize("server", ["google_calendar"], indirect=True)
async def test_calendar_backfill_bounds_occurrences_on_the_configured_calendar(
    server: ProviderServer, recorder: RecordingTransport
) -> None:
    first = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    since, until = first + dt.timedelta(hours=26 * 5), first + dt.timedelta(hours=26 * 9)
    pages = await read_run(
        "google_calendar", "events", server.url, mode="backfill", since=since, until=until,
        config={"calendar_id": "team@group.calendar.google.com"}, transport=recorder,
    )  # fmt: skip

    assert ids(pages) == [f"sim{i:05d}" for i in range(5, 9)]
    assert pages[-1].cursor is None
    url = recorder.exchanges[0].request.url
    assert url.path == "/calendars/team@group.calendar.google.com/events"
    assert url.params["timeMin"] == "2026-11-07T19:00:00Z"


@pytest.mark.parametrize("server", ["google_calendar"], indirect=True)
async def test_calendar_list_syncs_by_token_as_declared_data(server: ProviderServer) -> None:
    pages = await read_run("google_calendar", "calendars", server.url, mode="full")
    assert ids(pages) == ["test.user@example.com"] and pages[-1].cursor is not None
    again = await read_run(
        "google_calendar", "calendars", server.url, mode="incremental", cursor=pages[-1].cursor
    )
    assert ids(again) == []
    with pytest.raises(CursorExpired):
        await read_run(
            "google_calendar", "calendars", server.url, mode="incremental",
            cursor={"token": "not-ours"},
        )  # fmt: skip


# -- Drive -----------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["google_drive"], indirect=True)
async def test_drive_full_lists_untrashed_files_and_ends_at_the_start_page_token(
    server: ProviderServer, recorder: RecordingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive_streams, "PAGE_SIZE", 50)
    pages = await read_run("google_drive", "files", server.url, mode="full", transport=recorder)

    expected = [
        drive_listing.file_id(i)
        for i in range(drive_listing.GENERATED)
        if i % drive_listing.TRASH_EVERY != drive_listing.TRASH_EVERY - 1
    ]
    assert ids(pages) == expected and len(pages) == 3
    assert pages[-1].cursor == {"pageToken": str(drive_listing.START_PAGE_TOKEN)}
    paths = [e.request.url.path for e in recorder.exchanges]
    assert paths == ["/changes/startPageToken", "/files", "/files", "/files"]
    listing = recorder.exchanges[1].request.url.params
    assert listing["q"] == "trashed = false" and listing["fields"].startswith("nextPageToken,")


@pytest.mark.parametrize("server", ["google_drive"], indirect=True)
async def test_drive_incremental_follows_the_changes_feed(
    server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive_streams, "PAGE_SIZE", 2)
    start = {"pageToken": str(drive_listing.START_PAGE_TOKEN - 5)}
    pages = await read_run("google_drive", "files", server.url, mode="incremental", cursor=start)

    assert len(pages) == 3  # five changes, two a page
    assert ids(pages) == [drive_listing.file_id(3), drive_listing.file_id(10)]
    assert pages[0].records[0]["name"] == "Notes 4 (edited)"
    # Trashed and removed files are deletions; the shared-drive change is no file.
    assert deleted(pages) == [drive_listing.file_id(7), "1simRemovedDriveFile0000000000"]
    assert pages[-1].cursor == {"pageToken": str(drive_listing.START_PAGE_TOKEN)}
    assert all(p.cursor is None for p in pages[:-1])


@pytest.mark.parametrize("server", ["google_drive"], indirect=True)
async def test_drive_backfill_bounds_modified_time(
    server: ProviderServer, recorder: RecordingTransport
) -> None:
    newest = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)
    since, until = newest - dt.timedelta(hours=7 * 30), newest - dt.timedelta(hours=7 * 20)
    pages = await read_run(
        "google_drive", "files", server.url, mode="backfill", since=since, until=until,
        transport=recorder,
    )  # fmt: skip

    expected = [drive_listing.file_id(i) for i in range(21, 31) if i != 24]  # 24 is trashed
    assert ids(pages) == expected and pages[-1].cursor is None
    assert [e.request.url.path for e in recorder.exchanges] == ["/files"]


# -- every request validated by Prism against Google's descriptions ---------------------------

# Streams whose calls no vendored description has: they cannot be checked here.
UNDESCRIBED = {
    ("gmail", "labels"): "users.labels.list is not among the operations the vendored Gmail "
    "description was trimmed to (tests/contract/provider_apis/README.md)",
}
RUNS: list[tuple[str, str, SyncMode, dict[str, Any] | None]] = [
    ("gmail", "messages", "full", None),
    ("gmail", "messages", "incremental", {"historyId": "4815162000"}),
    ("gmail", "messages", "backfill", None),
    ("google_calendar", "events", "full", None),
    ("google_calendar", "events", "incremental", {"syncToken": "CPDAlvWDx70CEPDAlvWDx70CGAU="}),
    ("google_calendar", "events", "backfill", None),
    ("google_calendar", "calendars", "full", None),
    ("google_calendar", "calendars", "incremental", {"token": "CPDAlvWDx70CEPDAlvWDx70CGAU="}),
    ("google_drive", "files", "full", None),
    ("google_drive", "files", "incremental", {"pageToken": "4242"}),
    ("google_drive", "files", "backfill", None),
]


def test_every_google_stream_is_checked_or_says_why() -> None:
    checked = {(key, stream) for key, stream, _, _ in RUNS}
    for key in ("gmail", "google_calendar", "google_drive"):
        for stream in get_provider(key).spec.streams:
            assert ((key, stream.name) in checked) != ((key, stream.name) in UNDESCRIBED)


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PrismServer]]:
    servers: dict[str, PrismServer] = {}
    try:
        for key in ("gmail", "google_calendar", "google_drive"):
            document = write_test_copy(key, tmp_path_factory.mktemp(key))
            servers[key] = PrismServer(document).start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def _prism_base(provider: Provider, prism: PrismServer) -> str:
    """Google's descriptions start every path with the API base's path (/calendar/v3)."""
    return prism.url + httpx.URL(provider.spec.api_base_url).path.rstrip("/")


@pytest.mark.parametrize(("key", "stream", "mode", "cursor"), RUNS)
async def test_stream_requests_conform_to_googles_description(
    prism: dict[str, PrismServer],
    key: str,
    stream: str,
    mode: SyncMode,
    cursor: dict[str, Any] | None,
) -> None:
    recorder = RecordingTransport(lambda request: _NETWORK)
    window: dict[str, Any] = {}
    if mode == "backfill":
        window = {
            "since": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "until": dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        }
    # Prism answers schema-shaped examples (a page token is "string"): two pages prove paging.
    await read_run(
        key, stream, _prism_base(get_provider(key), prism[key]), mode=mode, cursor=cursor,
        transport=recorder, max_pages=2, **window,
    )  # fmt: skip

    assert recorder.exchanges, "the reader called the provider"
    refused = [
        f"{e.request.method} {e.request.url} -> {reason}"
        for e in recorder.exchanges
        if (reason := rejection(e.response))
    ]
    assert not refused, "Prism refused requests:\n" + "\n".join(refused)


@pytest.mark.parametrize(
    ("key", "broken"),
    [
        ("gmail", "/gmail/v1/users/me/history?startHistoryId=1&maxResults=-1"),
        ("google_calendar", "/calendar/v3/calendars/primary/events?maxResults=0"),
        ("google_drive", "/drive/v3/changes?pageSize=2"),
    ],
)
async def test_prism_refuses_what_the_description_forbids(
    prism: dict[str, PrismServer], key: str, broken: str
) -> None:
    """The control: the checks above are live (page sizes below their minimum,
    changes.list without its required pageToken are refused)."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(prism[key].url + broken, headers={"Authorization": "Bearer x"})
    assert rejection(answer)


async def test_gmail_a_refused_message_fetch_fails_the_page_as_that_call_did() -> None:
    """The fetches of a page run side by side; the engine still sees the provider's own
    ProviderError (a 429 with its Retry-After), not a group of them."""
    simulator = get_provider("gmail").simulator

    def answer(request: httpx.Request) -> httpx.Response:
        asked = simulator.sim_request(request)
        if "/messages/" in asked.path:
            return simulator.to_httpx(simulator.inject("rate_limit", asked, 30), request)
        return simulator.to_httpx(simulator.handle(asked), request)

    provider = get_provider("gmail")
    async with adapter_for(
        provider, provider.spec.api_base_url, transport=httpx.MockTransport(answer)
    ) as adapter:
        with pytest.raises(ProviderError) as refused:
            await gmail_streams.read_messages(
                adapter, provider.spec.streams[0], PageRequest("full")
            )
    assert refused.value.kind == FailureKind.RATE_LIMITED and refused.value.retry_after == 30

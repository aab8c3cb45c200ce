"""Google Drive's `files` stream: a full read by files.list, incremental reads through the
changes feed.

A full run first takes the feed's current position (changes.getStartPageToken) and hands it
on as the cursor once the listing is done, so what changes while it lists is read again by
the next incremental run. changes.list pages from that token; its last page carries
`newStartPageToken`, the next cursor. A change that removes the file from the user's view
(`removed`, or the file trashed) is a deletion; the others carry the file as it is now.
Only untrashed files are listed, so a full run marks trashed ones deleted too.
Docs: https://developers.google.com/workspace/drive/api/guides/manage-changes
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from backend.connectors.base import Adapter, json_object
from backend.connectors.providers._google import items, required_str, rfc3339
from backend.connectors.streams import CursorExpired, Page, PageRequest

if TYPE_CHECKING:
    from backend.connectors.spec import StreamSpec

# files.list and changes.list answer at most 1000 per page.
PAGE_SIZE = 1000
# The metadata a record keeps (files.list answers only id, name and mimeType unless asked).
FILE_FIELDS = (
    "id,name,mimeType,parents,createdTime,modifiedTime,trashed,size,md5Checksum,"
    "webViewLink,driveId,version,owners(displayName,emailAddress)"
)


async def read_files(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    position = request.position or {}
    phase = position.get("phase")
    if phase == "changes" or (phase is None and request.mode == "incremental" and request.cursor):
        token = position.get("pageToken") or (request.cursor or {}).get("pageToken")
        if not isinstance(token, str) or not token:
            raise CursorExpired("the stored cursor has no changes pageToken")
        return await _changes_page(adapter, token)
    return await _files_page(adapter, request, position)


async def _files_page(adapter: Adapter, request: PageRequest, position: dict[str, Any]) -> Page:
    backfill = request.mode == "backfill"
    start = position.get("startPageToken")
    if start is None and not backfill:
        answer = json_object(await adapter.call("GET", "changes/startPageToken"))
        start = required_str(answer, "startPageToken")
    params: dict[str, Any] = {
        "pageSize": PAGE_SIZE,
        "q": _query(request.since, request.until) if backfill else "trashed = false",
        "fields": f"nextPageToken,files({FILE_FIELDS})",
    }
    if isinstance(token := position.get("pageToken"), str):
        params["pageToken"] = token
    body = json_object(await adapter.call("GET", "files", params=params))
    records = items(body, "files")
    next_token = body.get("nextPageToken")
    if isinstance(next_token, str) and next_token:
        return Page(
            records, position={"phase": "files", "startPageToken": start, "pageToken": next_token}
        )
    return Page(records, cursor=None if backfill else {"pageToken": start})


async def _changes_page(adapter: Adapter, token: str) -> Page:
    params = {
        "pageToken": token,
        "pageSize": PAGE_SIZE,
        "includeRemoved": "true",
        "fields": "nextPageToken,newStartPageToken,"
        f"changes(changeType,removed,fileId,file({FILE_FIELDS}))",
    }
    body = json_object(await adapter.call("GET", "changes", params=params))
    # Id -> the file as it is now, or None once removed; the feed's later entry wins.
    latest: dict[str, dict[str, Any] | None] = {}
    for change in items(body, "changes"):
        file_id, file = change.get("fileId"), change.get("file")
        # Shared-drive entries (changeType "drive") describe drives, not files.
        if change.get("changeType", "file") != "file" or not isinstance(file_id, str):
            continue
        gone = change.get("removed") is True or not isinstance(file, dict) or file.get("trashed")
        latest[file_id] = None if gone else file
    records = [file for file in latest.values() if file is not None]
    deleted = [file_id for file_id, file in latest.items() if file is None]
    next_token = body.get("nextPageToken")
    if isinstance(next_token, str) and next_token:
        return Page(
            records, position={"phase": "changes", "pageToken": next_token}, deleted=deleted
        )
    new_start = required_str(body, "newStartPageToken")
    return Page(records, cursor={"pageToken": new_start}, deleted=deleted)


def _query(since: dt.datetime | None, until: dt.datetime | None) -> str:
    """Drive's search language: times in RFC 3339, UTC by default."""
    terms = ["trashed = false"]
    if since is not None:
        terms.append(f"modifiedTime >= '{rfc3339(since)}'")
    if until is not None:
        terms.append(f"modifiedTime < '{rfc3339(until)}'")
    return " and ".join(terms)

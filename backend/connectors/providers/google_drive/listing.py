"""The simulated Drive test mode syncs: files.list (with the `q` terms a sync sends) and the
changes feed (changes.list from a page token), as Google documents them.

The drive holds GENERATED files derived from their index (every TRASH_EVERY-th one in the
trash) plus those test mode uploaded. The changes feed stands at START_PAGE_TOKEN; the
FEED entries before it modify, trash and remove files and change a shared drive, so an
incremental read from an older token has something of each kind to show.
Docs: https://developers.google.com/workspace/drive/api/guides/manage-changes
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from backend.connectors.providers import _google
from backend.connectors.simulator import SimRequest, SimResponse, json_response

GENERATED = 150
TRASH_EVERY = 25
START_PAGE_TOKEN = 4242
MAX_PAGE_SIZE = 1000
_NEWEST = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)
_ROOT = "0AsimulatedRootFolderUk9PVA"
_OWNER = {"displayName": "Test User", "emailAddress": "test.user@example.com", "kind": "drive#user"}
_KINDS = (
    ("application/vnd.google-apps.document", "Notes"),
    ("application/pdf", "Invoice.pdf"),
    ("image/png", "Diagram.png"),
    ("application/vnd.google-apps.folder", "Project"),
)
_TERM = re.compile(r"\s*(trashed|modifiedTime)\s*(=|>=|<=|>|<)\s*(true|false|'[^']*')\s*")


def file_id(index: int) -> str:
    return f"1sim{index:04d}DriveFile0000000000"


def generated_file(index: int) -> dict[str, Any]:
    mime, name = _KINDS[index % len(_KINDS)]
    modified = _NEWEST - dt.timedelta(hours=index * 7)
    file: dict[str, Any] = {
        "id": file_id(index),
        "name": f"{name} {index + 1}",
        "mimeType": mime,
        "parents": [_ROOT],
        "createdTime": _rfc3339(modified - dt.timedelta(days=3)),
        "modifiedTime": _rfc3339(modified),
        "trashed": index % TRASH_EVERY == TRASH_EVERY - 1,
        "webViewLink": f"https://drive.google.com/file/d/{file_id(index)}/view?usp=drivesdk",
        "version": str(10 + index),
        "owners": [_OWNER],
    }
    if not mime.startswith("application/vnd.google-apps."):
        file["size"] = str(1024 * (index + 1))
        file["md5Checksum"] = f"{index:032x}"
    return file


def _feed() -> list[dict[str, Any]]:
    """The changes before START_PAGE_TOKEN, oldest first."""
    when = _rfc3339(_NEWEST + dt.timedelta(minutes=5))
    modified = {**generated_file(3), "name": "Notes 4 (edited)", "modifiedTime": when}
    trashed = {**generated_file(7), "trashed": True, "modifiedTime": when}
    gone = "1simRemovedDriveFile0000000000"
    return [
        {"kind": "drive#change", "changeType": "file", "time": when, "removed": False,
         "fileId": modified["id"], "file": modified},
        {"kind": "drive#change", "changeType": "file", "time": when, "removed": False,
         "fileId": trashed["id"], "file": trashed},
        {"kind": "drive#change", "changeType": "file", "time": when, "removed": True,
         "fileId": gone},
        {"kind": "drive#change", "changeType": "drive", "time": when, "removed": False,
         "driveId": "0AsimulatedSharedDriveUk9PVA",
         "drive": {"kind": "drive#drive", "id": "0AsimulatedSharedDriveUk9PVA", "name": "Team"}},
        {"kind": "drive#change", "changeType": "file", "time": when, "removed": False,
         "fileId": file_id(10), "file": {**generated_file(10), "modifiedTime": when}},
    ]  # fmt: skip


def _page_size(request: SimRequest) -> int | None:
    text = request.query.get("pageSize", "100")
    return min(int(text), MAX_PAGE_SIZE) if text.isdigit() and int(text) >= 1 else None


def list_files(request: SimRequest, uploaded: list[dict[str, Any]]) -> SimResponse:
    """GET files: `q` may hold `trashed` and `modifiedTime` comparisons joined by `and`."""
    size, offset = _page_size(request), request.query.get("pageToken", "0")
    if size is None or not offset.isdigit():
        return _google.invalid_argument("Invalid Value")
    files = [generated_file(i) for i in range(GENERATED)] + uploaded
    query = request.query.get("q", "").strip()
    if query:
        matches = [_TERM.fullmatch(term) for term in re.split(r"\band\b", query)]
        terms = [(m.group(1), m.group(2), m.group(3)) for m in matches if m is not None]
        if len(terms) != len(matches):
            return _google.invalid_argument("Invalid Value")
        try:
            files = [f for f in files if all(_holds(f, term) for term in terms)]
        except ValueError:
            return _google.invalid_argument("Invalid Value")
    start = int(offset)
    body: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": files[start : start + size],
    }
    if start + size < len(files):
        body["nextPageToken"] = str(start + size)
    return json_response(200, body)


def _holds(file: dict[str, Any], term: tuple[str, str, str]) -> bool:
    name, op, value = term
    if name == "trashed":
        if op != "=" or value not in ("true", "false"):
            raise ValueError(term)
        return bool(file.get("trashed")) == (value == "true")
    modified = file.get("modifiedTime")
    if not isinstance(modified, str) or not value.startswith("'"):
        return False
    left, right = _google.parse_rfc3339(modified), _google.parse_rfc3339(value.strip("'"))
    return {
        "=": left == right,
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
    }[op]


def list_changes(request: SimRequest) -> SimResponse:
    """GET changes?pageToken=…: the feed's entries from that token on (removals included,
    Drive's default); the last page carries newStartPageToken."""
    size, token = _page_size(request), request.query.get("pageToken", "")
    if size is None or not token.isdigit():
        return _google.invalid_argument("Invalid Value")
    feed = _feed()
    first = START_PAGE_TOKEN - len(feed)
    start = max(int(token), first)
    chunk = feed[start - first : start - first + size]
    body: dict[str, Any] = {"kind": "drive#changeList", "changes": chunk}
    if start + size < START_PAGE_TOKEN:
        body["nextPageToken"] = str(start + size)
    else:
        body["newStartPageToken"] = str(max(START_PAGE_TOKEN, int(token)))
    return json_response(200, body)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

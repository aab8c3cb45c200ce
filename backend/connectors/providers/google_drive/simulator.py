"""Google Drive's API as documented: about.get (which insists on `fields`), files.create by
multipart and by resumable upload (what test mode uploaded is kept in UPLOADED_FILES),
files.list and the changes feed (`listing.py`), plus revocation."""

import re
import secrets
from typing import Any

from backend.connectors.providers import _google
from backend.connectors.providers.google_drive import listing
from backend.connectors.providers.google_drive.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    remember,
)

#: Files test mode uploaded, by id: their metadata and content.
UPLOADED_FILES: dict[str, dict[str, Any]] = {}
#: Open resumable sessions, by upload_id: the metadata, declared length and bytes so far.
SESSIONS: dict[str, dict[str, Any]] = {}
UPLOAD_URL = "https://www.googleapis.com/upload/drive/v3/files"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def about(request: SimRequest) -> SimResponse:
    if not request.query.get("fields"):
        return json_response(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "The 'fields' parameter is required for this method.",
                    "errors": [
                        {
                            "message": "The 'fields' parameter is required for this method.",
                            "domain": "global",
                            "reason": "required",
                            "location": "fields",
                            "locationType": "parameter",
                        }
                    ],
                }
            },
        )
    return json_response(
        200,
        {
            "user": {
                "kind": "drive#user",
                "displayName": "Test User",
                "photoLink": "https://lh3.googleusercontent.com/a/default-user=s64",
                "me": True,
                "permissionId": "07863412345678901234",
                "emailAddress": "test.user@example.com",
            }
        },
    )


def _created(meta: dict[str, Any], content: bytes) -> SimResponse:
    """The File a create answers (webViewLink only because `fields` asks for it)."""
    file_id = "1" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
    file = {
        "kind": "drive#file",
        "id": file_id,
        "name": meta.get("name") or "Untitled",
        "mimeType": meta.get("mimeType") or "application/octet-stream",
        "webViewLink": f"https://drive.google.com/file/d/{file_id}/view?usp=drivesdk",
    }
    remember(UPLOADED_FILES, file_id, {"metadata": meta, "content": content}, limit=50)
    return json_response(200, file)


def _multipart(request: SimRequest) -> SimResponse:
    """multipart/related: the JSON metadata part, then the media part."""
    upload = _google.split_multipart_related(request)
    if isinstance(upload, SimResponse):
        return upload
    meta, _, content = upload
    return _created(meta, content)


def _start_session(request: SimRequest) -> SimResponse:
    meta = _google.request_json(request) or {}
    length = request.headers.get("x-upload-content-length", "")
    upload_id = secrets.token_urlsafe(32)
    remember(
        SESSIONS,
        upload_id,
        {"metadata": meta, "length": int(length) if length.isdigit() else None, "data": b""},
        limit=20,
    )
    location = f"{UPLOAD_URL}?uploadType=resumable&upload_id={upload_id}"
    return SimResponse(200, b"", {"Location": location, "X-GUploader-UploadID": upload_id})


def create_upload(request: SimRequest) -> SimResponse:
    """POST /upload/drive/v3/files: uploadType multipart or resumable (which opens a session)."""
    upload_type = request.query.get("uploadType")
    if upload_type == "multipart":
        return _multipart(request)
    if upload_type == "resumable":
        return _start_session(request)
    return _google.invalid_argument(f"Invalid upload type: {upload_type}")


def put_chunk(request: SimRequest) -> SimResponse:
    """PUT to a session URI with Content-Range: 308 with the Range kept so far, or the File
    once the declared length arrived."""
    session = SESSIONS.get(request.query.get("upload_id", ""))
    if session is None:
        return _google.api_error(404, "Not Found", "notFound", "NOT_FOUND")
    match = _CONTENT_RANGE.fullmatch(request.headers.get("content-range", ""))
    if match is None or int(match.group(1)) != len(session["data"]):
        return _google.invalid_argument("Failed to parse Content-Range header.")
    session["data"] += request.body
    total = int(match.group(3))
    if len(session["data"]) < total:
        return SimResponse(308, b"", {"Range": f"bytes=0-{len(session['data']) - 1}"})
    SESSIONS.pop(request.query["upload_id"], None)
    return _created(session["metadata"], session["data"])


def start_page_token(request: SimRequest) -> SimResponse:
    """GET changes/startPageToken: where the changes feed stands now."""
    token = str(listing.START_PAGE_TOKEN)
    return json_response(200, {"kind": "drive#startPageToken", "startPageToken": token})


def list_files(request: SimRequest) -> SimResponse:
    """GET files: the generated files and those test mode uploaded."""
    uploaded = [
        {
            "kind": "drive#file",
            "id": file_id,
            "name": upload["metadata"].get("name") or "Untitled",
            "mimeType": upload["metadata"].get("mimeType") or "application/octet-stream",
            "trashed": False,
        }
        for file_id, upload in UPLOADED_FILES.items()
    ]
    return listing.list_files(request, uploaded)


def watch_changes(request: SimRequest) -> SimResponse:
    """POST changes/watch?pageToken=…: a channel on the changes feed from that token."""
    if not request.query.get("pageToken"):
        return _google.invalid_argument("Required parameter: pageToken")
    return _google.watch_channel(request)


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/about", about),
        Route("GET", r"/changes/startPageToken", start_page_token),
        Route("GET", r"/changes", listing.list_changes),
        Route("GET", r"/files", list_files),
        Route("POST", r"/changes/watch", watch_changes),
        Route("POST", r"/channels/stop", _google.stop_channel),
        Route("POST", r"/upload/drive/v3/files", create_upload),
        Route("PUT", r"/upload/drive/v3/files", put_chunk),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited("drive.googleapis.com", seconds),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
)

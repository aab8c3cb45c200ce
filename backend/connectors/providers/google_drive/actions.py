"""Google Drive's outbound action: upload a file.

Up to 5 MB one multipart/related request carries the JSON metadata and the content; above,
a resumable session is opened and the bytes are PUT in chunks, each resumed from the offset
Drive confirms (308 Resume Incomplete with `Range`), as Google advises for large files.
Docs: https://developers.google.com/workspace/drive/api/guides/manage-uploads
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.providers._google import (
    MIME_TYPE,
    SCOPE_PREFIX,
    SINGLE_LINE,
    base64_content,
    multipart_related,
    required_str,
)
from backend.lib.vocab import FailureKind

# drive.file: files the app creates or the user opens with it, the narrowest scope that
# lets files.create through (https://developers.google.com/workspace/drive/api/guides/api-specific-auth).
UPLOAD_SCOPES = (SCOPE_PREFIX + "drive.file",)
#: Above this many bytes the upload is resumable (Google: "5 MB or less" for multipart).
MULTIPART_LIMIT = 5 * 1024 * 1024
#: Resumable chunks must be multiples of 256 KiB (except the last).
CHUNK_SIZE = 16 * 256 * 1024
#: Largest upload taken inline as base64 JSON input.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# webViewLink is not in files.create's default answer (id, name, mimeType, kind).
FIELDS = "id,name,mimeType,webViewLink"
_RANGE = re.compile(r"bytes=0-(\d+)")

INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {**SINGLE_LINE, "minLength": 1, "maxLength": 1024},
        "mime_type": MIME_TYPE,
        "content_base64": base64_content(MAX_UPLOAD_BYTES),
        "folder_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{1,128}$",
            "description": "The parent folder; the user's My Drive root when absent.",
        },
        "description": {"type": "string", "maxLength": 4096},
    },
    "required": ["name", "mime_type", "content_base64"],
    "additionalProperties": False,
}


def metadata(data: dict[str, Any]) -> dict[str, Any]:
    """The File resource sent beside the content."""
    meta: dict[str, Any] = {"name": data["name"], "mimeType": data["mime_type"]}
    if data.get("folder_id"):
        meta["parents"] = [data["folder_id"]]
    if data.get("description"):
        meta["description"] = data["description"]
    return meta


def upload_adapter(adapter: Adapter) -> Adapter:
    """The same adapter rooted at Drive's upload endpoint (/upload/drive/v3 beside
    /drive/v3), so its calls keep the credentials, error table and call metering."""
    base = adapter.ctx.api_base_url.rstrip("/")
    if not base.endswith("/drive/v3"):
        raise ProviderError(FailureKind.MISCONFIGURED, "the Drive API base must end with /drive/v3")
    upload_base = base.removesuffix("/drive/v3") + "/upload/drive/v3"
    return type(adapter)(dataclasses.replace(adapter.ctx, api_base_url=upload_base))


async def _multipart(uploads: Adapter, meta: dict[str, Any], content: bytes) -> dict[str, Any]:
    body, content_type = multipart_related(meta, content, meta["mimeType"])
    response = await uploads.call(
        "POST",
        "files",
        params={"uploadType": "multipart", "fields": FIELDS},
        content=body,
        headers={"Content-Type": content_type},
    )
    return json_object(response)


def _session_path(uploads: Adapter, location: str | None) -> str:
    """The session URI as a path on the upload base: a session elsewhere would receive our
    token and the file, so it is refused."""
    base = uploads.ctx.api_base_url.rstrip("/") + "/"
    if not location or not location.startswith(base):
        raise ProviderError(
            FailureKind.PROVIDER_DOWN, "the provider opened no upload session on its upload host"
        )
    return location.removeprefix(base)


async def _resumable(uploads: Adapter, meta: dict[str, Any], content: bytes) -> dict[str, Any]:
    started = await uploads.call(
        "POST",
        "files",
        params={"uploadType": "resumable", "fields": FIELDS},
        json=meta,
        headers={
            "X-Upload-Content-Type": meta["mimeType"],
            "X-Upload-Content-Length": str(len(content)),
        },
    )
    session = _session_path(uploads, started.headers.get("Location"))
    total, offset = len(content), 0
    # Each chunk may need one resend (Drive kept only part of it); beyond that the server
    # is not making progress, and the loop must end whatever it answers.
    response = started
    for _ in range(2 * -(-total // CHUNK_SIZE)):
        chunk = content[offset : offset + CHUNK_SIZE]
        response = await uploads.call(
            "PUT",
            session,
            content=chunk,
            headers={"Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{total}"},
        )
        if response.status_code in (200, 201):
            return json_object(response)
        match = _RANGE.fullmatch(response.headers.get("Range", ""))
        # 308 Resume Incomplete: continue after the last byte Drive confirms (none: 0).
        offset = int(match.group(1)) + 1 if match else 0
        if response.status_code != 308 or offset >= total:
            break
    raise ProviderError(
        FailureKind.PROVIDER_DOWN,
        "the provider did not complete the resumable upload",
        status_code=response.status_code,
    )


async def upload_file(adapter: Adapter, call: ActionCall) -> ActionResult:
    try:
        content = base64.b64decode(call.input["content_base64"], validate=True)
    except binascii.Error as exc:
        raise ProviderError(FailureKind.BAD_REQUEST, "content_base64 is not valid base64") from exc
    meta = metadata(call.input)
    uploads = upload_adapter(adapter)
    if len(content) > MULTIPART_LIMIT:
        file = await _resumable(uploads, meta, content)
    else:
        file = await _multipart(uploads, meta, content)
    return ActionResult(
        result={"id": required_str(file, "id"), "url": required_str(file, "webViewLink")},
        provider_response=file,
    )


ACTIONS: tuple[Action, ...] = (
    Action(
        name="upload_file",
        description="Upload a file to the user's Drive (optionally into a folder); files "
        "above 5 MB go up in a resumable session.",
        input_schema=INPUT_SCHEMA,
        run=upload_file,
        required_scopes=(UPLOAD_SCOPES,),
        redact_fields=("content_base64",),
        idempotent_at_provider=False,
    ),
)

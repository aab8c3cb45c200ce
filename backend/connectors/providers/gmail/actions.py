"""Gmail's outbound action: send an email as the connected mailbox.

The message is built with the standard library's `email` package (RFC 5322, CRLF, RFC 2047
encoded UTF-8 headers, MIME parts) and sent base64url-encoded as `raw` to users.messages.send,
or, above 5 MB, as message/rfc822 media to its /upload URI. Gmail takes the recipients from
the To, Cc and Bcc headers and strips Bcc before delivery.
Docs: https://developers.google.com/workspace/gmail/api/guides/sending
"""

from __future__ import annotations

import base64
import binascii
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import localtime
from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.providers._google import (
    EMAIL_ADDRESS,
    MIME_TYPE,
    SCOPE_PREFIX,
    SINGLE_LINE,
    base64_content,
    multipart_related,
    required_str,
)
from backend.lib.vocab import FailureKind

SEND_PATH = "/gmail/v1/users/me/messages/send"
UPLOAD_PATH = "/upload/gmail/v1/users/me/messages/send"
#: Above this size the message is uploaded as media (Google: "5 MB or less" for simple
#: requests, https://developers.google.com/workspace/gmail/api/guides/uploads).
SIMPLE_LIMIT = 5 * 1024 * 1024
#: The largest message messages.send takes (its upload URI's documented maximum).
MAX_MESSAGE_BYTES = 36_700_160
# users.messages.send takes gmail.send, gmail.compose, gmail.modify or mail.google.com
# (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send#authorization-scopes);
# the spec offers the narrowest, gmail.send, and a consent can only grant what it offers.
SEND_SCOPES = (SCOPE_PREFIX + "gmail.send",)
# Gmail refuses messages above 25 MB of attachments (35 MB for the whole raw message).
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# CRLF lines and 7-bit transfer encodings throughout (non-ASCII text goes quoted-printable or
# base64), so the message survives any hop that is not 8-bit clean.
_POLICY = policy.SMTP.clone(cte_type="7bit")
_MESSAGE_ID = {"type": "string", "pattern": "^<[^<>\\s@]+@[^<>\\s@]+>$", "maxLength": 998}

_RECIPIENT = {
    "type": "object",
    "properties": {
        "email": EMAIL_ADDRESS,
        "name": {**SINGLE_LINE, "maxLength": 256, "description": "Display name; any Unicode."},
    },
    "required": ["email"],
    "additionalProperties": False,
}
_RECIPIENTS = {"type": "array", "items": _RECIPIENT, "maxItems": 100}

INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "to": {**_RECIPIENTS, "minItems": 1},
        "cc": _RECIPIENTS,
        "bcc": _RECIPIENTS,
        "reply_to": _RECIPIENT,
        "subject": {**SINGLE_LINE, "maxLength": 998},
        "text": {"type": "string", "description": "The plain-text body."},
        "html": {"type": "string", "description": "The HTML body (an alternative to text)."},
        "attachments": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "properties": {
                    "filename": {**SINGLE_LINE, "minLength": 1, "maxLength": 255},
                    "mime_type": MIME_TYPE,
                    "content_base64": base64_content(MAX_ATTACHMENT_BYTES),
                },
                "required": ["filename", "mime_type", "content_base64"],
                "additionalProperties": False,
            },
        },
        "thread_id": {
            "type": "string",
            "pattern": "^[0-9a-fA-F]{1,32}$",
            "description": "Reply in this Gmail thread (also set in_reply_to and the same "
            "subject, as Gmail requires).",
        },
        "in_reply_to": {**_MESSAGE_ID, "description": "The Message-ID header replied to."},
        "references": {"type": "array", "items": _MESSAGE_ID, "maxItems": 100},
    },
    "required": ["to", "subject"],
    "anyOf": [{"required": ["text"]}, {"required": ["html"]}],
    "additionalProperties": False,
}


def _address(recipient: dict[str, Any]) -> Address:
    try:
        return Address(display_name=recipient.get("name", ""), addr_spec=recipient["email"])
    except (ValueError, IndexError) as exc:
        raise ProviderError(FailureKind.BAD_REQUEST, "a recipient's email is malformed") from exc


def build_message(data: dict[str, Any]) -> EmailMessage:
    """The RFC 5322 message for a validated `send_email` input: multipart/alternative for
    text + HTML, inside multipart/mixed when there are attachments."""
    message = EmailMessage(policy=_POLICY)
    # RFC 5322 requires Date; Gmail fills in From (the mailbox) and Message-ID.
    message["Date"] = localtime()
    message["To"] = [_address(r) for r in data["to"]]
    for header, field in (("Cc", "cc"), ("Bcc", "bcc")):
        if data.get(field):
            message[header] = [_address(r) for r in data[field]]
    if data.get("reply_to"):
        message["Reply-To"] = _address(data["reply_to"])
    message["Subject"] = data["subject"]
    if data.get("in_reply_to"):
        message["In-Reply-To"] = data["in_reply_to"]
    references = data.get("references") or (
        [data["in_reply_to"]] if data.get("in_reply_to") else []
    )
    if references:
        message["References"] = " ".join(references)
    if data.get("text") is not None:
        message.set_content(data["text"])
        if data.get("html") is not None:
            message.add_alternative(data["html"], subtype="html")
    else:
        message.set_content(data["html"], subtype="html")
    for attachment in data.get("attachments") or ():
        maintype, _, subtype = attachment["mime_type"].partition("/")
        try:
            content = base64.b64decode(attachment["content_base64"], validate=True)
        except binascii.Error as exc:
            raise ProviderError(
                FailureKind.BAD_REQUEST, "an attachment's content is not valid base64"
            ) from exc
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=attachment["filename"]
        )
    return message


async def send_email(adapter: Adapter, call: ActionCall) -> ActionResult:
    message = build_message(call.input).as_bytes()
    if len(message) > MAX_MESSAGE_BYTES:
        raise ProviderError(
            FailureKind.BAD_REQUEST,
            f"the message is {len(message)} bytes; Gmail sends at most {MAX_MESSAGE_BYTES}",
        )
    meta: dict[str, Any] = {}
    if call.input.get("thread_id"):
        meta["threadId"] = call.input["thread_id"]
    if len(message) > SIMPLE_LIMIT:
        # Large messages go to the /upload URI as media, beside the JSON metadata.
        body, content_type = multipart_related(meta, message, "message/rfc822")
        response = await adapter.call(
            "POST",
            UPLOAD_PATH,
            params={"uploadType": "multipart"},
            content=body,
            headers={"Content-Type": content_type},
        )
    else:
        raw = base64.urlsafe_b64encode(message).decode("ascii")
        response = await adapter.call("POST", SEND_PATH, json={"raw": raw, **meta})
    sent = json_object(response)
    return ActionResult(
        result={"id": required_str(sent, "id"), "thread_id": required_str(sent, "threadId")},
        provider_response=sent,
    )


ACTIONS: tuple[Action, ...] = (
    Action(
        name="send_email",
        description="Send an email from the connected mailbox: text and/or HTML, "
        "attachments, UTF-8 names and subject, optionally as a reply in a thread.",
        input_schema=INPUT_SCHEMA,
        run=send_email,
        required_scopes=(SEND_SCOPES,),
        redact_fields=("text", "html", "attachments"),
        idempotent_at_provider=False,
    ),
)

"""Default field mappings for WhatsApp Business (data only; see backend/mappings/defaults.py).

Rules read the webhook JSON: one change's `value` holds the messages or statuses.
"""

_VALUE = "entry[0].changes[0].value"
_UNIX = [{"op": "parse_datetime", "format": "unix_s"}]


def _message(kind: str, body: str) -> list[dict[str, object]]:
    return [
        {"target": "phone_number_id", "source": f"{_VALUE}.metadata.phone_number_id"},
        {"target": "from", "source": f"{_VALUE}.messages[0].from"},
        {"target": "contact_name", "source": f"{_VALUE}.contacts[0].profile.name"},
        {"target": "type", "source": f"{_VALUE}.messages[0].type", "default": kind},
        {"target": "body", "source": f"{_VALUE}.messages[0].{body}"},
        {"target": "sent_at", "source": f"{_VALUE}.messages[0].timestamp", "transforms": _UNIX},
    ]


def _status() -> list[dict[str, object]]:
    return [
        {"target": "message_id", "source": f"{_VALUE}.statuses[0].id"},
        {"target": "status", "source": f"{_VALUE}.statuses[0].status"},
        {"target": "recipient", "source": f"{_VALUE}.statuses[0].recipient_id"},
        {"target": "at", "source": f"{_VALUE}.statuses[0].timestamp", "transforms": _UNIX},
    ]


MAPPINGS = {
    "message.text": _message("text", "text.body"),
    "message.image": _message("image", "image.caption"),
    **{f"status.{s}": _status() for s in ("sent", "delivered", "read", "failed")},
    "messages": [
        {"target": "id", "source": "id"},
        {"target": "from", "source": "from"},
        {"target": "type", "source": "type"},
        {"target": "body", "source": "text.body"},
        {"target": "sent_at", "source": "timestamp", "transforms": _UNIX},
    ],
}

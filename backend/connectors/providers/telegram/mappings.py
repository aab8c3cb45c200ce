"""Default field mappings for Telegram (data only; see backend/mappings/defaults.py).

Rules read the Update object; the `updates` stream holds the same objects.
"""


def _message(key: str) -> list[dict[str, object]]:
    return [
        {"target": "chat_id", "source": f"{key}.chat.id"},
        {"target": "from", "source": f"{key}.from.username"},
        {"target": "text", "source": f"{key}.text"},
        {
            "target": "sent_at",
            "source": f"{key}.date",
            "transforms": [{"op": "parse_datetime", "format": "unix_s"}],
        },
    ]


MAPPINGS = {
    "message": _message("message"),
    "edited_message": _message("edited_message"),
    "callback_query": [
        {"target": "chat_id", "source": "callback_query.message.chat.id"},
        {"target": "from", "source": "callback_query.from.username"},
        {"target": "data", "source": "callback_query.data"},
    ],
    "updates": [
        {"target": "update_id", "source": "update_id"},
        {"target": "chat_id", "source": "message.chat.id || edited_message.chat.id"},
        {"target": "text", "source": "message.text || edited_message.text"},
    ],
}

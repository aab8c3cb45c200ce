"""Default field mappings for Gmail (data only; see backend/mappings/defaults.py).

A push is a Pub/Sub envelope whose content is base64: event rules read the normalized data
instead. Stream rules read the Gmail API's message and label resources.
"""

DOCUMENT = "data"

MAPPINGS = {
    "gmail.history": [
        {"target": "email", "source": "email_address"},
        {"target": "history_id", "source": "history_id"},
    ],
    "messages": [
        {"target": "id", "source": "id"},
        {"target": "thread_id", "source": "threadId"},
        {"target": "snippet", "source": "snippet"},
        {"target": "labels", "source": "labelIds"},
        {
            "target": "received_at",
            "source": "internalDate",
            "transforms": [{"op": "parse_datetime", "format": "unix_ms"}],
        },
    ],
    "labels": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "name"},
        {"target": "type", "source": "type"},
    ],
}

"""Default field mappings for Google Drive (data only; see backend/mappings/defaults.py).

A push notification has no body: its rules read the normalized data (the channel headers).
Stream rules read the Drive API's file resources (the files stream's records).
"""

_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]

MAPPINGS = {
    "*": [
        {"target": "channel_id", "source": "channel_id"},
        {"target": "resource_id", "source": "resource_id"},
        {"target": "state", "source": "resource_state"},
        {"target": "changed", "source": "changed"},
    ],
    "files": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "name"},
        {"target": "mime_type", "source": "mimeType"},
        {"target": "modified_at", "source": "modifiedTime", "transforms": _WHEN},
    ],
}

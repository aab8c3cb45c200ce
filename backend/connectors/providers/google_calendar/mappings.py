"""Default field mappings for Google Calendar (data only; see backend/mappings/defaults.py).

A push notification has no body: its rules read the normalized data (the channel headers).
Stream rules read the Calendar API's event and calendar resources.
"""

_CHANNEL = [
    {"target": "channel_id", "source": "channel_id"},
    {"target": "resource_id", "source": "resource_id"},
    {"target": "state", "source": "resource_state"},
]

MAPPINGS = {
    "*": _CHANNEL,
    "events": [
        {"target": "id", "source": "id"},
        {"target": "summary", "source": "summary"},
        {"target": "status", "source": "status"},
        {"target": "organizer", "source": "organizer.email"},
        {"target": "url", "source": "htmlLink"},
        {
            "target": "starts_at",
            "source": "start.dateTime",
            "transforms": [
                {"op": "coalesce", "sources": ["start.date"]},
            ],
        },
    ],
    "calendars": [
        {"target": "id", "source": "id"},
        {"target": "summary", "source": "summary"},
        {"target": "time_zone", "source": "timeZone"},
    ],
}

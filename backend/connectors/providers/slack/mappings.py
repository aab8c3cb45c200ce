"""Default field mappings for Slack (data only; see backend/mappings/defaults.py).

Events API deliveries are JSON (the event under `event`); interactivity and slash commands
are forms, whose rules read the normalized data.
"""

_TS = [{"op": "parse_datetime", "format": "unix_s"}]
_MESSAGE = [
    {"target": "team", "source": "team_id"},
    {"target": "channel", "source": "event.channel"},
    {"target": "user", "source": "event.user"},
    {"target": "text", "source": "event.text"},
    {"target": "sent_at", "source": "event.ts", "transforms": _TS},
    {"target": "thread", "source": "event.thread_ts"},
]

MAPPINGS = {
    "message": _MESSAGE,
    "app_mention": _MESSAGE,
    "slash_command": [
        {"target": "command", "source": "command"},
        {"target": "text", "source": "text"},
        {"target": "user", "source": "user_id"},
        {"target": "channel", "source": "channel_id"},
    ],
    "channels": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "name"},
        {"target": "private", "source": "is_private", "default": False},
        {"target": "created_at", "source": "created", "transforms": _TS},
    ],
    "messages": [
        {"target": "user", "source": "user"},
        {"target": "text", "source": "text"},
        {"target": "sent_at", "source": "ts", "transforms": _TS},
    ],
    "users": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "real_name"},
        {"target": "email", "source": "profile.email"},
        {"target": "bot", "source": "is_bot", "default": False},
    ],
}

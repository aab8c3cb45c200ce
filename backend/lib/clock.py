"""The one clock: aware UTC time for rows, tokens and audit entries.

Timestamps are compared across PostgreSQL (`timestamptz`), tokens and logs; a naive or local
time in any of them is a bug that only shows at a timezone boundary, so every module asks here.
"""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)

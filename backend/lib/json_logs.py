"""Process logs as JSON lines carrying the current `trace_id`/`span_id`.

One object per line is what log collectors parse without rules, and the ids join a line to
its trace (and to the `trace_id` stored with each webhook). Records are already scrubbed of
secrets by backend/lib/logs.py when they are made.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from opentelemetry import trace

# LogRecord attributes that are not a caller's `extra={...}` fields.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonLinesFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "trace_id", "span_id", ...extra, "exc"}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            line["trace_id"] = format(ctx.trace_id, "032x")
            line["span_id"] = format(ctx.span_id, "016x")
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_json_logging(level: str | int = "INFO") -> None:
    """Root logger → stderr as JSON lines (replaces handlers a previous call installed)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)

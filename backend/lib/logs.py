"""Keeping secrets out of log records, whoever writes them.

httpx logs every request URL at INFO, tracebacks quote URLs from exception messages, and
third-party loggers do not know our secrets; so records are scrubbed when they are made
(a record factory), before any handler — ours, a server's or a test's — formats them.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.lib.redaction import redact_text

_installed = False


def install_log_redaction() -> None:
    """Scrub every log record this process makes from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def make_redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(make_redacted_record)
    _installed = True


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: the handler reports it as it always does
        return
    clean = redact_text(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        # Formatters reuse exc_text when set, so the rendered traceback is the scrubbed one.
        traceback_text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact_text(traceback_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
